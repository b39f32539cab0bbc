//! cozy-lookup-live: answers the template function `lookup` from a live cluster.
//!
//! Read-only by construction: the provider only ever sends GET requests (API discovery, `get`
//! and `list`), each bounded by a timeout, from a single-threaded tokio runtime that exists only
//! while live lookup is on.
//!
//! - [`settings`]: what to connect to (kubeconfig, context, timeout) and `--lookup-timeout`
//!   parsing;
//! - [`error`]: why a connection or a lookup failed, naming the server;
//! - [`provider`]: [`LiveLookup`], the [`cozy_engine::LookupProvider`] backed by the cluster.

pub mod error;
pub mod provider;
pub mod settings;

pub use error::LiveLookupError;
pub use provider::LiveLookup;
pub use settings::{parse_duration, LiveLookupSettings, DEFAULT_LOOKUP_TIMEOUT};
