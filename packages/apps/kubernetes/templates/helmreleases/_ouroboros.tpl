{# Tenant defaults: edit only the import ConfigMap (the tenant's cozy-coredns mounts it), and watch
   Gateway API objects exactly when the tenant has the CRDs. No clusterDomain: the controller and
   proxy compose names from the runtime-detected domain. #}
{% define "kubernetes.ouroboros.defaults" %}
ouroboros:
  controller:
    mode: coredns-import
    gatewayApi:
      enabled: {{ toYaml(Values.addons.gatewayAPI.enabled | default(false)) }}
{%- enddefine %}
