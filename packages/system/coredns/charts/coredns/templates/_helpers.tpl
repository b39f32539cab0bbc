{% define "coredns.name" %}
{{- Values.nameOverride | default(Chart.Name) | trunc(63) | trimSuffix("-") -}}
{%- enddefine %}

{% define "coredns.fullname" %}
{% if Values.fullnameOverride %}
{{- Values.fullnameOverride | trunc(63) | trimSuffix("-") -}}
{% else %}
{% set name = include("coredns.name", dot) %}
{% if contains(name, Release.Name) %}
{{- Release.Name | trunc(63) | trimSuffix("-") -}}
{% else %}
{{- printf("%s-%s", Release.Name, name) | trunc(63) | trimSuffix("-") -}}
{% endif %}
{% endif %}
{%- enddefine %}

{% define "coredns.k8sapplabel" %}
{{- Values.k8sAppLabelOverride | default(include("coredns.name", dot)) | trunc(63) -}}
{%- enddefine %}

{% define "coredns.serviceAccountName" %}
{% if Values.serviceAccount.create %}
{{- Values.serviceAccount.name | default(include("coredns.fullname", dot)) -}}
{% else %}
{{- Values.serviceAccount.name | default("default") -}}
{% endif %}
{%- enddefine %}

{% define "coredns.image.tag" %}
{{- Values.image.tag | default(Chart.AppVersion) -}}
{%- enddefine %}

{# Quoted values and key order are part of the ConfigMap text the checksum annotation hashes. #}
{% define "coredns.labels" %}
app.kubernetes.io/managed-by: {{ Release.Service | quote }}
app.kubernetes.io/instance: {{ Release.Name | quote }}
helm.sh/chart: "{{ Chart.Name }}-{{ Chart.Version | replace("+", "_") }}"
{% if Values.isClusterService %}
k8s-app: {{ include("coredns.k8sapplabel", dot) }}
kubernetes.io/cluster-service: "true"
kubernetes.io/name: "CoreDNS"
{% endif %}
app.kubernetes.io/name: {{ include("coredns.name", dot) }}
{%- enddefine %}

{% define "coredns.selectorLabels" %}
app.kubernetes.io/instance: {{ Release.Name | quote }}
{% if Values.isClusterService %}
k8s-app: {{ include("coredns.k8sapplabel", dot) }}
{% endif %}
app.kubernetes.io/name: {{ include("coredns.name", dot) }}
{%- enddefine %}

{# The Corefile value: extraConfig lines (keys sorted), then one block per server, blocks joined by
   one newline, no trailing newline. Every newline is written explicitly so the text does not
   depend on where block tags sit. #}
{% define "coredns.corefile" %}
{% for name in Values.extraConfig %}
{{- name }}{% if Values.extraConfig[name].parameters %} {{ Values.extraConfig[name].parameters }}{% endif %}{{ "\n" -}}
{% endfor %}
{% for server in Values.servers %}
{% if not loop.first %}{{ "\n" }}{% endif %}
{% for zone in server.zones | default(list()) %}
{% if not loop.first %}{{ " " }}{% endif %}{{ zone.scheme | default("") }}{{ zone.zone | default(".") -}}
{% else %}
{{- "." -}}
{% endfor %}
{% if server.port %}:{{ server.port }} {% endif %}
{{ "{" -}}
{% for plugin in server.plugins | default(list()) %}
{{- "\n    " }}{{ plugin.name }}{% if plugin.parameters %} {{ plugin.parameters }}{% endif %}
{% if plugin.configBlock %}{{ " {\n" }}{{ plugin.configBlock | indent(8) }}{{ "\n    }" }}{% endif %}
{% endfor %}
{{- "\n}" -}}
{% endfor %}
{%- enddefine %}

{# The ConfigMap document text, shared by configmap.yaml and the Deployment's checksum/config
   annotation: it is hashed exactly as rendered, leading blank line and trailing indented line
   included, so the checksum matches the one the upstream chart computes. #}
{% define "coredns.configmap" %}
{{- "\n---\n" -}}
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ include("coredns.fullname", dot) }}
  namespace: {{ Release.Namespace }}
  labels:
    {{- include("coredns.labels", dot) | nindent(4) }}
data:
  Corefile: |-
{{ include("coredns.corefile", dot) | indent(4) }}{{ "\n    \n" -}}
{%- enddefine %}

{# Transport of a zone: DNS over UDP (plus TCP with use_tcp) unless a scheme says otherwise. #}
{% define "coredns.zoneProtocols" %}
{% set scheme = scheme | default("") %}
{% if scheme == "" or scheme == "dns://" %}
{{- "UDP" -}}{% if use_tcp %}{{- " TCP" -}}{% endif %}
{% else %}
{{- "TCP" -}}
{% endif %}
{%- enddefine %}

{# One line per server port, "<port> <protocol>", in first-seen order, without duplicates. #}
{% define "coredns.serverPorts" %}
{% set seen = dict() %}
{% for server in Values.servers %}
{% set port = server.port | default(53) %}
{% for zone in server.zones | default(list(dict("zone", "."))) %}
{% for protocol in splitList(" ", include("coredns.zoneProtocols", zone)) %}
{% set key = printf("%v %s", port, protocol) %}
{% if not hasKey(seen, key) %}
{% do set(seen, key, true) %}
{{- key }}{{ "\n" -}}
{% endif %}
{% endfor %}
{% endfor %}
{% endfor %}
{%- enddefine %}

{# The prometheus plugin's listen port ("<addr>:<port>"), container side only. #}
{% define "coredns.metricsPorts" %}
{% for server in Values.servers %}
{% for plugin in server.plugins | default(list()) %}
{% if plugin.name == "prometheus" %}
{{- printf("%s TCP", last(splitList(":", plugin.parameters | default(":9153") | toString))) }}{{ "\n" -}}
{% endif %}
{% endfor %}
{% endfor %}
{%- enddefine %}

{# "<port> <protocol>" lines to YAML list items (one-line JSON objects). Argument:
   dict("lines", <text>, "container", <bool>). #}
{% define "coredns.portList" %}
{% set seen = dict() %}
{% for line in splitList("\n", lines | trim) %}
{% if line and not hasKey(seen, line) %}
{% do set(seen, line, true) %}
{% set parts = splitList(" ", line) %}
{% set port = int(first(parts)) %}
{% set name = printf("%s-%d", lower(last(parts)), port) %}
{% if container %}
- {{ toJson(dict("containerPort", port, "name", name, "protocol", last(parts))) }}
{% else %}
- {{ toJson(dict("name", name, "port", port, "protocol", last(parts), "targetPort", port)) }}
{% endif %}
{% endif %}
{% endfor %}
{%- enddefine %}

{% define "coredns.servicePorts" %}
{{- include("coredns.portList", dict("lines", include("coredns.serverPorts", dot), "container", false)) -}}
{%- enddefine %}

{% define "coredns.containerPorts" %}
{{- include("coredns.portList", dict("lines", include("coredns.serverPorts", dot) ~ include("coredns.metricsPorts", dot), "container", true)) -}}
{%- enddefine %}
