//! [`LiveLookup`]: `lookup` answered by a cluster, with GET requests only.
//!
//! Helm's semantics: a missing object is `None` (the engine turns it into an empty dict), a
//! list covers one namespace or, with namespace "", every namespace; the namespace is ignored
//! for cluster-scoped kinds. Whether a kind is cluster-scoped comes from API discovery (which
//! also finds the resource's plural name), as Helm's REST mapping does.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cozy_engine::LookupProvider;
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, ListParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::core::discovery::Scope;
use kube::error::DiscoveryError;
use kube::{Client, Config};
use serde_json::{Map, Value as Json};

use crate::error::LiveLookupError;
use crate::settings::LiveLookupSettings;

/// Discovery's answer for one apiVersion + kind: the resource and whether it is namespaced,
/// or `None` when the group version is served but has no such kind.
type Resolved = Option<(ApiResource, bool)>;

/// A read-only connection to one cluster. Cheap to share: lookups are serialised on its own
/// single-threaded runtime, which renders (single-threaded themselves) never notice.
pub struct LiveLookup {
    runtime: tokio::runtime::Runtime,
    client: Client,
    server: String,
    timeout: Duration,
    resolved: Mutex<HashMap<(String, String), Resolved>>,
}

impl std::fmt::Debug for LiveLookup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveLookup")
            .field("server", &self.server)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl LiveLookup {
    /// Read the kubeconfig and set up a client. Sends no request: the cluster is first
    /// contacted by the first `lookup`.
    pub fn connect(settings: &LiveLookupSettings) -> Result<LiveLookup, LiveLookupError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| LiveLookupError::Runtime(e.to_string()))?;
        let mut config = runtime.block_on(load_config(settings))?;
        let server = config
            .cluster_url
            .to_string()
            .trim_end_matches('/')
            .to_string();
        // Each lookup is bounded as a whole (`block`), which also drops its connection. A
        // connect timeout of the same length only makes an unreachable address report itself
        // as unreachable rather than as slow.
        config.connect_timeout = Some(settings.timeout);
        // Client construction spawns the request buffer's worker, so it needs the runtime.
        let client = runtime
            .block_on(async { Client::try_from(config) })
            .map_err(|e| LiveLookupError::Client {
                server: server.clone(),
                message: chain(&e),
            })?;
        Ok(LiveLookup {
            runtime,
            client,
            server,
            timeout: settings.timeout,
            resolved: Mutex::new(HashMap::new()),
        })
    }

    /// The API server's URL, as errors name it.
    pub fn server(&self) -> &str {
        &self.server
    }

    /// This provider behind a shareable handle, as the engine takes providers.
    pub fn shared(self) -> Arc<dyn LookupProvider> {
        Arc::new(self)
    }

    /// Run one lookup's requests to completion or until the timeout.
    fn block<T>(
        &self,
        work: impl Future<Output = Result<T, LiveLookupError>>,
    ) -> Result<T, LiveLookupError> {
        self.runtime
            .block_on(async { tokio::time::timeout(self.timeout, work).await })
            .unwrap_or_else(|_| {
                Err(LiveLookupError::Timeout {
                    server: self.server.clone(),
                    timeout: self.timeout,
                })
            })
    }

    /// The resource behind `api_version` + `kind`, by discovery (GET), cached per process.
    async fn resolve(&self, api_version: &str, kind: &str) -> Result<Resolved, LiveLookupError> {
        let key = (api_version.to_string(), kind.to_string());
        if let Some(hit) = lock(&self.resolved).get(&key) {
            return Ok(hit.clone());
        }
        let (group, version) = split_api_version(api_version)?;
        let gvk = GroupVersionKind::gvk(group, version, kind);
        let resolved = match kube::discovery::pinned_kind(&self.client, &gvk).await {
            Ok((resource, caps)) => Some((resource, caps.scope == Scope::Namespaced)),
            // Served group version without this kind: Helm then finds nothing either.
            Err(kube::Error::Discovery(DiscoveryError::MissingKind(_))) => None,
            Err(e) => return Err(self.failure(&format!("discovery of {api_version}"), e)),
        };
        lock(&self.resolved).insert(key, resolved.clone());
        Ok(resolved)
    }

    /// The API for `resource` in `namespace`, or across namespaces when the kind is
    /// cluster-scoped or no namespace was given (Helm's rule).
    fn api(&self, resource: &ApiResource, namespaced: bool, namespace: &str) -> Api<DynamicObject> {
        if namespaced && !namespace.is_empty() {
            Api::namespaced_with(self.client.clone(), namespace, resource)
        } else {
            Api::all_with(self.client.clone(), resource)
        }
    }

    fn failure(&self, what: &str, err: kube::Error) -> LiveLookupError {
        match err {
            kube::Error::Api(status) => LiveLookupError::Api {
                server: self.server.clone(),
                what: what.to_string(),
                message: format!("{} ({})", status.message, status.code),
            },
            kube::Error::HyperError(_) | kube::Error::Service(_) => LiveLookupError::Unreachable {
                server: self.server.clone(),
                message: chain(&err),
            },
            other => LiveLookupError::Api {
                server: self.server.clone(),
                what: what.to_string(),
                message: chain(&other),
            },
        }
    }

    async fn get_async(
        &self,
        api_version: &str,
        kind: &str,
        namespace: &str,
        name: &str,
    ) -> Result<Option<Json>, LiveLookupError> {
        let Some((resource, namespaced)) = self.resolve(api_version, kind).await? else {
            return Ok(None);
        };
        let found = self
            .api(&resource, namespaced, namespace)
            .get_opt(name)
            .await
            .map_err(|e| self.failure(&format!("get {kind} {name:?}"), e))?;
        found.map(|obj| to_json(obj, &resource)).transpose()
    }

    async fn list_async(
        &self,
        api_version: &str,
        kind: &str,
        namespace: &str,
    ) -> Result<Vec<Json>, LiveLookupError> {
        let Some((resource, namespaced)) = self.resolve(api_version, kind).await? else {
            return Ok(Vec::new());
        };
        let list = self
            .api(&resource, namespaced, namespace)
            .list(&ListParams::default())
            .await
            .map_err(|e| self.failure(&format!("list {kind}"), e))?;
        list.items
            .into_iter()
            .map(|obj| to_json(obj, &resource))
            .collect()
    }
}

