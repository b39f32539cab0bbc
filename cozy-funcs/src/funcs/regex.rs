//! Regular expressions (Go's RE2 syntax). Like Sprig, `regexMatch` treats an invalid
//! pattern as no match, while the replacing and finding functions fail on it.

use minijinja::value::Value;
use regex::Regex;

use super::HelmFn;
use crate::args::Args;
use crate::error::{invalid, FuncResult};

pub(crate) const FUNCS: &[(&str, HelmFn)] = &[
    ("regexMatch", regex_match),
    ("mustRegexMatch", must_regex_match),
    ("regexReplaceAll", regex_replace_all),
    ("regexReplaceAllLiteral", regex_replace_all_literal),
    ("regexFind", regex_find),
    ("regexFindAll", regex_find_all),
    ("regexSplit", regex_split),
];

/// Largest compiled pattern accepted; bounds memory for hostile patterns.
const MAX_REGEX_SIZE: usize = 1 << 20;

fn compile(func: &'static str, pattern: &str) -> FuncResult<Regex> {
    regex::RegexBuilder::new(pattern)
        .size_limit(MAX_REGEX_SIZE)
        .build()
        .map_err(|err| invalid(func, format!("regexp: Compile({pattern:?}): {err}")))
}

fn regex_match(values: &[Value]) -> FuncResult {
    let args = Args::new("regexMatch", values);
    args.exact(2)?;
    let (pattern, s) = (args.string(0)?, args.string(1)?);
    Ok(Value::from(
        compile("regexMatch", &pattern).is_ok_and(|re| re.is_match(&s)),
    ))
}

fn must_regex_match(values: &[Value]) -> FuncResult {
    let args = Args::new("mustRegexMatch", values);
    args.exact(2)?;
    let (pattern, s) = (args.string(0)?, args.string(1)?);
    Ok(Value::from(
        compile("mustRegexMatch", &pattern)?.is_match(&s),
    ))
}

/// `regexReplaceAll re s repl`: `$1`/`${name}` in `repl` expand to groups.
fn regex_replace_all(values: &[Value]) -> FuncResult {
    let args = Args::new("regexReplaceAll", values);
    args.exact(3)?;
    let (pattern, s, repl) = (args.string(0)?, args.string(1)?, args.string(2)?);
    Ok(Value::from(
        compile("regexReplaceAll", &pattern)?
            .replace_all(&s, repl.as_str())
            .into_owned(),
    ))
}

fn regex_replace_all_literal(values: &[Value]) -> FuncResult {
    let args = Args::new("regexReplaceAllLiteral", values);
    args.exact(3)?;
    let (pattern, s, repl) = (args.string(0)?, args.string(1)?, args.string(2)?);
    let re = compile("regexReplaceAllLiteral", &pattern)?;
    Ok(Value::from(
        re.replace_all(&s, regex::NoExpand(&repl)).into_owned(),
    ))
}

fn regex_find(values: &[Value]) -> FuncResult {
    let args = Args::new("regexFind", values);
    args.exact(2)?;
    let (pattern, s) = (args.string(0)?, args.string(1)?);
    let re = compile("regexFind", &pattern)?;
    Ok(Value::from(re.find(&s).map(|m| m.as_str()).unwrap_or("")))
}

/// `regexFindAll re s n`: at most n matches, all of them when n is negative.
fn regex_find_all(values: &[Value]) -> FuncResult {
    let args = Args::new("regexFindAll", values);
    args.exact(3)?;
    let (pattern, s, n) = (args.string(0)?, args.string(1)?, args.int(2)?);
    let re = compile("regexFindAll", &pattern)?;
    let limit = if n < 0 { usize::MAX } else { n as usize };
    Ok(Value::from(
        re.find_iter(&s)
            .take(limit)
            .map(|m| Value::from(m.as_str()))
            .collect::<Vec<_>>(),
    ))
}

fn regex_split(values: &[Value]) -> FuncResult {
    let args = Args::new("regexSplit", values);
    args.exact(3)?;
    let (pattern, s, n) = (args.string(0)?, args.string(1)?, args.int(2)?);
    let re = compile("regexSplit", &pattern)?;
    let parts: Vec<Value> = if n < 0 {
        re.split(&s).map(Value::from).collect()
    } else if n == 0 {
        Vec::new()
    } else {
        re.splitn(&s, n as usize).map(Value::from).collect()
    };
    Ok(Value::from(parts))
}
