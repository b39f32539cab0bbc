//! Defaults, emptiness and comparisons: Sprig's `default`/`empty`/`coalesce`/`ternary` and
//! Go's comparison builtins with Go's type rules (comparing an int with a string fails).

use std::cmp::Ordering;

use minijinja::value::Value;

use super::HelmFn;
use crate::access::{go_kind_name, GoValue};
use crate::args::Args;
use crate::error::{invalid, FuncResult};
use crate::truthy::is_empty;

pub(crate) const FUNCS: &[(&str, HelmFn)] = &[
    ("default", default),
    ("empty", empty),
    ("coalesce", coalesce),
    ("ternary", ternary),
    ("not", not),
    ("eq", eq),
    ("ne", ne),
    ("lt", lt),
    ("le", le),
    ("gt", gt),
    ("ge", ge),
];

/// `default d given`: `given` unless it is empty (false, 0, "", nil, empty list/map).
fn default(values: &[Value]) -> FuncResult {
    let args = Args::new("default", values);
    args.at_least(1)?;
    if args.len() < 2 || is_empty(&args.value(1)) {
        Ok(args.value(0))
    } else {
        Ok(args.value(1))
    }
}

fn empty(values: &[Value]) -> FuncResult {
    let args = Args::new("empty", values);
    args.exact(1)?;
    Ok(Value::from(is_empty(&args.value(0))))
}

fn coalesce(values: &[Value]) -> FuncResult {
    Ok(values
        .iter()
        .find(|v| !is_empty(v))
        .cloned()
        .unwrap_or(Value::from(())))
}

/// `ternary a b cond`: the condition must be a bool, as in Go.
fn ternary(values: &[Value]) -> FuncResult {
    let args = Args::new("ternary", values);
    args.exact(3)?;
    Ok(if args.bool(2)? {
        args.value(0)
    } else {
        args.value(1)
    })
}

fn not(values: &[Value]) -> FuncResult {
    let args = Args::new("not", values);
    args.exact(1)?;
    Ok(Value::from(is_empty(&args.value(0))))
}

/// A value reduced to one of Go's comparable basic kinds.
#[derive(Debug, PartialEq, PartialOrd)]
enum Basic {
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
}

fn basic(func: &'static str, value: &Value) -> FuncResult<Option<Basic>> {
    Ok(Some(match GoValue::of(value) {
        GoValue::Nil => return Ok(None),
        GoValue::Bool(b) => Basic::Bool(b),
        GoValue::Int(i) => Basic::Int(i as i128),
        GoValue::Uint(u) => Basic::Int(u as i128),
        GoValue::Float(f) => Basic::Float(f),
        GoValue::Str(s) => Basic::Str(s),
        _ => {
            return Err(invalid(
                func,
                format!("invalid type for comparison: {}", go_kind_name(value)),
            ))
        }
    }))
}

fn compare(func: &'static str, a: &Basic, b: &Basic) -> FuncResult<Option<Ordering>> {
    let kind = |x: &Basic| match x {
        Basic::Bool(_) => "bool",
        Basic::Int(_) => "int",
        Basic::Float(_) => "float64",
        Basic::Str(_) => "string",
    };
    if std::mem::discriminant(a) != std::mem::discriminant(b) {
        return Err(invalid(
            func,
            format!(
                "incompatible types for comparison: {} and {}",
                kind(a),
                kind(b)
            ),
        ));
    }
    Ok(a.partial_cmp(b))
}

/// Go's `eq arg1 arg2...`: true when arg1 equals any of the others; nil equals only nil.
fn eq(values: &[Value]) -> FuncResult {
    let args = Args::new("eq", values);
    args.at_least(2)?;
    let first = basic("eq", &args.value(0))?;
    for other in &values[1..] {
        let other = basic("eq", other)?;
        let equal = match (&first, &other) {
            (None, None) => true,
            (Some(a), Some(b)) => compare("eq", a, b)? == Some(Ordering::Equal),
            _ => false,
        };
        if equal {
            return Ok(Value::from(true));
        }
    }
    Ok(Value::from(false))
}

fn ne(values: &[Value]) -> FuncResult {
    let args = Args::new("ne", values);
    args.exact(2)?;
    Ok(Value::from(!eq(values)?.is_true()))
}

fn ordered(func: &'static str, values: &[Value], accept: fn(Ordering) -> bool) -> FuncResult {
    let args = Args::new(func, values);
    args.exact(2)?;
    let (a, b) = (basic(func, &args.value(0))?, basic(func, &args.value(1))?);
    let (Some(a), Some(b)) = (a, b) else {
        return Err(invalid(func, "invalid type for comparison"));
    };
    if matches!(a, Basic::Bool(_)) {
        return Err(invalid(func, "invalid type for comparison"));
    }
    Ok(Value::from(compare(func, &a, &b)?.is_some_and(accept)))
}

fn lt(values: &[Value]) -> FuncResult {
    ordered("lt", values, |o| o == Ordering::Less)
}

fn le(values: &[Value]) -> FuncResult {
    ordered("le", values, |o| o != Ordering::Greater)
}

fn gt(values: &[Value]) -> FuncResult {
    ordered("gt", values, |o| o == Ordering::Greater)
}

fn ge(values: &[Value]) -> FuncResult {
    ordered("ge", values, |o| o != Ordering::Less)
}
