//! The relay's counters, one shard per event loop, and their Prometheus text exposition.
//!
//! Plain atomics: the data path only ever adds, and a scrape reads a slightly torn but
//! monotonic view, which Prometheus tolerates.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use crate::dial::DialCause;

/// Upper bounds (seconds) of the connection-duration histogram: from a single
/// request/response on loopback to a long-lived stream.
pub const DURATION_BUCKETS: [f64; 12] = [
    0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0, 60.0, 300.0, 3600.0,
];

/// Why an accepted connection was closed before relaying.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RejectReason {
    MaxConnections,
    ShuttingDown,
}

/// The counters, one shard per event loop: a loop only ever adds to its own shard, so
/// the data path never bounces a cache line between CPUs; a scrape sums the shards.
#[derive(Debug)]
pub struct Metrics {
    shards: Box<[Counters]>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::with_shards(1)
    }
}

/// One event loop's counters. Aligned so that two shards never share a cache line.
#[derive(Debug, Default)]
#[repr(align(128))]
pub struct Counters {
    accepted: AtomicU64,
    active: AtomicI64,
    rejected_max_connections: AtomicU64,
    rejected_shutting_down: AtomicU64,
    accept_errors: AtomicU64,
    dial_failures: [AtomicU64; 6],
    header_write_failures: AtomicU64,
    idle_timeouts: AtomicU64,
    bytes_client_to_backend: AtomicU64,
    bytes_backend_to_client: AtomicU64,
    /// Per bucket, not cumulative: one increment per connection; the exposition sums.
    duration_buckets: [AtomicU64; DURATION_BUCKETS.len()],
    duration_count: AtomicU64,
    duration_sum_micros: AtomicU64,
}

/// Direction of relayed bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    ClientToBackend,
    BackendToClient,
}

impl Counters {
    pub fn connection_accepted(&self) {
        self.accepted.fetch_add(1, Relaxed);
    }

    pub fn connection_opened(&self) {
        self.active.fetch_add(1, Relaxed);
    }

    /// Records the end of a relayed (or failed) connection that was counted as opened.
    pub fn connection_closed(&self, lifetime: Duration) {
        self.active.fetch_sub(1, Relaxed);
        let seconds = lifetime.as_secs_f64();
        if let Some(bucket) = DURATION_BUCKETS.iter().position(|bound| seconds <= *bound) {
            self.duration_buckets[bucket].fetch_add(1, Relaxed);
        }
        self.duration_count.fetch_add(1, Relaxed);
        self.duration_sum_micros.fetch_add(
            u64::try_from(lifetime.as_micros()).unwrap_or(u64::MAX),
            Relaxed,
        );
    }

    pub fn rejected(&self, reason: RejectReason) {
        match reason {
            RejectReason::MaxConnections => &self.rejected_max_connections,
            RejectReason::ShuttingDown => &self.rejected_shutting_down,
        }
        .fetch_add(1, Relaxed);
    }

    pub fn accept_error(&self) {
        self.accept_errors.fetch_add(1, Relaxed);
    }

    pub fn dial_failed(&self, cause: DialCause) {
        self.dial_failures[cause.index()].fetch_add(1, Relaxed);
    }

    pub fn header_write_failed(&self) {
        self.header_write_failures.fetch_add(1, Relaxed);
    }

    pub fn idle_timeout(&self) {
        self.idle_timeouts.fetch_add(1, Relaxed);
    }

    pub fn bytes(&self, direction: Direction, count: u64) {
        match direction {
            Direction::ClientToBackend => &self.bytes_client_to_backend,
            Direction::BackendToClient => &self.bytes_backend_to_client,
        }
        .fetch_add(count, Relaxed);
    }
}

impl Metrics {
    /// Counters for `shards` event loops (at least one).
    pub fn with_shards(shards: usize) -> Metrics {
        Metrics {
            shards: (0..shards.max(1)).map(|_| Counters::default()).collect(),
        }
    }

