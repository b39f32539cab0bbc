//! external-dns cleanup: delete the records this release owns and wait (bounded) until they are
//! gone. A missing DNSEndpoint CRD means there is nothing to clean.

use kube::api::{Api, DeleteParams, DynamicObject, ListParams};
use kube::{Client, ResourceExt};
use tokio::time::Instant;

use super::{CleanupConfig, CleanupError, Outcome};
use crate::externaldns::ownership_selector;
use crate::runtime::externaldns_target::record_resource;

/// Deletes every owned record object in the records namespace.
pub async fn remove_records(client: &Client, cfg: &CleanupConfig) -> Result<Outcome, CleanupError> {
    let ns = &cfg.external_dns_namespace;
    let resource = record_resource(cfg.external_dns_output);
    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), ns, &resource);
    let selector = ownership_selector(&cfg.instance);
    let params = ListParams::default().labels(&selector);
    let owned = |list: kube::core::ObjectList<DynamicObject>| -> Vec<String> {
        list.items
            .into_iter()
            .filter(|o| {
                let l = o.labels();
                l.get(crate::externaldns::MANAGED_BY_LABEL)
                    .map(String::as_str)
                    == Some(crate::externaldns::MANAGED_BY_VALUE)
                    && l.get(crate::externaldns::INSTANCE_LABEL) == Some(&cfg.instance)
            })
            .map(|o| o.name_any())
            .collect()
    };
    let names = match api.list(&params).await {
        Ok(list) => owned(list),
        Err(kube::Error::Api(s)) if s.code == 404 => {
            return Ok(Outcome::NothingToDo(format!(
                "{} not served; nothing to clean",
                resource.plural
            )));
        }
        Err(e) => {
            return Err(CleanupError::Failed(format!(
                "list {} in {ns}: {e}",
                resource.plural
            )))
        }
    };
    if names.is_empty() {
        return Ok(Outcome::NothingToDo(format!(
            "no {} owned by {:?} in {ns}",
            resource.plural, cfg.instance
        )));
    }
    for name in &names {
        match api.delete(name, &DeleteParams::default()).await {
            Ok(_) => {
                tracing::info!(namespace = %ns, name = %name, kind = %resource.kind, "deleted")
            }
            Err(kube::Error::Api(s)) if s.code == 404 => {}
            Err(e) => {
                return Err(CleanupError::Failed(format!(
                    "delete {} {ns}/{name}: {e}",
                    resource.kind
                )))
            }
        }
    }
    let deadline = Instant::now() + cfg.delete_timeout;
    loop {
        let left = match api.list(&params).await {
            Ok(list) => owned(list),
            Err(e) => {
                return Err(CleanupError::Failed(format!(
                    "list {} in {ns}: {e}",
                    resource.plural
                )))
            }
        };
        if left.is_empty() {
            return Ok(Outcome::Cleaned(format!(
                "deleted {} {} owned by {:?} in {ns}",
                names.len(),
                resource.plural,
                cfg.instance
            )));
        }
        if Instant::now() >= deadline {
            return Err(CleanupError::Failed(format!(
                "{} {} still present after {:?}: {left:?}",
                left.len(),
                resource.plural,
                cfg.delete_timeout
            )));
        }
        tokio::time::sleep(cfg.poll_interval).await;
    }
}
