//! Watch streams: newline-delimited `WatchEvent`s, replayed from the store's history.
//!
//! Semantics follow the apiserver: no resourceVersion (or "0") starts with synthetic ADDED
//! events for the current state; a version N streams every change after N; a version older
//! than the retained history gets one ERROR event carrying a 410 Expired Status (HTTP 200, as
//! the watch cache answers) and the stream ends. Selectors turn an object that starts or
//! stops matching into ADDED or DELETED. Bookmarks are sent when allowed.

use crate::faults::RequestInfo;
use crate::metadata::namespace_of;
use crate::query::QueryParams;
use crate::resource::{ResourceKey, ResourceType};
use crate::selector::{FieldSelector, LabelSelector};
use crate::server::selectors;
use crate::state::{lock, Shared, WatchMode};
use crate::status::ApiError;
use crate::store::{EventType, StoredEvent};
use axum::body::{Body, Bytes};
use axum::http::{header, StatusCode};
use axum::response::Response;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// Which objects one watch delivers.
struct WatchFilter {
    resource: ResourceKey,
    namespace: Option<String>,
    labels: LabelSelector,
    fields: FieldSelector,
}

impl WatchFilter {
    fn matches(&self, object: &Value) -> bool {
        self.namespace
            .as_deref()
            .is_none_or(|ns| namespace_of(object) == ns)
            && self.labels.matches(object)
            && self.fields.matches(object)
    }

    /// The event this watcher sees for a stored change, if any.
    fn translate(&self, event: &StoredEvent) -> Option<(&'static str, Arc<Value>)> {
        if event.resource != self.resource {
            return None;
        }
        let now = self.matches(&event.object);
        let before = event.previous.as_deref().is_some_and(|p| self.matches(p));
        match event.event_type {
            EventType::Added if now => Some(("ADDED", event.object.clone())),
            EventType::Modified if before && now => Some(("MODIFIED", event.object.clone())),
            EventType::Modified if now => Some(("ADDED", event.object.clone())),
            EventType::Modified if before => Some(("DELETED", event.object.clone())),
            EventType::Deleted if before || now => Some(("DELETED", event.object.clone())),
            _ => None,
        }
    }
}

fn line(event_type: &str, object: &Value) -> Bytes {
    let mut bytes =
        serde_json::to_vec(&json!({"type": event_type, "object": object})).unwrap_or_default();
    bytes.push(b'\n');
    Bytes::from(bytes)
}

fn bookmark(rt: &ResourceType, resource_version: u64, initial_events_end: bool) -> Bytes {
    let mut metadata = json!({"resourceVersion": resource_version.to_string()});
    if initial_events_end {
        metadata["annotations"] = json!({"k8s.io/initial-events-end": "true"});
    }
    line(
        "BOOKMARK",
        &json!({"kind": rt.kind, "apiVersion": rt.api_version(), "metadata": metadata}),
    )
}

fn expired_line(requested: u64, oldest: u64) -> Bytes {
    let status =
        ApiError::expired(format!("too old resource version: {requested} ({oldest})")).to_status();
    line("ERROR", &status)
}

/// Resolves once the server is shutting down (or the flag's sender is gone).
async fn stopped(flag: &mut tokio::sync::watch::Receiver<bool>) {
    let _ = flag.wait_for(|s| *s).await;
}

/// Deregisters the watch when its task ends, however it ends.
struct Registration {
    shared: Arc<Shared>,
    id: u64,
}

impl Drop for Registration {
    fn drop(&mut self) {
        lock(&self.shared.watches).unregister(self.id);
    }
}

struct WatchTask {
    shared: Arc<Shared>,
    rt: ResourceType,
    filter: WatchFilter,
    last_rv: u64,
    bookmarks: bool,
    timeout: Duration,
    tx: mpsc::Sender<Bytes>,
    control: tokio::sync::watch::Receiver<WatchMode>,
    _registration: Registration,
}

enum Drain {
    Lines(Vec<Bytes>),
    Expired(Bytes),
}

