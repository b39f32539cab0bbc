//! The object store: every collection, one global resourceVersion counter, and a bounded
//! history of changes that watches and paginated lists are served from.
//!
//! All methods are synchronous and do no I/O; the server wraps the store in a mutex and holds
//! it only for the duration of one call.

use crate::metadata::{
    self, carry_over, check_namespace, check_type, name_of, resource_version_of, stamp_new, uid_of,
};
use crate::resource::{ResourceKey, ResourceType};
use crate::status::ApiError;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;
use std::time::SystemTime;

/// `namespace` is empty for cluster-scoped objects. Ordered like the apiserver lists: by
/// namespace, then name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjectKey {
    pub namespace: String,
    pub name: String,
}

impl ObjectKey {
    pub fn new(namespace: &str, name: &str) -> Self {
        ObjectKey {
            namespace: namespace.into(),
            name: name.into(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    Added,
    Modified,
    Deleted,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Added => "ADDED",
            EventType::Modified => "MODIFIED",
            EventType::Deleted => "DELETED",
        }
    }
}

/// One change, as watches replay it.
#[derive(Debug, Clone)]
pub struct StoredEvent {
    pub resource_version: u64,
    pub resource: ResourceKey,
    pub event_type: EventType,
    /// The object after the change; for DELETED, the last state stamped with the deletion's
    /// resourceVersion.
    pub object: Arc<Value>,
    /// The object before the change (MODIFIED and DELETED).
    pub previous: Option<Arc<Value>>,
}

/// What an update may change: the whole object, or only its status (the `/status` subresource).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpdateScope {
    Main,
    Status,
}

/// `DeleteOptions.preconditions`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Preconditions {
    pub uid: Option<String>,
    pub resource_version: Option<String>,
}

/// A too-old resourceVersion: the history no longer holds every event after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expired {
    pub requested: u64,
    /// The oldest resourceVersion that can still be served.
    pub oldest: u64,
}

#[derive(Debug)]
pub struct Store {
    collections: HashMap<ResourceKey, BTreeMap<ObjectKey, Arc<Value>>>,
    resource_version: u64,
    history: VecDeque<Arc<StoredEvent>>,
    history_limit: usize,
    /// Every event with a resourceVersion above this is still in `history`.
    compacted_through: u64,
}

fn object_key(rt: &ResourceType, object: &Value) -> ObjectKey {
    let namespace = if rt.namespaced {
        metadata::namespace_of(object)
    } else {
        ""
    };
    ObjectKey::new(namespace, name_of(object))
}

impl Store {
    pub fn new(history_limit: usize) -> Self {
        Store {
            collections: HashMap::new(),
            resource_version: 0,
            history: VecDeque::new(),
            history_limit: history_limit.max(1),
            compacted_through: 0,
        }
    }

    /// The latest resourceVersion handed out.
    pub fn resource_version(&self) -> u64 {
        self.resource_version
    }

    pub fn get(&self, resource: &ResourceKey, key: &ObjectKey) -> Option<Arc<Value>> {
        self.collections
            .get(resource)
            .and_then(|c| c.get(key))
            .cloned()
    }

