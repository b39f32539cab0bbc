//! The thin layer that talks to the API and the filesystem.

pub mod cache; // reduced objects per kind
pub mod debounce; // trailing-edge coalescing of events
pub mod externaldns_target; // external-dns records against the API
pub mod health; // /healthz, /readyz, /metrics
pub mod informers; // list+watch with periodic re-list
pub mod leader; // Lease-based leader election
pub mod metrics; // counters and gauges
pub mod probes; // reload and node-local-dns startup probes
pub mod run; // the process: wiring and the reconcile loop
pub mod targets; // per-mode write paths with conflict retry

pub use run::{run, Environment, RunError};
