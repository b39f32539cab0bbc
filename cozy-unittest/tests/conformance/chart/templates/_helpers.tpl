{% define "conf.name" %}
{%- if Values.helperFail %}{{ fail("helper failed") }}{% endif -%}
{{ Release.Name }}-conf
{%- enddefine %}
