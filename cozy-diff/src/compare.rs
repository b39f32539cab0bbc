//! Comparing two renders object by object.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value as Json;
use similar::TextDiff;

use crate::ignore::IgnorePath;
use crate::object_key::ObjectKey;

/// How to compare.
#[derive(Debug, Clone)]
pub struct CompareOptions {
    /// Where namespaced objects without `metadata.namespace` land.
    pub release_namespace: String,
    pub ignore: Vec<IgnorePath>,
    /// Lines of context around each change in the unified diffs.
    pub context: usize,
}

impl Default for CompareOptions {
    fn default() -> Self {
        CompareOptions {
            release_namespace: "default".into(),
            ignore: Vec::new(),
            context: 3,
        }
    }
}

/// One object present on both sides with different content.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChangedObject {
    #[serde(flatten)]
    pub key: ObjectKey,
    /// Unified diff of the two objects as YAML (`--- from` / `+++ to`).
    pub diff: String,
}

/// Result of comparing two renders.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct DiffReport {
    pub added: Vec<ObjectKey>,
    pub removed: Vec<ObjectKey>,
    pub changed: Vec<ChangedObject>,
    /// Objects present and equal on both sides (after ignores).
    pub unchanged: usize,
}

impl DiffReport {
    pub fn is_equal(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }
}

/// Objects by key; a duplicate key keeps the last document (what `kubectl apply` would leave).
fn index(objects: &[Json], opts: &CompareOptions) -> BTreeMap<ObjectKey, Json> {
    let mut map = BTreeMap::new();
    for obj in objects.iter().filter(|o| o.is_object()) {
        let mut obj = obj.clone();
        for path in &opts.ignore {
            path.remove_from(&mut obj);
        }
        map.insert(ObjectKey::of(&obj, &opts.release_namespace), obj);
    }
    map
}

/// Object-aware comparison of two lists of rendered objects.
pub fn compare(from: &[Json], to: &[Json], opts: &CompareOptions) -> DiffReport {
    let from = index(from, opts);
    let to = index(to, opts);
    let mut report = DiffReport::default();
    for (key, old) in &from {
        match to.get(key) {
            None => report.removed.push(key.clone()),
            Some(new) if new == old => report.unchanged += 1,
            Some(new) => {
                let diff = unified(&to_yaml(old), &to_yaml(new), &key.to_string(), opts.context);
                report.changed.push(ChangedObject {
                    key: key.clone(),
                    diff,
                });
            }
        }
    }
    report.added = to
        .keys()
        .filter(|k| !from.contains_key(*k))
        .cloned()
        .collect();
    report
}

/// YAML text of one object, keys sorted (as `toYaml` prints them).
pub fn to_yaml(value: &Json) -> String {
    serde_yaml::to_string(value).unwrap_or_else(|e| format!("# not representable as YAML: {e}\n"))
}

fn unified(old: &str, new: &str, label: &str, context: usize) -> String {
    TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(context)
        .header(&format!("{label} (from)"), &format!("{label} (to)"))
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cm(name: &str, data: Json) -> Json {
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "labels": {"helm.sh/chart": "c-1"}}, "data": data})
    }

    #[test]
    fn added_removed_changed_unchanged() {
        let from = vec![
            cm("a", json!({"k": "1"})),
            cm("b", json!({})),
            cm("same", json!({})),
        ];
        let to = vec![
            cm("a", json!({"k": "2"})),
            cm("c", json!({})),
            cm("same", json!({})),
        ];
        let r = compare(&from, &to, &CompareOptions::default());
        assert_eq!(
            r.added.iter().map(|k| k.name.as_str()).collect::<Vec<_>>(),
            vec!["c"]
        );
        assert_eq!(
            r.removed
                .iter()
                .map(|k| k.name.as_str())
                .collect::<Vec<_>>(),
            vec!["b"]
        );
        assert_eq!(r.changed.len(), 1);
        assert!(
            r.changed[0].diff.contains("-  k: '1'") || r.changed[0].diff.contains("-  k: \"1\""),
            "{}",
            r.changed[0].diff
        );
        assert!(r.changed[0].diff.contains("+  k:"), "{}", r.changed[0].diff);
        assert_eq!(r.unchanged, 1);
        assert!(!r.is_equal());
    }

    #[test]
    fn ignored_paths_make_objects_equal() {
        let mut b = cm("a", json!({}));
        b["metadata"]["labels"]["helm.sh/chart"] = json!("c-2");
        let opts = CompareOptions {
            ignore: vec![r#"metadata.labels["helm.sh/chart"]"#.parse().unwrap()],
            ..Default::default()
        };
        assert!(compare(&[cm("a", json!({}))], &[b.clone()], &opts).is_equal());
        assert!(!compare(&[cm("a", json!({}))], &[b], &CompareOptions::default()).is_equal());
    }

    #[test]
    fn namespace_defaults_to_release_namespace() {
        let mut explicit = cm("a", json!({}));
        explicit["metadata"]["namespace"] = json!("default");
        let r = compare(
            &[cm("a", json!({}))],
            &[explicit],
            &CompareOptions::default(),
        );
        assert_eq!(
            r.changed.len(),
            1,
            "same object, changed by the added namespace field"
        );
        assert!(r.added.is_empty());
    }

    #[test]
    fn context_radius_limits_unchanged_lines() {
        let data: serde_json::Map<String, Json> =
            (0..20).map(|i| (format!("k{i:02}"), json!("v"))).collect();
        let mut data2 = data.clone();
        data2.insert("k10".into(), json!("w"));
        let narrow = compare(
            &[cm("a", Json::Object(data.clone()))],
            &[cm("a", Json::Object(data2.clone()))],
            &CompareOptions {
                context: 1,
                ..Default::default()
            },
        );
        let wide = compare(
            &[cm("a", Json::Object(data))],
            &[cm("a", Json::Object(data2))],
            &CompareOptions {
                context: 5,
                ..Default::default()
            },
        );
        let lines = |r: &DiffReport| {
            r.changed[0]
                .diff
                .lines()
                .filter(|l| l.starts_with(' '))
                .count()
        };
        assert_eq!(lines(&narrow), 2);
        assert_eq!(lines(&wide), 10);
    }
}
