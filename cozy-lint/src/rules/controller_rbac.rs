//! Rule `controller-rbac-scope`: the ouroboros controller's RBAC grants no more than its DNS mode
//! needs, and in `coredns-import` mode nothing at all on the main CoreDNS ConfigMap (the whole
//! point of that mode is that the controller can only touch its own import snippet).
//!
//! The controller is recognised in the render as a workload whose container runs
//! `controller --mode=<mode>`. Its RBAC is every Role/ClusterRole bound (through a RoleBinding or
//! ClusterRoleBinding in the same render) to its ServiceAccount. What each mode needs:
//! - every mode: read `networking.k8s.io` ingresses (+ Gateway API gateways/httproutes with
//!   `--gateway-api`);
//! - `coredns`: get/update/patch on the one ConfigMap named by `--coredns-configmap` in
//!   `--coredns-namespace`;
//! - `coredns-import`: get/update/patch on the one ConfigMap named by
//!   `--coredns-import-configmap` in `--coredns-import-namespace`;
//! - `external-dns`: the seven write verbs on dnsendpoints (or core services with
//!   `--external-dns-output=service`) in the records namespace, and get on the proxy Service;
//! - leader election (on unless `--leader-elect=false`; never in `etc-hosts` mode): get, create
//!   and update on `coordination.k8s.io` leases in `--leader-election-namespace` (default: the
//!   controller's namespace).

use std::collections::BTreeSet;

use serde_json::Value as Json;

use crate::manifest::is_cluster_scoped;
use crate::{Finding, Manifest};

pub const RULE: &str = "controller-rbac-scope";

/// Name of the main CoreDNS ConfigMap (kubeadm and the CoreDNS chart both use it).
const MAIN_COREDNS_CONFIGMAP: &str = "coredns";

/// A permission the mode needs.
#[derive(Debug, Clone)]
struct Allowance {
    group: &'static str,
    resources: &'static [&'static str],
    verbs: &'static [&'static str],
    /// `Some`: only these object names; `None`: any object.
    names: Option<Vec<String>>,
    /// `Some`: only in this namespace (through a Role); `None`: anywhere.
    namespace: Option<String>,
}

const READ: &[&str] = &["get", "list", "watch"];
const WRITE_ALL: &[&str] = &[
    "get", "list", "watch", "create", "update", "patch", "delete",
];
const EDIT: &[&str] = &["get", "update", "patch"];

/// The controller as the render configures it.
#[derive(Debug, Clone)]
struct Controller<'a> {
    manifest: &'a Manifest,
    mode: String,
    args: Vec<String>,
    service_account: String,
    namespace: String,
}

impl Controller<'_> {
    fn flag(&self, name: &str) -> Option<&str> {
        let prefix = format!("--{name}=");
        self.args
            .iter()
            .find_map(|a| a.strip_prefix(prefix.as_str()))
    }
    fn has(&self, name: &str) -> bool {
        let bare = format!("--{name}");
        self.args
            .iter()
            .any(|a| *a == bare || a.starts_with(&format!("{bare}=")))
    }
}

fn controllers<'a>(manifests: &'a [Manifest], release_namespace: &str) -> Vec<Controller<'a>> {
    let mut out = Vec::new();
    for m in manifests {
        if !matches!(m.kind(), "Deployment" | "DaemonSet" | "StatefulSet") {
            continue;
        }
        let pod = m.value.pointer("/spec/template/spec");
        for c in pod
            .and_then(|p| p.get("containers"))
            .and_then(Json::as_array)
            .into_iter()
            .flatten()
        {
            let args: Vec<String> = c
                .get("args")
                .and_then(Json::as_array)
                .into_iter()
                .flatten()
                .filter_map(|a| a.as_str().map(str::to_string))
                .collect();
            if args.first().map(String::as_str) != Some("controller") {
                continue;
            }
            let Some(mode) = args.iter().find_map(|a| a.strip_prefix("--mode=")) else {
                continue;
            };
            out.push(Controller {
                manifest: m,
                mode: mode.to_string(),
                service_account: pod
                    .and_then(|p| p.get("serviceAccountName"))
                    .and_then(Json::as_str)
                    .unwrap_or("default")
                    .to_string(),
                namespace: m.namespace().unwrap_or(release_namespace).to_string(),
                args: args.clone(),
            });
        }
    }
    out
}

