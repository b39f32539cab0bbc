//! Deployments: the `autoscaling/v1` Scale view of `spec.replicas`, and the status a
//! deployment controller would eventually report (which this server simulates after a delay).

use crate::status::ApiError;
use serde_json::{json, Map, Value};

/// The Scale object `GET .../deployments/<name>/scale` returns.
pub fn to_scale(deployment: &Value) -> Value {
    let meta = deployment.get("metadata").cloned().unwrap_or_default();
    let mut scale_meta = Map::new();
    for key in [
        "name",
        "namespace",
        "uid",
        "resourceVersion",
        "creationTimestamp",
    ] {
        if let Some(v) = meta.get(key) {
            scale_meta.insert(key.into(), v.clone());
        }
    }
    let spec_replicas = deployment
        .pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .unwrap_or(1);
    let status_replicas = deployment
        .pointer("/status/replicas")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    let selector = label_selector_string(deployment.pointer("/spec/selector/matchLabels"));
    let mut status = json!({"replicas": status_replicas});
    if !selector.is_empty() {
        status["selector"] = Value::String(selector);
    }
    json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": scale_meta,
        "spec": {"replicas": spec_replicas},
        "status": status,
    })
}

fn label_selector_string(labels: Option<&Value>) -> String {
    let Some(Value::Object(map)) = labels else {
        return String::new();
    };
    map.iter()
        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
        .collect::<Vec<_>>()
        .join(",")
}

/// `spec.replicas` of a Scale body; must be a non-negative integer.
pub fn replicas_of(scale: &Value, name: &str) -> Result<i64, ApiError> {
    match scale.pointer("/spec/replicas") {
        None | Some(Value::Null) => Ok(0),
        Some(v) => match v.as_i64() {
            Some(n) if n >= 0 => Ok(n),
            _ => Err(ApiError::bad_request(format!("Scale \"{name}\" is invalid: spec.replicas: Invalid value: {v}: must be greater than or equal to 0"))),
        },
    }
}

/// The deployment with `spec.replicas` replaced (what a Scale write does).
pub fn with_replicas(deployment: &Value, replicas: i64) -> Value {
    let mut out = deployment.clone();
    if !out.get("spec").is_some_and(Value::is_object) {
        out["spec"] = json!({});
    }
    out["spec"]["replicas"] = Value::from(replicas);
    out
}

/// The status a settled rollout reports. Replica counts of 0 are omitted, as the apiserver
/// omits empty integer fields.
pub fn settled_status(deployment: &Value) -> Value {
    let replicas = deployment
        .pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .unwrap_or(1);
    let mut status = deployment
        .get("status")
        .cloned()
        .filter(Value::is_object)
        .unwrap_or_else(|| json!({}));
    let generation = deployment
        .pointer("/metadata/generation")
        .cloned()
        .unwrap_or(Value::from(1));
    status["observedGeneration"] = generation;
    for key in [
        "replicas",
        "updatedReplicas",
        "readyReplicas",
        "availableReplicas",
    ] {
        if replicas > 0 {
            status[key] = Value::from(replicas);
        } else if let Some(map) = status.as_object_mut() {
            map.remove(key);
        }
    }
    status
}

/// Whether the simulated rollout still has to catch up with the spec.
pub fn needs_settling(deployment: &Value) -> bool {
    deployment.get("status") != Some(&settled_status(deployment))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deploy() -> Value {
        json!({
            "metadata": {"name": "c", "namespace": "ns", "uid": "u", "resourceVersion": "7", "generation": 2, "labels": {"x": "y"}},
            "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "c"}}},
            "status": {"replicas": 2, "observedGeneration": 2}
        })
    }

    #[test]
    fn scale_view() {
        let scale = to_scale(&deploy());
        assert_eq!(scale["apiVersion"], "autoscaling/v1");
        assert_eq!(scale["spec"]["replicas"], 2);
        assert_eq!(scale["status"], json!({"replicas": 2, "selector": "app=c"}));
        assert_eq!(scale["metadata"]["resourceVersion"], "7");
        assert!(scale["metadata"].get("labels").is_none());
    }

    #[test]
    fn replicas_validation() {
        assert_eq!(replicas_of(&json!({"spec": {"replicas": 0}}), "c"), Ok(0));
        assert!(replicas_of(&json!({"spec": {"replicas": -1}}), "c").is_err());
        assert!(replicas_of(&json!({"spec": {"replicas": "2"}}), "c").is_err());
    }

    #[test]
    fn settled_status_omits_zero_counts() {
        let scaled = with_replicas(&deploy(), 0);
        assert!(needs_settling(&scaled));
        let status = settled_status(&scaled);
        assert!(status.get("replicas").is_none());
        assert_eq!(status["observedGeneration"], 2);
        let up = with_replicas(&deploy(), 3);
        assert_eq!(settled_status(&up)["readyReplicas"], 3);
    }
}
