//! What `lookup(apiVersion, kind, namespace, name)` sees.
//!
//! Helm fact: `helm template` has no cluster, so every lookup is empty. `--cluster-state FILE`
//! supplies objects (multi-document YAML, or a `kind: List` such as saved `kubectl get -o yaml`
//! output). Cluster-scoped kinds ignore the namespace argument.
//!
//! A live cluster (any other [`LookupProvider`]) can sit behind the file: the file answers
//! first and the cluster answers the rest ([`ClusterState::over`]). That way a saved object can
//! pin what a render sees while everything else comes from the cluster, and `--cluster-state`
//! keeps meaning the same thing with or without a cluster.

use std::path::Path;
use std::sync::Arc;

use serde_json::{json, Map, Value as Json};

use crate::error::RenderError;

/// Answers lookups. Implementations must be read-only.
pub trait LookupProvider: Send + Sync + std::fmt::Debug {
    /// One object, or `None` when it does not exist.
    fn get(
        &self,
        api_version: &str,
        kind: &str,
        namespace: &str,
        name: &str,
    ) -> Result<Option<Json>, String>;
    /// Every object of the kind (in `namespace` unless empty or the kind is cluster-scoped).
    fn list(&self, api_version: &str, kind: &str, namespace: &str) -> Result<Vec<Json>, String>;
}

/// Kinds that have no namespace; lookups of these ignore the namespace argument.
const CLUSTER_SCOPED: &[&str] = &[
    "Namespace",
    "Node",
    "PersistentVolume",
    "StorageClass",
    "ClusterRole",
    "ClusterRoleBinding",
    "CustomResourceDefinition",
    "PriorityClass",
    "IngressClass",
    "APIService",
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
    "ValidatingAdmissionPolicy",
    "ValidatingAdmissionPolicyBinding",
    "CSIDriver",
    "CSINode",
    "VolumeAttachment",
    "RuntimeClass",
    "GatewayClass",
    // cozystack kinds
    "Package",
    "PackageSource",
];

/// True when `kind` is cluster-scoped (so `lookup` ignores the namespace).
pub fn is_cluster_scoped(kind: &str) -> bool {
    CLUSTER_SCOPED.contains(&kind)
}

/// A fixed set of objects, e.g. loaded from `--cluster-state FILE` or a test suite's
/// `kubernetesProvider.objects`, optionally in front of another provider (a live cluster).
#[derive(Debug, Clone, Default)]
pub struct ClusterState {
    objects: Arc<Vec<Json>>,
    /// Asked for whatever `objects` does not hold.
    behind: Option<Arc<dyn LookupProvider>>,
}

impl ClusterState {
    pub fn from_objects(objects: Vec<Json>) -> ClusterState {
        let mut flat = Vec::new();
        for obj in objects {
            flatten_lists(obj, &mut flat);
        }
        ClusterState {
            objects: Arc::new(flat),
            behind: None,
        }
    }

    /// These objects in front of `provider`: a `get` the objects answer never reaches the
    /// provider; a list is the objects plus the provider's objects of other names.
    pub fn over(self, provider: Arc<dyn LookupProvider>) -> ClusterState {
        ClusterState {
            behind: Some(provider),
            ..self
        }
    }