fn allowances(c: &Controller) -> Vec<Allowance> {
    let mut out = vec![Allowance {
        group: "networking.k8s.io",
        resources: &["ingresses"],
        verbs: READ,
        names: None,
        namespace: None,
    }];
    if c.has("gateway-api") {
        out.push(Allowance {
            group: "gateway.networking.k8s.io",
            resources: &["gateways", "httproutes"],
            verbs: READ,
            names: None,
            namespace: None,
        });
    }
    if c.mode != "etc-hosts" && c.flag("leader-elect") != Some("false") {
        out.push(Allowance {
            group: "coordination.k8s.io",
            resources: &["leases"],
            verbs: &["get", "create", "update"],
            names: None,
            namespace: Some(
                c.flag("leader-election-namespace")
                    .unwrap_or(&c.namespace)
                    .to_string(),
            ),
        });
    }
    let one = |s: Option<&str>, default: &str| Some(vec![s.unwrap_or(default).to_string()]);
    match c.mode.as_str() {
        "coredns" => out.push(Allowance {
            group: "",
            resources: &["configmaps"],
            verbs: EDIT,
            names: one(c.flag("coredns-configmap"), "coredns"),
            namespace: Some(
                c.flag("coredns-namespace")
                    .unwrap_or("kube-system")
                    .to_string(),
            ),
        }),
        "coredns-import" => out.push(Allowance {
            group: "",
            resources: &["configmaps"],
            verbs: EDIT,
            names: one(c.flag("coredns-import-configmap"), "coredns-custom"),
            namespace: Some(
                c.flag("coredns-import-namespace")
                    .unwrap_or("kube-system")
                    .to_string(),
            ),
        }),
        "external-dns" => {
            let records_ns = c
                .flag("external-dns-namespace")
                .unwrap_or(&c.namespace)
                .to_string();
            let service_output = c.flag("external-dns-output") == Some("service");
            out.push(Allowance {
                group: if service_output {
                    ""
                } else {
                    "externaldns.k8s.io"
                },
                resources: if service_output {
                    &["services"]
                } else {
                    &["dnsendpoints"]
                },
                verbs: WRITE_ALL,
                names: None,
                namespace: Some(records_ns),
            });
            if c.flag("external-dns-proxy-ip").is_none() {
                out.push(Allowance {
                    group: "",
                    resources: &["services"],
                    verbs: &["get"],
                    names: c
                        .flag("external-dns-proxy-service")
                        .map(|s| vec![s.to_string()]),
                    namespace: Some(c.namespace.clone()),
                });
            }
        }
        _ => {}
    }
    out
}

/// One granted (group, resource, verb) with its name restriction, as a rule of a Role says it.
struct Grant<'a> {
    role: &'a Manifest,
    rule_index: usize,
    group: String,
    resource: String,
    verb: String,
    names: Vec<String>,
    /// Namespace of a Role; `None` for a ClusterRole bound cluster-wide.
    namespace: Option<String>,
}

fn strings(v: Option<&Json>) -> Vec<String> {
    v.and_then(Json::as_array)
        .into_iter()
        .flatten()
        .filter_map(|s| s.as_str().map(str::to_string))
        .collect()
}

