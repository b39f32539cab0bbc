//! String functions: Sprig's argument order (the subject string comes last, so it can be piped).

use base64::Engine as _;
use minijinja::value::Value;
use sha2::{Digest, Sha256};

use super::HelmFn;
use crate::access::GoValue;
use crate::args::Args;
use crate::convert::strval;
use crate::error::FuncResult;
use crate::go_print::go_quote;
use crate::mutable_map::MutableMap;

pub(crate) const FUNCS: &[(&str, HelmFn)] = &[
    ("toString", to_string),
    ("quote", quote),
    ("squote", squote),
    ("indent", indent),
    ("nindent", nindent),
    ("trim", trim),
    ("trimAll", trim_all),
    ("trimPrefix", trim_prefix),
    ("trimSuffix", trim_suffix),
    ("trunc", trunc),
    ("replace", replace),
    ("lower", lower),
    ("upper", upper),
    ("title", title),
    ("contains", contains),
    ("hasPrefix", has_prefix),
    ("hasSuffix", has_suffix),
    ("repeat", repeat),
    ("nospace", nospace),
    ("cat", cat),
    ("split", split),
    ("splitList", split_list),
    ("join", join),
    ("b64enc", b64enc),
    ("b64dec", b64dec),
    ("sha256sum", sha256sum),
    ("substr", substr),
    ("camelcase", camelcase),
];

fn to_string(values: &[Value]) -> FuncResult {
    let args = Args::new("toString", values);
    args.exact(1)?;
    Ok(Value::from(strval(&args.value(0))))
}

/// Each non-nil argument as a Go-quoted string, joined by spaces (`quote nil` is empty).
fn quote(values: &[Value]) -> FuncResult {
    let parts: Vec<String> = values
        .iter()
        .filter(|v| !matches!(GoValue::of(v), GoValue::Nil))
        .map(|v| go_quote(&strval(v)))
        .collect();
    Ok(Value::from(parts.join(" ")))
}

fn squote(values: &[Value]) -> FuncResult {
    let parts: Vec<String> = values
        .iter()
        .filter(|v| !matches!(GoValue::of(v), GoValue::Nil))
        .map(|v| format!("'{}'", strval(v)))
        .collect();
    Ok(Value::from(parts.join(" ")))
}

/// Widest indentation `indent`/`nindent` accept; anything near it is a template bug.
const MAX_INDENT: i64 = 4096;

fn indent_text(func: &'static str, spaces: i64, text: &str) -> FuncResult<String> {
    if spaces > MAX_INDENT {
        return Err(crate::error::invalid(
            func,
            format!("indentation of {spaces} spaces is too wide"),
        ));
    }
    let pad = " ".repeat(spaces.max(0) as usize);
    Ok(format!("{pad}{}", text.replace('\n', &format!("\n{pad}"))))
}

fn indent(values: &[Value]) -> FuncResult {
    let args = Args::new("indent", values);
    args.exact(2)?;
    Ok(Value::from(indent_text(
        "indent",
        args.int(0)?,
        &args.string(1)?,
    )?))
}

fn nindent(values: &[Value]) -> FuncResult {
    let args = Args::new("nindent", values);
    args.exact(2)?;
    let text = indent_text("nindent", args.int(0)?, &args.string(1)?)?;
    Ok(Value::from(format!("\n{text}")))
}

fn trim(values: &[Value]) -> FuncResult {
    let args = Args::new("trim", values);
    args.exact(1)?;
    Ok(Value::from(args.string(0)?.trim()))
}

fn trim_all(values: &[Value]) -> FuncResult {
    let args = Args::new("trimAll", values);
    args.exact(2)?;
    let cutset: Vec<char> = args.string(0)?.chars().collect();
    Ok(Value::from(
        args.string(1)?.trim_matches(|c| cutset.contains(&c)),
    ))
}

fn trim_prefix(values: &[Value]) -> FuncResult {
    let args = Args::new("trimPrefix", values);
    args.exact(2)?;
    let (prefix, s) = (args.string(0)?, args.string(1)?);
    Ok(Value::from(s.strip_prefix(prefix.as_str()).unwrap_or(&s)))
}

fn trim_suffix(values: &[Value]) -> FuncResult {
    let args = Args::new("trimSuffix", values);
    args.exact(2)?;
    let (suffix, s) = (args.string(0)?, args.string(1)?);
    Ok(Value::from(s.strip_suffix(suffix.as_str()).unwrap_or(&s)))
}

/// Nearest char boundary at or below byte index `i` (Go slices bytes; we never split a
/// UTF-8 sequence).
fn floor_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// `trunc n s`: the first n bytes; a negative n keeps the last |n| bytes.
fn trunc(values: &[Value]) -> FuncResult {
    let args = Args::new("trunc", values);
    args.exact(2)?;
    let (count, s) = (args.int(0)?, args.string(1)?);
    let len = s.len() as i64;
    let out = if count < 0 && len + count > 0 {
        let start = (len + count) as usize;
        let start = (start..=s.len())
            .find(|&i| s.is_char_boundary(i))
            .unwrap_or(s.len());
        &s[start..]
    } else if count >= 0 && len > count {
        &s[..floor_boundary(&s, count as usize)]
    } else {
        &s[..]
    };
    Ok(Value::from(out))
}

