//! The controller process: client, probes, target, informers, leader election, health server,
//! and the debounced, leader-gated reconcile loop.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::Api;
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::Client;
use tokio::sync::watch;
use tokio::time::Instant;

use super::cache::SourceCache;
use super::externaldns_target::ExternalDnsTarget;
use super::informers::{self, Shared};
use super::leader::Elector;
use super::metrics::Metrics;
use super::targets::{Applied, ConfigMapTarget, HostsTarget, Target};
use super::{debounce, health, probes};
use crate::config::{proxy_fqdn_mismatch, ControllerConfig, Mode};
use crate::sources::ClassFilters;

/// Where the service-account namespace is mounted in a pod.
pub const POD_NAMESPACE_FILE: &str = "/var/run/secrets/kubernetes.io/serviceaccount/namespace";
/// Longest retry backoff after failed reconciles.
pub const MAX_BACKOFF: Duration = Duration::from_secs(60);
const BASE_BACKOFF: Duration = Duration::from_millis(5);

/// Process-level inputs that are not flags.
#[derive(Debug, Clone, Default)]
pub struct Environment {
    /// `OUROBOROS_INSTANCE`: the release name.
    pub instance: Option<String>,
    /// `POD_NAMESPACE`, else the service-account namespace file.
    pub pod_namespace: Option<String>,
    /// node-local-dns probe target.
    pub node_local_dns: (String, String),
}

impl Environment {
    /// Reads the process environment.
    pub fn from_process() -> Self {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let pod_namespace = var("POD_NAMESPACE").or_else(|| {
            std::fs::read_to_string(POD_NAMESPACE_FILE)
                .ok()
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
        });
        Self {
            instance: var("OUROBOROS_INSTANCE"),
            pod_namespace,
            node_local_dns: (
                var("OUROBOROS_NODE_LOCAL_DNS_NAMESPACE").unwrap_or_else(|| "kube-system".into()),
                var("OUROBOROS_NODE_LOCAL_DNS_CONFIGMAP")
                    .unwrap_or_else(|| "node-local-dns".into()),
            ),
        }
    }
}

/// Why the controller stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// No usable client configuration.
    #[error("kubernetes client: {0}")]
    Client(String),
    /// The mode's target could not be prepared.
    #[error("{0}")]
    Plan(String),
    /// Stopped before the informers listed once.
    #[error("informers did not sync before shutdown")]
    NotSynced,
}

/// Builds the API client: a kubeconfig file when given, otherwise in-cluster configuration.
pub async fn client(kubeconfig: &str) -> Result<Client, RunError> {
    let config = if kubeconfig.is_empty() {
        kube::Config::incluster()
            .map_err(|e| RunError::Client(format!("in-cluster config: {e}")))?
    } else {
        let kc = Kubeconfig::read_from(kubeconfig)
            .map_err(|e| RunError::Client(format!("read kubeconfig {kubeconfig:?}: {e}")))?;
        kube::Config::from_custom_kubeconfig(kc, &KubeConfigOptions::default())
            .await
            .map_err(|e| RunError::Client(format!("kubeconfig {kubeconfig:?}: {e}")))?
    };
    Client::try_from(config).map_err(|e| RunError::Client(e.to_string()))
}

