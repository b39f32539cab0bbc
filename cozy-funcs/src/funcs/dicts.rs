//! Dict functions and Helm's merge rules.
//!
//! Destinations are mutable maps: `set`, `unset`, `merge` and `mergeOverwrite` change a
//! [`MutableMap`] in place and return it; an immutable map (a branch of `Values`) is copied
//! first, so template data can never be changed behind a chart's back.

use std::collections::BTreeMap;

use minijinja::value::Value;

use super::HelmFn;
use crate::access::{go_kind, go_type_name, map_get, GoKind, GoValue, MAX_NESTING};
use crate::args::Args;
use crate::convert::strval;
use crate::error::{invalid, FuncError, FuncResult};
use crate::mutable_map::MutableMap;
use crate::truthy::is_empty;

pub(crate) const FUNCS: &[(&str, HelmFn)] = &[
    ("dict", dict),
    ("get", get),
    ("set", set),
    ("unset", unset),
    ("hasKey", has_key),
    ("keys", keys),
    ("values", values_of),
    ("pick", pick),
    ("omit", omit),
    ("dig", dig),
    ("merge", merge),
    ("mustMerge", merge),
    ("mergeOverwrite", merge_overwrite),
    ("mustMergeOverwrite", merge_overwrite),
    ("deepCopy", deep_copy_fn),
    ("mustDeepCopy", deep_copy_fn),
];

/// `dict k1 v1 k2 v2 ...`; keys are stringified, a trailing key without a value maps to "".
fn dict(values: &[Value]) -> FuncResult {
    let entries: BTreeMap<String, Value> = values
        .chunks(2)
        .map(|pair| {
            let value = pair.get(1).cloned().unwrap_or_else(|| Value::from(""));
            (strval(&pair[0]), value)
        })
        .collect();
    Ok(MutableMap::into_value(entries))
}

/// A map parameter: nil reads as an empty map, other non-maps are a type error.
fn map_arg(args: &Args<'_>, i: usize) -> FuncResult<BTreeMap<String, Value>> {
    let value = args.value(i);
    match GoValue::of(&value) {
        GoValue::Map(entries) => Ok(entries),
        GoValue::Nil => Ok(BTreeMap::new()),
        _ => Err(args.wrong_type("map[string]interface {}", &value)),
    }
}

/// The mutable map to write into: the argument itself when it is one, otherwise a mutable
/// copy of an immutable map.
pub(crate) fn writable(args: &Args<'_>, i: usize) -> FuncResult<Value> {
    let value = args.value(i);
    if value.downcast_object_ref::<MutableMap>().is_some() {
        return Ok(value);
    }
    match GoValue::of(&value) {
        GoValue::Map(entries) => Ok(MutableMap::into_value(entries)),
        GoValue::Nil => Err(invalid(args.func, "assignment to entry in nil map")),
        _ => Err(args.wrong_type("map[string]interface {}", &value)),
    }
}

fn as_mutable(value: &Value) -> &MutableMap {
    value
        .downcast_object_ref::<MutableMap>()
        .expect("writable() returns a mutable map")
}

/// A map parameter looked up without copying: `None` when the key is absent (or the map
/// is nil), a type error when the argument is not a map.
fn lookup(args: &Args<'_>, i: usize, key: &str) -> FuncResult<Option<Value>> {
    let value = args.value(i);
    match go_kind(&value) {
        GoKind::Map => Ok(map_get(&value, key)),
        GoKind::Nil => Ok(None),
        _ => Err(args.wrong_type("map[string]interface {}", &value)),
    }
}

fn get(values: &[Value]) -> FuncResult {
    let args = Args::new("get", values);
    args.exact(2)?;
    let key = args.string(1)?;
    Ok(lookup(&args, 0, &key)?.unwrap_or_else(|| Value::from("")))
}

fn set(values: &[Value]) -> FuncResult {
    let args = Args::new("set", values);
    args.exact(3)?;
    let key = args.string(1)?;
    let target = writable(&args, 0)?;
    as_mutable(&target).insert(key, args.value(2));
    Ok(target)
}

fn unset(values: &[Value]) -> FuncResult {
    let args = Args::new("unset", values);
    args.exact(2)?;
    let key = args.string(1)?;
    if matches!(GoValue::of(&args.value(0)), GoValue::Nil) {
        return Ok(args.value(0));
    }
    let target = writable(&args, 0)?;
    as_mutable(&target).remove(&key);
    Ok(target)
}

fn has_key(values: &[Value]) -> FuncResult {
    let args = Args::new("hasKey", values);
    args.exact(2)?;
    let key = args.string(1)?;
    Ok(Value::from(lookup(&args, 0, &key)?.is_some()))
}

/// `keys d1 d2 ...`: every key of every dict (sorted within each dict; Go's order is random).
fn keys(values: &[Value]) -> FuncResult {
    let args = Args::new("keys", values);
    let mut out = Vec::new();
    for i in 0..args.len() {
        out.extend(map_arg(&args, i)?.into_keys().map(Value::from));
    }
    Ok(Value::from(out))
}

fn values_of(values: &[Value]) -> FuncResult {
    let args = Args::new("values", values);
    args.exact(1)?;
    Ok(Value::from(
        map_arg(&args, 0)?.into_values().collect::<Vec<_>>(),
    ))
}

