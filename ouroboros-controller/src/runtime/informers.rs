//! Informers: list+watch per kind into the shared cache, re-listing every resync period.
//!
//! A periodic fresh list is the only way to recover from a watch that stays connected but stops
//! delivering events (seen with tenant API servers), so each resync drops the stream and starts
//! a new one; the complete list then replaces the cache atomically.

use std::fmt::Debug;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::networking::v1::Ingress;
use kube::api::{Api, ApiResource, DynamicObject};
use kube::runtime::watcher::{self, Event};
use kube::runtime::WatchStreamExt;
use kube::{Client, Resource, ResourceExt};
use serde::de::DeserializeOwned;
use tokio::sync::watch;

use super::cache::{Kind, Reduced, SourceCache, Upsert};
use crate::sources::{GatewayInfo, IngressInfo, RouteInfo};

/// The cache plus the change counter the reconcile loop listens to.
#[derive(Clone)]
pub struct Shared {
    /// Reduced objects.
    pub cache: Arc<Mutex<SourceCache>>,
    /// Bumped on every relevant change.
    pub trigger: Arc<watch::Sender<u64>>,
}

impl Shared {
    /// Signals the reconcile loop.
    pub fn notify(&self) {
        self.trigger.send_modify(|n| *n = n.wrapping_add(1));
    }

    fn with_cache<T>(&self, f: impl FnOnce(&mut SourceCache) -> T) -> T {
        let mut guard = self
            .cache
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        f(&mut guard)
    }
}

/// The Gateway API resources.
pub fn gateway_resource(kind: &str, plural: &str) -> ApiResource {
    ApiResource {
        group: "gateway.networking.k8s.io".into(),
        version: "v1".into(),
        api_version: "gateway.networking.k8s.io/v1".into(),
        kind: kind.into(),
        plural: plural.into(),
    }
}

fn object_key<K: Resource>(obj: &K) -> String {
    format!(
        "{}/{}",
        obj.meta().namespace.as_deref().unwrap_or(""),
        obj.meta().name.as_deref().unwrap_or("")
    )
}

fn reduce_ingress(obj: &Ingress) -> Reduced {
    Reduced::Ingress(IngressInfo::from_ingress(obj))
}

fn reduce_gateway(obj: &DynamicObject) -> Reduced {
    Reduced::Gateway(GatewayInfo::from_json(
        &obj.namespace().unwrap_or_default(),
        &obj.name_any(),
        &obj.data,
    ))
}

fn reduce_route(obj: &DynamicObject) -> Reduced {
    Reduced::Route(RouteInfo::from_json(
        &obj.namespace().unwrap_or_default(),
        &obj.data,
    ))
}

/// Starts one task per watched kind; returns the kinds that must sync before reconciling.
pub fn spawn(
    client: &Client,
    gateway_api: bool,
    resync: Duration,
    shared: &Shared,
) -> (Vec<Kind>, Vec<tokio::task::JoinHandle<()>>) {
    let mut kinds = vec![Kind::Ingress];
    let mut tasks = vec![tokio::spawn(run(
        Api::<Ingress>::all(client.clone()),
        Kind::Ingress,
        reduce_ingress,
        resync,
        shared.clone(),
    ))];
    if gateway_api {
        let gw = Api::<DynamicObject>::all_with(
            client.clone(),
            &gateway_resource("Gateway", "gateways"),
        );
        let rt = Api::<DynamicObject>::all_with(
            client.clone(),
            &gateway_resource("HTTPRoute", "httproutes"),
        );
        kinds.extend([Kind::Gateway, Kind::HttpRoute]);
        tasks.push(tokio::spawn(run(
            gw,
            Kind::Gateway,
            reduce_gateway,
            resync,
            shared.clone(),
        )));
        tasks.push(tokio::spawn(run(
            rt,
            Kind::HttpRoute,
            reduce_route,
            resync,
            shared.clone(),
        )));
    }
    (kinds, tasks)
}

async fn run<K>(
    api: Api<K>,
    kind: Kind,
    reduce: fn(&K) -> Reduced,
    resync: Duration,
    shared: Shared,
) where
    K: Resource + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
{
    loop {
        let stream = watcher(api.clone()).default_backoff();
        let mut stream = std::pin::pin!(stream);
        let relist_at = tokio::time::Instant::now() + resync;
        let mut buffer: Option<Vec<(String, Reduced)>> = None;
        loop {
            let item = tokio::select! {
                _ = tokio::time::sleep_until(relist_at) => break,
                item = stream.next() => item,
            };
            let event = match item {
                None => break,
                Some(Err(e)) => {
                    tracing::warn!(kind = kind.as_str(), error = %e, "watch error");
                    continue;
                }
                Some(Ok(event)) => event,
            };
            match event {
                Event::Init => buffer = Some(Vec::new()),
                Event::InitApply(obj) => buffer
                    .get_or_insert_with(Vec::new)
                    .push((object_key(&obj), reduce(&obj))),
                Event::InitDone => {
                    let objects = buffer.take().unwrap_or_default();
                    let (first, changed) = shared.with_cache(|c| {
                        let first = !c.all_synced(&[kind]);
                        (first, c.replace(kind, objects))
                    });
                    if first || changed {
                        shared.notify();
                    }
                }
                Event::Apply(obj) => {
                    let key = object_key(&obj);
                    let change = shared.with_cache(|c| c.upsert(key.clone(), reduce(&obj)));
                    let kind_word = if change.object == Upsert::Added {
                        "add"
                    } else {
                        "update"
                    };
                    tracing::debug!("type" = kind_word, obj = %format!("{} {key}", kind.as_str()),
                        hostsChanged = change.hosts_changed, "informer event");
                    // Only a change of what is published wakes the reconcile loop.
                    if change.hosts_changed {
                        shared.notify();
                    }
                }
                Event::Delete(obj) => {
                    let key = object_key(&obj);
                    let hosts_changed = shared.with_cache(|c| c.remove(kind, &key));
                    tracing::debug!("type" = "delete", obj = %format!("{} {key}", kind.as_str()),
                        hostsChanged = hosts_changed, "informer event");
                    if hosts_changed {
                        shared.notify();
                    }
                }
            }
        }
    }
}

fn watcher<K>(api: Api<K>) -> impl futures::Stream<Item = Result<Event<K>, watcher::Error>> + Send
where
    K: Resource + Clone + DeserializeOwned + Debug + Send + 'static,
{
    watcher::watcher(api, watcher::Config::default())
}
