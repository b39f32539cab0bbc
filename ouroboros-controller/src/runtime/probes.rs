//! Best-effort startup probes of the CoreDNS modes (spec §8.6, 8.7). They never fail startup;
//! a denied or failed probe is a debug line because the packaged RBAC deliberately omits them.

use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::Api;
use kube::Client;

use crate::corefile::has_reload_plugin;

/// Outcome of the reload probe (returned for tests and for the per-write warning).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReloadProbe {
    /// ConfigMap absent.
    NotFound,
    /// RBAC denies the read.
    Forbidden,
    /// Another error.
    Failed,
    /// Key missing.
    KeyMissing,
    /// `reload` configured.
    Present,
    /// `reload` missing: edits need a CoreDNS restart.
    Absent,
}

/// Reads the main Corefile and reports whether `reload` is configured.
pub async fn probe_reload(client: &Client, namespace: &str, name: &str, key: &str) -> ReloadProbe {
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), namespace);
    let outcome = match api.get(name).await {
        Err(kube::Error::Api(s)) if s.code == 404 => ReloadProbe::NotFound,
        Err(kube::Error::Api(s)) if s.code == 403 => {
            tracing::debug!(
                namespace,
                configmap = name,
                "CoreDNS reload-plugin probe denied by RBAC; cannot verify reload is configured"
            );
            ReloadProbe::Forbidden
        }
        Err(e) => {
            tracing::debug!(namespace, configmap = name, error = %e, "CoreDNS reload-plugin probe failed");
            ReloadProbe::Failed
        }
        Ok(cm) => match cm.data.as_ref().and_then(|d| d.get(key)) {
            None => {
                tracing::debug!(
                    namespace,
                    configmap = name,
                    key,
                    "CoreDNS reload-plugin probe: key missing"
                );
                ReloadProbe::KeyMissing
            }
            Some(text) if has_reload_plugin(text) => ReloadProbe::Present,
            Some(_) => ReloadProbe::Absent,
        },
    };
    if outcome == ReloadProbe::Absent {
        tracing::warn!(namespace, configmap = name,
            "CoreDNS Corefile lacks the 'reload' plugin; CoreDNS needs a restart after every change. Add `reload` to the .:53 server block");
    }
    outcome
}

/// Warns when node-local-dns is present: it forwards non-cluster names upstream, bypassing the
/// rewrites. Returns whether it was found.
pub async fn probe_node_local_dns(client: &Client, namespace: &str, name: &str) -> bool {
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), namespace);
    match api.get(name).await {
        Ok(_) => {
            tracing::warn!(nodeLocalDNSConfigMap = %format!("{namespace}/{name}"),
                "node-local-dns detected: it forwards non-cluster queries upstream, so the CoreDNS rewrites are bypassed for pods using it; use external-dns mode or add the rewrites to node-local-dns");
            true
        }
        Err(kube::Error::Api(s)) if s.code == 404 => false,
        Err(e) => {
            tracing::debug!(namespace, configmap = name, error = %e, "node-local-dns detection probe failed");
            false
        }
    }
}
