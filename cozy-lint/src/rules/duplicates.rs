//! Rule `duplicate-object`: no two documents of one render name the same object
//! (apiVersion, kind, namespace, name). Applying both would let the second silently win.

use std::collections::HashMap;

use crate::manifest::is_cluster_scoped;
use crate::{Finding, Manifest};

pub const RULE: &str = "duplicate-object";

/// `release_namespace` is where namespaced objects without `metadata.namespace` land.
pub fn check(manifests: &[Manifest], release_namespace: &str) -> Vec<Finding> {
    let mut seen: HashMap<(String, String, String, String), &Manifest> = HashMap::new();
    let mut out = Vec::new();
    for m in manifests {
        if m.kind().is_empty() || m.name().is_empty() {
            continue;
        }
        let ns = if is_cluster_scoped(m.kind()) {
            String::new()
        } else {
            m.namespace().unwrap_or(release_namespace).to_string()
        };
        let key = (
            m.api_version().to_string(),
            m.kind().to_string(),
            ns.clone(),
            m.name().to_string(),
        );
        match seen.get(&key) {
            Some(first) => {
                let where_ns = if ns.is_empty() {
                    String::new()
                } else {
                    format!(" in namespace {ns}")
                };
                out.push(Finding::new(
                    RULE,
                    m,
                    format!(
                        "{} {}{} is also rendered by {}; the later document would overwrite the earlier one",
                        m.api_version(),
                        m.name(),
                        where_ns,
                        if first.source.is_empty() { "another document" } else { &first.source }
                    ),
                ));
            }
            None => {
                seen.insert(key, m);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cm(source: &str, name: &str, ns: Option<&str>) -> Manifest {
        let mut v = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}});
        if let Some(ns) = ns {
            v["metadata"]["namespace"] = json!(ns);
        }
        Manifest::new(source, v)
    }

    #[test]
    fn same_object_twice_reported_with_both_sources() {
        let f = check(
            &[cm("a.yaml", "x", None), cm("b.yaml", "x", Some("default"))],
            "default",
        );
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].source, "b.yaml");
        assert!(f[0].message.contains("a.yaml"));
    }

    #[test]
    fn different_namespaces_are_different_objects() {
        assert!(check(&[cm("a", "x", Some("n1")), cm("b", "x", Some("n2"))], "d").is_empty());
    }

    #[test]
    fn cluster_scoped_kinds_ignore_namespace() {
        let cr = |ns: &str| {
            Manifest::new(
                "s",
                json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "r", "namespace": ns}}),
            )
        };
        assert_eq!(check(&[cr("a"), cr("b")], "d").len(), 1);
    }
}
