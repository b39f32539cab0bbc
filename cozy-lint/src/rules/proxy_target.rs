//! Rule `proxy-target-deployed`: the ouroboros proxy dials an ingress-nginx controller Service
//! that the platform actually deploys.
//!
//! The proxy is not in the platform's own render: it is in a component chart that a Package (host)
//! or a HelmRelease (tenant) installs with some values. So the rule renders that component (through
//! [`ComponentRenderer`]) with the values the platform gives it, reads the proxy's
//! `--target-service-name`/`--target-service-namespace` flags, and compares them with the ingress
//! controller Services the render deploys:
//! - host: when the render emits the `cozystack.ingress-application` Package, the host ingress
//!   runs in namespace `publishing.ingressName` (default `tenant-root`) as
//!   `<namespace without "tenant-">-ingress-controller` (the fullnameOverride convention of the
//!   platform's ingress chart);
//! - tenant: every HelmRelease whose values configure `ingress-nginx` deploys
//!   `<fullnameOverride, or release name>-controller` in its target namespace.

use serde_json::Value as Json;

use super::package_sources::{packages, Component, SourceIndex};
use crate::{Finding, Manifest};

pub const RULE: &str = "proxy-target-deployed";
/// A component the render installs refuses the values the render gives it (the release would
/// fail in the cluster).
pub const RULE_COMPONENT_VALUES: &str = "component-values-valid";

/// What to render: a component chart of the packages tree, as a release.
#[derive(Debug, Clone, PartialEq)]
pub struct ComponentRequest {
    /// Chart path relative to the packages tree (`system/ouroboros`).
    pub path: String,
    pub release_name: String,
    pub namespace: String,
    /// Values layered over the chart's defaults.
    pub values: Json,
}

/// Renders component charts for the platform rules.
pub trait ComponentRenderer: Sync {
    /// The rendered objects; `Ok(None)` when the chart is not part of this repository.
    fn render(&self, request: &ComponentRequest) -> Result<Option<Vec<Json>>, String>;
}

/// A renderer that knows no charts: platform rules that need one are skipped.
pub struct NoComponents;

impl ComponentRenderer for NoComponents {
    fn render(&self, _: &ComponentRequest) -> Result<Option<Vec<Json>>, String> {
        Ok(None)
    }
}

/// An ingress controller Service: (namespace, name).
pub type ServiceRef = (String, String);

/// Where the host ingress controller runs for a given `publishing.ingressName`.
pub fn host_ingress_service(ingress_name: &str) -> ServiceRef {
    let ns = if ingress_name.is_empty() {
        "tenant-root"
    } else {
        ingress_name
    };
    let short = ns.strip_prefix("tenant-").unwrap_or(ns);
    (ns.to_string(), format!("{short}-ingress-controller"))
}

/// Ingress controller Services deployed by this render.
pub fn deployed_ingress_services(
    manifests: &[Manifest],
    values: &Json,
    release_namespace: &str,
) -> Vec<ServiceRef> {
    let mut out = Vec::new();
    if packages(manifests)
        .iter()
        .any(|p| p.name == "cozystack.ingress-application")
    {
        let name = values
            .pointer("/publishing/ingressName")
            .and_then(Json::as_str)
            .unwrap_or("");
        out.push(host_ingress_service(name));
    }
    for hr in manifests.iter().filter(|m| m.kind() == "HelmRelease") {
        let Some(ingress) = hr.value.pointer("/spec/values/ingress-nginx") else {
            continue;
        };
        let release = hr
            .value
            .pointer("/spec/releaseName")
            .and_then(Json::as_str)
            .unwrap_or(hr.name());
        let ns = hr
            .value
            .pointer("/spec/targetNamespace")
            .and_then(Json::as_str)
            .or(hr.namespace())
            .unwrap_or(release_namespace);
        let fullname = ingress
            .get("fullnameOverride")
            .and_then(Json::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .unwrap_or_else(|| {
                if release.contains("ingress-nginx") {
                    release.to_string()
                } else {
                    format!("{release}-ingress-nginx")
                }
            });
        out.push((ns.to_string(), format!("{fullname}-controller")));
    }
    out
}

/// A component this render installs, with the values it gets.
struct Installed<'a> {
    by: &'a Manifest,
    component: Component,
    request: ComponentRequest,
}