impl LookupProvider for LiveLookup {
    fn get(
        &self,
        api_version: &str,
        kind: &str,
        namespace: &str,
        name: &str,
    ) -> Result<Option<Json>, String> {
        self.block(self.get_async(api_version, kind, namespace, name))
            .map_err(|e| e.to_string())
    }

    fn list(&self, api_version: &str, kind: &str, namespace: &str) -> Result<Vec<Json>, String> {
        self.block(self.list_async(api_version, kind, namespace))
            .map_err(|e| e.to_string())
    }
}

async fn load_config(settings: &LiveLookupSettings) -> Result<Config, LiveLookupError> {
    let options = KubeConfigOptions {
        context: settings.context.clone(),
        ..KubeConfigOptions::default()
    };
    match (&settings.kubeconfig, &settings.context) {
        (Some(path), _) => {
            let bad = |message: String| LiveLookupError::Kubeconfig {
                path: path.clone(),
                message,
            };
            let file = Kubeconfig::read_from(path).map_err(|e| bad(chain(&e)))?;
            Config::from_custom_kubeconfig(file, &options)
                .await
                .map_err(|e| bad(chain(&e)))
        }
        (None, Some(_)) => Config::from_kubeconfig(&options)
            .await
            .map_err(|e| LiveLookupError::NoConfiguration(chain(&e))),
        (None, None) => Config::infer()
            .await
            .map_err(|e| LiveLookupError::NoConfiguration(chain(&e))),
    }
}

/// `v1` → (``, `v1`); `apps/v1` → (`apps`, `v1`).
fn split_api_version(api_version: &str) -> Result<(&str, &str), LiveLookupError> {
    let invalid = || LiveLookupError::ApiVersion(api_version.to_string());
    let (group, version) = match api_version.split_once('/') {
        Some((group, version)) if !group.is_empty() => (group, version),
        Some(_) => return Err(invalid()),
        None => ("", api_version),
    };
    if version.is_empty() || version.contains('/') {
        return Err(invalid());
    }
    Ok((group, version))
}

/// The object as the template sees it. List items arrive without `apiVersion`/`kind` (as
/// the apiserver sends them); client-go's unstructured decoding fills them in, so do we.
fn to_json(obj: DynamicObject, resource: &ApiResource) -> Result<Json, LiveLookupError> {
    let mut value = serde_json::to_value(obj).map_err(|e| LiveLookupError::Api {
        server: String::new(),
        what: format!("decoding a {}", resource.kind),
        message: e.to_string(),
    })?;
    if let Json::Object(map) = &mut value {
        fill(map, "apiVersion", &resource.api_version);
        fill(map, "kind", &resource.kind);
    }
    Ok(value)
}

fn fill(map: &mut Map<String, Json>, key: &str, value: &str) {
    if map.get(key).and_then(Json::as_str).unwrap_or("").is_empty() {
        map.insert(key.to_string(), Json::String(value.to_string()));
    }
}

/// An error with its causes, e.g. `client error (Connect): tcp connect error: Connection
/// refused (os error 111)`.
fn chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let more = cause.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = cause.source();
    }
    text
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_versions_split_into_group_and_version() {
        assert_eq!(split_api_version("v1").unwrap(), ("", "v1"));
        assert_eq!(split_api_version("apps/v1").unwrap(), ("apps", "v1"));
        for bad in ["", "/v1", "apps/", "a/b/c"] {
            let err = split_api_version(bad).unwrap_err().to_string();
            assert!(err.contains(&format!("{bad:?}")), "{bad}: {err}");
        }
    }

    #[test]
    fn list_items_get_their_kind() {
        let resource = ApiResource::from_gvk(&GroupVersionKind::gvk("", "v1", "ConfigMap"));
        let obj: DynamicObject = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "a", "namespace": "x"}, "data": {"k": "v"}
        }))
        .unwrap();
        let json = to_json(obj, &resource).unwrap();
        assert_eq!(json["apiVersion"], "v1");
        assert_eq!(json["kind"], "ConfigMap");
        assert_eq!(json["data"]["k"], "v");
    }

    #[test]
    fn missing_kubeconfig_is_named() {
        let settings = LiveLookupSettings {
            kubeconfig: Some("/nonexistent/kubeconfig".into()),
            ..LiveLookupSettings::default()
        };
        let err = LiveLookup::connect(&settings).unwrap_err().to_string();
        assert!(err.contains("/nonexistent/kubeconfig"), "{err}");
    }
}
