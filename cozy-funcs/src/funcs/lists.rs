//! List functions. Lists are never mutated: Sprig's list functions return new lists too.

use minijinja::value::Value;

use super::HelmFn;
use crate::access::{go_kind, go_kind_name, go_type_name, map_get, seq_items, GoKind, GoValue};
use crate::args::Args;
use crate::convert::deep_equal;
use crate::error::{invalid, FuncResult};
use crate::funcs::strings::str_slice;
use crate::truthy::is_empty;

pub(crate) const FUNCS: &[(&str, HelmFn)] = &[
    ("list", list),
    ("tuple", list),
    ("append", append),
    ("push", append),
    ("prepend", prepend),
    ("first", first),
    ("last", last),
    ("rest", rest),
    ("initial", initial),
    ("has", has),
    ("without", without),
    ("uniq", uniq),
    ("compact", compact),
    ("concat", concat),
    ("reverse", reverse),
    ("sortAlpha", sort_alpha),
    ("until", until),
    ("untilStep", until_step),
    ("toStrings", to_strings),
    ("len", len),
    ("slice", slice),
    ("index", index),
    ("chunk", chunk),
    ("seq", seq),
    ("mustFirst", first),
    ("mustLast", last),
    ("mustRest", rest),
    ("mustInitial", initial),
    ("mustAppend", append),
    ("mustPush", append),
    ("mustPrepend", prepend),
    ("mustUniq", uniq),
    ("mustWithout", without),
    ("mustHas", has),
    ("mustCompact", compact),
    ("mustReverse", reverse),
    ("mustSlice", slice),
    ("mustChunk", chunk),
];

fn list(values: &[Value]) -> FuncResult {
    Ok(Value::from(values.to_vec()))
}

/// The items of a list argument; Sprig panics (and Helm fails) on nil and non-lists.
fn items_of(func: &'static str, verb: &str, value: &Value) -> FuncResult<Vec<Value>> {
    match GoValue::of(value) {
        GoValue::Seq(items) => Ok(items),
        GoValue::Nil => Err(invalid(
            func,
            format!("cannot {verb} on nil; expected a list"),
        )),
        _ => Err(invalid(
            func,
            format!("Cannot {verb} on type {}", go_kind_name(value)),
        )),
    }
}

fn append(values: &[Value]) -> FuncResult {
    let args = Args::new("append", values);
    args.exact(2)?;
    let mut items = items_of("append", "push", &args.value(0))?;
    items.push(args.value(1));
    Ok(Value::from(items))
}

fn prepend(values: &[Value]) -> FuncResult {
    let args = Args::new("prepend", values);
    args.exact(2)?;
    let mut items = items_of("prepend", "prepend", &args.value(0))?;
    items.insert(0, args.value(1));
    Ok(Value::from(items))
}

fn first(values: &[Value]) -> FuncResult {
    let args = Args::new("first", values);
    args.exact(1)?;
    Ok(items_of("first", "find first", &args.value(0))?
        .into_iter()
        .next()
        .unwrap_or(Value::from(())))
}

fn last(values: &[Value]) -> FuncResult {
    let args = Args::new("last", values);
    args.exact(1)?;
    Ok(items_of("last", "find last", &args.value(0))?
        .pop()
        .unwrap_or(Value::from(())))
}

fn rest(values: &[Value]) -> FuncResult {
    let args = Args::new("rest", values);
    args.exact(1)?;
    let items = items_of("rest", "find rest", &args.value(0))?;
    if items.is_empty() {
        return Ok(Value::from(()));
    }
    Ok(Value::from(items[1..].to_vec()))
}

fn initial(values: &[Value]) -> FuncResult {
    let args = Args::new("initial", values);
    args.exact(1)?;
    let items = items_of("initial", "find initial", &args.value(0))?;
    if items.is_empty() {
        return Ok(Value::from(()));
    }
    Ok(Value::from(items[..items.len() - 1].to_vec()))
}

/// `has needle list`: Go's DeepEqual membership (the int 1 is not in a list holding 1.0).
fn has(values: &[Value]) -> FuncResult {
    let args = Args::new("has", values);
    args.exact(2)?;
    let haystack = args.value(1);
    let found = match GoValue::of(&haystack) {
        GoValue::Nil => false,
        GoValue::Seq(items) => items.iter().any(|item| deep_equal(item, &args.value(0))),
        _ => {
            return Err(invalid(
                "has",
                format!("Cannot find has on type {}", go_kind_name(&haystack)),
            ))
        }
    };
    Ok(Value::from(found))
}

