//! Starting the server and driving it from tests: the async [`StandInHandle`] and the
//! [`BlockingStandIn`] wrapper for synchronous tests.

use crate::faults::{Fault, FaultRules, RequestMatch};
use crate::kubeconfig;
use crate::request_log::RecordedRequest;
use crate::resource::{ResourceRegistry, ResourceType};
use crate::seed::{self, SeedError};
use crate::server;
use crate::state::{lock, Shared, StandInConfig, WatchMode};
use crate::status::ApiError;
use serde_json::Value;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

#[derive(Debug, thiserror::Error)]
pub enum StandInError {
    #[error("cannot listen on 127.0.0.1:{port}: {source}")]
    Bind { port: u16, source: std::io::Error },
    #[error("no served resource has apiVersion {api_version:?} and kind {kind:?}")]
    UnknownKind { api_version: String, kind: String },
    #[error("object has no apiVersion/kind: {0}")]
    Untyped(String),
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error(transparent)]
    Seed(#[from] SeedError),
    #[error("cannot write kubeconfig {path}: {source}")]
    WriteKubeconfig {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot start the runtime: {0}")]
    Runtime(std::io::Error),
}

/// Entry point: `StandIn::start().await` with defaults, or `StandIn::builder()` to configure.
pub struct StandIn;

impl StandIn {
    /// Starts a server with [`StandInConfig::default`] on a free port.
    pub async fn start() -> Result<StandInHandle, StandInError> {
        StandIn::builder().start().await
    }

    pub fn builder() -> StandInBuilder {
        StandInBuilder {
            config: StandInConfig::default(),
        }
    }
}

/// Configures a server before it starts.
#[derive(Debug, Clone, Default)]
pub struct StandInBuilder {
    config: StandInConfig,
}

impl StandInBuilder {
    pub fn config(mut self, config: StandInConfig) -> Self {
        self.config = config;
        self
    }

    pub fn port(mut self, port: u16) -> Self {
        self.config.port = port;
        self
    }

    pub fn user(mut self, user: &str) -> Self {
        self.config.user = user.into();
        self
    }

    pub fn history_limit(mut self, limit: usize) -> Self {
        self.config.history_limit = limit;
        self
    }

    pub fn bookmark_interval(mut self, interval: Duration) -> Self {
        self.config.bookmark_interval = interval;
        self
    }

    pub fn rollout_delay(mut self, delay: Duration) -> Self {
        self.config.rollout_delay = delay;
        self
    }

    /// Serves an extra resource type (e.g. a CRD a test needs).
    pub fn resource(mut self, resource: ResourceType) -> Self {
        self.config.registry.register(resource);
        self
    }

    pub fn registry(mut self, registry: ResourceRegistry) -> Self {
        self.config.registry = registry;
        self
    }

    /// Binds 127.0.0.1 and serves in the current tokio runtime.
    pub async fn start(self) -> Result<StandInHandle, StandInError> {
        let port = self.config.port;
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .map_err(|source| StandInError::Bind { port, source })?;
        let address = listener
            .local_addr()
            .map_err(|source| StandInError::Bind { port, source })?;
        let shared = Arc::new(Shared::new(
            self.config,
            address,
            tokio::runtime::Handle::current(),
        ));
        let app = axum::Router::new()
            .fallback(server::handle)
            .with_state(shared.clone());
        let mut stop = shared.shutdown.subscribe();
        let task = tokio::spawn(async move {
            let stopped = async move {
                let _ = stop.wait_for(|s| *s).await;
            };
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(stopped)
                .await;
        });
        Ok(StandInHandle {
            shared,
            server: Arc::new(Mutex::new(Some(task))),
        })
    }
}

/// A running server. Cheap to clone; every clone drives the same server.
#[derive(Clone)]
pub struct StandInHandle {
    shared: Arc<Shared>,
    server: Arc<Mutex<Option<tokio::task::JoinHandle<()>>>>,
}

impl std::fmt::Debug for StandInHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StandInHandle")
            .field("address", &self.shared.address)
            .finish()
    }
}

fn resource_for(
    shared: &Shared,
    api_version: &str,
    kind: &str,
) -> Result<ResourceType, StandInError> {
    shared
        .registry()
        .find_kind(api_version, kind)
        .cloned()
        .ok_or_else(|| StandInError::UnknownKind {
            api_version: api_version.into(),
            kind: kind.into(),
        })
}

