{% define "web.fullname" %}
{{- printf("%s-%s", Release.Name, Chart.Name) | trunc(63) | trimSuffix("-") -}}
{% enddefine %}

{% define "web.labels" %}
app.kubernetes.io/name: {{ Chart.Name }}
app.kubernetes.io/instance: {{ Release.Name }}
app.kubernetes.io/version: {{ Chart.AppVersion | quote }}
{%- enddefine %}
