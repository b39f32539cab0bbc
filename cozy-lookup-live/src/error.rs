//! Why live lookup failed. Every message names the server (or the kubeconfig) at fault.

use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum LiveLookupError {
    #[error("cannot read kubeconfig {path}: {message}")]
    Kubeconfig { path: PathBuf, message: String },
    #[error("no usable cluster configuration ($KUBECONFIG, ~/.kube/config or in-cluster): {0}")]
    NoConfiguration(String),
    #[error("cannot start the lookup runtime: {0}")]
    Runtime(String),
    #[error("cannot set up a client for cluster {server}: {message}")]
    Client { server: String, message: String },
    #[error("cluster {server} is unreachable: {message}")]
    Unreachable { server: String, message: String },
    #[error("cluster {server} did not answer within {timeout:?} (see --lookup-timeout)")]
    Timeout { server: String, timeout: Duration },
    #[error("cluster {server} refused {what}: {message}")]
    Api {
        server: String,
        what: String,
        message: String,
    },
    #[error("invalid apiVersion {0:?}")]
    ApiVersion(String),
}
