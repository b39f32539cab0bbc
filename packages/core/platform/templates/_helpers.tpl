{# Package emission. Every Package is cluster-scoped and kept on uninstall (resource-policy keep):
   removing a Package is always an explicit act. Names in bundles.disabledPackages are never
   emitted. Each document starts with its own "---". #}

{# dict("name", <package>, "variant", <variant, empty: default>, "root", <root context>,
        "components", <map component -> {values: ...}, optional>) #}
{% define "cozystack.platform.package" %}
{% if not has(name, root.Values.bundles.disabledPackages | default(list())) %}
---
apiVersion: cozystack.io/v1alpha1
kind: Package
metadata:
  name: {{ name }}
  annotations:
    helm.sh/resource-policy: keep
spec:
  variant: {{ variant | default("default") }}
  {% if components %}
  components:
    {{- toYaml(components) | nindent(4) }}
  {% endif %}
{% endif %}
{%- enddefine %}

{# dict("name", <package>, "root", <root context>) #}
{% define "cozystack.platform.package.default" %}
{{- include("cozystack.platform.package", dict("name", name, "variant", "default", "root", root)) -}}
{%- enddefine %}

{# Emitted only when listed in bundles.enabledPackages (and not disabled); never has components.
   dict("name", <package>, "variant", <variant>, "root", <root context>) #}
{% define "cozystack.platform.package.optional" %}
{% if has(name, root.Values.bundles.enabledPackages | default(list())) %}
{{- include("cozystack.platform.package", dict("name", name, "variant", variant, "root", root)) -}}
{% endif %}
{%- enddefine %}

{% define "cozystack.platform.package.optional.default" %}
{{- include("cozystack.platform.package.optional", dict("name", name, "variant", "default", "root", root)) -}}
{%- enddefine %}

{# Packages every networking variant with its own CNI shares. Argument: the root context. #}
{% define "cozystack.platform.system.common-packages" %}
{% for name in ["cozystack.kubeovn-webhook", "cozystack.kubeovn-plunger", "cozystack.cozy-proxy", "cozystack.multus", "cozystack.metallb", "cozystack.reloader", "cozystack.linstor-scheduler", "cozystack.snapshot-controller"] %}
{{ include("cozystack.platform.package.default", dict("name", name, "root", dot)) }}
{% endfor %}
{%- enddefine %}

{# The host ingress controller: it runs in the root tenant's namespace (publishing.ingressName)
   with the Service <name without "tenant-">-ingress-controller. #}
{% define "cozystack.platform.hostIngress.namespace" %}
{{- Values.publishing.ingressName | default("tenant-root") -}}
{%- enddefine %}

{% define "cozystack.platform.hostIngress.serviceName" %}
{{- printf("%s-ingress-controller", include("cozystack.platform.hostIngress.namespace", dot) | trimPrefix("tenant-")) -}}
{%- enddefine %}
