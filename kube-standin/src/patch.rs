//! The patch formats a PATCH request may carry.
//!
//! - JSON merge patch (RFC 7386).
//! - Strategic merge patch, reduced to merge-patch semantics: maps merge and `null` deletes,
//!   lists are replaced whole (no merge keys, no `$patch`/`$retainKeys` directives). That covers
//!   the simple map edits the controller sends; it is a documented deviation.
//! - JSON patch (RFC 6902): add, remove, replace, move, copy, test.
//! - Server-side apply is not served (415).

use serde_json::Value;

/// The patch type named by the request's `Content-Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchType {
    Merge,
    Strategic,
    Json,
    Apply,
}

impl PatchType {
    pub fn from_content_type(content_type: &str) -> Option<Self> {
        let media = content_type.split(';').next().unwrap_or_default().trim();
        match media {
            "application/merge-patch+json" => Some(PatchType::Merge),
            "application/strategic-merge-patch+json" => Some(PatchType::Strategic),
            "application/json-patch+json" => Some(PatchType::Json),
            "application/apply-patch+yaml" | "application/apply-patch+cbor" => {
                Some(PatchType::Apply)
            }
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PatchError {
    #[error("a JSON patch must be an array of operations")]
    NotAnArray,
    #[error("JSON patch operation {index}: {message}")]
    Operation { index: usize, message: String },
    #[error("a merge patch must be a JSON object")]
    MergeNotObject,
}

/// RFC 7386: objects merge recursively, `null` removes, anything else replaces.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(patch_map) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Default::default());
    }
    let Value::Object(target_map) = target else {
        return;
    };
    for (key, value) in patch_map {
        if value.is_null() {
            target_map.remove(key);
        } else {
            merge_patch(target_map.entry(key.clone()).or_insert(Value::Null), value);
        }
    }
}

/// Applies a merge or strategic patch to an object (the whole document must be a map).
pub fn apply_merge(target: &Value, patch: &Value) -> Result<Value, PatchError> {
    if !patch.is_object() {
        return Err(PatchError::MergeNotObject);
    }
    let mut out = target.clone();
    merge_patch(&mut out, patch);
    Ok(out)
}

/// RFC 6901 pointer unescaping of one reference token.
fn unescape(token: &str) -> String {
    token.replace("~1", "/").replace("~0", "~")
}

/// Splits a pointer into its parent pointer and last token.
fn split_pointer(path: &str) -> Option<(&str, String)> {
    let idx = path.rfind('/')?;
    Some((&path[..idx], unescape(&path[idx + 1..])))
}

fn json_patch_add(doc: &mut Value, path: &str, value: Value) -> Result<(), String> {
    if path.is_empty() {
        *doc = value;
        return Ok(());
    }
    let (parent, last) = split_pointer(path).ok_or_else(|| format!("invalid path {path:?}"))?;
    let container = doc
        .pointer_mut(parent)
        .ok_or_else(|| format!("path {parent:?} does not exist"))?;
    match container {
        Value::Object(map) => {
            map.insert(last, value);
            Ok(())
        }
        Value::Array(items) => {
            if last == "-" {
                items.push(value);
                return Ok(());
            }
            let index: usize = last
                .parse()
                .map_err(|_| format!("invalid array index {last:?}"))?;
            if index > items.len() {
                return Err(format!(
                    "array index {index} out of bounds (length {})",
                    items.len()
                ));
            }
            items.insert(index, value);
            Ok(())
        }
        _ => Err(format!("path {parent:?} is neither an object nor an array")),
    }
}

fn json_patch_remove(doc: &mut Value, path: &str) -> Result<Value, String> {
    let (parent, last) = split_pointer(path).ok_or_else(|| format!("invalid path {path:?}"))?;
    let container = doc
        .pointer_mut(parent)
        .ok_or_else(|| format!("path {parent:?} does not exist"))?;
    match container {
        Value::Object(map) => map
            .remove(&last)
            .ok_or_else(|| format!("path {path:?} does not exist")),
        Value::Array(items) => {
            let index: usize = last
                .parse()
                .map_err(|_| format!("invalid array index {last:?}"))?;
            if index >= items.len() {
                return Err(format!(
                    "array index {index} out of bounds (length {})",
                    items.len()
                ));
            }
            Ok(items.remove(index))
        }
        _ => Err(format!("path {parent:?} is neither an object nor an array")),
    }
}

fn apply_operation(doc: &mut Value, op: &Value) -> Result<(), String> {
    let name = op
        .get("op")
        .and_then(Value::as_str)
        .ok_or("missing \"op\"")?;
    let path = op
        .get("path")
        .and_then(Value::as_str)
        .ok_or("missing \"path\"")?;
    let value = || {
        op.get("value")
            .cloned()
            .ok_or_else(|| format!("{name} needs a \"value\""))
    };
    let from = || {
        op.get("from")
            .and_then(Value::as_str)
            .ok_or_else(|| format!("{name} needs a \"from\""))
    };
    match name {
        "add" => json_patch_add(doc, path, value()?),
        "remove" => json_patch_remove(doc, path).map(drop),
        "replace" => {
            let new = value()?;
            let slot = doc
                .pointer_mut(path)
                .ok_or_else(|| format!("path {path:?} does not exist"))?;
            *slot = new;
            Ok(())
        }
        "move" => {
            let moved = json_patch_remove(doc, from()?)?;
            json_patch_add(doc, path, moved)
        }
        "copy" => {
            let from = from()?;
            let copied = doc
                .pointer(from)
                .cloned()
                .ok_or_else(|| format!("path {from:?} does not exist"))?;
            json_patch_add(doc, path, copied)
        }
        "test" => {
            let expected = value()?;
            match doc.pointer(path) {
                Some(actual) if *actual == expected => Ok(()),
                Some(actual) => Err(format!("test failed: {path:?} is {actual}, not {expected}")),
                None => Err(format!("test failed: path {path:?} does not exist")),
            }
        }
        other => Err(format!("unknown op {other:?}")),
    }
}

/// Applies an RFC 6902 patch atomically: either every operation applies or none does.
pub fn apply_json_patch(target: &Value, patch: &Value) -> Result<Value, PatchError> {
    let ops = patch.as_array().ok_or(PatchError::NotAnArray)?;
    let mut doc = target.clone();
    for (index, op) in ops.iter().enumerate() {
        apply_operation(&mut doc, op)
            .map_err(|message| PatchError::Operation { index, message })?;
    }
    Ok(doc)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_patch_follows_rfc7386() {
        let target = json!({"a": "b", "c": {"d": "e", "f": "g"}, "l": [1, 2]});
        let patch = json!({"a": "z", "c": {"f": null}, "l": [3], "n": {"x": 1}});
        let out = apply_merge(&target, &patch).unwrap();
        assert_eq!(
            out,
            json!({"a": "z", "c": {"d": "e"}, "l": [3], "n": {"x": 1}})
        );
        assert_eq!(
            apply_merge(&target, &json!([1])),
            Err(PatchError::MergeNotObject)
        );
    }

    #[test]
    fn merge_patch_null_removes_a_data_key_only() {
        let cm = json!({"data": {"keep": "1", "ouroboros.override": "x"}});
        let out = apply_merge(&cm, &json!({"data": {"ouroboros.override": null}})).unwrap();
        assert_eq!(out, json!({"data": {"keep": "1"}}));
    }

    #[test]
    fn json_patch_operations() {
        let target = json!({"spec": {"replicas": 1, "list": ["a", "c"]}, "metadata": {"labels": {"a/b": "1"}}});
        let patch = json!([
            {"op": "test", "path": "/spec/replicas", "value": 1},
            {"op": "replace", "path": "/spec/replicas", "value": 0},
            {"op": "add", "path": "/spec/list/1", "value": "b"},
            {"op": "add", "path": "/spec/list/-", "value": "d"},
            {"op": "remove", "path": "/metadata/labels/a~1b"},
            {"op": "copy", "from": "/spec/replicas", "path": "/spec/copy"},
            {"op": "move", "from": "/spec/copy", "path": "/spec/moved"}
        ]);
        let out = apply_json_patch(&target, &patch).unwrap();
        assert_eq!(
            out,
            json!({"spec": {"replicas": 0, "list": ["a", "b", "c", "d"], "moved": 0}, "metadata": {"labels": {}}})
        );
    }

    #[test]
    fn failing_json_patch_reports_the_operation_and_changes_nothing() {
        let target = json!({"a": 1});
        let err = apply_json_patch(&target, &json!([{"op": "replace", "path": "/a", "value": 2}, {"op": "test", "path": "/a", "value": 1}])).unwrap_err();
        assert!(
            matches!(err, PatchError::Operation { index: 1, .. }),
            "{err}"
        );
        assert!(apply_json_patch(&target, &json!({"op": "add"})).is_err());
        assert!(apply_json_patch(&target, &json!([{"op": "remove", "path": "/missing"}])).is_err());
    }

    #[test]
    fn content_types_map_to_patch_types() {
        assert_eq!(
            PatchType::from_content_type("application/merge-patch+json; charset=utf-8"),
            Some(PatchType::Merge)
        );
        assert_eq!(
            PatchType::from_content_type("application/apply-patch+yaml"),
            Some(PatchType::Apply)
        );
        assert_eq!(PatchType::from_content_type("application/json"), None);
    }
}
