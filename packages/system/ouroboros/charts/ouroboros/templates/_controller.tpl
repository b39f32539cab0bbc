{# Controller arguments, one YAML list item per line, in the order the controller documents. #}

{% define "ouroboros.controller.proxyTargetArgs" %}
{% if Values.controller.clusterDomain %}
- --proxy-fqdn={{ include("ouroboros.proxyFQDN", dot) }}
{% else %}
{# No domain given: the controller composes <svc>.<ns>.svc.<detected domain> at runtime. #}
- --proxy-service-name={{ include("ouroboros.proxy.fullname", dot) }}
- --proxy-service-namespace={{ Release.Namespace }}
{% endif %}
{%- enddefine %}

{% define "ouroboros.controller.args" %}
{% set mode = include("ouroboros.mode", dot) %}
- controller
- --mode={{ mode }}
- --resync={{ Values.controller.resync }}
{% if Values.controller.gatewayApi.enabled %}
- --gateway-api
{% endif %}
{% if Values.controller.ingressClass %}
- --ingress-class={{ Values.controller.ingressClass }}
{% endif %}
{% if Values.controller.gatewayClass %}
- --gateway-class={{ Values.controller.gatewayClass }}
{% endif %}
{% if Values.controller.clusterDomain %}
- --cluster-domain={{ Values.controller.clusterDomain }}
{% endif %}
{% if mode == "coredns" %}
- --coredns-namespace={{ Values.controller.coredns.namespace }}
- --coredns-configmap={{ Values.controller.coredns.configmap }}
- --coredns-key={{ Values.controller.coredns.key }}
{{ include("ouroboros.controller.proxyTargetArgs", dot) | trim }}
{% elif mode == "coredns-import" %}
- --coredns-import-namespace={{ Values.controller.corednsImport.namespace }}
- --coredns-import-configmap={{ Values.controller.corednsImport.configmap }}
- --coredns-import-key={{ Values.controller.corednsImport.key }}
{{ include("ouroboros.controller.proxyTargetArgs", dot) | trim }}
{% elif mode == "external-dns" %}
- --external-dns-namespace={{ include("ouroboros.externalDns.namespace", dot) }}
- --external-dns-record-ttl={{ Values.externalDns.recordTTL }}
- --external-dns-proxy-service={{ include("ouroboros.externalDns.proxyService", dot) }}
- --external-dns-output={{ Values.externalDns.output | default("crd") }}
- --external-dns-annotation-prefix={{ Values.externalDns.annotationPrefix | default("external-dns.alpha.kubernetes.io/") }}
{% if Values.externalDns.proxyIP %}
- --external-dns-proxy-ip={{ Values.externalDns.proxyIP }}
{% endif %}
{% for key in Values.externalDns.annotations %}
- --external-dns-annotation={{ key }}={{ Values.externalDns.annotations[key] }}
{% endfor %}
{% for key in Values.externalDns.labels %}
- --external-dns-label={{ key }}={{ Values.externalDns.labels[key] }}
{% endfor %}
{% endif %}
{%- enddefine %}
