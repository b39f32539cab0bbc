//! Helm's `--set` family of flags (Helm's `strvals` grammar), merged into existing values.
//!
//! Grammar: comma-separated `key=value` pairs; keys are dotted (`a.b.c`) with list indexes
//! (`a[0]`, `a[1].b`, `a[0][1]`); `\` escapes the next character (`a\.b=c`, `a=x\,y`); a value
//! `{x,y}` is a list. Typing (`--set` only): `true`/`false` in any case are booleans, `null` in
//! any case is null, a base-10 integer without a leading zero that fits 64 bits is an integer,
//! everything else is a string.
//!
//! Deliberately stricter than Helm: expressions Helm silently ignores (`=x`, `.a=x`, `a[0`,
//! `a[=x`) and type conflicts that make Helm panic (`a=1,a.b=2`) are errors here.

mod parser;

use std::path::Path;

use crate::error::ValuesError;
use crate::Map;

pub use parser::SetFlag;

/// `--set`: typed values.
pub fn parse_set(expr: &str, into: &mut Map) -> Result<(), ValuesError> {
    parser::parse(SetFlag::Set, expr, into, None).map(drop)
}

/// `--set-string`: every value is a string.
pub fn parse_set_string(expr: &str, into: &mut Map) -> Result<(), ValuesError> {
    parser::parse(SetFlag::SetString, expr, into, None).map(drop)
}

/// `--set-json`: values are JSON (`a={"b":1}`, `a[0]=[1,2]`), or the whole expression is one
/// JSON object that is deep-merged. JSON numbers become float64, as in Helm.
pub fn parse_set_json(expr: &str, into: &mut Map) -> Result<(), ValuesError> {
    parser::parse(SetFlag::SetJson, expr, into, None).map(drop)
}

/// `--set-file`: values are paths (relative to `base_dir`, normally the current directory)
/// whose contents become string values.
pub fn parse_set_file(expr: &str, into: &mut Map, base_dir: &Path) -> Result<(), ValuesError> {
    parser::parse(SetFlag::SetFile, expr, into, Some(base_dir)).map(drop)
}

/// `--set-literal`: one key, and everything after the first `=` is the string value, commas
/// and backslashes included.
pub fn parse_set_literal(expr: &str, into: &mut Map) -> Result<(), ValuesError> {
    parser::parse(SetFlag::SetLiteral, expr, into, None).map(drop)
}

/// Parse with any flag, returning the value paths the expression assigned (in order), so that
/// callers can record where each value came from.
pub fn parse_with_paths(
    flag: SetFlag,
    expr: &str,
    into: &mut Map,
    base_dir: &Path,
) -> Result<Vec<String>, ValuesError> {
    parser::parse(flag, expr, into, Some(base_dir))
}
