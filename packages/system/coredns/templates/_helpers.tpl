{# helm.sh/chart label of the wrapper's own objects: build metadata ("+sha") is not a valid label
   character, and the value must stay a valid label however long the version gets. #}
{% define "cozy-coredns.chartLabel" %}
{{- printf("%s-%s", Chart.Name, Chart.Version) | replace("+", "_") | trunc(63) | trimSuffix("-") -}}
{%- enddefine %}