/// Runs the controller until `shutdown` becomes true.
pub async fn run(
    cfg: ControllerConfig,
    env: Environment,
    mut shutdown: watch::Receiver<bool>,
) -> Result<(), RunError> {
    let client = client(&cfg.kubeconfig).await?;
    let metrics = Arc::new(Metrics::default());
    let health_task = start_health(&cfg.listen_health, &metrics).await;

    if matches!(cfg.mode, Mode::Coredns | Mode::CorednsImport) {
        let (nl_ns, nl_cm) = &env.node_local_dns;
        let probes = async {
            probes::probe_node_local_dns(&client, nl_ns, nl_cm).await;
            probes::probe_reload(
                &client,
                &cfg.coredns_namespace,
                &cfg.coredns_configmap,
                &cfg.coredns_key,
            )
            .await;
        };
        let _ = tokio::time::timeout(Duration::from_secs(5), probes).await;
    }
    let mut target = build_target(&cfg, &env, &client).await?;

    tracing::info!(mode = cfg.mode.as_str(), "gateway-api" = cfg.gateway_api, resync = ?cfg.resync,
        "cluster-domain" = %cfg.cluster_domain, "controller starting");
    if proxy_fqdn_mismatch(&cfg.cluster_domain, &cfg.proxy_fqdn) {
        tracing::warn!("cluster-domain" = %cfg.cluster_domain, "proxy-fqdn" = %cfg.proxy_fqdn,
            "proxy-fqdn suffix does not match cluster-domain; the rewrite target may not resolve");
    }

    let (leader_tx, mut leader_rx) = watch::channel(!cfg.leader.enabled);
    let elector_task = if cfg.leader.enabled {
        let namespace = if cfg.leader.namespace.is_empty() {
            client.default_namespace().to_string()
        } else {
            cfg.leader.namespace.clone()
        };
        let elector = Elector {
            api: Api::<Lease>::namespaced(client.clone(), &namespace),
            name: cfg.leader.lease_name.clone(),
            identity: cfg.leader.identity.clone(),
            lease_duration: cfg.leader.lease_duration,
        };
        Some(tokio::spawn(elector.run(
            leader_tx,
            metrics.clone(),
            shutdown.clone(),
        )))
    } else {
        metrics.set_leader(true);
        drop(leader_tx);
        None
    };

    let filters = ClassFilters {
        ingress_class: cfg.ingress_class.clone(),
        gateway_class: cfg.gateway_class.clone(),
    };
    let (trigger_tx, mut trigger_rx) = watch::channel(0u64);
    let shared = Shared {
        cache: Arc::new(Mutex::new(SourceCache::new(filters))),
        trigger: Arc::new(trigger_tx),
    };
    let (kinds, informer_tasks) = informers::spawn(&client, cfg.gateway_api, cfg.resync, &shared);
    let stop = |tasks: &[tokio::task::JoinHandle<()>]| tasks.iter().for_each(|t| t.abort());

    let started = Instant::now();
    loop {
        if lock(&shared.cache).all_synced(&kinds) {
            break;
        }
        tokio::select! {
            _ = trigger_rx.changed() => {}
            _ = shutdown.wait_for(|s| *s) => {
                stop(&informer_tasks);
                return Err(RunError::NotSynced);
            }
        }
    }
    trigger_rx.borrow_and_update();
    tracing::info!(elapsed = ?started.elapsed(), "informer cache synced");
    metrics.set_synced();

    let max_delay = (cfg.debounce * 20).max(Duration::from_secs(1));
    let mut warned_refused: BTreeSet<String> = BTreeSet::new();
    let mut failures: u32 = 0;
    let mut retry_at: Option<Instant> = None;
    let mut next_resync = Instant::now() + cfg.resync;
    loop {
        // Every wake-up below means "maybe changed"; only the leader acts on it.
        if *leader_rx.borrow() {
            match reconcile_once(&shared, &mut target, &metrics, &mut warned_refused).await {
                Ok(_) => {
                    failures = 0;
                    retry_at = None;
                }
                Err(e) => {
                    tracing::error!(error = %e, "reconcile failed");
                    let delay = backoff(failures);
                    failures = failures.saturating_add(1);
                    retry_at = Some(Instant::now() + delay);
                }
            }
        }
        // Order: shutdown first so a stop is never delayed by a pending batch; every other
        // branch just wakes the loop to recompute from the cache, so losing a race loses nothing.
        tokio::select! {
            biased;
            _ = shutdown.wait_for(|s| *s) => break,
            changed = leader_rx.changed(), if cfg.leader.enabled => {
                if changed.is_err() { break; }
                // Another replica may have written while this one was not the leader.
                target.forget_observed();
            }
            more = debounce::next_batch(&mut trigger_rx, cfg.debounce, max_delay) => {
                if !more { break; }
            }
            _ = tokio::time::sleep_until(next_resync) => {
                next_resync = Instant::now() + cfg.resync;
                target.forget_observed();
            }
            _ = tokio::time::sleep_until(retry_at.unwrap_or_else(Instant::now)), if retry_at.is_some() => {
                retry_at = None;
            }
        }
    }
    stop(&informer_tasks);
    if let Some(task) = elector_task {
        let _ = tokio::time::timeout(Duration::from_secs(3), task).await;
    }
    if let Some(task) = health_task {
        task.abort();
    }
    Ok(())
}

fn lock(cache: &Mutex<SourceCache>) -> std::sync::MutexGuard<'_, SourceCache> {
    cache.lock().unwrap_or_else(|p| p.into_inner())
}