fn installed_components<'a>(
    manifests: &'a [Manifest],
    sources: &SourceIndex,
    release_namespace: &str,
) -> Vec<Installed<'a>> {
    let mut out = Vec::new();
    for pkg in packages(manifests) {
        for c in sources
            .components
            .iter()
            .filter(|c| c.source == pkg.name && c.variant == pkg.variant)
        {
            let Some((ns, release)) = &c.install else {
                continue;
            };
            let values = pkg
                .components
                .iter()
                .find(|(name, _)| *name == c.name)
                .and_then(|(_, spec)| spec.get("values"))
                .cloned()
                .unwrap_or(Json::Object(Default::default()));
            out.push(Installed {
                by: pkg.manifest,
                component: c.clone(),
                request: ComponentRequest {
                    path: c.path.clone(),
                    release_name: release.clone(),
                    namespace: ns.clone(),
                    values,
                },
            });
        }
    }
    for hr in manifests.iter().filter(|m| m.kind() == "HelmRelease") {
        if hr
            .value
            .pointer("/spec/chartRef/kind")
            .and_then(Json::as_str)
            != Some("ExternalArtifact")
        {
            continue;
        }
        let Some(artifact) = hr
            .value
            .pointer("/spec/chartRef/name")
            .and_then(Json::as_str)
        else {
            continue;
        };
        let Some(c) = sources.by_artifact(artifact) else {
            continue;
        };
        let release = hr
            .value
            .pointer("/spec/releaseName")
            .and_then(Json::as_str)
            .unwrap_or(hr.name());
        let ns = hr
            .value
            .pointer("/spec/targetNamespace")
            .and_then(Json::as_str)
            .or(hr.namespace())
            .unwrap_or(release_namespace);
        out.push(Installed {
            by: hr,
            component: c.clone(),
            request: ComponentRequest {
                path: c.path.clone(),
                release_name: release.to_string(),
                namespace: ns.to_string(),
                values: hr
                    .value
                    .pointer("/spec/values")
                    .cloned()
                    .unwrap_or(Json::Object(Default::default())),
            },
        });
    }
    out
}

/// The proxy's target in a component render: `Some(None)` when it dials a fixed host.
fn proxy_targets(objects: &[Json]) -> Vec<(String, Option<ServiceRef>)> {
    let mut out = Vec::new();
    for obj in objects
        .iter()
        .filter(|o| o.get("kind").and_then(Json::as_str) == Some("Deployment"))
    {
        let name = obj
            .pointer("/metadata/name")
            .and_then(Json::as_str)
            .unwrap_or("")
            .to_string();
        for c in obj
            .pointer("/spec/template/spec/containers")
            .and_then(Json::as_array)
            .into_iter()
            .flatten()
        {
            let args: Vec<&str> = c
                .get("args")
                .and_then(Json::as_array)
                .into_iter()
                .flatten()
                .filter_map(Json::as_str)
                .collect();
            if args.first() != Some(&"proxy") {
                continue;
            }
            let flag = |f: &str| {
                args.iter()
                    .find_map(|a| a.strip_prefix(&format!("--{f}=")[..]))
            };
            if flag("target-host").is_some_and(|h| !h.is_empty()) {
                out.push((name.clone(), None));
            } else if let (Some(svc), Some(ns)) = (
                flag("target-service-name"),
                flag("target-service-namespace"),
            ) {
                out.push((name.clone(), Some((ns.to_string(), svc.to_string()))));
            }
        }
    }
    out
}