fn replace(values: &[Value]) -> FuncResult {
    let args = Args::new("replace", values);
    args.exact(3)?;
    let (old, new, src) = (args.string(0)?, args.string(1)?, args.string(2)?);
    let out = if old.is_empty() {
        // Go inserts `new` before every rune and at the end.
        let mut out = String::new();
        for c in src.chars() {
            out.push_str(&new);
            out.push(c);
        }
        out.push_str(&new);
        out
    } else {
        src.replace(&old, &new)
    };
    Ok(Value::from(out))
}

fn lower(values: &[Value]) -> FuncResult {
    let args = Args::new("lower", values);
    args.exact(1)?;
    Ok(Value::from(
        args.string(0)?.chars().map(go_to_lower).collect::<String>(),
    ))
}

fn upper(values: &[Value]) -> FuncResult {
    let args = Args::new("upper", values);
    args.exact(1)?;
    Ok(Value::from(
        args.string(0)?.chars().map(go_to_upper).collect::<String>(),
    ))
}

/// Go's `unicode.ToUpper`: a one-to-one rune mapping (`ß` stays `ß`, it never becomes `SS`).
fn go_to_upper(c: char) -> char {
    let mut upper = c.to_uppercase();
    match (upper.next(), upper.next()) {
        (Some(u), None) => u,
        _ => c,
    }
}

/// Go's `unicode.ToLower`: one-to-one (`İ` becomes `i`, without a combining dot).
fn go_to_lower(c: char) -> char {
    c.to_lowercase().next().unwrap_or(c)
}

/// Go's `strings.Title` word boundaries: ASCII letters, digits and `_` continue a word,
/// other ASCII characters separate; beyond ASCII only spaces separate.
fn is_title_separator(c: char) -> bool {
    if c.is_ascii() {
        !(c.is_ascii_alphanumeric() || c == '_')
    } else {
        !c.is_alphanumeric() && c.is_whitespace()
    }
}

/// Go's `strings.Title`: upper-case the first letter of every word.
fn title(values: &[Value]) -> FuncResult {
    let args = Args::new("title", values);
    args.exact(1)?;
    let mut out = String::new();
    let mut previous_separates = true;
    for c in args.string(0)?.chars() {
        out.push(if previous_separates {
            go_to_upper(c)
        } else {
            c
        });
        previous_separates = is_title_separator(c);
    }
    Ok(Value::from(out))
}

fn contains(values: &[Value]) -> FuncResult {
    let args = Args::new("contains", values);
    args.exact(2)?;
    Ok(Value::from(args.string(1)?.contains(&args.string(0)?)))
}

fn has_prefix(values: &[Value]) -> FuncResult {
    let args = Args::new("hasPrefix", values);
    args.exact(2)?;
    Ok(Value::from(args.string(1)?.starts_with(&args.string(0)?)))
}

fn has_suffix(values: &[Value]) -> FuncResult {
    let args = Args::new("hasSuffix", values);
    args.exact(2)?;
    Ok(Value::from(args.string(1)?.ends_with(&args.string(0)?)))
}

/// Largest output `repeat` builds; a template asking for more is almost certainly a bug.
const MAX_REPEAT_BYTES: usize = 16 << 20;

fn repeat(values: &[Value]) -> FuncResult {
    let args = Args::new("repeat", values);
    args.exact(2)?;
    let (count, s) = (args.int(0)?, args.string(1)?);
    if count < 0 {
        return Err(crate::error::invalid(
            "repeat",
            "strings: negative Repeat count",
        ));
    }
    if s.len().saturating_mul(count as usize) > MAX_REPEAT_BYTES {
        return Err(crate::error::invalid(
            "repeat",
            format!("result of {count} repetitions is too large"),
        ));
    }
    Ok(Value::from(s.repeat(count as usize)))
}

fn nospace(values: &[Value]) -> FuncResult {
    let args = Args::new("nospace", values);
    args.exact(1)?;
    Ok(Value::from(
        args.string(0)?
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>(),
    ))
}

/// `cat`: every non-nil argument's string form, space separated.
fn cat(values: &[Value]) -> FuncResult {
    let parts: Vec<String> = values
        .iter()
        .filter(|v| !matches!(GoValue::of(v), GoValue::Nil))
        .map(strval)
        .collect();
    Ok(Value::from(parts.join(" ")))
}

fn split_parts(sep: &str, s: &str) -> Vec<String> {
    if sep.is_empty() {
        s.chars().map(String::from).collect()
    } else {
        s.split(sep).map(String::from).collect()
    }
}