/// Roles bound to the controller's ServiceAccount, with the namespace each applies in.
fn bound_roles<'a>(
    manifests: &'a [Manifest],
    c: &Controller,
    release_ns: &str,
) -> Vec<(&'a Manifest, Option<String>)> {
    let mut out = Vec::new();
    for b in manifests
        .iter()
        .filter(|m| matches!(m.kind(), "RoleBinding" | "ClusterRoleBinding"))
    {
        let binding_ns = if b.kind() == "RoleBinding" {
            Some(b.namespace().unwrap_or(release_ns).to_string())
        } else {
            None
        };
        let subjects = b
            .value
            .get("subjects")
            .and_then(Json::as_array)
            .cloned()
            .unwrap_or_default();
        let binds_controller = subjects.iter().any(|s| {
            s.get("kind").and_then(Json::as_str) == Some("ServiceAccount")
                && s.get("name").and_then(Json::as_str) == Some(c.service_account.as_str())
                && s.get("namespace")
                    .and_then(Json::as_str)
                    .unwrap_or(binding_ns.as_deref().unwrap_or(release_ns))
                    == c.namespace
        });
        if !binds_controller {
            continue;
        }
        let role_kind = b
            .value
            .pointer("/roleRef/kind")
            .and_then(Json::as_str)
            .unwrap_or("");
        let role_name = b
            .value
            .pointer("/roleRef/name")
            .and_then(Json::as_str)
            .unwrap_or("");
        for r in manifests
            .iter()
            .filter(|m| m.kind() == role_kind && m.name() == role_name)
        {
            if role_kind == "Role" {
                let role_ns = r.namespace().unwrap_or(release_ns);
                if Some(role_ns) != binding_ns.as_deref() {
                    continue;
                }
            }
            out.push((r, binding_ns.clone()));
        }
    }
    out
}

fn grants<'a>(role: &'a Manifest, namespace: Option<String>) -> Vec<Grant<'a>> {
    let mut out = Vec::new();
    for (i, rule) in role
        .value
        .get("rules")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let names = strings(rule.get("resourceNames"));
        let mut groups = strings(rule.get("apiGroups"));
        if groups.is_empty() {
            groups.push(String::new());
        }
        for g in &groups {
            for r in strings(rule.get("resources")) {
                for v in strings(rule.get("verbs")) {
                    out.push(Grant {
                        role,
                        rule_index: i,
                        group: g.clone(),
                        resource: r.clone(),
                        verb: v,
                        names: names.clone(),
                        namespace: namespace.clone(),
                    });
                }
            }
        }
    }
    out
}

fn covered(g: &Grant, allowed: &[Allowance]) -> bool {
    allowed.iter().any(|a| {
        a.group == g.group
            && a.resources.contains(&g.resource.as_str())
            && a.verbs.contains(&g.verb.as_str())
            && match &a.names {
                None => true,
                Some(names) => !g.names.is_empty() && g.names.iter().all(|n| names.contains(n)),
            }
            && match &a.namespace {
                None => true,
                Some(ns) => g.namespace.as_deref() == Some(ns.as_str()),
            }
    })
}