pub fn check(
    manifests: &[Manifest],
    values: &Json,
    release_namespace: &str,
    sources: &SourceIndex,
    renderer: &dyn ComponentRenderer,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let deployed = deployed_ingress_services(manifests, values, release_namespace);
    for inst in installed_components(manifests, sources, release_namespace) {
        let objects = match renderer.render(&inst.request) {
            Ok(Some(objects)) => objects,
            Ok(None) => continue,
            Err(err) => {
                out.push(Finding::new(
                    RULE_COMPONENT_VALUES,
                    inst.by,
                    format!("component {} ({}) does not render with the values this object gives it: {err}", inst.component.name, inst.component.path),
                ));
                continue;
            }
        };
        for (proxy, target) in proxy_targets(&objects) {
            let Some((ns, svc)) = target else { continue };
            if deployed.iter().any(|d| d.0 == ns && d.1 == svc) {
                continue;
            }
            let have = if deployed.is_empty() {
                "this render deploys no ingress-nginx controller".to_string()
            } else {
                format!(
                    "this render deploys the ingress controller as {}",
                    deployed
                        .iter()
                        .map(|(n, s)| format!("Service {s} in {n}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            };
            out.push(Finding::new(
                RULE,
                inst.by,
                format!(
                    "the ouroboros proxy {proxy} of component {} ({}, release {}/{}) dials Service {svc} in {ns}, but {have}; set ouroboros.proxy.target (namespace, serviceName) in the values this object gives the component",
                    inst.component.name, inst.component.path, inst.request.namespace, inst.request.release_name
                ),
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Renders `system/ouroboros` as a proxy Deployment whose target follows the values (with
    /// the wrapper's tenant fallback as default).
    struct FakeOuroboros;
    impl ComponentRenderer for FakeOuroboros {
        fn render(&self, req: &ComponentRequest) -> Result<Option<Vec<Json>>, String> {
            if req.path != "system/ouroboros" {
                return Ok(None);
            }
            let t = req.values.pointer("/ouroboros/proxy/target");
            let get = |k: &str, d: &str| {
                t.and_then(|t| t.get(k))
                    .and_then(Json::as_str)
                    .unwrap_or(d)
                    .to_string()
            };
            let args = json!([
                "proxy",
                format!(
                    "--target-service-name={}",
                    get("serviceName", "ingress-nginx-controller")
                ),
                format!(
                    "--target-service-namespace={}",
                    get("namespace", "cozy-ingress-nginx")
                )
            ]);
            Ok(Some(vec![
                json!({"kind": "Deployment", "metadata": {"name": format!("{}-proxy", req.release_name)},
                "spec": {"template": {"spec": {"containers": [{"name": "proxy", "args": args}]}}}}),
            ]))
        }
    }

    fn ouroboros_source() -> Json {
        json!({"kind": "PackageSource", "metadata": {"name": "cozystack.ouroboros"}, "spec": {"variants": [{"name": "default",
            "components": [{"name": "ouroboros", "path": "system/ouroboros", "install": {"namespace": "cozy-ouroboros", "releaseName": "ouroboros"}}]}]}})
    }

    fn pkg(name: &str, components: Json) -> Manifest {
        Manifest::new(
            "platform/templates/bundles/system.yaml",
            json!({"apiVersion": "cozystack.io/v1alpha1", "kind": "Package",
            "metadata": {"name": name}, "spec": {"variant": "default", "components": components}}),
        )
    }

    #[test]
    fn host_naming_convention() {
        assert_eq!(
            host_ingress_service(""),
            ("tenant-root".into(), "root-ingress-controller".into())
        );
        assert_eq!(
            host_ingress_service("tenant-foo"),
            ("tenant-foo".into(), "foo-ingress-controller".into())
        );
    }

    #[test]
    fn host_package_without_target_values_fails() {
        let src = ouroboros_source();
        let ms = vec![
            pkg("cozystack.ouroboros", json!({})),
            pkg("cozystack.ingress-application", json!({})),
        ];
        let f = check(
            &ms,
            &json!({"publishing": {"ingressName": "tenant-root"}}),
            "cozy-system",
            &SourceIndex::from_objects([&src]),
            &FakeOuroboros,
        );
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(
            f[0].message
                .contains("dials Service ingress-nginx-controller in cozy-ingress-nginx"),
            "{}",
            f[0].message
        );
        assert!(
            f[0].message
                .contains("Service root-ingress-controller in tenant-root"),
            "{}",
            f[0].message
        );
    }

    #[test]
    fn host_package_with_root_tenant_target_passes() {
        let src = ouroboros_source();
        let comp = json!({"ouroboros": {"values": {"ouroboros": {"proxy": {"target": {"namespace": "tenant-root", "serviceName": "root-ingress-controller"}}}}}});
        let ms = vec![
            pkg("cozystack.ouroboros", comp),
            pkg("cozystack.ingress-application", json!({})),
        ];
        assert!(check(
            &ms,
            &json!({}),
            "cozy-system",
            &SourceIndex::from_objects([&src]),
            &FakeOuroboros
        )
        .is_empty());
    }

    #[test]
    fn tenant_helmrelease_checked_against_tenant_ingress() {
        let src = json!({"kind": "PackageSource", "metadata": {"name": "cozystack.kubernetes-application"}, "spec": {"variants": [{"name": "kubevirt",
            "components": [{"name": "kubernetes-ouroboros", "path": "system/ouroboros"}]}]}});
        let hr = |name: &str, spec: Json| {
            Manifest::new(
                "k/templates/x.yaml",
                json!({"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease", "metadata": {"name": name}, "spec": spec}),
            )
        };
        let ingress = hr(
            "t-ingress-nginx",
            json!({"releaseName": "ingress-nginx", "targetNamespace": "cozy-ingress-nginx", "values": {"ingress-nginx": {"fullnameOverride": "ingress-nginx"}}}),
        );
        let ouro = hr(
            "t-ouroboros",
            json!({"releaseName": "ouroboros", "targetNamespace": "cozy-ouroboros",
            "chartRef": {"kind": "ExternalArtifact", "name": "cozystack-kubernetes-application-kubevirt-kubernetes-ouroboros"}, "values": {}}),
        );
        let idx = SourceIndex::from_objects([&src]);
        assert!(check(
            &[ingress.clone(), ouro.clone()],
            &json!({}),
            "t",
            &idx,
            &FakeOuroboros
        )
        .is_empty());
        let renamed = hr(
            "t-ingress-nginx",
            json!({"releaseName": "ingress-nginx", "targetNamespace": "cozy-ingress-nginx", "values": {"ingress-nginx": {"fullnameOverride": "edge"}}}),
        );
        let f = check(&[renamed, ouro], &json!({}), "t", &idx, &FakeOuroboros);
        assert!(
            f[0].message
                .contains("Service edge-controller in cozy-ingress-nginx"),
            "{f:?}"
        );
    }

    #[test]
    fn render_errors_are_findings_and_unknown_charts_skipped() {
        struct Failing;
        impl ComponentRenderer for Failing {
            fn render(&self, _: &ComponentRequest) -> Result<Option<Vec<Json>>, String> {
                Err("boom".into())
            }
        }
        let src = ouroboros_source();
        let ms = vec![pkg("cozystack.ouroboros", json!({}))];
        assert!(check(
            &ms,
            &json!({}),
            "n",
            &SourceIndex::from_objects([&src]),
            &Failing
        )[0]
        .message
        .contains("boom"));
        assert!(check(
            &ms,
            &json!({}),
            "n",
            &SourceIndex::from_objects([&src]),
            &NoComponents
        )
        .is_empty());
    }
}
