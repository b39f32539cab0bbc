//! Rules `label-key`, `label-value`, `annotation`: label and annotation maps are valid for the
//! API server.
//!
//! Label values: at most 63 characters, empty or `[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?`, and
//! strings (a YAML `true` or `1` is rejected by the API server). Keys (labels and annotations):
//! an optional DNS-1123 subdomain prefix and `/`, then a name of at most 63 characters matching
//! the same pattern. The classic trap is a SemVer build suffix (`0.1.0+abc`) in `helm.sh/chart`.

use std::sync::OnceLock;

use regex::Regex;
use serde_json::Value as Json;

use crate::path::{display, Segment};
use crate::{Finding, Manifest};

pub const RULE_KEY: &str = "label-key";
pub const RULE_VALUE: &str = "label-value";
pub const RULE_ANNOTATION: &str = "annotation";

fn name_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$").expect("static regex")
    })
}

/// `None` when `value` is a valid label value, else why not.
pub fn value_violation(value: &str) -> Option<String> {
    if value.len() > 63 {
        Some(format!(
            "label value {value:?} is {} characters long; at most 63 are allowed",
            value.len()
        ))
    } else if !value.is_empty() && !name_re().is_match(value) {
        let bad: String = value
            .chars()
            .filter(|c| !(c.is_ascii_alphanumeric() || "-_.".contains(*c)))
            .take(1)
            .collect();
        let hint = if bad.is_empty() {
            "it must start and end with an alphanumeric character".to_string()
        } else {
            format!("{bad:?} is not allowed (only alphanumerics, '-', '_' and '.')")
        };
        Some(format!("label value {value:?} is invalid: {hint}"))
    } else {
        None
    }
}

/// `None` when `key` is a valid qualified name (label or annotation key), else why not.
pub fn key_violation(key: &str) -> Option<String> {
    let (prefix, name) = match key.split_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, key),
    };
    if let Some(prefix) = prefix {
        if prefix.is_empty() {
            return Some(format!("key {key:?} has an empty prefix before '/'"));
        }
        if let Some(why) = super::names::subdomain_violation(prefix) {
            return Some(format!("key prefix {prefix:?} {why}"));
        }
    }
    if name.is_empty() {
        Some(format!("key {key:?} has an empty name"))
    } else if name.len() > 63 {
        Some(format!(
            "key name {name:?} is {} characters long; at most 63 are allowed",
            name.len()
        ))
    } else if !name_re().is_match(name) {
        Some(format!("key name {name:?} must be alphanumerics, '-', '_' or '.', starting and ending with an alphanumeric"))
    } else {
        None
    }
}

/// Where label maps live in the kinds we render, as path segments from the object root.
fn label_map_paths(kind: &str) -> Vec<Vec<&'static str>> {
    let mut paths = vec![vec!["metadata", "labels"]];
    paths.push(vec!["spec", "template", "metadata", "labels"]);
    paths.push(vec![
        "spec",
        "jobTemplate",
        "spec",
        "template",
        "metadata",
        "labels",
    ]);
    paths.push(vec!["spec", "selector", "matchLabels"]);
    paths.push(vec!["spec", "podSelector", "matchLabels"]);
    if kind == "Service" {
        paths.push(vec!["spec", "selector"]);
    }
    paths
}

fn annotation_map_paths() -> Vec<Vec<&'static str>> {
    vec![
        vec!["metadata", "annotations"],
        vec!["spec", "template", "metadata", "annotations"],
        vec![
            "spec",
            "jobTemplate",
            "spec",
            "template",
            "metadata",
            "annotations",
        ],
    ]
}

fn lookup<'a>(root: &'a Json, path: &[&str]) -> Option<&'a Json> {
    path.iter().try_fold(root, |v, k| v.get(*k))
}

fn seg_path(base: &[&str], key: &str) -> String {
    let mut segs: Vec<Segment> = base
        .iter()
        .map(|s| Segment::Key((*s).to_string()))
        .collect();
    segs.push(Segment::Key(key.to_string()));
    display(&segs)
}

