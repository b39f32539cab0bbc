{% define "child.name" %}{{ Release.Name }}-{{ Chart.Name }}{% enddefine %}
