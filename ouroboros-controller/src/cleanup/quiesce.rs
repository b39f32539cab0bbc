//! Step 1 of the CoreDNS cleanups: scale the controller to 0 and wait (bounded) for its pods to
//! go, so it cannot re-add the block right after it is removed. Never fatal.

use k8s_openapi::api::apps::v1::Deployment;
use kube::api::{Api, Patch, PatchParams};
use kube::Client;
use serde_json::json;
use tokio::time::Instant;

use super::CleanupConfig;

/// Scales the controller Deployment to 0 and polls `status.replicas` until it is 0 or absent.
pub async fn quiesce(client: &Client, cfg: &CleanupConfig) {
    if cfg.controller_deployment.is_empty() {
        return;
    }
    let name = &cfg.controller_deployment;
    let id = format!("{}/{}", cfg.controller_namespace, name);
    let api: Api<Deployment> = Api::namespaced(client.clone(), &cfg.controller_namespace);
    match api
        .patch_scale(
            name,
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"replicas": 0}})),
        )
        .await
    {
        Ok(_) => tracing::info!(deployment = %id, "scaled controller to 0"),
        Err(kube::Error::Api(s)) if s.code == 404 => {
            tracing::info!(deployment = %id, "controller deployment not found; nothing to quiesce");
            return;
        }
        Err(e) => {
            tracing::warn!(deployment = %id, error = %e, "scaling the controller to 0 failed; continuing")
        }
    }
    let deadline = Instant::now() + cfg.quiesce_timeout;
    loop {
        match api.get_opt(name).await {
            Ok(None) => return,
            Ok(Some(d)) if d.status.as_ref().and_then(|s| s.replicas).unwrap_or(0) == 0 => {
                tracing::info!(deployment = %id, "controller quiesced");
                return;
            }
            Ok(Some(_)) => {}
            Err(e) => {
                tracing::debug!(deployment = %id, error = %e, "reading the controller deployment failed")
            }
        }
        if Instant::now() >= deadline {
            tracing::warn!(deployment = %id, timeout = ?cfg.quiesce_timeout, "controller still has pods after the timeout; cleaning anyway");
            return;
        }
        tokio::time::sleep(cfg.poll_interval).await;
    }
}