    /// The counters event loop `index` adds to.
    pub fn shard(&self, index: usize) -> &Counters {
        &self.shards[index % self.shards.len()]
    }

    fn sum(&self, field: impl Fn(&Counters) -> u64) -> u64 {
        self.shards.iter().map(field).fold(0, u64::wrapping_add)
    }

    pub fn active(&self) -> i64 {
        self.shards.iter().map(|s| s.active.load(Relaxed)).sum()
    }

    pub fn dial_failures(&self, cause: DialCause) -> u64 {
        self.sum(|s| s.dial_failures[cause.index()].load(Relaxed))
    }

    /// The Prometheus text exposition format (version 0.0.4).
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(4096);
        let counter = |out: &mut String, name: &str, help: &str, value: u64| {
            let _ = write!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}\n"
            );
        };
        counter(
            &mut out,
            "ouroboros_proxy_connections_accepted_total",
            "Connections accepted on the relay listeners.",
            self.sum(|s| s.accepted.load(Relaxed)),
        );
        let _ = write!(
            out,
            "# HELP ouroboros_proxy_connections_active Connections currently being dialed or relayed.\n# TYPE ouroboros_proxy_connections_active gauge\nouroboros_proxy_connections_active {}\n",
            self.active()
        );
        let _ = write!(
            out,
            "# HELP ouroboros_proxy_connections_rejected_total Accepted connections closed without relaying.\n# TYPE ouroboros_proxy_connections_rejected_total counter\nouroboros_proxy_connections_rejected_total{{reason=\"max-connections\"}} {}\nouroboros_proxy_connections_rejected_total{{reason=\"shutting-down\"}} {}\n",
            self.sum(|s| s.rejected_max_connections.load(Relaxed)),
            self.sum(|s| s.rejected_shutting_down.load(Relaxed))
        );
        counter(
            &mut out,
            "ouroboros_proxy_accept_errors_total",
            "Failed accept calls (for example out of file descriptors).",
            self.sum(|s| s.accept_errors.load(Relaxed)),
        );
        out.push_str("# HELP ouroboros_proxy_dial_failures_total Backend dials that failed, by cause.\n# TYPE ouroboros_proxy_dial_failures_total counter\n");
        for cause in DialCause::ALL {
            let _ = writeln!(
                out,
                "ouroboros_proxy_dial_failures_total{{cause=\"{cause}\"}} {}",
                self.dial_failures(cause)
            );
        }
        counter(
            &mut out,
            "ouroboros_proxy_header_write_failures_total",
            "PROXY headers that could not be written to the backend.",
            self.sum(|s| s.header_write_failures.load(Relaxed)),
        );
        counter(
            &mut out,
            "ouroboros_proxy_idle_timeouts_total",
            "Connections closed by the idle timeout.",
            self.sum(|s| s.idle_timeouts.load(Relaxed)),
        );
        let _ = write!(
            out,
            "# HELP ouroboros_proxy_bytes_total Payload bytes relayed, by direction.\n# TYPE ouroboros_proxy_bytes_total counter\nouroboros_proxy_bytes_total{{direction=\"client-to-backend\"}} {}\nouroboros_proxy_bytes_total{{direction=\"backend-to-client\"}} {}\n",
            self.sum(|s| s.bytes_client_to_backend.load(Relaxed)),
            self.sum(|s| s.bytes_backend_to_client.load(Relaxed))
        );
        out.push_str("# HELP ouroboros_proxy_connection_duration_seconds Lifetime of relayed connections.\n# TYPE ouroboros_proxy_connection_duration_seconds histogram\n");
        let mut cumulative = 0u64;
        for (index, bound) in DURATION_BUCKETS.iter().enumerate() {
            cumulative += self.sum(|s| s.duration_buckets[index].load(Relaxed));
            let _ = writeln!(
                out,
                "ouroboros_proxy_connection_duration_seconds_bucket{{le=\"{bound}\"}} {cumulative}"
            );
        }
        let count = self.sum(|s| s.duration_count.load(Relaxed));
        let _ = writeln!(
            out,
            "ouroboros_proxy_connection_duration_seconds_bucket{{le=\"+Inf\"}} {count}"
        );
        let sum = self.sum(|s| s.duration_sum_micros.load(Relaxed)) as f64 / 1e6;
        let _ = write!(
            out,
            "ouroboros_proxy_connection_duration_seconds_sum {sum}\nouroboros_proxy_connection_duration_seconds_count {count}\n"
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(text: &str, series: &str) -> String {
        text.lines()
            .find_map(|line| {
                line.strip_prefix(series)
                    .and_then(|rest| rest.strip_prefix(' '))
            })
            .unwrap_or_else(|| panic!("{series} missing in\n{text}"))
            .to_string()
    }

    #[test]
    fn renders_every_family() {
        let metrics = Metrics::with_shards(2);
        let (first, second) = (metrics.shard(0), metrics.shard(1));
        first.connection_accepted();
        first.connection_opened();
        second.connection_opened();
        first.connection_closed(Duration::from_millis(20));
        first.dial_failed(DialCause::ConnectionRefused);
        second.dial_failed(DialCause::ConnectionRefused);
        second.rejected(RejectReason::MaxConnections);
        first.bytes(Direction::ClientToBackend, 10);
        second.bytes(Direction::BackendToClient, 30);
        first.bytes(Direction::BackendToClient, 2);
        let text = metrics.render();
        assert_eq!(
            value(&text, "ouroboros_proxy_connections_accepted_total"),
            "1"
        );
        assert_eq!(value(&text, "ouroboros_proxy_connections_active"), "1");
        assert_eq!(
            value(
                &text,
                "ouroboros_proxy_dial_failures_total{cause=\"connection-refused\"}"
            ),
            "2"
        );
        assert_eq!(
            value(
                &text,
                "ouroboros_proxy_dial_failures_total{cause=\"dns-nxdomain\"}"
            ),
            "0"
        );
        assert_eq!(
            value(
                &text,
                "ouroboros_proxy_connections_rejected_total{reason=\"max-connections\"}"
            ),
            "1"
        );
        assert_eq!(
            value(
                &text,
                "ouroboros_proxy_bytes_total{direction=\"client-to-backend\"}"
            ),
            "10"
        );
        assert_eq!(
            value(
                &text,
                "ouroboros_proxy_bytes_total{direction=\"backend-to-client\"}"
            ),
            "32"
        );
        assert_eq!(
            value(
                &text,
                "ouroboros_proxy_connection_duration_seconds_bucket{le=\"0.01\"}"
            ),
            "0"
        );
        assert_eq!(
            value(
                &text,
                "ouroboros_proxy_connection_duration_seconds_bucket{le=\"0.05\"}"
            ),
            "1"
        );
        assert_eq!(
            value(
                &text,
                "ouroboros_proxy_connection_duration_seconds_bucket{le=\"3600\"}"
            ),
            "1",
            "buckets are cumulative"
        );
        assert_eq!(
            value(
                &text,
                "ouroboros_proxy_connection_duration_seconds_bucket{le=\"+Inf\"}"
            ),
            "1"
        );
        assert_eq!(
            value(&text, "ouroboros_proxy_connection_duration_seconds_count"),
            "1"
        );
        assert_eq!(
            value(&text, "ouroboros_proxy_connection_duration_seconds_sum"),
            "0.02"
        );
        // Every sample line belongs to a declared family.
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let name = line.split(['{', ' ']).next().unwrap();
            let family = name
                .trim_end_matches("_bucket")
                .trim_end_matches("_sum")
                .trim_end_matches("_count");
            assert!(text.contains(&format!("# TYPE {family} ")), "{line}");
        }
    }
}