    /// Read a multi-document YAML file (or a `kind: List`).
    pub fn from_file(path: &Path) -> Result<ClusterState, RenderError> {
        let text = std::fs::read_to_string(path).map_err(|e| RenderError::Io {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        let docs = cozy_values::yaml::parse_documents(&text, cozy_values::yaml::NumberMode::Native)
            .map_err(|e| RenderError::ClusterState {
                path: path.to_path_buf(),
                message: e.to_string(),
            })?;
        let mut objects = Vec::new();
        for (doc, line) in docs {
            match doc {
                Json::Null => {}
                Json::Object(_) => {
                    if doc.get("kind").and_then(Json::as_str).is_none() {
                        return Err(RenderError::ClusterState {
                            path: path.to_path_buf(),
                            message: format!("document at line {line} has no `kind`"),
                        });
                    }
                    objects.push(doc)
                }
                _ => {
                    return Err(RenderError::ClusterState {
                        path: path.to_path_buf(),
                        message: format!("document at line {line} is not a mapping"),
                    })
                }
            }
        }
        Ok(ClusterState::from_objects(objects))
    }

    pub fn objects(&self) -> &[Json] {
        &self.objects
    }
}

fn flatten_lists(obj: Json, out: &mut Vec<Json>) {
    let is_list = obj
        .get("kind")
        .and_then(Json::as_str)
        .map(|k| k == "List" || k.ends_with("List"))
        .unwrap_or(false)
        && obj.get("items").map(Json::is_array).unwrap_or(false);
    if is_list {
        if let Some(Json::Array(items)) = obj.get("items").cloned() {
            for item in items {
                flatten_lists(item, out);
            }
        }
    } else {
        out.push(obj);
    }
}

fn field<'a>(obj: &'a Json, pointer: &str) -> &'a str {
    obj.pointer(pointer).and_then(Json::as_str).unwrap_or("")
}

impl ClusterState {
    /// The objects of this state alone (not the provider behind it).
    fn own(&self, api_version: &str, kind: &str, namespace: &str) -> Vec<Json> {
        let scoped = !is_cluster_scoped(kind) && !namespace.is_empty();
        self.objects
            .iter()
            .filter(|o| field(o, "/apiVersion") == api_version && field(o, "/kind") == kind)
            .filter(|o| !scoped || field(o, "/metadata/namespace") == namespace)
            .cloned()
            .collect()
    }
}

/// What makes two listed objects the same object.
fn identity(obj: &Json) -> (&str, &str) {
    (
        field(obj, "/metadata/namespace"),
        field(obj, "/metadata/name"),
    )
}

impl LookupProvider for ClusterState {
    fn get(
        &self,
        api_version: &str,
        kind: &str,
        namespace: &str,
        name: &str,
    ) -> Result<Option<Json>, String> {
        let own = self
            .own(api_version, kind, namespace)
            .into_iter()
            .find(|o| field(o, "/metadata/name") == name);
        match (own, &self.behind) {
            (Some(obj), _) => Ok(Some(obj)),
            (None, Some(behind)) => behind.get(api_version, kind, namespace, name),
            (None, None) => Ok(None),
        }
    }

    fn list(&self, api_version: &str, kind: &str, namespace: &str) -> Result<Vec<Json>, String> {
        let mut objects = self.own(api_version, kind, namespace);
        if let Some(behind) = &self.behind {
            let theirs = behind.list(api_version, kind, namespace)?;
            let shadowed: std::collections::HashSet<(String, String)> = objects
                .iter()
                .map(|o| {
                    let (ns, name) = identity(o);
                    (ns.to_string(), name.to_string())
                })
                .collect();
            objects.extend(theirs.into_iter().filter(|o| {
                let (ns, name) = identity(o);
                !shadowed.contains(&(ns.to_string(), name.to_string()))
            }));
        }
        Ok(objects)
    }
}

