//! Rules `core-type` and `unknown-field`: documents of Kubernetes' own kinds are checked against
//! the typed API structs of `k8s-openapi` (the Kubernetes version the workspace pins).
//!
//! The API server rejects a value of the wrong type, and with strict field validation an unknown
//! field too. `k8s-openapi` types ignore unknown fields, so after a successful typed parse the
//! object is serialized back and every path present in the input but gone after the round trip
//! is reported: that is a field the API type does not have (usually a misspelling such as
//! `spec.template.spec.containers[0].imagePullPolicyy`).

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value as Json;

use crate::path::{display, Segment};
use crate::{Finding, Manifest};

pub const RULE_TYPE: &str = "core-type";
pub const RULE_UNKNOWN: &str = "unknown-field";

type Checker = fn(&Json) -> Vec<Problem>;

/// A problem found by the typed check, before it is attached to a manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// The typed parse failed at `path`.
    Type { path: String, message: String },
    /// `path` is not a field of the API type.
    Unknown { path: String },
}

macro_rules! core_kinds {
    ($($ty:path),* $(,)?) => {
        /// (apiVersion, kind, checker) for every core kind we know.
        fn table() -> &'static [(&'static str, &'static str, Checker)] {
            &[$((<$ty as k8s_openapi::Resource>::API_VERSION, <$ty as k8s_openapi::Resource>::KIND, typed_check::<$ty> as Checker)),*]
        }
    };
}

core_kinds!(
    k8s_openapi::api::core::v1::ConfigMap,
    k8s_openapi::api::core::v1::Secret,
    k8s_openapi::api::core::v1::Service,
    k8s_openapi::api::core::v1::ServiceAccount,
    k8s_openapi::api::core::v1::Namespace,
    k8s_openapi::api::core::v1::Pod,
    k8s_openapi::api::core::v1::PersistentVolumeClaim,
    k8s_openapi::api::core::v1::PersistentVolume,
    k8s_openapi::api::core::v1::Endpoints,
    k8s_openapi::api::core::v1::LimitRange,
    k8s_openapi::api::core::v1::ResourceQuota,
    k8s_openapi::api::apps::v1::Deployment,
    k8s_openapi::api::apps::v1::DaemonSet,
    k8s_openapi::api::apps::v1::StatefulSet,
    k8s_openapi::api::apps::v1::ReplicaSet,
    k8s_openapi::api::batch::v1::Job,
    k8s_openapi::api::batch::v1::CronJob,
    k8s_openapi::api::rbac::v1::Role,
    k8s_openapi::api::rbac::v1::ClusterRole,
    k8s_openapi::api::rbac::v1::RoleBinding,
    k8s_openapi::api::rbac::v1::ClusterRoleBinding,
    k8s_openapi::api::networking::v1::Ingress,
    k8s_openapi::api::networking::v1::IngressClass,
    k8s_openapi::api::networking::v1::NetworkPolicy,
    k8s_openapi::api::policy::v1::PodDisruptionBudget,
    k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler,
    k8s_openapi::api::autoscaling::v1::HorizontalPodAutoscaler,
    k8s_openapi::api::scheduling::v1::PriorityClass,
    k8s_openapi::api::storage::v1::StorageClass,
    k8s_openapi::api::coordination::v1::Lease,
    k8s_openapi::api::discovery::v1::EndpointSlice,
    k8s_openapi::api::admissionregistration::v1::MutatingWebhookConfiguration,
    k8s_openapi::api::admissionregistration::v1::ValidatingWebhookConfiguration,
    k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition,
);

/// True when `api_version` belongs to a Kubernetes built-in API group.
pub fn is_core_group(api_version: &str) -> bool {
    let group = api_version.rsplit_once('/').map(|(g, _)| g).unwrap_or("");
    group.is_empty()
        || group.ends_with(".k8s.io") && !group.starts_with("gateway.")
        || matches!(group, "apps" | "batch" | "policy" | "autoscaling")
}

/// Is this (apiVersion, kind) one the typed check covers?
pub fn covers(api_version: &str, kind: &str) -> bool {
    table()
        .iter()
        .any(|(a, k, _)| *a == api_version && *k == kind)
}

/// Check one value against its API type; `None` when the kind is not a core kind we know.
pub fn check_value(api_version: &str, kind: &str, value: &Json) -> Option<Vec<Problem>> {
    table()
        .iter()
        .find(|(a, k, _)| *a == api_version && *k == kind)
        .map(|(_, _, f)| f(value))
}

fn typed_check<T: DeserializeOwned + Serialize>(value: &Json) -> Vec<Problem> {
    let input = strip_nulls(value);
    match serde_path_to_error::deserialize::<_, T>(input.clone()) {
        Err(err) => {
            let path = err.path().to_string();
            let path = if path == "." { String::new() } else { path };
            vec![Problem::Type {
                path,
                message: err.into_inner().to_string(),
            }]
        }
        Ok(typed) => match serde_json::to_value(&typed) {
            Ok(back) => {
                let mut out = Vec::new();
                unknown_paths(&input, &back, &mut Vec::new(), &mut out);
                out.into_iter()
                    .map(|path| Problem::Unknown { path })
                    .collect()
            }
            Err(err) => vec![Problem::Type {
                path: String::new(),
                message: err.to_string(),
            }],
        },
    }
}

/// Nulls mean "unset" to the API server (`creationTimestamp: null`); drop them before checking.
fn strip_nulls(value: &Json) -> Json {
    match value {
        Json::Object(map) => Json::Object(
            map.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), strip_nulls(v)))
                .collect(),
        ),
        Json::Array(items) => Json::Array(items.iter().map(strip_nulls).collect()),
        other => other.clone(),
    }
}

