//! Leader election through a `coordination.k8s.io/v1` Lease, so two replicas never both write.
//!
//! Expiry is judged the way client-go does it: by how long this replica has seen the Lease
//! unchanged (its resourceVersion), on the local monotonic clock, so clock skew between nodes
//! does not matter.

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use kube::api::{Api, PostParams};
use tokio::sync::watch;
use tokio::time::Instant;

use super::metrics::Metrics;

/// Static settings of one elector.
#[derive(Debug, Clone)]
pub struct Elector {
    /// Lease API in the lease namespace.
    pub api: Api<Lease>,
    /// Lease name.
    pub name: String,
    /// This replica.
    pub identity: String,
    /// Validity without renewal.
    pub lease_duration: Duration,
}

#[derive(Debug)]
struct Observed {
    resource_version: Option<String>,
    since: Instant,
}

fn now_micro() -> MicroTime {
    MicroTime(k8s_openapi::jiff::Timestamp::now())
}

fn duration_secs(d: Duration) -> i32 {
    i32::try_from(d.as_secs().max(1)).unwrap_or(i32::MAX)
}

impl Elector {
    /// Runs until `shutdown` flips to true, publishing leadership on `leader`. A leader
    /// releases the Lease on the way out so a standby takes over at once.
    pub async fn run(
        self,
        leader: watch::Sender<bool>,
        metrics: Arc<Metrics>,
        mut shutdown: watch::Receiver<bool>,
    ) {
        let retry = (self.lease_duration / 3).max(Duration::from_millis(200));
        let mut observed: Option<Observed> = None;
        let mut last_renew: Option<Instant> = None;
        loop {
            let held = match self.try_acquire_or_renew(&mut observed).await {
                Ok(held) => held,
                Err(e) => {
                    tracing::warn!(lease = %self.name, error = %e, "leader election: lease update failed");
                    // Keep leading only while the last renewal is still valid.
                    last_renew.is_some_and(|at| at.elapsed() < self.lease_duration)
                }
            };
            if held {
                last_renew = Some(Instant::now());
            }
            if *leader.borrow() != held {
                tracing::info!(lease = %self.name, identity = %self.identity, leader = held, "leadership changed");
                metrics.set_leader(held);
                leader.send_replace(held);
            }
            tokio::select! {
                _ = tokio::time::sleep(retry) => {}
                _ = shutdown.wait_for(|stop| *stop) => break,
            }
        }
        if *leader.borrow() {
            leader.send_replace(false);
            metrics.set_leader(false);
            if let Err(e) = self.release().await {
                tracing::debug!(lease = %self.name, error = %e, "leader election: release failed");
            }
        }
    }

    async fn try_acquire_or_renew(
        &self,
        observed: &mut Option<Observed>,
    ) -> Result<bool, kube::Error> {
        let Some(mut lease) = self.api.get_opt(&self.name).await? else {
            let fresh = Lease {
                metadata: ObjectMeta {
                    name: Some(self.name.clone()),
                    ..Default::default()
                },
                spec: Some(LeaseSpec {
                    holder_identity: Some(self.identity.clone()),
                    lease_duration_seconds: Some(duration_secs(self.lease_duration)),
                    acquire_time: Some(now_micro()),
                    renew_time: Some(now_micro()),
                    lease_transitions: Some(0),
                    ..Default::default()
                }),
            };
            return match self.api.create(&PostParams::default(), &fresh).await {
                Ok(_) => Ok(true),
                Err(kube::Error::Api(s)) if s.code == 409 => Ok(false),
                Err(e) => Err(e),
            };
        };
        let rv = lease.metadata.resource_version.clone();
        if observed.as_ref().map(|o| &o.resource_version) != Some(&rv) {
            *observed = Some(Observed {
                resource_version: rv,
                since: Instant::now(),
            });
        }
        let spec = lease.spec.get_or_insert_with(Default::default);
        let holder = spec.holder_identity.clone().unwrap_or_default();
        let their_duration = spec
            .lease_duration_seconds
            .map(|s| Duration::from_secs(s.max(0) as u64))
            .unwrap_or(self.lease_duration);
        let expired = observed
            .as_ref()
            .is_some_and(|o| o.since.elapsed() > their_duration);
        if holder != self.identity {
            if !holder.is_empty() && !expired {
                return Ok(false);
            }
            spec.holder_identity = Some(self.identity.clone());
            spec.acquire_time = Some(now_micro());
            spec.lease_transitions = Some(spec.lease_transitions.unwrap_or(0) + 1);
        }
        spec.renew_time = Some(now_micro());
        spec.lease_duration_seconds = Some(duration_secs(self.lease_duration));
        match self
            .api
            .replace(&self.name, &PostParams::default(), &lease)
            .await
        {
            Ok(updated) => {
                *observed = Some(Observed {
                    resource_version: updated.metadata.resource_version,
                    since: Instant::now(),
                });
                Ok(true)
            }
            Err(kube::Error::Api(s)) if s.code == 409 => Ok(false),
            Err(e) => Err(e),
        }
    }

    async fn release(&self) -> Result<(), kube::Error> {
        let Some(mut lease) = self.api.get_opt(&self.name).await? else {
            return Ok(());
        };
        let spec = lease.spec.get_or_insert_with(Default::default);
        if spec.holder_identity.as_deref() != Some(self.identity.as_str()) {
            return Ok(());
        }
        spec.holder_identity = None;
        spec.lease_duration_seconds = Some(1);
        spec.renew_time = Some(now_micro());
        self.api
            .replace(&self.name, &PostParams::default(), &lease)
            .await
            .map(|_| ())
    }
}