/// Helm's `lookup` result shape: the object, an empty map, or a List with `items`.
pub fn lookup_value(
    provider: Option<&dyn LookupProvider>,
    api_version: &str,
    kind: &str,
    namespace: &str,
    name: &str,
) -> Result<Json, String> {
    let Some(provider) = provider else {
        return Ok(if name.is_empty() {
            json!({})
        } else {
            Json::Object(Map::new())
        });
    };
    if name.is_empty() {
        let items = provider.list(api_version, kind, namespace)?;
        Ok(json!({"apiVersion": "v1", "kind": "List", "metadata": {}, "items": items}))
    } else {
        Ok(provider
            .get(api_version, kind, namespace, name)?
            .unwrap_or_else(|| Json::Object(Map::new())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> ClusterState {
        ClusterState::from_objects(vec![
            json!({"apiVersion": "v1", "kind": "List", "items": [
                {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "namespace": "x"}},
                {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "namespace": "y"}},
            ]}),
            json!({"apiVersion": "cozystack.io/v1alpha1", "kind": "Package", "metadata": {"name": "cozystack.ouroboros"}}),
        ])
    }

    #[test]
    fn namespaced_get_respects_namespace() {
        let s = state();
        let got = lookup_value(Some(&s), "v1", "ConfigMap", "y", "a").unwrap();
        assert_eq!(got.pointer("/metadata/namespace").unwrap(), "y");
        let missing = lookup_value(Some(&s), "v1", "ConfigMap", "z", "a").unwrap();
        assert_eq!(missing, json!({}));
    }

    #[test]
    fn cluster_scoped_ignores_namespace() {
        let s = state();
        let got = lookup_value(
            Some(&s),
            "cozystack.io/v1alpha1",
            "Package",
            "anything",
            "cozystack.ouroboros",
        )
        .unwrap();
        assert_eq!(got["kind"], "Package");
    }

    /// A provider that records what it was asked, standing in for a cluster.
    #[derive(Debug, Default)]
    struct Recorder {
        asked: std::sync::Mutex<Vec<String>>,
    }

    impl LookupProvider for Recorder {
        fn get(&self, _: &str, kind: &str, ns: &str, name: &str) -> Result<Option<Json>, String> {
            self.asked
                .lock()
                .unwrap()
                .push(format!("get {kind} {ns}/{name}"));
            Ok((name == "live").then(|| json!({"kind": kind, "metadata": {"name": name, "namespace": ns}, "from": "cluster"})))
        }
        fn list(&self, _: &str, kind: &str, ns: &str) -> Result<Vec<Json>, String> {
            self.asked.lock().unwrap().push(format!("list {kind} {ns}"));
            Ok(vec![
                json!({"kind": kind, "metadata": {"name": "a", "namespace": "x"}, "from": "cluster"}),
                json!({"kind": kind, "metadata": {"name": "live", "namespace": "x"}, "from": "cluster"}),
            ])
        }
    }

    #[test]
    fn file_objects_answer_before_the_provider_behind() {
        let recorder = Arc::new(Recorder::default());
        let s = state().over(recorder.clone());
        let pinned = lookup_value(Some(&s), "v1", "ConfigMap", "x", "a").unwrap();
        assert!(
            pinned.get("from").is_none(),
            "file object expected: {pinned}"
        );
        let live = lookup_value(Some(&s), "v1", "ConfigMap", "x", "live").unwrap();
        assert_eq!(live["from"], "cluster");
        let missing = lookup_value(Some(&s), "v1", "ConfigMap", "x", "gone").unwrap();
        assert_eq!(missing, json!({}));
        assert_eq!(
            *recorder.asked.lock().unwrap(),
            vec!["get ConfigMap x/live", "get ConfigMap x/gone"]
        );
    }

    #[test]
    fn lists_merge_with_file_objects_shadowing_the_cluster() {
        let s = state().over(Arc::new(Recorder::default()));
        let all = lookup_value(Some(&s), "v1", "ConfigMap", "x", "").unwrap();
        let items = all["items"].as_array().unwrap();
        let names: Vec<(&str, bool)> = items
            .iter()
            .map(|o| (field(o, "/metadata/name"), o.get("from").is_some()))
            .collect();
        assert_eq!(names, vec![("a", false), ("live", true)]);
    }

    #[test]
    fn list_form_has_items() {
        let s = state();
        let all = lookup_value(Some(&s), "v1", "ConfigMap", "", "").unwrap();
        assert_eq!(all["items"].as_array().unwrap().len(), 2);
        let none = lookup_value(None, "v1", "ConfigMap", "", "").unwrap();
        assert_eq!(none, json!({}));
    }
}
