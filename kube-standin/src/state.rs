//! State shared by every request: store, registry, fault rules, request log, open watches.

use crate::faults::{FaultRules, RequestInfo, RequestMatch};
use crate::request_log::{RecordedRequest, RequestLog};
use crate::resource::ResourceRegistry;
use crate::store::Store;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Mutex, MutexGuard, RwLock};
use std::time::Duration;
use tokio::sync::watch;

/// Server settings; every field has a documented default (see [`StandInConfig::default`]).
#[derive(Debug, Clone)]
pub struct StandInConfig {
    /// Served resource types. Default: [`ResourceRegistry::builtin`].
    pub registry: ResourceRegistry,
    /// Port on 127.0.0.1; 0 (default) picks a free one.
    pub port: u16,
    /// The user named in 403 messages. Default `system:serviceaccount:default:kube-standin`.
    pub user: String,
    /// Default namespace of the written kubeconfig. Default `default`.
    pub namespace: String,
    /// Change events kept for watches and continue tokens. Default 10,000.
    pub history_limit: usize,
    /// How often watches that allow bookmarks get one. Default 5 s (the apiserver: about 1 min).
    pub bookmark_interval: Duration,
    /// Watch duration when the client sends no `timeoutSeconds`. Default 30 min.
    pub default_watch_timeout: Duration,
    /// Delay before a deployment's status catches up with `spec.replicas`. Default 200 ms.
    pub rollout_delay: Duration,
}

impl Default for StandInConfig {
    fn default() -> Self {
        StandInConfig {
            registry: ResourceRegistry::builtin(),
            port: 0,
            user: "system:serviceaccount:default:kube-standin".into(),
            namespace: "default".into(),
            history_limit: 10_000,
            bookmark_interval: Duration::from_secs(5),
            default_watch_timeout: Duration::from_secs(1800),
            rollout_delay: Duration::from_millis(200),
        }
    }
}

/// What an open watch should do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WatchMode {
    Live,
    /// Connected, but delivers nothing and never times out.
    Silent,
    /// Close the stream now.
    Closed,
}

#[derive(Debug, Default)]
pub(crate) struct WatchRegistry {
    next_id: u64,
    open: HashMap<u64, (RequestInfo, watch::Sender<WatchMode>)>,
}

impl WatchRegistry {
    pub fn register(
        &mut self,
        info: RequestInfo,
        mode: WatchMode,
    ) -> (u64, watch::Receiver<WatchMode>) {
        self.next_id += 1;
        let (tx, rx) = watch::channel(mode);
        self.open.insert(self.next_id, (info, tx));
        (self.next_id, rx)
    }

    pub fn unregister(&mut self, id: u64) {
        self.open.remove(&id);
    }

    /// Sets the mode of every open matching watch; returns how many matched.
    pub fn set_mode(&mut self, matcher: &RequestMatch, mode: WatchMode) -> usize {
        let mut count = 0;
        for (info, tx) in self.open.values() {
            if matcher.matches(info) {
                tx.send_replace(mode);
                count += 1;
            }
        }
        count
    }

    pub fn count(&self, matcher: &RequestMatch) -> usize {
        self.open
            .values()
            .filter(|(info, _)| matcher.matches(info))
            .count()
    }
}

pub(crate) struct Shared {
    pub config: StandInConfig,
    pub registry: RwLock<ResourceRegistry>,
    pub store: Mutex<Store>,
    pub faults: Mutex<FaultRules>,
    pub log: Mutex<RequestLog>,
    pub watches: Mutex<WatchRegistry>,
    /// Latest resourceVersion; watches wake on every change.
    pub changes: watch::Sender<u64>,
    /// Set to true once to stop the server and every watch.
    pub shutdown: watch::Sender<bool>,
    pub address: SocketAddr,
    pub runtime: tokio::runtime::Handle,
}

/// Locks a mutex, recovering the data if a panicking thread poisoned it: the stand-in keeps
/// serving rather than turning one test's panic into everyone's failure.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Shared {
    pub fn new(
        config: StandInConfig,
        address: SocketAddr,
        runtime: tokio::runtime::Handle,
    ) -> Self {
        let store = Store::new(config.history_limit);
        Shared {
            registry: RwLock::new(config.registry.clone()),
            config,
            store: Mutex::new(store),
            faults: Mutex::new(FaultRules::default()),
            log: Mutex::new(RequestLog::default()),
            watches: Mutex::new(WatchRegistry::default()),
            changes: watch::channel(0).0,
            shutdown: watch::channel(false).0,
            address,
            runtime,
        }
    }

    pub fn registry(&self) -> ResourceRegistry {
        self.registry
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Runs `f` with the store locked, then wakes watches.
    pub fn write<R>(&self, f: impl FnOnce(&mut Store) -> R) -> R {
        let (result, rv) = {
            let mut store = lock(&self.store);
            let result = f(&mut store);
            (result, store.resource_version())
        };
        self.changes.send_replace(rv);
        result
    }

    pub fn record(&self, entry: RecordedRequest) {
        lock(&self.log).record(entry);
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.address)
    }
}
