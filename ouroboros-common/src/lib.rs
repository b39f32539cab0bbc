//! Pieces shared by the `ouroboros` controller and proxy.
//!
//! Both binaries replace Go programs whose command lines, environment variables and
//! cluster-domain detection are already baked into deployed charts, so these modules
//! reproduce that observable behaviour exactly:
//!
//! - [`cluster_domain`]: detect the cluster DNS suffix from `resolv.conf` and compose
//!   `<service>.<namespace>.svc.<domain>` names.
//! - [`duration`]: parse and format durations with Go's `time.ParseDuration` syntax.
//! - [`flags`]: a Go `flag`-package-compatible command-line parser with environment twins.

pub mod cluster_domain;
pub mod duration;
pub mod flags;

pub use duration::SignedDuration;
