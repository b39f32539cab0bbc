//! The Kubernetes API stand-in, seeded with the objects the charts expect to find.

use std::path::{Path, PathBuf};

use kube_standin::{BlockingStandIn, StandIn};
use serde_json::{json, Value};

pub struct Cluster {
    pub api: BlockingStandIn,
    /// The kubeconfig a process outside the cluster uses; its context namespace is the
    /// release namespace, the namespace a pod of the release would run in.
    pub kubeconfig: PathBuf,
}

impl Cluster {
    pub fn start(dir: &Path, release_namespace: &str) -> Cluster {
        let api = BlockingStandIn::start_with(StandIn::builder()).expect("start the API stand-in");
        let kubeconfig = dir.join("kubeconfig");
        std::fs::write(
            &kubeconfig,
            kube_standin::kubeconfig::render(&api.base_url(), release_namespace, "e2e"),
        )
        .expect("write kubeconfig");
        Cluster { api, kubeconfig }
    }

    /// Stores a rendered object as the release would install it: in `namespace` unless it
    /// names its own, optionally renamed.
    pub fn install(&self, rendered: &Value, namespace: &str, rename: Option<&str>) -> Value {
        let mut object = rendered.clone();
        let meta = object["metadata"]
            .as_object_mut()
            .unwrap_or_else(|| panic!("object without metadata: {rendered}"));
        meta.entry("namespace").or_insert_with(|| json!(namespace));
        if let Some(name) = rename {
            meta.insert("name".into(), json!(name));
        }
        self.api
            .apply_object(object)
            .unwrap_or_else(|e| panic!("seed {rendered}: {e}"))
    }

    /// Stores a rendered Deployment with the status of a rolled-out Deployment.
    pub fn install_running_deployment(&self, rendered: &Value, namespace: &str) {
        let mut object = rendered.clone();
        let replicas = object
            .pointer("/spec/replicas")
            .and_then(Value::as_i64)
            .unwrap_or(1);
        object["status"] = json!({"replicas": replicas, "readyReplicas": replicas, "availableReplicas": replicas, "updatedReplicas": replicas});
        self.install(&object, namespace, None);
    }

    pub fn get(&self, api_version: &str, kind: &str, namespace: &str, name: &str) -> Option<Value> {
        self.api
            .get_object(api_version, kind, namespace, name)
            .expect("read from the stand-in")
    }

    pub fn configmap_data(&self, namespace: &str, name: &str) -> serde_json::Map<String, Value> {
        self.get("v1", "ConfigMap", namespace, name)
            .and_then(|cm| cm["data"].as_object().cloned())
            .unwrap_or_default()
    }

    pub fn configmap_key(&self, namespace: &str, name: &str, key: &str) -> Option<String> {
        self.configmap_data(namespace, name)
            .get(key)
            .and_then(Value::as_str)
            .map(str::to_string)
    }

    /// An Ingress of an application with one TLS host, as a tenant would create it.
    pub fn create_ingress(&self, namespace: &str, name: &str, tls_host: &str) {
        self.api
            .apply_object(json!({
                "apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
                "metadata": {"name": name, "namespace": namespace},
                "spec": {
                    "ingressClassName": "nginx",
                    "tls": [{"hosts": [tls_host], "secretName": format!("{name}-tls")}],
                    "rules": [{"host": tls_host, "http": {"paths": [{"path": "/", "pathType": "Prefix",
                        "backend": {"service": {"name": name, "port": {"number": 80}}}}]}}]
                }
            }))
            .expect("create Ingress");
    }

    pub fn delete_ingress(&self, namespace: &str, name: &str) {
        let gone = self
            .api
            .delete_object("networking.k8s.io/v1", "Ingress", namespace, name)
            .expect("delete Ingress");
        assert!(gone.is_some(), "Ingress {namespace}/{name} did not exist");
    }

    /// Every ConfigMap value or key that mentions ouroboros.
    pub fn ouroboros_traces(&self) -> Vec<String> {
        let mut found = Vec::new();
        for cm in self
            .api
            .list_objects("v1", "ConfigMap", None)
            .expect("list ConfigMaps")
        {
            let at = format!(
                "{}/{}",
                cm["metadata"]["namespace"].as_str().unwrap_or(""),
                cm["metadata"]["name"].as_str().unwrap_or("")
            );
            for (key, value) in cm["data"].as_object().cloned().unwrap_or_default() {
                if key.contains("ouroboros")
                    || value.as_str().is_some_and(|v| v.contains("ouroboros"))
                {
                    found.push(format!("{at} key {key}"));
                }
            }
        }
        found
    }
}
