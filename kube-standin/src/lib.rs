//! kube-standin: a stand-in for the Kubernetes API server, for tests.
//!
//! It serves the REST API subset our controller, cleanup and lookup provider use, over plain
//! HTTP on 127.0.0.1, so unchanged clients reach it through an ordinary kubeconfig. It is not
//! an apiserver: no authentication, admission, defaulting or server-side apply. What it does
//! serve follows the apiserver's documented semantics; see README.md for the deviations.
//!
//! ```no_run
//! # async fn demo() -> Result<(), kube_standin::StandInError> {
//! let server = kube_standin::StandIn::start().await?;
//! server.write_kubeconfig("/tmp/kubeconfig")?;
//! server.apply_object(serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap",
//!     "metadata": {"name": "coredns", "namespace": "kube-system"}, "data": {"Corefile": ".:53 {}"}}))?;
//! let writes = server.request_log().iter().filter(|r| !r.is_read_only()).count();
//! # let _ = writes; Ok(()) }
//! ```

// The surface tests use.
mod handle;
pub use handle::{BlockingStandIn, StandIn, StandInBuilder, StandInError, StandInHandle};
pub use state::StandInConfig;

// Plain data and pure functions.
pub mod discovery;
pub mod faults;
pub mod kubeconfig;
pub mod metadata;
pub mod patch;
pub mod path;
pub mod query;
pub mod request_log;
pub mod resource;
pub mod scale;
pub mod seed;
pub mod selector;
pub mod status;
pub mod store;

// The HTTP edge.
mod control;
mod server;
mod state;
mod watch;