    /// Current objects, in key order; `namespace` None means all namespaces.
    pub fn list(&self, resource: &ResourceKey, namespace: Option<&str>) -> Vec<Arc<Value>> {
        let Some(collection) = self.collections.get(resource) else {
            return Vec::new();
        };
        collection
            .iter()
            .filter(|(k, _)| namespace.is_none_or(|ns| k.namespace == ns))
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// The collection as it was at `resource_version`, rebuilt by undoing newer events.
    pub fn list_at(
        &self,
        rt: &ResourceType,
        namespace: Option<&str>,
        resource_version: u64,
    ) -> Result<Vec<Arc<Value>>, Expired> {
        if resource_version < self.compacted_through {
            return Err(Expired {
                requested: resource_version,
                oldest: self.compacted_through,
            });
        }
        let resource = rt.key();
        let mut state = self.collections.get(&resource).cloned().unwrap_or_default();
        for event in self
            .history
            .iter()
            .rev()
            .take_while(|e| e.resource_version > resource_version)
        {
            if event.resource != resource {
                continue;
            }
            let key = object_key(rt, &event.object);
            match (&event.event_type, &event.previous) {
                (EventType::Added, _) => {
                    state.remove(&key);
                }
                (_, Some(previous)) => {
                    state.insert(key, previous.clone());
                }
                (_, None) => {}
            }
        }
        Ok(state
            .into_iter()
            .filter(|(k, _)| namespace.is_none_or(|ns| k.namespace == ns))
            .map(|(_, v)| v)
            .collect())
    }

    /// Events newer than `resource_version`, oldest first.
    pub fn events_after(&self, resource_version: u64) -> Result<Vec<Arc<StoredEvent>>, Expired> {
        if resource_version < self.compacted_through {
            return Err(Expired {
                requested: resource_version,
                oldest: self.compacted_through,
            });
        }
        let start = self
            .history
            .partition_point(|e| e.resource_version <= resource_version);
        Ok(self.history.iter().skip(start).cloned().collect())
    }

    fn record(
        &mut self,
        resource: ResourceKey,
        event_type: EventType,
        object: Arc<Value>,
        previous: Option<Arc<Value>>,
    ) {
        self.history.push_back(Arc::new(StoredEvent {
            resource_version: self.resource_version,
            resource,
            event_type,
            object,
            previous,
        }));
        while self.history.len() > self.history_limit {
            if let Some(evicted) = self.history.pop_front() {
                self.compacted_through = evicted.resource_version;
            }
        }
    }

    fn next_resource_version(&mut self) -> u64 {
        self.resource_version += 1;
        self.resource_version
    }

    /// Chooses a free name for `generateName`, as the apiserver does (5 random characters).
    fn generate_name(&self, resource: &ResourceKey, namespace: &str, prefix: &str) -> String {
        loop {
            let name = format!("{prefix}{}", metadata::random_suffix());
            if self
                .get(resource, &ObjectKey::new(namespace, &name))
                .is_none()
            {
                return name;
            }
        }
    }

    /// POST: validates, stamps server fields and stores a new object.
    pub fn create(
        &mut self,
        rt: &ResourceType,
        namespace: &str,
        mut object: Value,
        now: SystemTime,
    ) -> Result<Arc<Value>, ApiError> {
        check_type(rt, &mut object)?;
        check_namespace(rt, &mut object, namespace)?;
        let resource = rt.key();
        let namespace = if rt.namespaced { namespace } else { "" };
        if !resource_version_of(&object).is_empty() {
            // The apiserver's storage layer refuses this with an internal error.
            return Err(ApiError::internal(
                "resourceVersion should not be set on objects to be created",
            ));
        }
        if name_of(&object).is_empty() {
            let prefix = object
                .pointer("/metadata/generateName")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            if prefix.is_empty() {
                return Err(ApiError::invalid(
                    rt.subject(),
                    &rt.kind,
                    "",
                    "metadata.name",
                    "FieldValueRequired",
                    "Required value: name or generateName is required",
                ));
            }
            let name = self.generate_name(&resource, namespace, &prefix);
            metadata::metadata_mut(&mut object).insert("name".into(), Value::String(name));
        }
        let name = name_of(&object).to_string();
        if let Err(detail) = metadata::validate_name(rt.name_rule, &name) {
            return Err(ApiError::invalid(
                rt.subject(),
                &rt.kind,
                &name,
                "metadata.name",
                "FieldValueInvalid",
                &format!("Invalid value: \"{name}\": {detail}"),
            ));
        }
        let key = ObjectKey::new(namespace, &name);
        if self.get(&resource, &key).is_some() {
            return Err(ApiError::already_exists(rt.subject(), &name));
        }
        if rt.status_subresource && !rt.builtin {
            // Custom resources with a status subresource ignore status on create.
            if let Some(map) = object.as_object_mut() {
                map.remove("status");
            }
        }
        let rv = self.next_resource_version();
        stamp_new(rt, &mut object, rv, now);
        let stored = Arc::new(object);
        self.collections
            .entry(resource.clone())
            .or_default()
            .insert(key, stored.clone());
        self.record(resource, EventType::Added, stored.clone(), None);
        Ok(stored)
    }

    /// PUT: optimistic concurrency on `metadata.resourceVersion` (empty = unconditional).
    pub fn update(
        &mut self,
        rt: &ResourceType,
        namespace: &str,
        name: &str,
        mut object: Value,
        scope: UpdateScope,
    ) -> Result<Arc<Value>, ApiError> {
        check_type(rt, &mut object)?;
        check_namespace(rt, &mut object, namespace)?;
        let body_name = name_of(&object).to_string();
        if body_name.is_empty() {
            metadata::metadata_mut(&mut object).insert("name".into(), Value::String(name.into()));
        } else if body_name != name {
            return Err(ApiError::bad_request(format!(
                "the name of the object ({body_name}) does not match the name on the URL ({name})"
            )));
        }
        let resource = rt.key();
        let key = ObjectKey::new(if rt.namespaced { namespace } else { "" }, name);
        let current = self
            .get(&resource, &key)
            .ok_or_else(|| ApiError::not_found(rt.subject(), name))?;
        let wanted_rv = resource_version_of(&object);
        if !wanted_rv.is_empty() && wanted_rv != resource_version_of(&current) {
            return Err(ApiError::conflict_modified(rt.subject(), name));
        }
        let wanted_uid = uid_of(&object);
        if !wanted_uid.is_empty() && wanted_uid != uid_of(&current) {
            let why = format!(
                "Precondition failed: UID in precondition: {wanted_uid}, UID in object meta: {}",
                uid_of(&current)
            );
            return Err(ApiError::conflict(rt.subject(), name, &why));
        }
        let mut next = match scope {
            UpdateScope::Main => {
                carry_over(rt, &current, &mut object);
                object
            }
            UpdateScope::Status => {
                let mut next = (*current).clone();
                if let Some(map) = next.as_object_mut() {
                    match object.get("status") {
                        Some(status) => map.insert("status".into(), status.clone()),
                        None => map.remove("status"),
                    };
                }
                next
            }
        };
        let current_rv = resource_version_of(&current).to_string();
        metadata::metadata_mut(&mut next)
            .insert("resourceVersion".into(), Value::String(current_rv));
        if next == *current {
            // The apiserver skips no-op writes: no new resourceVersion, no watch event.
            return Ok(current);
        }
        Ok(self.replace(&resource, key, next, current))
    }

    fn replace(
        &mut self,
        resource: &ResourceKey,
        key: ObjectKey,
        mut next: Value,
        previous: Arc<Value>,
    ) -> Arc<Value> {
        let rv = self.next_resource_version();
        metadata::metadata_mut(&mut next)
            .insert("resourceVersion".into(), Value::String(rv.to_string()));
        let stored = Arc::new(next);
        self.collections
            .entry(resource.clone())
            .or_default()
            .insert(key, stored.clone());
        self.record(
            resource.clone(),
            EventType::Modified,
            stored.clone(),
            Some(previous),
        );
        stored
    }

    /// DELETE of one object, honouring `preconditions`. Returns the deleted object.
    pub fn delete(
        &mut self,
        rt: &ResourceType,
        namespace: &str,
        name: &str,
        preconditions: &Preconditions,
    ) -> Result<Arc<Value>, ApiError> {
        let resource = rt.key();
        let key = ObjectKey::new(if rt.namespaced { namespace } else { "" }, name);
        let current = self
            .get(&resource, &key)
            .ok_or_else(|| ApiError::not_found(rt.subject(), name))?;
        if let Some(uid) = &preconditions.uid {
            if uid != uid_of(&current) {
                let why = format!(
                    "Precondition failed: UID in precondition: {uid}, UID in object meta: {}",
                    uid_of(&current)
                );
                return Err(ApiError::conflict(rt.subject(), name, &why));
            }
        }
        if let Some(rv) = &preconditions.resource_version {
            if rv != resource_version_of(&current) {
                let why = format!(
                    "Precondition failed: ResourceVersion in precondition: {rv}, ResourceVersion in object meta: {}",
                    resource_version_of(&current)
                );
                return Err(ApiError::conflict(rt.subject(), name, &why));
            }
        }
        Ok(self.remove(&resource, key, current))
    }

    fn remove(
        &mut self,
        resource: &ResourceKey,
        key: ObjectKey,
        current: Arc<Value>,
    ) -> Arc<Value> {
        if let Some(collection) = self.collections.get_mut(resource) {
            collection.remove(&key);
        }
        let rv = self.next_resource_version();
        let mut last = (*current).clone();
        metadata::metadata_mut(&mut last)
            .insert("resourceVersion".into(), Value::String(rv.to_string()));
        let last = Arc::new(last);
        self.record(
            resource.clone(),
            EventType::Deleted,
            last.clone(),
            Some(current),
        );
        last
    }

    /// Test back door: creates or replaces an object as given (status included), stamping only
    /// what is missing. Bypasses validation, preconditions and strategies.
    pub fn put(
        &mut self,
        rt: &ResourceType,
        mut object: Value,
        now: SystemTime,
    ) -> Result<Arc<Value>, ApiError> {
        check_type(rt, &mut object)?;
        if !rt.namespaced {
            metadata::metadata_mut(&mut object).remove("namespace");
        } else if metadata::namespace_of(&object).is_empty() {
            metadata::metadata_mut(&mut object)
                .insert("namespace".into(), Value::String("default".into()));
        }
        if name_of(&object).is_empty() {
            return Err(ApiError::bad_request(format!(
                "{} object has no metadata.name",
                rt.kind
            )));
        }
        let resource = rt.key();
        let key = object_key(rt, &object);
        match self.get(&resource, &key) {
            Some(current) => {
                let meta = metadata::metadata_mut(&mut object);
                for field in ["uid", "creationTimestamp"] {
                    if !meta.contains_key(field) {
                        if let Some(v) = current.pointer(&format!("/metadata/{field}")) {
                            meta.insert(field.into(), v.clone());
                        }
                    }
                }
                if rt.tracks_generation && !meta.contains_key("generation") {
                    let generation = current
                        .pointer("/metadata/generation")
                        .and_then(Value::as_i64)
                        .unwrap_or(1);
                    let bumped = generation + i64::from(metadata::spec_changed(&current, &object));
                    metadata::metadata_mut(&mut object)
                        .insert("generation".into(), Value::from(bumped));
                }
                Ok(self.replace(&resource, key, object, current))
            }
            None => {
                let rv = self.next_resource_version();
                let given = object.get("metadata").cloned().unwrap_or_default();
                stamp_new(rt, &mut object, rv, now);
                let meta = metadata::metadata_mut(&mut object);
                for field in ["uid", "creationTimestamp", "generation"] {
                    if let Some(v) = given.get(field) {
                        meta.insert(field.into(), v.clone());
                    }
                }
                let stored = Arc::new(object);
                self.collections
                    .entry(resource.clone())
                    .or_default()
                    .insert(key, stored.clone());
                self.record(resource, EventType::Added, stored.clone(), None);
                Ok(stored)
            }
        }
    }

    /// Test back door: removes an object unconditionally; None when it did not exist.
    pub fn remove_object(
        &mut self,
        rt: &ResourceType,
        namespace: &str,
        name: &str,
    ) -> Option<Arc<Value>> {
        let resource = rt.key();
        let key = ObjectKey::new(if rt.namespaced { namespace } else { "" }, name);
        let current = self.get(&resource, &key)?;
        Some(self.remove(&resource, key, current))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resource::ResourceRegistry;
    use serde_json::json;

    fn configmaps() -> ResourceType {
        ResourceRegistry::builtin()
            .find("", "v1", "configmaps")
            .unwrap()
            .clone()
    }

    fn cm(name: &str) -> Value {
        json!({"metadata": {"name": name}, "data": {"k": "v"}})
    }

    #[test]
    fn create_stamps_metadata_and_refuses_duplicates() {
        let rt = configmaps();
        let mut store = Store::new(100);
        let created = store.create(&rt, "ns", cm("a"), SystemTime::now()).unwrap();
        assert_eq!(created["metadata"]["resourceVersion"], "1");
        assert_eq!(created["metadata"]["namespace"], "ns");
        assert_eq!(created["kind"], "ConfigMap");
        assert_eq!(uid_of(&created).len(), 36);
        let err = store
            .create(&rt, "ns", cm("a"), SystemTime::now())
            .unwrap_err();
        assert_eq!(
            (err.code, err.message.as_str()),
            (409, "configmaps \"a\" already exists")
        );
        assert!(
            store
                .create(&rt, "other", cm("a"), SystemTime::now())
                .is_ok(),
            "names are per namespace"
        );
    }

    #[test]
    fn generate_name_and_missing_name() {
        let rt = configmaps();
        let mut store = Store::new(100);
        let created = store
            .create(
                &rt,
                "ns",
                json!({"metadata": {"generateName": "lease-"}}),
                SystemTime::now(),
            )
            .unwrap();
        assert!(name_of(&created).starts_with("lease-") && name_of(&created).len() == 11);
        let err = store
            .create(&rt, "ns", json!({"metadata": {}}), SystemTime::now())
            .unwrap_err();
        assert_eq!(err.code, 422);
        let rv_set = store.create(
            &rt,
            "ns",
            json!({"metadata": {"name": "x", "resourceVersion": "3"}}),
            SystemTime::now(),
        );
        assert_eq!(rv_set.unwrap_err().code, 500);
    }

    #[test]
    fn update_with_stale_resource_version_conflicts() {
        let rt = configmaps();
        let mut store = Store::new(100);
        let created = store.create(&rt, "ns", cm("a"), SystemTime::now()).unwrap();
        let mut edit = (*created).clone();
        edit["data"]["k"] = json!("w");
        let updated = store
            .update(&rt, "ns", "a", edit.clone(), UpdateScope::Main)
            .unwrap();
        assert_eq!(updated["metadata"]["resourceVersion"], "2");
        let err = store
            .update(&rt, "ns", "a", edit, UpdateScope::Main)
            .unwrap_err();
        assert_eq!(err.code, 409);
        assert_eq!(err.reason, "Conflict");
        let mut unconditional = cm("a");
        unconditional["data"]["k"] = json!("z");
        let forced = store
            .update(&rt, "ns", "a", unconditional, UpdateScope::Main)
            .unwrap();
        assert_eq!(forced["data"]["k"], "z");
        assert_eq!(forced["metadata"]["uid"], created["metadata"]["uid"]);
    }

    #[test]
    fn no_op_update_keeps_the_resource_version_and_emits_nothing() {
        let rt = configmaps();
        let mut store = Store::new(100);
        let created = store.create(&rt, "ns", cm("a"), SystemTime::now()).unwrap();
        let same = store
            .update(&rt, "ns", "a", (*created).clone(), UpdateScope::Main)
            .unwrap();
        assert_eq!(same["metadata"]["resourceVersion"], "1");
        assert_eq!(store.events_after(1).unwrap().len(), 0);
    }

    #[test]
    fn delete_preconditions() {
        let rt = configmaps();
        let mut store = Store::new(100);
        store.create(&rt, "ns", cm("a"), SystemTime::now()).unwrap();
        let stale = Preconditions {
            resource_version: Some("7".into()),
            uid: None,
        };
        let err = store.delete(&rt, "ns", "a", &stale).unwrap_err();
        assert_eq!(
            err.message,
            "Operation cannot be fulfilled on configmaps \"a\": Precondition failed: ResourceVersion in precondition: 7, ResourceVersion in object meta: 1"
        );
        let ok = Preconditions {
            resource_version: Some("1".into()),
            uid: None,
        };
        let gone = store.delete(&rt, "ns", "a", &ok).unwrap();
        assert_eq!(gone["metadata"]["resourceVersion"], "2");
        assert_eq!(store.delete(&rt, "ns", "a", &ok).unwrap_err().code, 404);
    }

    #[test]
    fn history_is_bounded_and_old_versions_expire() {
        let rt = configmaps();
        let mut store = Store::new(3);
        for i in 0..5 {
            store
                .create(&rt, "ns", cm(&format!("c{i}")), SystemTime::now())
                .unwrap();
        }
        assert_eq!(
            store.events_after(1).unwrap_err(),
            Expired {
                requested: 1,
                oldest: 2
            }
        );
        let events = store.events_after(2).unwrap();
        assert_eq!(
            events
                .iter()
                .map(|e| e.resource_version)
                .collect::<Vec<_>>(),
            vec![3, 4, 5]
        );
    }

    #[test]
    fn list_at_rebuilds_an_earlier_state() {
        let rt = configmaps();
        let mut store = Store::new(100);
        store.create(&rt, "ns", cm("a"), SystemTime::now()).unwrap();
        let b = store.create(&rt, "ns", cm("b"), SystemTime::now()).unwrap();
        let mut edit = (*b).clone();
        edit["data"]["k"] = json!("changed");
        store
            .update(&rt, "ns", "b", edit, UpdateScope::Main)
            .unwrap();
        store
            .delete(&rt, "ns", "a", &Preconditions::default())
            .unwrap();
        store.create(&rt, "ns", cm("c"), SystemTime::now()).unwrap();
        let at2 = store.list_at(&rt, None, 2).unwrap();
        let names: Vec<_> = at2.iter().map(|o| name_of(o).to_string()).collect();
        assert_eq!(names, vec!["a", "b"]);
        assert_eq!(at2[1]["data"]["k"], "v");
    }

    #[test]
    fn put_creates_or_replaces_keeping_identity() {
        let rt = configmaps();
        let mut store = Store::new(100);
        let first = store
            .put(
                &rt,
                json!({"metadata": {"name": "a"}, "data": {}}),
                SystemTime::now(),
            )
            .unwrap();
        assert_eq!(first["metadata"]["namespace"], "default");
        let second = store
            .put(
                &rt,
                json!({"metadata": {"name": "a", "namespace": "default"}, "data": {"x": "1"}}),
                SystemTime::now(),
            )
            .unwrap();
        assert_eq!(second["metadata"]["uid"], first["metadata"]["uid"]);
        assert_eq!(second["metadata"]["resourceVersion"], "2");
    }
}
