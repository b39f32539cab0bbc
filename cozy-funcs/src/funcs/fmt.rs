//! `printf`, `print` and `println`: Go's `fmt` over template values.

use minijinja::value::Value;

use super::HelmFn;
use crate::args::Args;
use crate::error::FuncResult;
use crate::printf::{sprint, sprintf, sprintln};

pub(crate) const FUNCS: &[(&str, HelmFn)] =
    &[("printf", printf), ("print", print), ("println", println)];

fn printf(values: &[Value]) -> FuncResult {
    let args = Args::new("printf", values);
    args.at_least(1)?;
    Ok(Value::from(sprintf(&args.string(0)?, &values[1..])))
}

fn print(values: &[Value]) -> FuncResult {
    Ok(Value::from(sprint(values)))
}

fn println(values: &[Value]) -> FuncResult {
    Ok(Value::from(sprintln(values)))
}
