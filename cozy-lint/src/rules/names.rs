//! Rule `object-name`: names and namespaces follow the Kubernetes validation for their kind.
//!
//! Kubernetes validates names per kind: most kinds use a DNS-1123 subdomain; Namespaces a
//! DNS-1123 label; Services a DNS-1035 label (they become DNS names and env-var prefixes);
//! RBAC kinds only need to be a valid path segment.

use std::sync::OnceLock;

use regex::Regex;

use crate::{Finding, Manifest};

pub const RULE: &str = "object-name";

/// The naming rule that applies to a kind's `metadata.name`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameRule {
    Dns1123Subdomain,
    Dns1123Label,
    Dns1035Label,
    PathSegment,
}

pub fn rule_for(kind: &str) -> NameRule {
    match kind {
        "Namespace" => NameRule::Dns1123Label,
        "Service" => NameRule::Dns1035Label,
        "Role" | "ClusterRole" | "RoleBinding" | "ClusterRoleBinding" => NameRule::PathSegment,
        _ => NameRule::Dns1123Subdomain,
    }
}

fn label_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$").expect("static regex"))
}
fn dns1035_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"^[a-z]([-a-z0-9]*[a-z0-9])?$").expect("static regex"))
}

/// `None` when `name` is valid under `rule`, else why not.
pub fn violation(rule: NameRule, name: &str) -> Option<String> {
    match rule {
        NameRule::Dns1123Label => {
            if name.len() > 63 {
                Some(format!(
                    "must be no more than 63 characters (has {})",
                    name.len()
                ))
            } else if !label_re().is_match(name) {
                Some("must be a DNS-1123 label: lower-case alphanumerics or '-', starting and ending with an alphanumeric".into())
            } else {
                None
            }
        }
        NameRule::Dns1035Label => {
            if name.len() > 63 {
                Some(format!(
                    "must be no more than 63 characters (has {})",
                    name.len()
                ))
            } else if !dns1035_re().is_match(name) {
                Some("must be a DNS-1035 label: lower-case alphanumerics or '-', starting with a letter and ending with an alphanumeric".into())
            } else {
                None
            }
        }
        NameRule::Dns1123Subdomain => subdomain_violation(name),
        NameRule::PathSegment => {
            if name == "." || name == ".." {
                Some(format!("may not be {name:?}"))
            } else if name.contains('/') || name.contains('%') {
                Some("may not contain '/' or '%'".into())
            } else {
                None
            }
        }
    }
}

/// DNS-1123 subdomain: at most 253 characters, dot-separated DNS-1123 labels.
pub fn subdomain_violation(name: &str) -> Option<String> {
    if name.len() > 253 {
        return Some(format!(
            "must be no more than 253 characters (has {})",
            name.len()
        ));
    }
    if name.split('.').all(|part| label_re().is_match(part)) {
        None
    } else {
        Some("must be a DNS-1123 subdomain: lower-case alphanumerics, '-' or '.', starting and ending with an alphanumeric".into())
    }
}

pub fn check(m: &Manifest) -> Vec<Finding> {
    let mut out = Vec::new();
    let name = m.name();
    if !name.is_empty() {
        if let Some(why) = violation(rule_for(m.kind()), name) {
            out.push(Finding::new(RULE, m, format!("name {name:?} {why}")).at("metadata.name"));
        }
    }
    if let Some(ns) = m.namespace() {
        if let Some(why) = violation(NameRule::Dns1123Label, ns) {
            out.push(
                Finding::new(RULE, m, format!("namespace {ns:?} {why}")).at("metadata.namespace"),
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn named(kind: &str, name: &str) -> Manifest {
        Manifest::new(
            "s",
            json!({"apiVersion": "v1", "kind": kind, "metadata": {"name": name}}),
        )
    }

    #[test]
    fn subdomain_allows_dots_label_does_not() {
        assert!(check(&named("ConfigMap", "a.b-c")).is_empty());
        assert_eq!(check(&named("Namespace", "a.b")).len(), 1);
    }

    #[test]
    fn service_must_start_with_letter() {
        assert!(check(&named("Service", "1abc"))[0]
            .message
            .contains("DNS-1035"));
        assert!(check(&named("Service", "abc-1")).is_empty());
    }

    #[test]
    fn upper_case_and_long_names_rejected() {
        assert_eq!(check(&named("Deployment", "Foo")).len(), 1);
        let long = "a".repeat(64);
        assert!(check(&named("Service", &long))[0].message.contains("63"));
        assert!(check(&named("ConfigMap", &long)).is_empty());
    }

    #[test]
    fn rbac_names_only_need_a_path_segment() {
        assert!(check(&named("ClusterRole", "system:Foo")).is_empty());
        assert_eq!(check(&named("Role", "a/b")).len(), 1);
    }

    #[test]
    fn bad_namespace_reported() {
        let m = Manifest::new(
            "s",
            json!({"kind": "ConfigMap", "metadata": {"name": "a", "namespace": "Bad_NS"}}),
        );
        assert_eq!(check(&m)[0].path.as_deref(), Some("metadata.namespace"));
    }
}
