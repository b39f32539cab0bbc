{# One addon HelmRelease. Argument: dict(
     "root": root context, "component": chart component (ExternalArtifact suffix),
     "releaseName", "targetNamespace", "createNamespace": bool,
     "releaseValues": merged values map (key omitted: no values key at all),
     "dependsOn": list of sibling suffixes ("cilium" -> <REL>-cilium)). #}
{% define "kubernetes.addon.helmrelease" %}
{% set rel = root.Release.Name %}
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: {{ rel }}-{{ component }}
  labels:
    cozystack.io/repository: system
    cozystack.io/target-cluster-name: {{ rel }}
    sharding.fluxcd.io/key: tenants
spec:
  releaseName: {{ releaseName }}
  chartRef:
    kind: ExternalArtifact
    name: cozystack-kubernetes-application-kubevirt-kubernetes-{{ component }}
    namespace: cozy-system
  kubeConfig:
    secretRef:
      name: {{ rel }}-admin-kubeconfig
      key: super-admin.svc
  targetNamespace: {{ targetNamespace }}
  storageNamespace: {{ targetNamespace }}
  interval: 5m
  timeout: 10m
  install:
    {% if createNamespace %}
    createNamespace: true
    {% endif %}
    remediation:
      retries: -1
  upgrade:
    force: true
    remediation:
      retries: -1
  {% if hasKey(dot, "releaseValues") %}
  values:
    {{- toYaml(releaseValues) | nindent(4) }}
  {% endif %}
  {# An empty list leaves the key null, as Flux accepts. The parent tenant release is waited for
     once it exists (never in offline renders). #}
  dependsOn:
  {% if lookup("helm.toolkit.fluxcd.io/v2", "HelmRelease", root.Release.Namespace, rel) %}
  - name: {{ rel }}
    namespace: {{ root.Release.Namespace }}
  {% endif %}
  {% for dep in dependsOn %}
  - name: {{ rel }}-{{ dep }}
    namespace: {{ root.Release.Namespace }}
  {% endfor %}
{%- enddefine %}

{# Tenant addons render only once the tenant has its etcd namespace (set by the platform). #}
{% define "kubernetes.etcdNamespace" %}
{{- (Values._namespace | default(dict())).etcd | default("") -}}
{%- enddefine %}