/// Paths present in `input` and missing from `back`. Empty maps/lists the type dropped are not
/// reported (some list fields are omitted when empty on serialization).
fn unknown_paths(input: &Json, back: &Json, at: &mut Vec<Segment>, out: &mut Vec<String>) {
    match (input, back) {
        (Json::Object(i), Json::Object(b)) => {
            for (key, value) in i {
                at.push(Segment::Key(key.clone()));
                match b.get(key) {
                    Some(bv) => unknown_paths(value, bv, at, out),
                    None if is_empty_container(value) => {}
                    None => out.push(display(at)),
                }
                at.pop();
            }
        }
        (Json::Array(i), Json::Array(b)) if i.len() == b.len() => {
            for (idx, (iv, bv)) in i.iter().zip(b).enumerate() {
                at.push(Segment::Index(idx));
                unknown_paths(iv, bv, at, out);
                at.pop();
            }
        }
        _ => {}
    }
}

fn is_empty_container(v: &Json) -> bool {
    matches!(v, Json::Object(m) if m.is_empty()) || matches!(v, Json::Array(a) if a.is_empty())
}

/// Kinds in the table served under a different apiVersion than the one used.
fn served_versions(kind: &str) -> Vec<&'static str> {
    table()
        .iter()
        .filter(|(_, k, _)| *k == kind)
        .map(|(a, _, _)| *a)
        .collect()
}

pub fn check(m: &Manifest) -> Vec<Finding> {
    let (api_version, kind) = (m.api_version(), m.kind());
    match check_value(api_version, kind, &m.value) {
        Some(problems) => problems
            .into_iter()
            .map(|p| match p {
                Problem::Type { path, message } => {
                    let f = Finding::new(
                        RULE_TYPE,
                        m,
                        format!("does not match the Kubernetes {kind} type: {message}"),
                    );
                    if path.is_empty() {
                        f
                    } else {
                        f.at(path)
                    }
                }
                Problem::Unknown { path } => Finding::new(
                    RULE_UNKNOWN,
                    m,
                    format!("unknown field: {kind} ({api_version}) has no field `{path}`"),
                )
                .at(path),
            })
            .collect(),
        None => {
            let served = served_versions(kind);
            if is_core_group(api_version) && !served.is_empty() {
                vec![Finding::new(
                    RULE_TYPE,
                    m,
                    format!(
                        "{kind} is not served as {api_version}; use {}",
                        served.join(" or ")
                    ),
                )
                .at("apiVersion")]
            } else {
                Vec::new()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn deployment(container: Json) -> Manifest {
        Manifest::new(
            "c/templates/deploy.yaml",
            json!({
                "apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": "d", "labels": {"a": "b"}, "creationTimestamp": null},
                "spec": {"replicas": 1, "selector": {"matchLabels": {"a": "b"}},
                    "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 1}},
                    "template": {"metadata": {"labels": {"a": "b"}},
                        "spec": {"containers": [container], "tolerations": [], "securityContext": {}}}}
            }),
        )
    }

    #[test]
    fn misspelled_container_field_reported_with_full_path() {
        let f = check(&deployment(
            json!({"name": "c", "image": "x", "imagePullPolicyy": "Always"}),
        ));
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].rule, RULE_UNKNOWN);
        assert_eq!(
            f[0].path.as_deref(),
            Some("spec.template.spec.containers[0].imagePullPolicyy")
        );
    }

    #[test]
    fn valid_deployment_with_quantities_and_int_or_string_passes() {
        let f = check(&deployment(
            json!({"name": "c", "image": "x", "ports": [{"containerPort": 80, "name": "http"}],
            "resources": {"limits": {"cpu": 1, "memory": "64Mi"}, "requests": {"cpu": "50m"}},
            "livenessProbe": {"httpGet": {"path": "/", "port": "http"}}}),
        ));
        assert!(f.is_empty(), "{f:?}");
    }

    #[test]
    fn wrong_type_reported_at_its_path() {
        let f = check(&deployment(
            json!({"name": "c", "image": "x", "ports": [{"containerPort": "eighty"}]}),
        ));
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].rule, RULE_TYPE);
        assert_eq!(
            f[0].path.as_deref(),
            Some("spec.template.spec.containers[0].ports[0].containerPort")
        );
    }

    #[test]
    fn configmap_data_must_be_strings() {
        let m = Manifest::new(
            "s",
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}, "data": {"k": 1}}),
        );
        let f = check(&m);
        assert_eq!(f[0].rule, RULE_TYPE);
        assert_eq!(f[0].path.as_deref(), Some("data.k"));
    }

    #[test]
    fn removed_api_version_reported() {
        let m = Manifest::new(
            "s",
            json!({"apiVersion": "policy/v1beta1", "kind": "PodDisruptionBudget", "metadata": {"name": "a"}}),
        );
        let f = check(&m);
        assert!(f[0].message.contains("use policy/v1"), "{f:?}");
    }

    #[test]
    fn custom_kinds_are_not_checked_here() {
        let m = Manifest::new(
            "s",
            json!({"apiVersion": "cozystack.io/v1alpha1", "kind": "Package", "metadata": {"name": "a"}, "bogus": 1}),
        );
        assert!(check(&m).is_empty());
    }

    #[test]
    fn unknown_top_level_and_metadata_fields_reported() {
        let m = Manifest::new(
            "s",
            json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "a", "lables": {}, "annotation": {"x": "y"}},
            "spec": {"ports": [{"port": 80, "targetPort": "http", "protocol": "TCP"}], "selctor": {"a": "b"}}}),
        );
        let paths: Vec<_> = check(&m).into_iter().map(|f| f.path.unwrap()).collect();
        assert_eq!(paths, vec!["metadata.annotation", "spec.selctor"]);
    }
}
