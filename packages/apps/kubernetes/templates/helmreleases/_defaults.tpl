{# Platform defaults of the sibling addons, rendered to YAML and parsed back before the operator's
   valuesOverride is merged over them. #}

{% define "kubernetes.cilium.defaults" %}
cilium:
  k8sServiceHost: {{ Release.Name }}.{{ Release.Namespace }}.svc
  k8sServicePort: 6443
  routingMode: tunnel
  MTU: 1350
  enableIPv4Masquerade: true
  ipv4NativeRoutingCIDR: ""
  {% if Values.addons.gatewayAPI.enabled %}
  gatewayAPI:
    enabled: true
  envoy:
    enabled: true
  {% endif %}
{%- enddefine %}

{% define "kubernetes.coredns.defaults" %}
coredns:
  service:
    # The kubelet's --cluster-dns of tenant nodes.
    clusterIP: "10.95.0.10"
{%- enddefine %}

{% define "kubernetes.ingress-nginx.defaults" %}
ingress-nginx:
  fullnameOverride: ingress-nginx
  controller:
    kind: DaemonSet
    {% if Values.addons.ingressNginx.exposeMethod == "Proxied" %}
    {# Reached through the host ingress on fixed NodePorts. #}
    service:
      enabled: true
      type: NodePort
      nodePorts:
        http: 30000
        https: 30001
    {% endif %}
    {% if not Values.addons.certManager.enabled %}
    admissionWebhooks:
      certManager:
        enabled: false
    {% endif %}
  nodeSelector:
    node-role.kubernetes.io/ingress-nginx: ""
{%- enddefine %}

{% define "kubernetes.cert-manager.defaults" %}
{% if Values.addons.gatewayAPI.enabled %}
cert-manager:
  config:
    apiVersion: controller.config.cert-manager.io/v1alpha1
    kind: ControllerConfiguration
    enableGatewayAPI: true
{% else %}
{}
{% endif %}
{%- enddefine %}
