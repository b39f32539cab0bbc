//! ouroboros-proxy: an in-cluster TCP relay that prepends a PROXY-protocol header.
//!
//! In-cluster clients that dial their cluster's own public hostnames are short-circuited
//! past the load balancer that would add the PROXY header ingress-nginx requires; DNS
//! sends them here instead, and each connection is relayed with the header prepended.
//!
//! Modules, in the order a connection meets them:
//! - [`config`]: flags and `OUROBOROS_PROXY_*` environment into a [`config::ProxyConfig`].
//! - [`descriptor_limit`]: the soft descriptor limit raised to the hard one at startup.
//! - [`server`]: listeners, accept loop (max connections, EMFILE back-off), drain.
//! - [`resolve`] and [`dial`]: backend lookup and connect, failure causes.
//! - [`header`]: PROXY v1/v2 encoding (and decoding, for tests and fuzzing).
//! - [`relay`]: the two-way byte pump (`splice(2)` on Linux), half-close.
//! - `relay_engine` (Linux): the relay phase on an `epoll` loop and thread of its own:
//!   from the accept on when the backend is an IP address, after the first exchange of a
//!   kept-alive connection otherwise.
//! - [`watchdog`]: dial, header and idle bounds and the drain's force-close, one sweep
//!   per event loop instead of a timer per connection.
//! - [`socket_options`]: TCP_NODELAY and keepalive.
//! - [`health`] and [`readiness`]: `/healthz`, `/readyz`, `/metrics`.
//! - [`metrics`]: counters and the Prometheus exposition.
//! - [`cpu_policy`]: the relay threads' scheduling policy (`SCHED_BATCH` by default).
//! - [`cli`]: the `ouroboros proxy` entry point.

pub mod cli;
pub mod config;
pub mod cpu_policy;
pub mod descriptor_limit;
pub mod dial;
pub mod header;
pub mod health;
pub mod metrics;
pub mod readiness;
pub mod relay;
#[cfg(target_os = "linux")]
pub mod relay_engine;
pub mod resolve;
pub mod server;
pub mod socket_options;
pub mod watchdog;