pub(crate) fn apply_value(shared: &Arc<Shared>, object: Value) -> Result<Value, StandInError> {
    let text = |key: &str| object.get(key).and_then(Value::as_str).map(str::to_string);
    let (Some(api_version), Some(kind)) = (text("apiVersion"), text("kind")) else {
        let mut shown = object.to_string();
        shown.truncate(120);
        return Err(StandInError::Untyped(shown));
    };
    let rt = resource_for(shared, &api_version, &kind)?;
    let stored = shared.write(|store| store.put(&rt, object, SystemTime::now()))?;
    server::after_write(shared, &rt, &stored);
    Ok((*stored).clone())
}

pub(crate) fn apply_text(
    shared: &Arc<Shared>,
    text: &str,
    origin: &str,
) -> Result<Vec<Value>, StandInError> {
    let objects = seed::parse_documents(text, origin)?;
    objects
        .into_iter()
        .map(|o| apply_value(shared, o))
        .collect()
}

/// Applies one fault; returns how many open watches it affected.
pub(crate) fn apply_fault(shared: &Shared, fault: Fault) -> usize {
    let mut rules = lock(&shared.faults);
    match fault {
        Fault::Forbid { matcher } => rules.forbid(matcher),
        Fault::Errors {
            matcher,
            count,
            code,
        } => rules.errors(matcher, count, code),
        Fault::Conflicts { matcher, count } => rules.conflicts(matcher, count),
        Fault::Delay { matcher, millis } => rules.delay(matcher, Duration::from_millis(millis)),
        Fault::DropWatches { matcher } => {
            drop(rules);
            return lock(&shared.watches).set_mode(&matcher, WatchMode::Closed);
        }
        Fault::SilenceWatches {
            matcher,
            include_new,
        } => {
            if include_new {
                rules.silence_new_watches(matcher.clone());
            }
            drop(rules);
            return lock(&shared.watches).set_mode(&matcher, WatchMode::Silent);
        }
    }
    0
}

/// Removes every standing fault rule. Watches already silenced stay silent.
pub(crate) fn clear_faults(shared: &Shared) {
    *lock(&shared.faults) = FaultRules::default();
}

impl StandInHandle {
    /// `http://127.0.0.1:<port>`
    pub fn base_url(&self) -> String {
        self.shared.base_url()
    }

    pub fn address(&self) -> SocketAddr {
        self.shared.address
    }

    /// A kubeconfig whose current context points at this server.
    pub fn kubeconfig_yaml(&self) -> String {
        kubeconfig::render(
            &self.base_url(),
            &self.shared.config.namespace,
            "kube-standin",
        )
    }

    pub fn write_kubeconfig(&self, path: impl AsRef<Path>) -> Result<(), StandInError> {
        let path = path.as_ref();
        std::fs::write(path, self.kubeconfig_yaml()).map_err(|source| {
            StandInError::WriteKubeconfig {
                path: path.display().to_string(),
                source,
            }
        })
    }

    /// Creates or replaces an object as given (status included), bypassing validation and
    /// preconditions. Namespaced objects without a namespace go to `default`. Watches see it.
    pub fn apply_object(&self, object: Value) -> Result<Value, StandInError> {
        apply_value(&self.shared, object)
    }

    /// Applies every object of a multi-document YAML text (a `kind: List` is expanded).
    pub fn apply_yaml(&self, text: &str) -> Result<Vec<Value>, StandInError> {
        apply_text(&self.shared, text, "YAML text")
    }

    /// Applies every object of a multi-document YAML file.
    pub fn seed_file(&self, path: impl AsRef<Path>) -> Result<Vec<Value>, StandInError> {
        let objects = seed::read_file(path.as_ref())?;
        objects
            .into_iter()
            .map(|o| apply_value(&self.shared, o))
            .collect()
    }

    /// The stored object, as a GET would return it. `namespace` is ignored for cluster-scoped kinds.
    pub fn get_object(
        &self,
        api_version: &str,
        kind: &str,
        namespace: &str,
        name: &str,
    ) -> Result<Option<Value>, StandInError> {
        let rt = resource_for(&self.shared, api_version, kind)?;
        let ns = if rt.namespaced { namespace } else { "" };
        Ok(lock(&self.shared.store)
            .get(&rt.key(), &crate::store::ObjectKey::new(ns, name))
            .map(|o| (*o).clone()))
    }

    /// Stored objects of a kind (all namespaces when `namespace` is None), in list order.
    pub fn list_objects(
        &self,
        api_version: &str,
        kind: &str,
        namespace: Option<&str>,
    ) -> Result<Vec<Value>, StandInError> {
        let rt = resource_for(&self.shared, api_version, kind)?;
        Ok(lock(&self.shared.store)
            .list(&rt.key(), namespace)
            .into_iter()
            .map(|o| (*o).clone())
            .collect())
    }

