//! User value layers (`-f`, `--set*`, ready maps) merged into one map, as Helm's
//! `values.Options.MergeValues` does, with the origin of every path.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::error::ValuesError;
use crate::origin::{Origin, Origins};
use crate::strvals::{self, SetFlag};
use crate::yaml::{self, NumberMode};
use crate::{merge, path, Map};

/// One source of user values.
#[derive(Debug, Clone, PartialEq)]
pub enum ValueLayer {
    /// `-f FILE` (relative paths are resolved against the base directory).
    File(PathBuf),
    /// `--set EXPR`.
    Set(String),
    /// `--set-string EXPR`.
    SetString(String),
    /// `--set-json EXPR`.
    SetJson(String),
    /// `--set-file EXPR`.
    SetFile(String),
    /// `--set-literal EXPR`.
    SetLiteral(String),
    /// A ready map (e.g. a test suite's `values`/`set`), named for messages. Applied with the
    /// files, in order.
    Literal { origin: String, values: Map },
}

impl ValueLayer {
    /// Helm applies layers by kind, not by command-line position: all `-f` files, then every
    /// `--set-json`, `--set`, `--set-string`, `--set-file`, `--set-literal` (checked with Helm 4:
    /// `--set-string a=3 --set a=1` yields `"3"`). Within a kind the given order holds.
    fn rank(&self) -> u8 {
        match self {
            ValueLayer::File(_) | ValueLayer::Literal { .. } => 0,
            ValueLayer::SetJson(_) => 1,
            ValueLayer::Set(_) => 2,
            ValueLayer::SetString(_) => 3,
            ValueLayer::SetFile(_) => 4,
            ValueLayer::SetLiteral(_) => 5,
        }
    }
}

/// Merge the layers into one user map (nulls kept: they delete defaults later).
pub(crate) fn merge_layers(
    layers: &[ValueLayer],
    base_dir: &Path,
) -> Result<(Map, Origins), ValuesError> {
    let mut ordered: Vec<&ValueLayer> = layers.iter().collect();
    ordered.sort_by_key(|layer| layer.rank());
    let mut user = Map::new();
    let mut origins = Origins::default();
    for layer in ordered {
        match layer {
            ValueLayer::File(file) => {
                let full = base_dir.join(file);
                let shown = file.display().to_string();
                let parsed = yaml::Loader::new(NumberMode::Helm)
                    .parse_file(&full)
                    .map_err(|e| rename_source(e, &full, &shown))?;
                for (p, at) in parsed.positions.iter().filter(|(p, _)| !p.is_empty()) {
                    origins.set(
                        p.to_owned(),
                        Origin::File {
                            path: shown.clone(),
                            line: at.line,
                        },
                    );
                }
                let map = top_level_map(parsed, &shown)?;
                merge_into(&mut user, map);
            }
            ValueLayer::Literal { origin, values } => {
                record_subtree(
                    &mut origins,
                    "",
                    &Value::Object(values.clone()),
                    &Origin::Literal {
                        origin: origin.clone(),
                    },
                );
                merge_into(&mut user, values.clone());
            }
            ValueLayer::Set(expr)
            | ValueLayer::SetString(expr)
            | ValueLayer::SetJson(expr)
            | ValueLayer::SetFile(expr)
            | ValueLayer::SetLiteral(expr) => {
                let flag = match layer {
                    ValueLayer::Set(_) => SetFlag::Set,
                    ValueLayer::SetString(_) => SetFlag::SetString,
                    ValueLayer::SetJson(_) => SetFlag::SetJson,
                    ValueLayer::SetFile(_) => SetFlag::SetFile,
                    _ => SetFlag::SetLiteral,
                };
                let assigned = strvals::parse_with_paths(flag, expr, &mut user, base_dir)?;
                let origin = Origin::Set {
                    flag: flag.as_flag().to_owned(),
                    expr: expr.clone(),
                };
                let root = Value::Object(user.clone());
                for p in assigned {
                    if let Some(value) = lookup(&root, &p) {
                        record_subtree(&mut origins, &p, value, &origin);
                    }
                }
            }
        }
    }
    Ok((user, origins))
}

