//! The mutable map that `dict`, `deepCopy`, `fromYaml` and `fromJson` return.
//!
//! minijinja values are immutable, but Helm charts build dicts step by step (`set $d "k" v`,
//! `merge`, `mergeOverwrite`). This object gives those idioms a home: it is shared by reference,
//! so a mutation through one name is visible through every other, exactly like a Go map.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use minijinja::value::{Enumerator, Object, ObjectRepr, Value};

/// A string-keyed map with interior mutability; iterates its keys in sorted order (Go's
/// template `range` order and Helm's `toYaml` order).
#[derive(Debug, Default)]
pub struct MutableMap {
    entries: Mutex<BTreeMap<String, Value>>,
}

impl MutableMap {
    /// Wraps existing entries.
    pub fn new(entries: BTreeMap<String, Value>) -> Self {
        MutableMap {
            entries: Mutex::new(entries),
        }
    }

    /// Wraps `entries` into a template value.
    pub fn into_value(entries: BTreeMap<String, Value>) -> Value {
        Value::from_object(MutableMap::new(entries))
    }

    fn lock(&self) -> MutexGuard<'_, BTreeMap<String, Value>> {
        // A poisoned lock only means another thread panicked mid-mutation; the map itself is
        // still a valid map, so keep serving it.
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Sets `key` to `value`.
    pub fn insert(&self, key: String, value: Value) {
        self.lock().insert(key, value);
    }

    /// Removes `key`, returning its value.
    pub fn remove(&self, key: &str) -> Option<Value> {
        self.lock().remove(key)
    }

    /// The value stored under `key`.
    pub fn get(&self, key: &str) -> Option<Value> {
        self.lock().get(key).cloned()
    }

    /// A snapshot of the entries, in key order.
    pub fn snapshot(&self) -> BTreeMap<String, Value> {
        self.lock().clone()
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether the map has no entries.
    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }
}

impl Object for MutableMap {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        self.get(key.as_str()?)
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        let keys: Vec<Value> = self
            .lock()
            .keys()
            .map(|k| Value::from(k.as_str()))
            .collect();
        Enumerator::Values(keys)
    }

    fn enumerator_len(self: &Arc<Self>) -> Option<usize> {
        Some(self.len())
    }

    fn is_true(self: &Arc<Self>) -> bool {
        !self.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mutation_is_visible_through_every_clone() {
        let value = MutableMap::into_value(BTreeMap::new());
        let other = value.clone();
        value
            .downcast_object_ref::<MutableMap>()
            .unwrap()
            .insert("b".into(), Value::from(2));
        other
            .downcast_object_ref::<MutableMap>()
            .unwrap()
            .insert("a".into(), Value::from(1));
        let keys: Vec<String> = value.try_iter().unwrap().map(|k| k.to_string()).collect();
        assert_eq!(keys, ["a", "b"]);
        assert_eq!(other.get_attr("b").unwrap(), Value::from(2));
    }

    #[test]
    fn serialises_as_a_sorted_map() {
        let value = MutableMap::into_value(BTreeMap::from([
            ("z".to_string(), Value::from(true)),
            ("a".to_string(), Value::from("x")),
        ]));
        assert_eq!(
            serde_json::to_string(&value).unwrap(),
            r#"{"a":"x","z":true}"#
        );
    }
}
