//! Integer arithmetic and conversions. Sprig's math converts every operand with `toInt64`
//! first, so `add 1.5 1.5` is 2 and `max 1 5.5` is 5.

use minijinja::value::Value;

use super::HelmFn;
use crate::args::Args;
use crate::convert::{to_float64, to_int64};
use crate::error::{invalid, FuncResult};

pub(crate) const FUNCS: &[(&str, HelmFn)] = &[
    ("add", add),
    ("add1", add1),
    ("sub", sub),
    ("mul", mul),
    ("div", div),
    ("mod", modulo),
    ("max", max),
    ("min", min),
    ("int", int),
    ("int64", int),
    ("float64", float64),
    ("atoi", atoi),
];

fn add(values: &[Value]) -> FuncResult {
    Ok(Value::from(
        values.iter().map(to_int64).fold(0i64, i64::wrapping_add),
    ))
}

fn add1(values: &[Value]) -> FuncResult {
    let args = Args::new("add1", values);
    args.exact(1)?;
    Ok(Value::from(args.lenient_int(0).wrapping_add(1)))
}

fn sub(values: &[Value]) -> FuncResult {
    let args = Args::new("sub", values);
    args.exact(2)?;
    Ok(Value::from(
        args.lenient_int(0).wrapping_sub(args.lenient_int(1)),
    ))
}

fn mul(values: &[Value]) -> FuncResult {
    let args = Args::new("mul", values);
    args.at_least(1)?;
    Ok(Value::from(
        values.iter().map(to_int64).fold(1i64, i64::wrapping_mul),
    ))
}

fn div(values: &[Value]) -> FuncResult {
    let args = Args::new("div", values);
    args.exact(2)?;
    let divisor = args.lenient_int(1);
    if divisor == 0 {
        return Err(invalid("div", "runtime error: integer divide by zero"));
    }
    Ok(Value::from(args.lenient_int(0).wrapping_div(divisor)))
}

fn modulo(values: &[Value]) -> FuncResult {
    let args = Args::new("mod", values);
    args.exact(2)?;
    let divisor = args.lenient_int(1);
    if divisor == 0 {
        return Err(invalid("mod", "runtime error: integer divide by zero"));
    }
    Ok(Value::from(args.lenient_int(0).wrapping_rem(divisor)))
}

fn max(values: &[Value]) -> FuncResult {
    let args = Args::new("max", values);
    args.at_least(1)?;
    Ok(Value::from(values.iter().map(to_int64).max().unwrap_or(0)))
}

fn min(values: &[Value]) -> FuncResult {
    let args = Args::new("min", values);
    args.at_least(1)?;
    Ok(Value::from(values.iter().map(to_int64).min().unwrap_or(0)))
}

fn int(values: &[Value]) -> FuncResult {
    let args = Args::new("int", values);
    args.exact(1)?;
    Ok(Value::from(args.lenient_int(0)))
}

fn float64(values: &[Value]) -> FuncResult {
    let args = Args::new("float64", values);
    args.exact(1)?;
    Ok(Value::from(to_float64(&args.value(0))))
}

/// Go's `strconv.Atoi` with Sprig's error swallowing: decimal digits only, else 0.
fn atoi(values: &[Value]) -> FuncResult {
    let args = Args::new("atoi", values);
    args.exact(1)?;
    Ok(Value::from(args.string(0)?.parse::<i64>().unwrap_or(0)))
}
