//! Reading template values the way Go's reflection sees Helm data.
//!
//! Helm data is `map[string]interface{}`, `[]interface{}`, strings, bools, `int`/`int64`
//! and `float64`. [`GoValue`] classifies a minijinja value into those shapes so every function
//! can match on it once.

use std::collections::BTreeMap;

use minijinja::value::{Value, ValueKind};

use crate::mutable_map::MutableMap;

/// A template value seen through Go's type system.
#[derive(Debug, Clone)]
pub enum GoValue {
    /// `nil`: undefined, none, or a missing map key.
    Nil,
    Bool(bool),
    Int(i64),
    Uint(u64),
    Float(f64),
    Str(String),
    Seq(Vec<Value>),
    Map(BTreeMap<String, Value>),
    /// Anything without a Go counterpart (functions, macros, opaque objects).
    Other(String),
}

impl GoValue {
    /// Classifies `value`.
    pub fn of(value: &Value) -> GoValue {
        match value.kind() {
            ValueKind::Undefined | ValueKind::None => GoValue::Nil,
            ValueKind::Bool => GoValue::Bool(value.is_true()),
            ValueKind::Number => number_of(value),
            ValueKind::String => GoValue::Str(value.as_str().unwrap_or_default().to_string()),
            ValueKind::Bytes => GoValue::Str(
                String::from_utf8_lossy(value.as_bytes().unwrap_or_default()).into_owned(),
            ),
            ValueKind::Seq | ValueKind::Iterable => {
                GoValue::Seq(seq_items(value).unwrap_or_default())
            }
            ValueKind::Map => GoValue::Map(map_entries(value).unwrap_or_default()),
            _ => GoValue::Other(value.to_string()),
        }
    }
}

/// Deepest nesting of lists and maps the library walks. Real data is far shallower; the limit
/// stops a map that contains itself (`set $d "self" $d`) from recursing forever.
pub const MAX_NESTING: usize = 200;

/// The Go shape of a value, without copying its contents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GoKind {
    Nil,
    Bool,
    Int,
    Uint,
    Float,
    Str,
    Seq,
    Map,
    Other,
}

/// Classifies `value` cheaply (no copy of strings, lists or maps).
pub fn go_kind(value: &Value) -> GoKind {
    match value.kind() {
        ValueKind::Undefined | ValueKind::None => GoKind::Nil,
        ValueKind::Bool => GoKind::Bool,
        ValueKind::Number if value.is_integer() && value.as_i64().is_some() => GoKind::Int,
        ValueKind::Number if value.is_integer() => GoKind::Uint,
        ValueKind::Number => GoKind::Float,
        ValueKind::String | ValueKind::Bytes => GoKind::Str,
        ValueKind::Seq | ValueKind::Iterable => GoKind::Seq,
        ValueKind::Map => GoKind::Map,
        _ => GoKind::Other,
    }
}

fn number_of(value: &Value) -> GoValue {
    if value.is_integer() {
        if let Some(i) = value.as_i64() {
            return GoValue::Int(i);
        }
        if let Ok(u) = u64::try_from(value.clone()) {
            return GoValue::Uint(u);
        }
    }
    GoValue::Float(f64::try_from(value.clone()).unwrap_or(f64::NAN))
}

/// The entries of a map value (a mutable map or any minijinja map), keyed by their string form.
pub fn map_entries(value: &Value) -> Option<BTreeMap<String, Value>> {
    if let Some(map) = value.downcast_object_ref::<MutableMap>() {
        return Some(map.snapshot());
    }
    if value.kind() != ValueKind::Map {
        return None;
    }
    let mut entries = BTreeMap::new();
    for key in value.try_iter().ok()? {
        let item = value.get_item(&key).unwrap_or_default();
        let key = match key.as_str() {
            Some(s) => s.to_string(),
            None => key.to_string(),
        };
        entries.insert(key, item);
    }
    Some(entries)
}

/// The value under `key` in a map value, without copying the map; `None` when the key is
/// absent (a present key holding null gives `Some(none)`).
pub fn map_get(map: &Value, key: &str) -> Option<Value> {
    if let Some(mutable) = map.downcast_object_ref::<MutableMap>() {
        return mutable.get(key);
    }
    match map.get_item(&Value::from(key)) {
        Ok(found) if !found.is_undefined() => Some(found),
        _ => None,
    }
}

/// The items of a sequence value.
pub fn seq_items(value: &Value) -> Option<Vec<Value>> {
    match value.kind() {
        ValueKind::Seq | ValueKind::Iterable => Some(value.try_iter().ok()?.collect()),
        _ => None,
    }
}

/// Go's `%T` name of a value's dynamic type, as Sprig's `typeOf` prints it.
///
/// minijinja has one integer type; it is reported as Go's `int` (what template literals,
/// `len` and `int` produce).
pub fn go_type_name(value: &Value) -> String {
    match go_kind(value) {
        GoKind::Nil => "<nil>",
        GoKind::Bool => "bool",
        GoKind::Int => "int",
        GoKind::Uint => "uint64",
        GoKind::Float => "float64",
        GoKind::Str => "string",
        GoKind::Seq => "[]interface {}",
        GoKind::Map => "map[string]interface {}",
        GoKind::Other => "func",
    }
    .to_string()
}

/// Go's `reflect.Kind` name of a value, as Sprig's `kindOf` prints it.
pub fn go_kind_name(value: &Value) -> &'static str {
    match go_kind(value) {
        GoKind::Nil => "invalid",
        GoKind::Bool => "bool",
        GoKind::Int => "int",
        GoKind::Uint => "uint64",
        GoKind::Float => "float64",
        GoKind::Str => "string",
        GoKind::Seq => "slice",
        GoKind::Map => "map",
        GoKind::Other => "func",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_numbers_by_go_type() {
        assert!(matches!(GoValue::of(&Value::from(3)), GoValue::Int(3)));
        assert!(matches!(GoValue::of(&Value::from(3.0)), GoValue::Float(f) if f == 3.0));
        assert_eq!(go_type_name(&Value::from(1.5)), "float64");
        assert_eq!(go_kind_name(&Value::UNDEFINED), "invalid");
    }

    #[test]
    fn reads_plain_maps_in_key_order() {
        let value = Value::from(minijinja::value::Serde(serde_json::json!({"b": 1, "a": 2})));
        let keys: Vec<String> = map_entries(&value).unwrap().into_keys().collect();
        assert_eq!(keys, ["a", "b"]);
        assert_eq!(go_type_name(&value), "map[string]interface {}");
    }
}