pub fn check(manifests: &[Manifest], release_namespace: &str) -> Vec<Finding> {
    let mut out = Vec::new();
    for c in controllers(manifests, release_namespace) {
        let allowed = allowances(&c);
        let import_ns = c
            .flag("coredns-import-namespace")
            .unwrap_or("kube-system")
            .to_string();
        let mut reported = BTreeSet::new();
        for (role, ns) in bound_roles(manifests, &c, release_namespace) {
            let ns = if is_cluster_scoped(role.kind()) && role.kind() == "ClusterRole" {
                ns
            } else {
                ns.or_else(|| Some(release_namespace.to_string()))
            };
            for g in grants(role, ns) {
                let touches_main_corefile = c.mode == "coredns-import"
                    && g.group.is_empty()
                    && (g.resource == "configmaps" || g.resource == "*")
                    && (g.names.is_empty() || g.names.iter().any(|n| n == MAIN_COREDNS_CONFIGMAP))
                    && g.namespace.as_deref().is_none_or(|n| n == import_ns);
                let (key, message) = if touches_main_corefile {
                    (
                        format!("main/{}/{}", g.role.display_name(), g.verb),
                        format!(
                            "in coredns-import mode the controller must not be able to touch the main CoreDNS ConfigMap {import_ns}/{MAIN_COREDNS_CONFIGMAP}, but {} grants `{}` on {} (bound to ServiceAccount {})",
                            g.role.display_name(),
                            g.verb,
                            if g.names.is_empty() { "every ConfigMap".to_string() } else { format!("ConfigMaps {:?}", g.names) },
                            c.service_account
                        ),
                    )
                } else if !covered(&g, &allowed) {
                    let scope = match (&g.namespace, g.names.is_empty()) {
                        (None, true) => "cluster-wide".to_string(),
                        (None, false) => format!("cluster-wide on {:?}", g.names),
                        (Some(ns), true) => format!("in namespace {ns}"),
                        (Some(ns), false) => format!("in namespace {ns} on {:?}", g.names),
                    };
                    let res = if g.group.is_empty() {
                        g.resource.clone()
                    } else {
                        format!("{}.{}", g.resource, g.group)
                    };
                    (
                        format!("{}/{}/{}/{}", g.role.display_name(), res, g.verb, scope),
                        format!(
                            "the controller in {} mode ({}) does not need `{}` on {res} {scope}, granted by {}",
                            c.mode,
                            c.manifest.display_name(),
                            g.verb,
                            g.role.display_name()
                        ),
                    )
                } else {
                    continue;
                };
                if reported.insert(key) {
                    out.push(
                        Finding::new(RULE, g.role, message).at(format!("rules[{}]", g.rule_index)),
                    );
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn controller(mode: &str, extra: &[&str]) -> Manifest {
        let mut args = vec![json!("controller"), json!(format!("--mode={mode}"))];
        args.extend(extra.iter().map(|a| json!(a)));
        Manifest::new(
            "o/charts/ouroboros/templates/controller-deployment.yaml",
            json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "ouroboros"},
            "spec": {"template": {"spec": {"serviceAccountName": "ouroboros", "containers": [{"name": "controller", "args": args}]}}}}),
        )
    }

    fn role(kind: &str, name: &str, ns: Option<&str>, rules: Json) -> Manifest {
        let mut v = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": kind, "metadata": {"name": name}, "rules": rules});
        if let Some(ns) = ns {
            v["metadata"]["namespace"] = json!(ns);
        }
        Manifest::new(format!("o/templates/{name}.yaml"), v)
    }

    fn binding(kind: &str, role_kind: &str, name: &str, ns: Option<&str>, sa: &str) -> Manifest {
        let mut v = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": kind, "metadata": {"name": name},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": name},
            "subjects": [{"kind": "ServiceAccount", "name": sa, "namespace": "cozy-ouroboros"}]});
        if let Some(ns) = ns {
            v["metadata"]["namespace"] = json!(ns);
        }
        Manifest::new("o/templates/b.yaml", v)
    }

    fn base_rbac() -> Vec<Manifest> {
        vec![
            role(
                "ClusterRole",
                "ouroboros",
                None,
                json!([{"apiGroups": ["networking.k8s.io"], "resources": ["ingresses"], "verbs": ["get", "list", "watch"]}]),
            ),
            binding(
                "ClusterRoleBinding",
                "ClusterRole",
                "ouroboros",
                None,
                "ouroboros",
            ),
        ]
    }

    fn import_args() -> Vec<&'static str> {
        vec![
            "--coredns-import-namespace=kube-system",
            "--coredns-import-configmap=coredns-custom",
            "--coredns-import-key=ouroboros.override",
        ]
    }

    #[test]
    fn import_mode_with_own_configmap_only_passes() {
        let mut ms = vec![controller("coredns-import", &import_args())];
        ms.extend(base_rbac());
        ms.push(role("Role", "ouroboros-coredns-import", Some("kube-system"), json!([{"apiGroups": [""], "resources": ["configmaps"], "resourceNames": ["coredns-custom"], "verbs": ["get", "update", "patch"]}])));
        ms.push(binding(
            "RoleBinding",
            "Role",
            "ouroboros-coredns-import",
            Some("kube-system"),
            "ouroboros",
        ));
        assert!(
            check(&ms, "cozy-ouroboros").is_empty(),
            "{:?}",
            check(&ms, "cozy-ouroboros")
        );
    }

    #[test]
    fn import_mode_granting_main_corefile_fails() {
        let mut ms = vec![controller("coredns-import", &import_args())];
        ms.extend(base_rbac());
        ms.push(role("Role", "ouroboros-coredns", Some("kube-system"), json!([{"apiGroups": [""], "resources": ["configmaps"], "resourceNames": ["coredns"], "verbs": ["get", "update"]}])));
        ms.push(binding(
            "RoleBinding",
            "Role",
            "ouroboros-coredns",
            Some("kube-system"),
            "ouroboros",
        ));
        let f = check(&ms, "cozy-ouroboros");
        assert_eq!(f.len(), 2, "{f:?}");
        assert!(f.iter().all(|f| f
            .message
            .contains("main CoreDNS ConfigMap kube-system/coredns")));
    }

    #[test]
    fn wildcard_and_unnamed_configmap_access_fail() {
        let mut ms = vec![controller(
            "coredns",
            &[
                "--coredns-namespace=kube-system",
                "--coredns-configmap=coredns",
            ],
        )];
        ms.extend(base_rbac());
        ms.push(role("Role", "ouroboros-coredns", Some("kube-system"), json!([{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "update", "delete"]}])));
        ms.push(binding(
            "RoleBinding",
            "Role",
            "ouroboros-coredns",
            Some("kube-system"),
            "ouroboros",
        ));
        let f = check(&ms, "cozy-ouroboros");
        assert_eq!(f.len(), 3, "{f:?}");
        assert!(f[0].message.contains("coredns mode"));
    }

    #[test]
    fn gateway_read_needs_the_flag() {
        let mut ms = vec![controller("coredns", &["--coredns-configmap=coredns"])];
        ms.extend(base_rbac());
        ms[1].value["rules"].as_array_mut().unwrap().push(json!({"apiGroups": ["gateway.networking.k8s.io"], "resources": ["gateways"], "verbs": ["list"]}));
        assert_eq!(check(&ms, "cozy-ouroboros").len(), 1);
        ms[0] = controller("coredns", &["--coredns-configmap=coredns", "--gateway-api"]);
        assert!(check(&ms, "cozy-ouroboros").is_empty());
    }

    #[test]
    fn roles_bound_to_other_accounts_are_ignored() {
        let mut ms = vec![controller("coredns-import", &import_args())];
        ms.extend(base_rbac());
        ms.push(role("Role", "hook", Some("kube-system"), json!([{"apiGroups": [""], "resources": ["configmaps"], "resourceNames": ["coredns-custom"], "verbs": ["get", "patch"]}])));
        ms.push(binding(
            "RoleBinding",
            "Role",
            "hook",
            Some("kube-system"),
            "ouroboros-coredns-cleanup",
        ));
        assert!(check(&ms, "cozy-ouroboros").is_empty());
    }

    #[test]
    fn external_dns_mode_allowances() {
        let mut ms = vec![controller(
            "external-dns",
            &[
                "--external-dns-namespace=dns",
                "--external-dns-proxy-service=ouroboros-proxy",
            ],
        )];
        ms.extend(base_rbac());
        ms.push(role("Role", "ouroboros-externaldns", Some("dns"), json!([{"apiGroups": ["externaldns.k8s.io"], "resources": ["dnsendpoints"], "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"]}])));
        ms.push(binding(
            "RoleBinding",
            "Role",
            "ouroboros-externaldns",
            Some("dns"),
            "ouroboros",
        ));
        ms.push(role("Role", "ouroboros-externaldns-discover", Some("cozy-ouroboros"), json!([{"apiGroups": [""], "resources": ["services"], "resourceNames": ["ouroboros-proxy"], "verbs": ["get"]}])));
        ms.push(binding(
            "RoleBinding",
            "Role",
            "ouroboros-externaldns-discover",
            Some("cozy-ouroboros"),
            "ouroboros",
        ));
        assert!(
            check(&ms, "cozy-ouroboros").is_empty(),
            "{:?}",
            check(&ms, "cozy-ouroboros")
        );
    }
}
