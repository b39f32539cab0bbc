//! Process metrics, rendered in the Prometheus text format.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

/// Counters and gauges shared by the reconcile loop and the health server.
#[derive(Debug, Default)]
pub struct Metrics {
    reconciles_ok: AtomicU64,
    reconciles_err: AtomicU64,
    writes: AtomicU64,
    conflicts: AtomicU64,
    hosts: AtomicU64,
    last_success_ms: AtomicU64,
    leader: AtomicBool,
    synced: AtomicBool,
    refused: Mutex<BTreeMap<&'static str, u64>>,
}

impl Metrics {
    /// A reconcile finished.
    pub fn reconcile(&self, ok: bool) {
        if ok {
            self.reconciles_ok.fetch_add(1, Ordering::Relaxed);
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_millis() as u64)
                .unwrap_or(0);
            self.last_success_ms.store(now, Ordering::Relaxed);
        } else {
            self.reconciles_err.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// A write reached the target.
    pub fn write(&self) {
        self.writes.fetch_add(1, Ordering::Relaxed);
    }

    /// A write was rejected with 409.
    pub fn conflict(&self) {
        self.conflicts.fetch_add(1, Ordering::Relaxed);
    }

    /// The current host set, and refused hosts per reason.
    pub fn host_set(&self, hosts: usize, refused: BTreeMap<&'static str, u64>) {
        self.hosts.store(hosts as u64, Ordering::Relaxed);
        if let Ok(mut r) = self.refused.lock() {
            *r = refused;
        }
    }

    /// Leadership changed.
    pub fn set_leader(&self, leader: bool) {
        self.leader.store(leader, Ordering::Relaxed);
    }

    /// All informers listed once.
    pub fn set_synced(&self) {
        self.synced.store(true, Ordering::Relaxed);
    }

    /// Whether the initial list completed (readiness).
    pub fn is_synced(&self) -> bool {
        self.synced.load(Ordering::Relaxed)
    }

    /// Number of writes so far (tests and benchmarks read it).
    pub fn writes(&self) -> u64 {
        self.writes.load(Ordering::Relaxed)
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let mut metric = |name: &str, kind: &str, help: &str, samples: &[(String, String)]| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
            for (labels, value) in samples {
                let _ = writeln!(out, "{name}{labels} {value}");
            }
        };
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed).to_string();
        metric(
            "ouroboros_controller_reconciles_total",
            "counter",
            "Reconciles by result.",
            &[
                ("{result=\"success\"}".into(), load(&self.reconciles_ok)),
                ("{result=\"error\"}".into(), load(&self.reconciles_err)),
            ],
        );
        metric(
            "ouroboros_controller_writes_total",
            "counter",
            "Writes to the DNS target.",
            &[(String::new(), load(&self.writes))],
        );
        metric(
            "ouroboros_controller_conflicts_total",
            "counter",
            "Writes rejected with 409 Conflict.",
            &[(String::new(), load(&self.conflicts))],
        );
        metric(
            "ouroboros_controller_hosts",
            "gauge",
            "Hostnames in the current host set.",
            &[(String::new(), load(&self.hosts))],
        );
        let refused: Vec<(String, String)> = self
            .refused
            .lock()
            .map(|r| {
                r.iter()
                    .map(|(reason, n)| (format!("{{reason=\"{reason}\"}}"), n.to_string()))
                    .collect()
            })
            .unwrap_or_default();
        metric(
            "ouroboros_controller_refused_hosts",
            "gauge",
            "Hostnames refused because they are not DNS names, by reason.",
            &refused,
        );
        let last = self.last_success_ms.load(Ordering::Relaxed) as f64 / 1000.0;
        metric(
            "ouroboros_controller_last_success_timestamp_seconds",
            "gauge",
            "Unix time of the last successful reconcile.",
            &[(String::new(), format!("{last:.3}"))],
        );
        let flag = |b: &AtomicBool| if b.load(Ordering::Relaxed) { "1" } else { "0" }.to_string();
        metric(
            "ouroboros_controller_leader",
            "gauge",
            "1 while this replica holds the Lease.",
            &[(String::new(), flag(&self.leader))],
        );
        metric(
            "ouroboros_controller_synced",
            "gauge",
            "1 once every informer has listed.",
            &[(String::new(), flag(&self.synced))],
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposition_carries_every_metric() {
        let m = Metrics::default();
        m.reconcile(true);
        m.reconcile(false);
        m.write();
        m.conflict();
        m.host_set(3, BTreeMap::from([("invalid_character", 2)]));
        let text = m.render();
        assert!(text.contains("ouroboros_controller_reconciles_total{result=\"success\"} 1\n"));
        assert!(text.contains("ouroboros_controller_reconciles_total{result=\"error\"} 1\n"));
        assert!(text.contains("ouroboros_controller_writes_total 1\n"));
        assert!(text.contains("ouroboros_controller_conflicts_total 1\n"));
        assert!(text.contains("ouroboros_controller_hosts 3\n"));
        assert!(
            text.contains("ouroboros_controller_refused_hosts{reason=\"invalid_character\"} 2\n")
        );
        assert!(!text.contains("last_success_timestamp_seconds 0.000"));
        assert!(text.contains("# TYPE ouroboros_controller_writes_total counter"));
    }
}