fn without(values: &[Value]) -> FuncResult {
    let args = Args::new("without", values);
    args.at_least(1)?;
    let items = items_of("without", "find without", &args.value(0))?;
    let omit = &values[1..];
    Ok(Value::from(
        items
            .into_iter()
            .filter(|item| !omit.iter().any(|o| deep_equal(item, o)))
            .collect::<Vec<_>>(),
    ))
}

fn uniq(values: &[Value]) -> FuncResult {
    let args = Args::new("uniq", values);
    args.exact(1)?;
    let mut out: Vec<Value> = Vec::new();
    for item in items_of("uniq", "find uniq", &args.value(0))? {
        if !out.iter().any(|seen| deep_equal(seen, &item)) {
            out.push(item);
        }
    }
    Ok(Value::from(out))
}

fn compact(values: &[Value]) -> FuncResult {
    let args = Args::new("compact", values);
    args.exact(1)?;
    let items = items_of("compact", "compact", &args.value(0))?;
    Ok(Value::from(
        items
            .into_iter()
            .filter(|v| !is_empty(v))
            .collect::<Vec<_>>(),
    ))
}

fn concat(values: &[Value]) -> FuncResult {
    let mut out = Vec::new();
    for value in values {
        match GoValue::of(value) {
            GoValue::Seq(items) => out.extend(items),
            _ => {
                return Err(invalid(
                    "concat",
                    format!("Cannot concat type {} as list", go_kind_name(value)),
                ))
            }
        }
    }
    Ok(Value::from(out))
}

fn reverse(values: &[Value]) -> FuncResult {
    let args = Args::new("reverse", values);
    args.exact(1)?;
    let mut items = items_of("reverse", "find reverse", &args.value(0))?;
    items.reverse();
    Ok(Value::from(items))
}

/// `sortAlpha`: the items as strings (nil dropped), sorted; a non-list becomes a one-item list.
fn sort_alpha(values: &[Value]) -> FuncResult {
    let args = Args::new("sortAlpha", values);
    args.exact(1)?;
    let mut items = str_slice(&args.value(0));
    items.sort();
    Ok(Value::from(
        items.into_iter().map(Value::from).collect::<Vec<_>>(),
    ))
}

/// Longest list `until`/`untilStep` build, to keep a typo from exhausting memory.
const MAX_RANGE_LEN: i64 = 1 << 20;

fn range_list(func: &'static str, start: i64, stop: i64, step: i64) -> FuncResult {
    if step == 0 || (step > 0 && start >= stop) || (step < 0 && start <= stop) {
        return Ok(Value::from(Vec::<Value>::new()));
    }
    let len = (stop.abs_diff(start) / step.unsigned_abs()) as i64;
    if len > MAX_RANGE_LEN {
        return Err(invalid(func, format!("range of {len} items is too long")));
    }
    let mut out = Vec::new();
    let mut i = start;
    while (step > 0 && i < stop) || (step < 0 && i > stop) {
        out.push(Value::from(i));
        i += step;
    }
    Ok(Value::from(out))
}

fn until(values: &[Value]) -> FuncResult {
    let args = Args::new("until", values);
    args.exact(1)?;
    let count = args.int(0)?;
    range_list("until", 0, count, if count < 0 { -1 } else { 1 })
}

fn until_step(values: &[Value]) -> FuncResult {
    let args = Args::new("untilStep", values);
    args.exact(3)?;
    range_list("untilStep", args.int(0)?, args.int(1)?, args.int(2)?)
}

fn to_strings(values: &[Value]) -> FuncResult {
    let args = Args::new("toStrings", values);
    args.exact(1)?;
    Ok(Value::from(
        str_slice(&args.value(0))
            .into_iter()
            .map(Value::from)
            .collect::<Vec<_>>(),
    ))
}

/// Go's builtin `len`: bytes of a string, items of a list or map.
fn len(values: &[Value]) -> FuncResult {
    let args = Args::new("len", values);
    args.exact(1)?;
    let value = args.value(0);
    let n = match GoValue::of(&value) {
        GoValue::Str(s) => s.len(),
        GoValue::Seq(items) => items.len(),
        GoValue::Map(entries) => entries.len(),
        GoValue::Nil => return Err(invalid("len", "len of nil pointer")),
        _ => {
            return Err(invalid(
                "len",
                format!("len of type {}", go_kind_name(&value)),
            ))
        }
    };
    Ok(Value::from(n as i64))
}

