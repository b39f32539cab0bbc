//! Step 2 of the CoreDNS cleanups: the marker block (version-guarded replace with retries) or
//! the import key (JSON merge patch to null).

use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, Patch, PatchParams, PostParams};
use kube::Client;
use serde_json::json;

use super::{CleanupConfig, CleanupError, Outcome};
use crate::corefile::{remove_block_for_cleanup, BlockRemoval};

/// Removes the marker block from the Corefile key.
pub async fn remove_block(client: &Client, cfg: &CleanupConfig) -> Result<Outcome, CleanupError> {
    let (ns, name, key) = &cfg.coredns;
    let id = format!("{ns}/{name}");
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), ns);
    let mut last_error = String::new();
    for attempt in 1..=cfg.attempts {
        let cm = match api.get_opt(name).await {
            Ok(Some(cm)) => cm,
            Ok(None) => return Ok(Outcome::NothingToDo(format!("configmap {id} not found"))),
            Err(e) => return Err(CleanupError::Failed(format!("get configmap {id}: {e}"))),
        };
        let Some(text) = cm.data.as_ref().and_then(|d| d.get(key)).cloned() else {
            return Ok(Outcome::NothingToDo(format!(
                "configmap {id} has no {key:?} key"
            )));
        };
        // Validation runs on every attempt: someone may have edited the object in between.
        let new_text = match remove_block_for_cleanup(&text) {
            Ok(BlockRemoval::NothingToRemove) => {
                return Ok(Outcome::NothingToDo(format!(
                    "no ouroboros block in {id} key {key:?}"
                )))
            }
            Ok(BlockRemoval::Removed { text, .. }) => text,
            Err(refusal) => {
                return Err(CleanupError::Refused(format!(
                    "configmap {id} key {key:?}: {refusal}"
                )))
            }
        };
        let mut updated = cm;
        if let Some(data) = updated.data.as_mut() {
            data.insert(key.clone(), new_text);
        }
        match api.replace(name, &PostParams::default(), &updated).await {
            Ok(_) => {
                return Ok(Outcome::Cleaned(format!(
                    "removed the ouroboros block from {id} key {key:?}"
                )))
            }
            Err(e) => {
                tracing::warn!(configmap = %id, attempt, error = %e, "replace failed; retrying");
                last_error = e.to_string();
                tokio::time::sleep(cfg.poll_interval).await;
            }
        }
    }
    Err(CleanupError::Failed(format!(
        "update configmap {id}: gave up after {} attempts: {last_error}",
        cfg.attempts
    )))
}

/// Removes only the snippet key of the import ConfigMap.
pub async fn remove_import_key(
    client: &Client,
    cfg: &CleanupConfig,
) -> Result<Outcome, CleanupError> {
    let (ns, name, key) = &cfg.coredns_import;
    let id = format!("{ns}/{name}");
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), ns);
    let cm = match api.get_opt(name).await {
        Ok(Some(cm)) => cm,
        Ok(None) => return Ok(Outcome::NothingToDo(format!("configmap {id} not found"))),
        Err(e) => return Err(CleanupError::Failed(format!("get configmap {id}: {e}"))),
    };
    if !cm.data.as_ref().is_some_and(|d| d.contains_key(key)) {
        return Ok(Outcome::NothingToDo(format!(
            "configmap {id} has no {key:?} key"
        )));
    }
    let patch = json!({"data": {key: null}});
    match api
        .patch(name, &PatchParams::default(), &Patch::Merge(patch))
        .await
    {
        Ok(_) => Ok(Outcome::Cleaned(format!("removed key {key:?} from {id}"))),
        Err(kube::Error::Api(s)) if s.code == 404 => {
            Ok(Outcome::NothingToDo(format!("configmap {id} not found")))
        }
        Err(e) => Err(CleanupError::Failed(format!("patch configmap {id}: {e}"))),
    }
}