pub fn check(m: &Manifest) -> Vec<Finding> {
    let mut out = Vec::new();
    for base in label_map_paths(m.kind()) {
        let Some(map) = lookup(&m.value, &base) else {
            continue;
        };
        let Some(map) = map.as_object() else {
            if !map.is_null() {
                let path = display(
                    &base
                        .iter()
                        .map(|s| Segment::Key((*s).to_string()))
                        .collect::<Vec<_>>(),
                );
                out.push(Finding::new(RULE_VALUE, m, "labels must be a map of strings").at(path));
            }
            continue;
        };
        for (key, value) in map {
            let path = seg_path(&base, key);
            if let Some(why) = key_violation(key) {
                out.push(Finding::new(RULE_KEY, m, why).at(path.clone()));
            }
            match value {
                Json::String(s) => {
                    if let Some(why) = value_violation(s) {
                        out.push(Finding::new(RULE_VALUE, m, why).at(path));
                    }
                }
                other => out.push(
                    Finding::new(
                        RULE_VALUE,
                        m,
                        format!("label value must be a string, found {other}; quote it"),
                    )
                    .at(path),
                ),
            }
        }
    }
    for base in annotation_map_paths() {
        let Some(map) = lookup(&m.value, &base).and_then(Json::as_object) else {
            continue;
        };
        for (key, value) in map {
            let path = seg_path(&base, key);
            if let Some(why) = key_violation(key) {
                out.push(
                    Finding::new(RULE_ANNOTATION, m, format!("annotation {why}")).at(path.clone()),
                );
            }
            if !value.is_string() {
                out.push(
                    Finding::new(
                        RULE_ANNOTATION,
                        m,
                        format!("annotation value must be a string, found {value}; quote it"),
                    )
                    .at(path),
                );
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn with_labels(labels: Json) -> Manifest {
        Manifest::new(
            "c/templates/cm.yaml",
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "labels": labels}}),
        )
    }

    #[test]
    fn build_metadata_plus_in_chart_label_is_rejected() {
        let f = check(&with_labels(
            json!({"helm.sh/chart": "cozy-coredns-0.0.0+abc1234567"}),
        ));
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].rule, RULE_VALUE);
        assert_eq!(
            f[0].path.as_deref(),
            Some(r#"metadata.labels["helm.sh/chart"]"#)
        );
        assert!(f[0].message.contains("\"+\""), "{}", f[0].message);
    }

    #[test]
    fn sanitised_chart_label_passes() {
        assert!(check(&with_labels(
            json!({"helm.sh/chart": "cozy-coredns-0.0.0_abc1234567", "empty": ""})
        ))
        .is_empty());
    }

    #[test]
    fn long_value_and_trailing_dash_rejected() {
        let long = format!("a{}", "b".repeat(63));
        assert!(check(&with_labels(json!({"x": long})))[0]
            .message
            .contains("64 characters"));
        assert_eq!(check(&with_labels(json!({"x": "abc-"}))).len(), 1);
    }

    #[test]
    fn non_string_value_rejected() {
        assert!(check(&with_labels(json!({"x": true})))[0]
            .message
            .contains("must be a string"));
    }

    #[test]
    fn bad_keys_rejected() {
        let f = check(&with_labels(
            json!({"Example.COM/x": "a", "/x": "a", "a/b/c": "a"}),
        ));
        assert_eq!(f.len(), 3, "{f:?}");
        assert!(f.iter().all(|f| f.rule == RULE_KEY));
    }

    #[test]
    fn pod_template_and_selector_labels_checked() {
        let m = Manifest::new(
            "s",
            json!({"kind": "Deployment", "metadata": {"name": "d"}, "spec": {
                "selector": {"matchLabels": {"a": "x+y"}},
                "template": {"metadata": {"labels": {"a": "x+y"}, "annotations": {"n": 1}}}}}),
        );
        let f = check(&m);
        let rules: Vec<_> = f
            .iter()
            .map(|f| (f.rule, f.path.clone().unwrap()))
            .collect();
        assert!(
            rules.contains(&(RULE_VALUE, "spec.template.metadata.labels.a".into())),
            "{rules:?}"
        );
        assert!(rules.contains(&(RULE_VALUE, "spec.selector.matchLabels.a".into())));
        assert!(rules.contains(&(
            RULE_ANNOTATION,
            "spec.template.metadata.annotations.n".into()
        )));
    }
}