    /// Deletes unconditionally; returns the deleted object, None if it did not exist.
    pub fn delete_object(
        &self,
        api_version: &str,
        kind: &str,
        namespace: &str,
        name: &str,
    ) -> Result<Option<Value>, StandInError> {
        let rt = resource_for(&self.shared, api_version, kind)?;
        Ok(self
            .shared
            .write(|store| store.remove_object(&rt, namespace, name))
            .map(|o| (*o).clone()))
    }

    /// The latest resourceVersion handed out.
    pub fn resource_version(&self) -> u64 {
        lock(&self.shared.store).resource_version()
    }

    /// Every logged request so far, oldest first.
    pub fn request_log(&self) -> Vec<RecordedRequest> {
        lock(&self.shared.log).entries()
    }

    pub fn clear_request_log(&self) {
        lock(&self.shared.log).clear();
    }

    /// Applies any fault; returns how many open watches it affected (for watch faults).
    pub fn inject(&self, fault: Fault) -> usize {
        apply_fault(&self.shared, fault)
    }

    /// 403 Forbidden, worded like RBAC denials, for matching requests until cleared.
    pub fn forbid(&self, matcher: RequestMatch) {
        self.inject(Fault::Forbid { matcher });
    }

    /// The next `count` matching requests fail with `code` (500, 503, 504...).
    pub fn fail_next(&self, matcher: RequestMatch, count: u32, code: u16) {
        self.inject(Fault::Errors {
            matcher,
            count,
            code,
        });
    }

    /// The next `count` matching writes fail with 409 Conflict (nothing is stored).
    pub fn conflict_next(&self, matcher: RequestMatch, count: u32) {
        self.inject(Fault::Conflicts { matcher, count });
    }

    /// Matching requests wait `delay` before being served, until cleared.
    pub fn delay(&self, matcher: RequestMatch, delay: Duration) {
        self.inject(Fault::Delay {
            matcher,
            millis: delay.as_millis() as u64,
        });
    }

    /// Closes open matching watches; returns how many.
    pub fn drop_watches(&self, matcher: RequestMatch) -> usize {
        self.inject(Fault::DropWatches { matcher })
    }

    /// Open matching watches stay connected but deliver nothing; returns how many.
    pub fn silence_watches(&self, matcher: RequestMatch) -> usize {
        self.inject(Fault::SilenceWatches {
            matcher,
            include_new: false,
        })
    }

    /// Like [`silence_watches`](Self::silence_watches), and watches opened later start silent
    /// too, until [`clear_faults`](Self::clear_faults).
    pub fn silence_all_watches(&self, matcher: RequestMatch) -> usize {
        self.inject(Fault::SilenceWatches {
            matcher,
            include_new: true,
        })
    }

    /// Removes every standing fault rule (already-silenced watches stay silent).
    pub fn clear_faults(&self) {
        clear_faults(&self.shared);
    }

    /// Open watches matching `matcher` (match on `verb: watch` is implied).
    pub fn open_watches(&self, matcher: RequestMatch) -> usize {
        lock(&self.shared.watches).count(&matcher)
    }

    /// Serves an extra resource type from now on.
    pub fn register_resource(&self, resource: ResourceType) {
        self.shared
            .registry
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .register(resource);
    }

    /// Stops accepting requests, ends every watch and waits (up to 5 s) for the server.
    pub async fn shutdown(&self) {
        self.shared.shutdown.send_replace(true);
        let task = lock(&self.server).take();
        if let Some(task) = task {
            let _ = tokio::time::timeout(Duration::from_secs(5), task).await;
        }
    }
}

/// A stand-in with its own tokio runtime, for synchronous tests and programs. Derefs to
/// [`StandInHandle`]; dropping it stops the server.
pub struct BlockingStandIn {
    handle: StandInHandle,
    runtime: Option<tokio::runtime::Runtime>,
}

impl BlockingStandIn {
    pub fn start() -> Result<Self, StandInError> {
        Self::start_with(StandIn::builder())
    }

    pub fn start_with(builder: StandInBuilder) -> Result<Self, StandInError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("kube-standin")
            .enable_all()
            .build()
            .map_err(StandInError::Runtime)?;
        let handle = runtime.block_on(builder.start())?;
        Ok(BlockingStandIn {
            handle,
            runtime: Some(runtime),
        })
    }

    pub fn handle(&self) -> &StandInHandle {
        &self.handle
    }
}

impl std::ops::Deref for BlockingStandIn {
    type Target = StandInHandle;
    fn deref(&self) -> &StandInHandle {
        &self.handle
    }
}

impl Drop for BlockingStandIn {
    fn drop(&mut self) {
        self.handle.shared.shutdown.send_replace(true);
        if let Some(runtime) = self.runtime.take() {
            // Works from any context, including inside another runtime.
            runtime.shutdown_background();
        }
    }
}
