//! Type inspection with Go's names (`typeOf`, `kindOf`, `typeIs`, `kindIs`).
//!
//! minijinja has a single integer type, which reports as `int`; `kindIs`/`typeIs` accept
//! both `int` and `int64` for it, since Helm produces either depending on where the number
//! came from (`--set` gives int64, literals int).

use minijinja::value::Value;

use super::HelmFn;
use crate::access::{go_kind_name, go_type_name};
use crate::args::Args;
use crate::error::FuncResult;

pub(crate) const FUNCS: &[(&str, HelmFn)] = &[
    ("typeOf", type_of),
    ("kindOf", kind_of),
    ("typeIs", type_is),
    ("kindIs", kind_is),
    ("typeIsLike", type_is),
];

fn type_of(values: &[Value]) -> FuncResult {
    let args = Args::new("typeOf", values);
    args.exact(1)?;
    Ok(Value::from(go_type_name(&args.value(0))))
}

fn kind_of(values: &[Value]) -> FuncResult {
    let args = Args::new("kindOf", values);
    args.exact(1)?;
    Ok(Value::from(go_kind_name(&args.value(0))))
}

fn names_match(wanted: &str, actual: &str) -> bool {
    wanted == actual || (actual == "int" && wanted == "int64")
}

fn type_is(values: &[Value]) -> FuncResult {
    let args = Args::new("typeIs", values);
    args.exact(2)?;
    Ok(Value::from(names_match(
        &args.string(0)?,
        &go_type_name(&args.value(1)),
    )))
}

fn kind_is(values: &[Value]) -> FuncResult {
    let args = Args::new("kindIs", values);
    args.exact(2)?;
    Ok(Value::from(names_match(
        &args.string(0)?,
        go_kind_name(&args.value(1)),
    )))
}