/// Exponential backoff: 5 ms doubling per consecutive failure, capped at [`MAX_BACKOFF`].
pub fn backoff(failures: u32) -> Duration {
    BASE_BACKOFF
        .saturating_mul(1u32.checked_shl(failures.min(31)).unwrap_or(u32::MAX))
        .min(MAX_BACKOFF)
}

async fn reconcile_once(
    shared: &Shared,
    target: &mut Target,
    metrics: &Metrics,
    warned_refused: &mut BTreeSet<String>,
) -> Result<Applied, super::targets::TargetError> {
    let ((hosts, refused), (ingresses, gateways, routes)) = {
        let cache = lock(&shared.cache);
        (cache.desired(), cache.counts())
    };
    tracing::debug!(
        ingressesSeen = ingresses,
        gatewaysSeen = gateways,
        routesSeen = routes,
        "reconcile starting"
    );
    let mut by_reason: BTreeMap<&'static str, u64> = BTreeMap::new();
    for refused in &refused {
        *by_reason.entry(refused.reason.as_str()).or_default() += 1;
        if warned_refused.insert(refused.raw.clone()) {
            tracing::warn!(host = %refused.raw, reason = %refused.reason, "refusing hostname that is not a DNS name");
        }
    }
    warned_refused.retain(|raw| refused.iter().any(|r| &r.raw == raw));
    metrics.host_set(hosts.len(), by_reason);
    tracing::debug!(hosts = hosts.len(), "reconcile applying");
    let result = target.apply(&hosts, metrics).await;
    metrics.reconcile(result.is_ok());
    result
}

async fn start_health(addr: &str, metrics: &Arc<Metrics>) -> Option<tokio::task::JoinHandle<()>> {
    if addr.is_empty() {
        return None;
    }
    match health::bind(addr).await {
        Ok(listener) => {
            if let Ok(local) = listener.local_addr() {
                tracing::info!(address = %local, "health and metrics listening");
            }
            Some(tokio::spawn(health::serve(listener, metrics.clone())))
        }
        Err(e) => {
            // Health endpoints are for probes; failing to bind them must not stop DNS upkeep.
            tracing::warn!(address = addr, error = %e, "cannot listen for health and metrics; continuing without them");
            None
        }
    }
}

async fn build_target(
    cfg: &ControllerConfig,
    env: &Environment,
    client: &Client,
) -> Result<Target, RunError> {
    let warn_reload = Arc::new(AtomicBool::new(true));
    Ok(match cfg.mode {
        Mode::Coredns => Target::Coredns(ConfigMapTarget {
            api: Api::<ConfigMap>::namespaced(client.clone(), &cfg.coredns_namespace),
            namespace: cfg.coredns_namespace.clone(),
            name: cfg.coredns_configmap.clone(),
            key: cfg.coredns_key.clone(),
            target: cfg.proxy_fqdn.clone(),
            warn_reload,
            last_seen: None,
            edited: None,
        }),
        Mode::CorednsImport => Target::Import(ConfigMapTarget {
            api: Api::<ConfigMap>::namespaced(client.clone(), &cfg.import_namespace),
            namespace: cfg.import_namespace.clone(),
            name: cfg.import_configmap.clone(),
            key: cfg.import_key.clone(),
            target: cfg.proxy_fqdn.clone(),
            warn_reload,
            last_seen: None,
            edited: None,
        }),
        Mode::EtcHosts => Target::Hosts(HostsTarget {
            path: PathBuf::from(&cfg.etc_hosts),
            proxy_ip: cfg.proxy_ip.clone(),
        }),
        Mode::ExternalDns => {
            let pod_ns = env.pod_namespace.clone().ok_or_else(|| {
                RunError::Plan(format!("cannot read the pod namespace: set POD_NAMESPACE or mount {POD_NAMESPACE_FILE}"))
            })?;
            let instance = env.instance.clone().unwrap_or_default();
            let t = ExternalDnsTarget::plan(client, &cfg.external_dns, &pod_ns, &instance)
                .await
                .map_err(RunError::Plan)?;
            Target::ExternalDns(Box::new(t))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        assert_eq!(backoff(0), Duration::from_millis(5));
        assert_eq!(backoff(1), Duration::from_millis(10));
        assert_eq!(backoff(4), Duration::from_millis(80));
        assert_eq!(backoff(40), MAX_BACKOFF);
    }
}
