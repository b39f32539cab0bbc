//! Object metadata the way the apiserver maintains it: names (validated, or generated from
//! `generateName`), uid, creationTimestamp, generation, and what an update may not change.

use crate::resource::{NameRule, ResourceType};
use crate::status::ApiError;
use serde_json::{Map, Value};
use std::time::{SystemTime, UNIX_EPOCH};

/// RFC 3339 UTC with second precision, as `metadata.creationTimestamp` is written.
pub fn format_timestamp(time: SystemTime) -> String {
    let secs = time
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (days, rem) = ((secs / 86_400) as i64, secs % 86_400);
    // Civil-from-days (Howard Hinnant's algorithm), valid for the whole u64 range we can see.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Characters the apiserver uses for `generateName` suffixes (no vowels, no look-alikes).
const SUFFIX_ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// A 5-character random suffix for `generateName`.
pub fn random_suffix() -> String {
    let bytes = uuid::Uuid::new_v4().into_bytes();
    bytes[..5]
        .iter()
        .map(|b| SUFFIX_ALPHABET[*b as usize % SUFFIX_ALPHABET.len()] as char)
        .collect()
}

fn is_label(s: &str, first_alpha: bool) -> bool {
    let bytes = s.as_bytes();
    let ok_char = |c: &u8| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-';
    !bytes.is_empty()
        && bytes.len() <= 63
        && bytes.iter().all(ok_char)
        && (if first_alpha {
            bytes[0].is_ascii_lowercase()
        } else {
            bytes[0] != b'-'
        })
        && bytes[bytes.len() - 1] != b'-'
}

/// Checks a name against its rule, returning the apiserver's validation message when it fails.
pub fn validate_name(rule: NameRule, name: &str) -> Result<(), String> {
    match rule {
        NameRule::Subdomain => {
            if name.len() > 253 {
                return Err("must be no more than 253 characters".into());
            }
            if name.split('.').all(|part| is_label(part, false)) {
                Ok(())
            } else {
                Err("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')".into())
            }
        }
        NameRule::Label => {
            if is_label(name, false) {
                Ok(())
            } else {
                Err("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')".into())
            }
        }
        NameRule::Dns1035Label => {
            if is_label(name, true) {
                Ok(())
            } else {
                Err("a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')".into())
            }
        }
    }
}

pub fn name_of(object: &Value) -> &str {
    object
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("")
}

pub fn namespace_of(object: &Value) -> &str {
    object
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .unwrap_or("")
}

pub fn resource_version_of(object: &Value) -> &str {
    object
        .pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
        .unwrap_or("")
}

pub fn uid_of(object: &Value) -> &str {
    object
        .pointer("/metadata/uid")
        .and_then(Value::as_str)
        .unwrap_or("")
}

/// The `metadata` map of an object, created if missing.
pub fn metadata_mut(object: &mut Value) -> &mut Map<String, Value> {
    if !object.is_object() {
        *object = Value::Object(Map::new());
    }
    let map = object.as_object_mut().expect("just made an object");
    let meta = map
        .entry("metadata")
        .or_insert_with(|| Value::Object(Map::new()));
    if !meta.is_object() {
        *meta = Value::Object(Map::new());
    }
    meta.as_object_mut().expect("just made an object")
}

/// Fills kind/apiVersion, or rejects a body that names another kind.
pub fn check_type(rt: &ResourceType, object: &mut Value) -> Result<(), ApiError> {
    let Some(map) = object.as_object_mut() else {
        return Err(ApiError::bad_request(
            "the request body must be a JSON object",
        ));
    };
    let api_version = rt.api_version();
    match map.get("apiVersion").and_then(Value::as_str) {
        None | Some("") => {
            map.insert("apiVersion".into(), Value::String(api_version));
        }
        Some(v) if v == api_version => {}
        Some(v) => return Err(ApiError::bad_request(format!("the API version in the data ({v}) does not match the expected API version ({api_version})"))),
    }
    match map.get("kind").and_then(Value::as_str) {
        None | Some("") => {
            map.insert("kind".into(), Value::String(rt.kind.clone()));
        }
        Some(k) if k == rt.kind => {}
        Some(k) => {
            return Err(ApiError::bad_request(format!(
                "the kind in the data ({k}) does not match the expected kind ({})",
                rt.kind
            )))
        }
    }
    Ok(())
}

/// Reconciles the body's namespace with the request's: filled in when absent, 400 on mismatch.
pub fn check_namespace(
    rt: &ResourceType,
    object: &mut Value,
    namespace: &str,
) -> Result<(), ApiError> {
    let meta = metadata_mut(object);
    if !rt.namespaced {
        meta.remove("namespace");
        return Ok(());
    }
    match meta.get("namespace").and_then(Value::as_str) {
        None | Some("") => {
            meta.insert("namespace".into(), Value::String(namespace.into()));
            Ok(())
        }
        Some(ns) if ns == namespace => Ok(()),
        Some(_) => Err(ApiError::bad_request(
            "the namespace of the provided object does not match the namespace sent on the request",
        )),
    }
}

/// Server-set fields of a new object. `generateName` is resolved by the caller (it needs the
/// store to avoid collisions).
pub fn stamp_new(rt: &ResourceType, object: &mut Value, resource_version: u64, now: SystemTime) {
    let meta = metadata_mut(object);
    meta.insert(
        "uid".into(),
        Value::String(uuid::Uuid::new_v4().to_string()),
    );
    meta.insert(
        "creationTimestamp".into(),
        Value::String(format_timestamp(now)),
    );
    meta.insert(
        "resourceVersion".into(),
        Value::String(resource_version.to_string()),
    );
    if rt.tracks_generation {
        meta.insert("generation".into(), Value::from(1));
    } else {
        meta.remove("generation");
    }
    meta.remove("deletionTimestamp");
}

/// Whether anything other than metadata and status differs (what bumps `generation`).
pub fn spec_changed(old: &Value, new: &Value) -> bool {
    let strip = |v: &Value| -> Map<String, Value> {
        let mut m = v.as_object().cloned().unwrap_or_default();
        m.remove("metadata");
        m.remove("status");
        m
    };
    strip(old) != strip(new)
}

/// Carries over what an update cannot change (uid, creationTimestamp, generation) and, for
/// resources with a status subresource, the stored status.
pub fn carry_over(rt: &ResourceType, old: &Value, new: &mut Value) {
    for key in [
        "uid",
        "creationTimestamp",
        "generation",
        "deletionTimestamp",
    ] {
        let kept = old.pointer(&format!("/metadata/{key}")).cloned();
        let meta = metadata_mut(new);
        match kept {
            Some(v) => meta.insert(key.into(), v),
            None => meta.remove(key),
        };
    }
    if rt.status_subresource {
        if let Some(map) = new.as_object_mut() {
            match old.get("status") {
                Some(status) => map.insert("status".into(), status.clone()),
                None => map.remove("status"),
            };
        }
    }
    if rt.tracks_generation && spec_changed(old, new) {
        let generation = old
            .pointer("/metadata/generation")
            .and_then(Value::as_i64)
            .unwrap_or(0)
            + 1;
        metadata_mut(new).insert("generation".into(), Value::from(generation));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resource::ResourceRegistry;
    use serde_json::json;
    use std::time::Duration;

    #[test]
    fn timestamps_are_rfc3339_utc() {
        assert_eq!(format_timestamp(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        assert_eq!(
            format_timestamp(UNIX_EPOCH + Duration::from_secs(951_782_400)),
            "2000-02-29T00:00:00Z"
        );
        assert_eq!(
            format_timestamp(UNIX_EPOCH + Duration::from_secs(1_795_726_464)),
            "2026-11-26T20:54:24Z"
        );
    }

    #[test]
    fn generated_suffix_uses_the_apiserver_alphabet() {
        let s = random_suffix();
        assert_eq!(s.len(), 5);
        assert!(s.bytes().all(|b| SUFFIX_ALPHABET.contains(&b)), "{s}");
    }

    #[test]
    fn name_rules() {
        assert!(validate_name(NameRule::Subdomain, "ouroboros-foo-example-com").is_ok());
        assert!(validate_name(NameRule::Subdomain, "a.b-c.d").is_ok());
        assert!(validate_name(NameRule::Subdomain, "ouroboros-foo-example-com-").is_err());
        assert!(validate_name(NameRule::Subdomain, "Bad").is_err());
        assert!(validate_name(NameRule::Subdomain, &"a".repeat(254)).is_err());
        assert!(validate_name(NameRule::Label, "a.b").is_err());
        assert!(validate_name(NameRule::Dns1035Label, "1abc").is_err());
        assert!(validate_name(NameRule::Dns1035Label, "abc-1").is_ok());
    }

    #[test]
    fn update_keeps_identity_and_bumps_generation_on_spec_change_only() {
        let registry = ResourceRegistry::builtin();
        let deploy = registry.find("apps", "v1", "deployments").unwrap();
        let old = json!({"metadata": {"uid": "u", "creationTimestamp": "t", "generation": 3}, "spec": {"replicas": 1}, "status": {"replicas": 1}});
        let mut same_spec = json!({"metadata": {"uid": "other", "labels": {"a": "b"}}, "spec": {"replicas": 1}, "status": {"replicas": 9}});
        carry_over(deploy, &old, &mut same_spec);
        assert_eq!(same_spec["metadata"]["uid"], "u");
        assert_eq!(same_spec["metadata"]["generation"], 3);
        assert_eq!(
            same_spec["status"]["replicas"], 1,
            "status is a subresource"
        );
        let mut new_spec = json!({"metadata": {}, "spec": {"replicas": 0}});
        carry_over(deploy, &old, &mut new_spec);
        assert_eq!(new_spec["metadata"]["generation"], 4);
    }

    #[test]
    fn type_and_namespace_checks() {
        let registry = ResourceRegistry::builtin();
        let cm = registry.find("", "v1", "configmaps").unwrap();
        let mut o = json!({"metadata": {"name": "a"}});
        check_type(cm, &mut o).unwrap();
        assert_eq!(
            (o["kind"].as_str(), o["apiVersion"].as_str()),
            (Some("ConfigMap"), Some("v1"))
        );
        assert!(check_type(cm, &mut json!({"kind": "Secret"})).is_err());
        check_namespace(cm, &mut o, "ns").unwrap();
        assert_eq!(o["metadata"]["namespace"], "ns");
        assert_eq!(check_namespace(cm, &mut o, "other").unwrap_err().code, 400);
    }
}
