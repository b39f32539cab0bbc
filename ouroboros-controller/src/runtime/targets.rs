//! The write side of each mode: read the target, decide with the pure core, write only when the
//! content differs, conditional on the version that was read.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, PostParams};

use super::externaldns_target::ExternalDnsTarget;
use super::metrics::Metrics;
use crate::corefile::EditedCorefile;
use crate::hostnames::NormalisedHosts;
use crate::hosts_file::{
    apply_hosts_block, check_hosts_path, write_hosts_file, HostsEditError, HostsWriteError,
    WriteMethod,
};
use crate::reconcile::{
    decide_corefile_remembering, decide_import, ConfigMapAction, DecideError, NoChangeReason,
    ObservedConfigMap,
};

/// Attempts of one GET-decide-PUT cycle before a conflict becomes a reconcile error.
pub const CONFLICT_ATTEMPTS: u32 = 5;
/// Pause between conflict attempts (plus up to 10% jitter).
pub const CONFLICT_PAUSE: Duration = Duration::from_millis(10);

/// What a reconcile did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    /// Wrote the target.
    Written,
    /// Left it alone.
    Unchanged(&'static str),
}

/// A reconcile that failed.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    /// An API call failed.
    #[error("{context}: {source}")]
    Api {
        /// What was being done, naming the object.
        context: String,
        /// The client error.
        source: kube::Error,
    },
    /// Every attempt hit 409.
    #[error("{context} (conflict): still conflicting after {attempts} attempts")]
    Conflict {
        /// What was being done.
        context: String,
        /// How many attempts.
        attempts: u32,
    },
    /// The pure decision failed.
    #[error(transparent)]
    Decide(#[from] DecideError),
    /// The hosts file could not be edited.
    #[error("hosts file {path:?}: {source}")]
    HostsEdit {
        /// The file.
        path: PathBuf,
        /// Why.
        source: HostsEditError,
    },
    /// The hosts file could not be read or written.
    #[error(transparent)]
    HostsWrite(#[from] HostsWriteError),
    /// The external-dns reconcile failed.
    #[error("{0}")]
    Records(String),
}

/// One mode's target.
pub enum Target {
    /// The main Corefile.
    Coredns(ConfigMapTarget),
    /// The import ConfigMap.
    Import(ConfigMapTarget),
    /// A hosts file.
    Hosts(HostsTarget),
    /// external-dns records.
    ExternalDns(Box<ExternalDnsTarget>),
}

impl Target {
    /// Drops any remembered copy of the target, so the next reconcile reads it afresh: at
    /// every resync (repairs an external overwrite that produced no event) and whenever this
    /// replica becomes the writer.
    pub fn forget_observed(&mut self) {
        match self {
            Self::Coredns(t) | Self::Import(t) => t.last_seen = None,
            Self::Hosts(_) | Self::ExternalDns(_) => {}
        }
    }

    /// Brings the target in line with `hosts` (already normalised).
    pub async fn apply(
        &mut self,
        hosts: &NormalisedHosts,
        metrics: &Metrics,
    ) -> Result<Applied, TargetError> {
        match self {
            Self::Coredns(t) => t.apply(hosts, metrics, decide_corefile_remembering).await,
            Self::Import(t) => t.apply(hosts, metrics, decide_import_value).await,
            Self::Hosts(t) => t.apply(hosts, metrics),
            Self::ExternalDns(t) => t.apply(hosts, metrics).await,
        }
    }
}

/// A data key of one ConfigMap.
pub struct ConfigMapTarget {
    /// ConfigMaps in the target namespace.
    pub api: Api<ConfigMap>,
    /// Namespace (for messages).
    pub namespace: String,
    /// ConfigMap name.
    pub name: String,
    /// Data key.
    pub key: String,
    /// Rewrite target.
    pub target: String,
    /// Shared with the probes: whether a missing `reload` should be warned about.
    pub warn_reload: Arc<std::sync::atomic::AtomicBool>,
    /// The object as the API last returned it to us (read or written). A decision made against
    /// it is sent with its resourceVersion, so the API refuses it (409) if anyone wrote since;
    /// only then is the object read again. This saves a GET of the whole Corefile per change.
    pub last_seen: Option<ConfigMap>,
    /// The Corefile this controller produced last, with where its block is (coredns mode).
    pub edited: Option<EditedCorefile>,
}

type Decide = fn(
    &NormalisedHosts,
    &str,
    &ObservedConfigMap,
    &str,
    Option<&EditedCorefile>,
) -> Result<(ConfigMapAction, Option<EditedCorefile>), DecideError>;

/// The import mode has nothing worth remembering: its snippet is the whole value.
fn decide_import_value(
    hosts: &NormalisedHosts,
    target: &str,
    observed: &ObservedConfigMap,
    key: &str,
    _: Option<&EditedCorefile>,
) -> Result<(ConfigMapAction, Option<EditedCorefile>), DecideError> {
    decide_import(hosts, target, observed, key).map(|action| (action, None))
}

impl ConfigMapTarget {
    fn id(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }

    async fn apply(
        &mut self,
        hosts: &NormalisedHosts,
        metrics: &Metrics,
        decide: Decide,
    ) -> Result<Applied, TargetError> {
        let id = self.id();
        for attempt in 1..=CONFLICT_ATTEMPTS {
            let remembered = self.last_seen.is_some();
            let mut current = match self.last_seen.take() {
                Some(seen) => seen,
                None => self
                    .api
                    .get(&self.name)
                    .await
                    .map_err(|source| TargetError::Api {
                        context: format!("get configmap {id}"),
                        source,
                    })?,
            };
            let observed = ObservedConfigMap {
                id: id.clone(),
                data: current.data.take().unwrap_or_default(),
                resource_version: current.metadata.resource_version.clone(),
            };
            let (decision, edited) = decide(
                hosts,
                &self.target,
                &observed,
                &self.key,
                self.edited.as_ref(),
            )?;
            let (data, has_reload) = match decision {
                ConfigMapAction::NoChange(reason) => {
                    current.data = Some(observed.data);
                    self.last_seen = Some(current);
                    self.edited = edited;
                    return Ok(Applied::Unchanged(match reason {
                        NoChangeReason::UpToDate => "up to date",
                        NoChangeReason::NothingToRemove => "nothing to remove",
                    }));
                }
                ConfigMapAction::Write {
                    data, has_reload, ..
                } => (data, has_reload),
            };
            if !has_reload && self.warn_reload.load(std::sync::atomic::Ordering::Relaxed) {
                tracing::warn!(namespace = %self.namespace, configmap = %self.name,
                    "CoreDNS Corefile lacks the 'reload' plugin; CoreDNS will not pick up the rewrite until restarted");
            }
            let mut updated = current;
            updated.data = Some(data);
            match self
                .api
                .replace(&self.name, &PostParams::default(), &updated)
                .await
            {
                Ok(written) => {
                    self.last_seen = Some(written);
                    self.edited = edited;
                    metrics.write();
                    tracing::debug!(namespace = %self.namespace, configmap = %self.name, dataKey = %self.key, hosts = hosts.len(), "configmap updated");
                    return Ok(Applied::Written);
                }
                Err(kube::Error::Api(s)) if s.code == 409 => {
                    metrics.conflict();
                    tracing::debug!(configmap = %id, attempt, remembered, "update conflict; re-reading");
                    // A remembered copy going stale is ordinary (someone else wrote): read at
                    // once. Pausing is for two writers racing on fresh reads.
                    if !remembered {
                        tokio::time::sleep(jittered(CONFLICT_PAUSE)).await;
                    }
                }
                Err(source) => {
                    return Err(TargetError::Api {
                        context: format!("update configmap {id}"),
                        source,
                    })
                }
            }
        }
        Err(TargetError::Conflict {
            context: format!("update configmap {id}"),
            attempts: CONFLICT_ATTEMPTS,
        })
    }
}

/// `base` plus up to 10% jitter, from the clock's sub-second noise (no RNG needed for this).
pub fn jittered(base: Duration) -> Duration {
    let noise = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    base + base.mul_f64(f64::from(noise % 1000) / 10_000.0)
}

/// The hosts file of this node.
pub struct HostsTarget {
    /// Path (its name must be `hosts`).
    pub path: PathBuf,
    /// Proxy IP, validated at every reconcile.
    pub proxy_ip: String,
}

impl HostsTarget {
    fn apply(&self, hosts: &[String], metrics: &Metrics) -> Result<Applied, TargetError> {
        check_hosts_path(&self.path)?;
        let content = std::fs::read_to_string(&self.path).map_err(|source| {
            TargetError::HostsWrite(HostsWriteError::Io {
                step: "read",
                path: self.path.clone(),
                source,
            })
        })?;
        let edit = apply_hosts_block(&content, hosts, &self.proxy_ip).map_err(|source| {
            TargetError::HostsEdit {
                path: self.path.clone(),
                source,
            }
        })?;
        if !edit.changed {
            return Ok(Applied::Unchanged("up to date"));
        }
        let method = write_hosts_file(&self.path, &edit.text)?;
        if method == WriteMethod::InPlace {
            tracing::debug!(path = %self.path.display(), "hosts file rewritten in place (bind mount or read-only directory)");
        }
        metrics.write();
        Ok(Applied::Written)
    }
}