/// A values file must hold a map (or nothing); the error points at where its content starts.
pub(crate) fn top_level_map(parsed: yaml::Parsed, shown: &str) -> Result<Map, ValuesError> {
    match parsed.value {
        Value::Object(map) => Ok(map),
        Value::Null => Ok(Map::new()),
        other => {
            let at = parsed
                .positions
                .get("")
                .unwrap_or(yaml::Position { line: 1, column: 1 });
            Err(ValuesError::Yaml {
                location: crate::SourceLocation {
                    file: shown.to_owned(),
                    line: at.line,
                    column: at.column,
                    line_text: None,
                },
                message: format!(
                    "values must be a map of keys at the top level, found {}",
                    kind_name(&other)
                ),
            })
        }
    }
}

pub(crate) fn kind_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a map",
    }
}

/// Errors should name the file as the user wrote it, not as it was joined to the base dir.
fn rename_source(err: ValuesError, full: &Path, shown: &str) -> ValuesError {
    match err {
        ValuesError::Io { source, .. } => ValuesError::Io {
            path: PathBuf::from(shown),
            source,
        },
        ValuesError::Yaml {
            mut location,
            message,
        } => {
            if location.file == full.display().to_string() {
                location.file = shown.to_owned();
            }
            ValuesError::Yaml { location, message }
        }
        other => other,
    }
}

fn merge_into(user: &mut Map, top: Map) {
    let mut target = Value::Object(std::mem::take(user));
    merge::deep_merge(&mut target, Value::Object(top));
    if let Value::Object(map) = target {
        *user = map;
    }
}

/// Record `origin` for `at` and every path below it.
pub(crate) fn record_subtree(origins: &mut Origins, at: &str, value: &Value, origin: &Origin) {
    if !at.is_empty() {
        origins.set(at.to_owned(), origin.clone());
    }
    match value {
        Value::Object(map) => map
            .iter()
            .for_each(|(k, v)| record_subtree(origins, &path::child_key(at, k), v, origin)),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .for_each(|(i, v)| record_subtree(origins, &path::child_index(at, i), v, origin)),
        _ => {}
    }
}

/// The value at a path produced by [`crate::path`] (only for paths this crate built).
fn lookup<'v>(root: &'v Value, at: &str) -> Option<&'v Value> {
    if at.is_empty() {
        return Some(root);
    }
    let parent = path::parent(at)?;
    let node = lookup(root, parent)?;
    let last = &at[parent.len()..];
    let last = last.strip_prefix('.').unwrap_or(last);
    if let Some(inner) = last.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
        if let Ok(index) = inner.parse::<usize>() {
            return node.get(index);
        }
        let key: String = serde_json::from_str(inner).ok()?;
        return node.get(key);
    }
    node.get(last)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn looks_up_built_paths() {
        let root = json!({"a": {"b": [1, {"c.d": 2}]}});
        assert_eq!(lookup(&root, r#"a.b[1]["c.d"]"#), Some(&json!(2)));
        assert_eq!(lookup(&root, "a.b[0]"), Some(&json!(1)));
        assert_eq!(lookup(&root, "a.x"), None);
    }

    #[test]
    fn layers_apply_by_kind_like_helm() {
        let layers = [
            ValueLayer::SetLiteral("c=x,y".into()),
            ValueLayer::SetString("a=3".into()),
            ValueLayer::Set("a=1,b=1,c=2".into()),
            ValueLayer::SetJson("a=2".into()),
        ];
        let (user, origins) = merge_layers(&layers, Path::new(".")).unwrap();
        assert_eq!(user["a"], json!("3"));
        assert_eq!(user["c"], json!("x,y"), "--set-literal applies last");
        assert_eq!(origins.get("a").unwrap().to_string(), "--set-string a=3");
        assert_eq!(origins.get("b").unwrap().to_string(), "--set a=1,b=1,c=2");
    }

    #[test]
    fn set_json_records_the_whole_subtree() {
        let (_, origins) = merge_layers(
            &[ValueLayer::SetJson(r#"a={"b":{"c":[1]}}"#.into())],
            Path::new("."),
        )
        .unwrap();
        assert_eq!(
            origins.get("a.b.c[0]").unwrap().to_string(),
            r#"--set-json a={"b":{"c":[1]}}"#
        );
    }
}
