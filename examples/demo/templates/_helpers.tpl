{% define "demo.name" -%}
{{ Values.nameOverride | default(Chart.Name) | trunc(63) | trimSuffix("-") }}
{%- enddefine %}

{% define "demo.fullname" -%}
{% if Values.fullnameOverride -%}
{{ Values.fullnameOverride | trunc(63) | trimSuffix("-") }}
{%- else -%}
{% set name = Values.nameOverride | default(Chart.Name) -%}
{% if contains(name, Release.Name) -%}
{{ Release.Name | trunc(63) | trimSuffix("-") }}
{%- else -%}
{{ printf("%s-%s", Release.Name, name) | trunc(63) | trimSuffix("-") }}
{%- endif %}
{%- endif %}
{%- enddefine %}

{% define "demo.chart" -%}
{{ printf("%s-%s", Chart.Name, Chart.Version) | replace("+", "_") | trunc(63) | trimSuffix("-") }}
{%- enddefine %}

{% define "demo.selectorLabels" -%}
app.kubernetes.io/name: {{ include("demo.name", dot) }}
app.kubernetes.io/instance: {{ Release.Name }}
{%- enddefine %}

{% define "demo.labels" -%}
helm.sh/chart: {{ include("demo.chart", dot) }}
{{ include("demo.selectorLabels", dot) }}
app.kubernetes.io/version: {{ Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ Release.Service }}
{%- enddefine %}

{% define "demo.image" -%}
{{ printf("%s:%s", Values.image.repository, Values.image.tag | default(Chart.AppVersion)) }}
{%- enddefine %}