impl WatchTask {
    fn drain(&mut self) -> Drain {
        let store = lock(&self.shared.store);
        match store.events_after(self.last_rv) {
            Err(expired) => Drain::Expired(expired_line(expired.requested, expired.oldest)),
            Ok(events) => {
                let lines = events
                    .iter()
                    .filter_map(|e| self.filter.translate(e))
                    .map(|(t, o)| line(t, &o))
                    .collect();
                self.last_rv = self.last_rv.max(store.resource_version());
                Drain::Lines(lines)
            }
        }
    }

    async fn send_all(&self, lines: Vec<Bytes>) -> bool {
        for l in lines {
            if self.tx.send(l).await.is_err() {
                return false;
            }
        }
        true
    }

    async fn run(mut self) {
        let mut shutdown = self.shared.shutdown.subscribe();
        let mut changes = self.shared.changes.subscribe();
        let deadline = tokio::time::sleep(self.timeout);
        tokio::pin!(deadline);
        let mut ticker = tokio::time::interval(self.shared.config.bookmark_interval);
        ticker.tick().await;
        // Changes between the snapshot and the subscription above do not wake us: catch up.
        if *self.control.borrow() == WatchMode::Live {
            match self.drain() {
                Drain::Expired(l) => {
                    let _ = self.tx.send(l).await;
                    return;
                }
                Drain::Lines(lines) => {
                    if !self.send_all(lines).await {
                        return;
                    }
                }
            }
        }
        loop {
            let mode = *self.control.borrow_and_update();
            match mode {
                WatchMode::Closed => return,
                // Silent: stay connected, send nothing, ignore the timeout; only the client, a
                // drop or the server's shutdown ends it.
                WatchMode::Silent => {
                    tokio::select! {
                        _ = self.tx.closed() => return,
                        _ = stopped(&mut shutdown) => return,
                        changed = self.control.changed() => if changed.is_err() { return },
                    }
                }
                WatchMode::Live => {
                    tokio::select! {
                        _ = self.tx.closed() => return,
                        _ = stopped(&mut shutdown) => return,
                        _ = &mut deadline => return,
                        changed = self.control.changed() => if changed.is_err() { return },
                        changed = changes.changed() => {
                            if changed.is_err() {
                                return;
                            }
                            match self.drain() {
                                Drain::Expired(l) => {
                                    let _ = self.tx.send(l).await;
                                    return;
                                }
                                Drain::Lines(lines) => if !self.send_all(lines).await { return },
                            }
                        }
                        _ = ticker.tick(), if self.bookmarks => {
                            // Deliver pending events first so the bookmark never skips one.
                            match self.drain() {
                                Drain::Expired(l) => {
                                    let _ = self.tx.send(l).await;
                                    return;
                                }
                                Drain::Lines(mut lines) => {
                                    lines.push(bookmark(&self.rt, self.last_rv, false));
                                    if !self.send_all(lines).await { return }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Starts a watch and returns the streaming response.
pub(crate) fn start(
    shared: &Arc<Shared>,
    rt: &ResourceType,
    namespace: Option<String>,
    params: &QueryParams,
    info: RequestInfo,
) -> Result<Response, ApiError> {
    let (labels, fields) = selectors(params)?;
    let filter = WatchFilter {
        resource: rt.key(),
        namespace,
        labels,
        fields,
    };
    let bookmarks = params.flag("allowWatchBookmarks");
    let send_initial = params.flag("sendInitialEvents");
    let timeout = params
        .number("timeoutSeconds")
        .map_err(ApiError::bad_request)?
        .map_or(shared.config.default_watch_timeout, Duration::from_secs);
    let requested_rv = match params.non_empty("resourceVersion") {
        None | Some("0") => None,
        Some(raw) => Some(
            raw.parse::<u64>()
                .map_err(|_| ApiError::bad_request(format!("invalid resource version: {raw:?}")))?,
        ),
    };

    let mut first_lines = Vec::new();
    let mut ends_at_once = false;
    let start_rv = {
        let store = lock(&shared.store);
        match requested_rv {
            Some(rv) if !send_initial => {
                if let Err(expired) = store.events_after(rv) {
                    first_lines.push(expired_line(expired.requested, expired.oldest));
                    ends_at_once = true;
                }
                rv
            }
            _ => {
                for object in store.list(&rt.key(), filter.namespace.as_deref()) {
                    if filter.matches(&object) {
                        first_lines.push(line("ADDED", &object));
                    }
                }
                if send_initial && bookmarks {
                    first_lines.push(bookmark(rt, store.resource_version(), true));
                }
                store.resource_version()
            }
        }
    };

    let silent = lock(&shared.faults).watch_starts_silent(&info);
    let (id, control) = lock(&shared.watches).register(
        info,
        if silent {
            WatchMode::Silent
        } else {
            WatchMode::Live
        },
    );
    let registration = Registration {
        shared: shared.clone(),
        id,
    };
    let (tx, rx) = mpsc::channel::<Bytes>(256);
    let task = WatchTask {
        shared: shared.clone(),
        rt: rt.clone(),
        filter,
        last_rv: start_rv,
        bookmarks,
        timeout,
        tx,
        control,
        _registration: registration,
    };
    shared.runtime.spawn(async move {
        if !silent && !task.send_all(first_lines).await {
            return;
        }
        if ends_at_once {
            return;
        }
        task.run().await;
    });
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv()
            .await
            .map(|b| (Ok::<_, std::convert::Infallible>(b), rx))
    });
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::CACHE_CONTROL, "no-cache, private")
        .body(Body::from_stream(stream))
        .map_err(|e| ApiError::internal(format!("cannot build the watch response: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resource::ResourceRegistry;

    fn event(event_type: EventType, object: Value, previous: Option<Value>) -> StoredEvent {
        StoredEvent {
            resource_version: 5,
            resource: ResourceRegistry::builtin()
                .find("", "v1", "configmaps")
                .unwrap()
                .key(),
            event_type,
            object: Arc::new(object),
            previous: previous.map(Arc::new),
        }
    }

    fn filter(labels: &str) -> WatchFilter {
        WatchFilter {
            resource: ResourceRegistry::builtin()
                .find("", "v1", "configmaps")
                .unwrap()
                .key(),
            namespace: Some("ns".into()),
            labels: LabelSelector::parse(labels).unwrap(),
            fields: FieldSelector::default(),
        }
    }

    fn obj(ns: &str, app: &str) -> Value {
        json!({"metadata": {"name": "a", "namespace": ns, "labels": {"app": app}}})
    }

    #[test]
    fn selector_transitions_become_added_and_deleted() {
        let f = filter("app=web");
        let kind = |e: StoredEvent| f.translate(&e).map(|(t, _)| t);
        assert_eq!(
            kind(event(EventType::Added, obj("ns", "web"), None)),
            Some("ADDED")
        );
        assert_eq!(
            kind(event(EventType::Added, obj("other", "web"), None)),
            None
        );
        assert_eq!(
            kind(event(
                EventType::Modified,
                obj("ns", "web"),
                Some(obj("ns", "web"))
            )),
            Some("MODIFIED")
        );
        assert_eq!(
            kind(event(
                EventType::Modified,
                obj("ns", "web"),
                Some(obj("ns", "db"))
            )),
            Some("ADDED")
        );
        assert_eq!(
            kind(event(
                EventType::Modified,
                obj("ns", "db"),
                Some(obj("ns", "web"))
            )),
            Some("DELETED")
        );
        assert_eq!(
            kind(event(
                EventType::Modified,
                obj("ns", "db"),
                Some(obj("ns", "db"))
            )),
            None
        );
        assert_eq!(
            kind(event(
                EventType::Deleted,
                obj("ns", "web"),
                Some(obj("ns", "web"))
            )),
            Some("DELETED")
        );
    }

    #[test]
    fn expired_event_carries_a_410_status() {
        let text = String::from_utf8(expired_line(3, 9).to_vec()).unwrap();
        let v: Value = serde_json::from_str(text.trim_end()).unwrap();
        assert_eq!(v["type"], "ERROR");
        assert_eq!(v["object"]["code"], 410);
        assert_eq!(v["object"]["reason"], "Expired");
        assert_eq!(v["object"]["message"], "too old resource version: 3 (9)");
    }
}