fn key_list(args: &Args<'_>) -> FuncResult<Vec<String>> {
    (1..args.len()).map(|i| args.string(i)).collect()
}

fn pick(values: &[Value]) -> FuncResult {
    let args = Args::new("pick", values);
    args.at_least(1)?;
    let entries = map_arg(&args, 0)?;
    let wanted = key_list(&args)?;
    Ok(MutableMap::into_value(
        entries
            .into_iter()
            .filter(|(k, _)| wanted.contains(k))
            .collect(),
    ))
}

fn omit(values: &[Value]) -> FuncResult {
    let args = Args::new("omit", values);
    args.at_least(1)?;
    let entries = map_arg(&args, 0)?;
    let unwanted = key_list(&args)?;
    Ok(MutableMap::into_value(
        entries
            .into_iter()
            .filter(|(k, _)| !unwanted.contains(k))
            .collect(),
    ))
}

/// `dig k1 k2 ... default dict`: the nested value, or the default when a key is missing.
fn dig(values: &[Value]) -> FuncResult {
    let args = Args::new("dig", values);
    if args.len() < 3 {
        return Err(invalid("dig", "dig needs at least three arguments"));
    }
    let fallback = args.value(args.len() - 2);
    let mut current = args.value(args.len() - 1);
    for i in 0..args.len() - 2 {
        let key = args.string(i)?;
        if go_kind(&current) != GoKind::Map {
            return Err(invalid(
                "dig",
                format!(
                    "interface conversion: {} is not a map at key {key:?}",
                    go_type_name(&current)
                ),
            ));
        }
        match map_get(&current, &key) {
            Some(next) => current = next,
            None => return Ok(fallback),
        }
    }
    Ok(current)
}

/// Recursively copies maps into fresh mutable maps and lists into fresh lists.
pub fn deep_copy(value: &Value) -> Value {
    deep_copy_at(value, 0)
}

fn deep_copy_at(value: &Value, depth: usize) -> Value {
    if depth > MAX_NESTING {
        // A map that contains itself: share the rest instead of copying forever.
        return value.clone();
    }
    match GoValue::of(value) {
        GoValue::Map(entries) => MutableMap::into_value(
            entries
                .iter()
                .map(|(k, v)| (k.clone(), deep_copy_at(v, depth + 1)))
                .collect(),
        ),
        GoValue::Seq(items) => Value::from(
            items
                .iter()
                .map(|v| deep_copy_at(v, depth + 1))
                .collect::<Vec<_>>(),
        ),
        _ => value.clone(),
    }
}

fn deep_copy_fn(values: &[Value]) -> FuncResult {
    let args = Args::new("deepCopy", values);
    args.exact(1)?;
    Ok(deep_copy(&args.value(0)))
}

/// Whether `merge` or `mergeOverwrite` is running.
#[derive(Clone, Copy, PartialEq)]
enum MergeMode {
    /// `merge`: a destination value survives unless it is missing or empty.
    KeepDestination,
    /// `mergeOverwrite`: the source wins, even with false, "", an empty list or null.
    SourceWins,
}

/// Helm's (mergo's) deep merge of `source` into `target`, observed with helm: maps recurse;
/// an empty source map leaves the destination alone; a null source only counts when
/// overwriting.
fn merge_into(
    target: &MutableMap,
    source: &BTreeMap<String, Value>,
    mode: MergeMode,
    depth: usize,
) {
    if depth > MAX_NESTING {
        return;
    }
    for (key, src) in source {
        let dst = target.get(key);
        let src_shape = GoValue::of(src);
        if matches!(src_shape, GoValue::Nil) {
            if mode == MergeMode::SourceWins {
                target.insert(key.clone(), Value::from(()));
            }
            continue;
        }
        if let (GoValue::Map(src_entries), Some(dst_value)) = (&src_shape, &dst) {
            if let GoValue::Map(dst_entries) = GoValue::of(dst_value) {
                let nested = if dst_value.downcast_object_ref::<MutableMap>().is_some() {
                    dst_value.clone()
                } else {
                    let copy = MutableMap::into_value(dst_entries);
                    target.insert(key.clone(), copy.clone());
                    copy
                };
                merge_into(as_mutable(&nested), src_entries, mode, depth + 1);
                continue;
            }
        }
        let replace = match &dst {
            None => true,
            Some(dst_value) => mode == MergeMode::SourceWins || is_empty(dst_value),
        };
        if replace {
            target.insert(key.clone(), src.clone());
        }
    }
}

fn merge_with(func: &'static str, values: &[Value], mode: MergeMode) -> FuncResult {
    let args = Args::new(func, values);
    args.at_least(1)?;
    let target = writable(&args, 0)?;
    for i in 1..args.len() {
        let source = map_arg(&args, i).map_err(|err| match err {
            FuncError::WrongType { expected, got, .. } => FuncError::WrongType {
                func,
                expected,
                got,
            },
            other => other,
        })?;
        merge_into(as_mutable(&target), &source, mode, 0);
    }
    Ok(target)
}

fn merge(values: &[Value]) -> FuncResult {
    merge_with("merge", values, MergeMode::KeepDestination)
}

fn merge_overwrite(values: &[Value]) -> FuncResult {
    merge_with("mergeOverwrite", values, MergeMode::SourceWins)
}