/// Sprig's `slice list [start [end]]` (lists only; an empty list gives nil).
fn slice(values: &[Value]) -> FuncResult {
    let args = Args::new("slice", values);
    args.at_least(1)?;
    let list = args.value(0);
    let items = match GoValue::of(&list) {
        GoValue::Seq(items) => items,
        _ => {
            return Err(invalid(
                "slice",
                format!(
                    "list should be type of slice or array but {}",
                    go_kind_name(&list)
                ),
            ))
        }
    };
    if items.is_empty() {
        return Ok(Value::from(()));
    }
    let start = if args.len() > 1 {
        args.lenient_int(1)
    } else {
        0
    };
    let end = if args.len() > 2 {
        args.lenient_int(2)
    } else {
        items.len() as i64
    };
    if start < 0 || end < start || end > items.len() as i64 {
        return Err(invalid(
            "slice",
            format!("slice bounds out of range [{start}:{end}]"),
        ));
    }
    Ok(Value::from(items[start as usize..end as usize].to_vec()))
}

/// Go's builtin `index item k1 k2 ...`: map keys (missing gives nil) and list positions.
fn index(values: &[Value]) -> FuncResult {
    let args = Args::new("index", values);
    args.at_least(1)?;
    let mut current = args.value(0);
    for key in &values[1..] {
        let position = |len: usize| -> FuncResult<usize> {
            match GoValue::of(key) {
                GoValue::Int(i) if i >= 0 && (i as usize) < len => Ok(i as usize),
                GoValue::Int(i) => Err(invalid("index", format!("index out of range: {i}"))),
                _ => Err(invalid(
                    "index",
                    format!("cannot index slice/array with type {}", go_type_name(key)),
                )),
            }
        };
        current = match go_kind(&current) {
            GoKind::Map => match key.as_str() {
                Some(k) => map_get(&current, k).unwrap_or(Value::from(())),
                None => {
                    return Err(invalid(
                        "index",
                        format!("value has type {}; should be string", go_type_name(key)),
                    ))
                }
            },
            GoKind::Seq => {
                let items = seq_items(&current).unwrap_or_default();
                items[position(items.len())?].clone()
            }
            GoKind::Str => {
                let text = current.as_str().unwrap_or_default().to_string();
                Value::from(text.as_bytes()[position(text.len())?] as i64)
            }
            GoKind::Nil => return Err(invalid("index", "index of untyped nil")),
            _ => {
                return Err(invalid(
                    "index",
                    format!("can't index item of type {}", go_kind_name(&current)),
                ))
            }
        };
    }
    Ok(current)
}

/// `chunk size list`: consecutive groups of `size` items.
fn chunk(values: &[Value]) -> FuncResult {
    let args = Args::new("chunk", values);
    args.exact(2)?;
    let size = args.int(0)?;
    if size <= 0 {
        return Err(invalid(
            "chunk",
            format!("chunk size must be positive, got {size}"),
        ));
    }
    let items = items_of("chunk", "chunk", &args.value(1))?;
    Ok(Value::from(
        items
            .chunks(size as usize)
            .map(|c| Value::from(c.to_vec()))
            .collect::<Vec<_>>(),
    ))
}

/// Sprig's `seq`, like the Unix command: `seq 3` is "1 2 3", `seq 2 5`, `seq 5 -2 1`.
fn seq(values: &[Value]) -> FuncResult {
    let args = Args::new("seq", values);
    let params: Vec<i64> = (0..args.len())
        .map(|i| args.int(i))
        .collect::<Result<_, _>>()?;
    let (start, end, step) = match params[..] {
        [end] => (1, end, if end < 1 { -1 } else { 1 }),
        [start, end] => (start, end, if end < start { -1 } else { 1 }),
        [start, step, end] => {
            if end < start && step > 0 {
                return Ok(Value::from(""));
            }
            (start, end, step)
        }
        _ => return Ok(Value::from("")),
    };
    let direction = if end < start { -1 } else { 1 };
    let numbers = range_list("seq", start, end.saturating_add(direction), step)?;
    let text: Vec<String> = numbers
        .try_iter()
        .map(|it| it.map(|v| v.to_string()).collect())
        .unwrap_or_default();
    Ok(Value::from(text.join(" ")))
}
