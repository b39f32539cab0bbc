{# Names and labels shared by every template of the chart. #}

{% define "ouroboros.name" %}
{{- Values.nameOverride | default(Chart.Name) | trunc(63) | trimSuffix("-") -}}
{%- enddefine %}

{# REL alone when it already contains the chart name, so release "ouroboros" is not doubled. #}
{% define "ouroboros.fullname" %}
{% if Values.fullnameOverride %}
{{- Values.fullnameOverride | trunc(63) | trimSuffix("-") -}}
{% else %}
{% set name = include("ouroboros.name", dot) %}
{% if contains(name, Release.Name) %}
{{- Release.Name | trunc(63) | trimSuffix("-") -}}
{% else %}
{{- printf("%s-%s", Release.Name, name) | trunc(63) | trimSuffix("-") -}}
{% endif %}
{% endif %}
{%- enddefine %}

{% define "ouroboros.chart" %}
{{- printf("%s-%s", Chart.Name, Chart.Version) | replace("+", "_") | trunc(63) | trimSuffix("-") -}}
{%- enddefine %}

{# Suffixed names are deliberately not re-truncated (callers keep fullname short). #}
{% define "ouroboros.proxy.fullname" %}
{{- printf("%s-proxy", include("ouroboros.fullname", dot)) -}}
{%- enddefine %}

{% define "ouroboros.etcHosts.fullname" %}
{{- printf("%s-etc-hosts", include("ouroboros.fullname", dot)) -}}
{%- enddefine %}

{% define "ouroboros.serviceAccountName" %}
{{- Values.serviceAccount.name | default(include("ouroboros.fullname", dot)) -}}
{%- enddefine %}

{# Argument: dict("root", <root context>, "component", <component>). #}
{% define "ouroboros.componentSelectorLabels" %}
app.kubernetes.io/name: {{ include("ouroboros.name", root) }}
app.kubernetes.io/instance: {{ root.Release.Name }}
app.kubernetes.io/component: {{ component }}
{%- enddefine %}

{% define "ouroboros.componentLabels" %}
helm.sh/chart: {{ include("ouroboros.chart", root) }}
{{ include("ouroboros.componentSelectorLabels", dot) }}
{% if root.Chart.AppVersion %}
app.kubernetes.io/version: {{ root.Chart.AppVersion | quote }}
{% endif %}
app.kubernetes.io/managed-by: {{ root.Release.Service }}
{%- enddefine %}

{% define "ouroboros.labels" %}
{{- include("ouroboros.componentLabels", dict("root", dot, "component", "controller")) -}}
{%- enddefine %}

{% define "ouroboros.selectorLabels" %}
{{- include("ouroboros.componentSelectorLabels", dict("root", dot, "component", "controller")) -}}
{%- enddefine %}

{% define "ouroboros.proxy.labels" %}
{{- include("ouroboros.componentLabels", dict("root", dot, "component", "proxy")) -}}
{%- enddefine %}

{% define "ouroboros.proxy.selectorLabels" %}
{{- include("ouroboros.componentSelectorLabels", dict("root", dot, "component", "proxy")) -}}
{%- enddefine %}

{% define "ouroboros.etcHosts.labels" %}
{{- include("ouroboros.componentLabels", dict("root", dot, "component", "etc-hosts")) -}}
{%- enddefine %}

{% define "ouroboros.etcHosts.selectorLabels" %}
{{- include("ouroboros.componentSelectorLabels", dict("root", dot, "component", "etc-hosts")) -}}
{%- enddefine %}

{# One image holds the controller, proxy and cleanup subcommands. #}
{% define "ouroboros.image" %}
{{- printf("%s:%s", Values.image.repository, Values.image.tag | default(Chart.AppVersion)) -}}
{%- enddefine %}

{% define "ouroboros.clusterDomainHint" %}
{{- Values.controller.clusterDomain | trimSuffix(".") -}}
{%- enddefine %}

{# Always fully qualified (trailing dot) so resolvers never apply search domains. #}
{% define "ouroboros.proxyFQDN" %}
{{- printf("%s.%s.svc.%s.", include("ouroboros.proxy.fullname", dot), Release.Namespace, include("ouroboros.clusterDomainHint", dot)) -}}
{%- enddefine %}

{# etcHosts.enabled wins over controller.mode: etc-hosts runs as a DaemonSet, not a Deployment. #}
{% define "ouroboros.mode" %}
{% if Values.etcHosts.enabled %}
{{- "etc-hosts" -}}
{% else %}
{{- Values.controller.mode | default("coredns") -}}
{% endif %}
{%- enddefine %}

{% define "ouroboros.externalDns.namespace" %}
{{- Values.externalDns.namespace | default(Release.Namespace) -}}
{%- enddefine %}

{% define "ouroboros.externalDns.proxyService" %}
{{- Values.externalDns.proxyService | default(include("ouroboros.proxy.fullname", dot)) -}}
{%- enddefine %}

{# Anything but "service" (including empty) means DNSEndpoint CRDs. #}
{% define "ouroboros.externalDns.output" %}
{% if Values.externalDns.output == "service" %}
{{- "service" -}}
{% else %}
{{- "crd" -}}
{% endif %}
{%- enddefine %}

{# Label value the controller stamps on the DNS records it owns. #}
{% define "ouroboros.recordsManagedBy" %}
{{- "ouroboros" -}}
{%- enddefine %}

{% define "ouroboros.recordsInstanceKey" %}
{{- "ouroboros.lexfrei.tech/instance" -}}
{%- enddefine %}
