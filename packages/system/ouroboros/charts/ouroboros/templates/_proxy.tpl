{% define "ouroboros.proxy.args" %}
- proxy
- --listen-http=:8080
- --listen-https=:8443
- --listen-health=:8081
{% if Values.proxy.target.host %}
- --target-host={{ Values.proxy.target.host }}
{% else %}
- --target-service-name={{ Values.proxy.target.serviceName }}
- --target-service-namespace={{ Values.proxy.target.namespace }}
{% if Values.controller.clusterDomain %}
- --cluster-domain={{ Values.controller.clusterDomain }}
{% endif %}
{% endif %}
- --target-http-port={{ Values.proxy.target.httpPort }}
- --target-https-port={{ Values.proxy.target.httpsPort }}
- --dial-timeout={{ Values.proxy.dialTimeout }}
- --ready-timeout={{ Values.proxy.readyTimeout }}
- --shutdown-grace={{ Values.proxy.shutdownGrace }}
{%- enddefine %}