/// `split sep s`: a map `_0`, `_1`, ... of the pieces.
fn split(values: &[Value]) -> FuncResult {
    let args = Args::new("split", values);
    args.exact(2)?;
    let parts = split_parts(&args.string(0)?, &args.string(1)?);
    Ok(MutableMap::into_value(
        parts
            .into_iter()
            .enumerate()
            .map(|(i, p)| (format!("_{i}"), Value::from(p)))
            .collect(),
    ))
}

fn split_list(values: &[Value]) -> FuncResult {
    let args = Args::new("splitList", values);
    args.exact(2)?;
    let parts = split_parts(&args.string(0)?, &args.string(1)?);
    Ok(Value::from(
        parts.into_iter().map(Value::from).collect::<Vec<_>>(),
    ))
}

/// Sprig's `strslice`: a list's non-nil items as strings, a string as itself, nil as nothing.
pub(crate) fn str_slice(value: &Value) -> Vec<String> {
    match GoValue::of(value) {
        GoValue::Seq(items) => items
            .iter()
            .filter(|v| !matches!(GoValue::of(v), GoValue::Nil))
            .map(strval)
            .collect(),
        GoValue::Nil => Vec::new(),
        _ => vec![strval(value)],
    }
}

fn join(values: &[Value]) -> FuncResult {
    let args = Args::new("join", values);
    args.exact(2)?;
    Ok(Value::from(
        str_slice(&args.value(1)).join(&args.string(0)?),
    ))
}

fn b64enc(values: &[Value]) -> FuncResult {
    let args = Args::new("b64enc", values);
    args.exact(1)?;
    Ok(Value::from(
        base64::engine::general_purpose::STANDARD.encode(args.string(0)?),
    ))
}

/// `b64dec`: like Sprig, a malformed input yields the decoder's error text, not a failure.
fn b64dec(values: &[Value]) -> FuncResult {
    let args = Args::new("b64dec", values);
    args.exact(1)?;
    let input = args.string(0)?;
    let out = match base64::engine::general_purpose::STANDARD.decode(&input) {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(err) => go_base64_error(&input, err),
    };
    Ok(Value::from(out))
}

fn go_base64_error(input: &str, err: base64::DecodeError) -> String {
    let offset = match err {
        base64::DecodeError::InvalidByte(offset, _) => offset,
        base64::DecodeError::InvalidLastSymbol(offset, _) => offset,
        _ => input.len() - input.len() % 4,
    };
    format!("illegal base64 data at input byte {offset}")
}

fn sha256sum(values: &[Value]) -> FuncResult {
    let args = Args::new("sha256sum", values);
    args.exact(1)?;
    let digest = Sha256::digest(args.string(0)?.as_bytes());
    Ok(Value::from(
        digest
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>(),
    ))
}

/// Sprig's `substr start end s` (bytes; a negative start means 0, a negative or too large
/// end means the rest).
fn substr(values: &[Value]) -> FuncResult {
    let args = Args::new("substr", values);
    args.exact(3)?;
    let (start, end, s) = (args.int(0)?, args.int(1)?, args.string(2)?);
    let len = s.len() as i64;
    let (from, to) = if start < 0 {
        (0, end)
    } else if end < 0 || end > len {
        (start, len)
    } else {
        (start, end)
    };
    if from > to || to > len || from > len {
        return Err(crate::error::invalid(
            "substr",
            format!("slice bounds out of range [{from}:{to}]"),
        ));
    }
    let from = (from as usize..=s.len())
        .find(|&i| s.is_char_boundary(i))
        .unwrap_or(s.len());
    let to = floor_boundary(&s, to as usize).max(from);
    Ok(Value::from(&s[from..to]))
}

fn is_connector(c: char) -> bool {
    c == '-' || c == '_' || c.is_whitespace()
}

/// xstrings' `ToCamelCase` as Sprig's `camelcase` uses it: connectors (`-`, `_`, spaces)
/// are dropped and the next letter upper-cased; leading connectors and runs of them keep
/// all but one.
fn camelcase(values: &[Value]) -> FuncResult {
    let args = Args::new("camelcase", values);
    args.exact(1)?;
    let input = args.string(0)?;
    let mut chars = input.chars();
    let mut out = String::new();
    let mut r0 = None;
    for c in chars.by_ref() {
        if !is_connector(c) {
            r0 = Some(go_to_upper(c));
            break;
        }
        out.push(c);
    }
    let Some(mut r0) = r0 else {
        return Ok(Value::from(out));
    };
    for c in chars {
        let r1 = r0;
        r0 = c;
        if is_connector(r0) && is_connector(r1) {
            out.push(r1);
            continue;
        }
        if is_connector(r1) {
            r0 = go_to_upper(r0);
        } else {
            out.push(r1);
        }
    }
    out.push(r0);
    Ok(Value::from(out))
}
