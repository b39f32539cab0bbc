//! YAML 1.1 plain-scalar resolution as Helm's YAML library (go-yaml v2) performs it.
//!
//! `toYaml` quotes a string exactly when its plain form would read back as something else
//! (`"true"`, `"1"`, `"on"`, `"~"`, `"2020-01-01"`, `"12:30"`), so the emitter needs the same
//! resolver the reader uses.

use crate::convert::parse_go_int;

/// What a plain (unquoted) scalar resolves to.
#[derive(Debug, Clone, PartialEq)]
pub enum PlainScalar {
    Null,
    Bool(bool),
    Int(i64),
    /// An integer above `i64::MAX` that still fits in 64 unsigned bits.
    Uint(u64),
    Float(f64),
    Timestamp,
    Str,
}

const NULLS: &[&str] = &["", "~", "null", "Null", "NULL"];
const TRUES: &[&str] = &[
    "y", "Y", "yes", "Yes", "YES", "on", "On", "ON", "true", "True", "TRUE",
];
const FALSES: &[&str] = &[
    "n", "N", "no", "No", "NO", "off", "Off", "OFF", "false", "False", "FALSE",
];

/// Resolves a plain scalar the way go-yaml v2 does.
pub fn resolve_plain(s: &str) -> PlainScalar {
    let Some(first) = s.chars().next() else {
        return PlainScalar::Null;
    };
    let hinted = matches!(
        first,
        '+' | '-' | '0'
            ..='9' | 'y' | 'Y' | 'n' | 'N' | 't' | 'T' | 'f' | 'F' | 'o' | 'O' | '~' | '.'
    );
    if !hinted {
        return PlainScalar::Str;
    }
    if NULLS.contains(&s) {
        return PlainScalar::Null;
    }
    if TRUES.contains(&s) {
        return PlainScalar::Bool(true);
    }
    if FALSES.contains(&s) {
        return PlainScalar::Bool(false);
    }
    match s {
        ".nan" | ".NaN" | ".NAN" => return PlainScalar::Float(f64::NAN),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return PlainScalar::Float(f64::INFINITY)
        }
        "-.inf" | "-.Inf" | "-.INF" => return PlainScalar::Float(f64::NEG_INFINITY),
        _ => {}
    }
    match first {
        '.' => match go_parse_float(s) {
            Some(f) => PlainScalar::Float(f),
            None => PlainScalar::Str,
        },
        '+' | '-' | '0'..='9' => resolve_number(s),
        _ => PlainScalar::Str,
    }
}

fn resolve_number(s: &str) -> PlainScalar {
    if is_timestamp(s) {
        return PlainScalar::Timestamp;
    }
    let plain = s.replace('_', "");
    if let Some(i) = parse_go_int(&plain) {
        return PlainScalar::Int(i);
    }
    if let Some(u) = parse_go_uint(&plain) {
        return PlainScalar::Uint(u);
    }
    if is_yaml_style_float(&plain) {
        if let Some(f) = go_parse_float(&plain) {
            return PlainScalar::Float(f);
        }
    }
    PlainScalar::Str
}

fn parse_go_uint(s: &str) -> Option<u64> {
    let lower = s.to_ascii_lowercase();
    let (radix, digits) = if let Some(rest) = lower.strip_prefix("0x") {
        (16, rest.to_string())
    } else if let Some(rest) = lower.strip_prefix("0o") {
        (8, rest.to_string())
    } else if let Some(rest) = lower.strip_prefix("0b") {
        (2, rest.to_string())
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, lower[1..].to_string())
    } else {
        (10, lower)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    u64::from_str_radix(&digits, radix).ok()
}

/// `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`
fn is_yaml_style_float(s: &str) -> bool {
    let body = s.strip_prefix(['-', '+']).unwrap_or(s);
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(pos) => (&body[..pos], Some(&body[pos + 1..])),
        None => (body, None),
    };
    let mantissa_ok = match mantissa.split_once('.') {
        Some(("", frac)) => !frac.is_empty() && frac.chars().all(|c| c.is_ascii_digit()),
        Some((int, frac)) => {
            int.chars().all(|c| c.is_ascii_digit()) && frac.chars().all(|c| c.is_ascii_digit())
        }
        None => !mantissa.is_empty() && mantissa.chars().all(|c| c.is_ascii_digit()),
    };
    let exponent_ok = match exponent {
        None => true,
        Some(e) => {
            let digits = e.strip_prefix(['-', '+']).unwrap_or(e);
            !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit())
        }
    };
    mantissa_ok && exponent_ok
}

/// Go's `strconv.ParseFloat` for decimal input (what YAML float candidates are).
fn go_parse_float(s: &str) -> Option<f64> {
    let valid = s
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '-' | '+'));
    if !valid || !s.chars().any(|c| c.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// go-yaml's timestamp forms: `2006-1-2`, optionally followed by `T`/`t`/space and a time.
fn is_timestamp(s: &str) -> bool {
    let bytes = s.as_bytes();
    if bytes.len() < 8 || !bytes[..4].iter().all(u8::is_ascii_digit) || bytes[4] != b'-' {
        return false;
    }
    let (date, time) = match s.find(['T', 't', ' ']) {
        Some(pos) => (&s[..pos], Some(&s[pos + 1..])),
        None => (s, None),
    };
    let parts: Vec<&str> = date.split('-').collect();
    let number = |p: &str, max: u32| -> bool {
        (1..=2).contains(&p.len())
            && p.chars().all(|c| c.is_ascii_digit())
            && p.parse::<u32>().is_ok_and(|n| (1..=max).contains(&n))
    };
    if parts.len() != 3 || parts[0].len() != 4 || !number(parts[1], 12) || !number(parts[2], 31) {
        return false;
    }
    match time {
        None => true,
        Some(t) => {
            let t = t.trim_end_matches('Z');
            let clock = t.split(['+', '-']).next().unwrap_or("");
            let clock = clock.split('.').next().unwrap_or("");
            let fields: Vec<&str> = clock.split(':').collect();
            fields.len() == 3
                && fields
                    .iter()
                    .all(|f| (1..=2).contains(&f.len()) && f.chars().all(|c| c.is_ascii_digit()))
        }
    }
}

/// go-yaml's `isBase60Float`: `^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$`
/// (YAML 1.1 sexagesimal numbers such as `12:30`, which it quotes on output).
pub fn is_base60_float(s: &str) -> bool {
    let body = s.strip_prefix(['-', '+']).unwrap_or(s);
    let (main, frac) = match body.split_once('.') {
        Some((m, f)) => (m, Some(f)),
        None => (body, None),
    };
    if let Some(f) = frac {
        if !f.chars().all(|c| c.is_ascii_digit() || c == '_') {
            return false;
        }
    }
    let mut groups = main.split(':');
    let head = groups.next().unwrap_or("");
    if !head.starts_with(|c: char| c.is_ascii_digit())
        || !head.chars().all(|c| c.is_ascii_digit() || c == '_')
    {
        return false;
    }
    let rest: Vec<&str> = groups.collect();
    !rest.is_empty()
        && rest.iter().all(|g| {
            (1..=2).contains(&g.len())
                && g.chars().all(|c| c.is_ascii_digit())
                && (g.len() == 1 || g.as_bytes()[0] <= b'5')
        })
}

/// Whether go-yaml writes `s` as a plain string: it must read back as a string.
pub fn plain_reads_back_as_string(s: &str) -> bool {
    resolve_plain(s) == PlainScalar::Str && !is_base60_float(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_11_words_and_numbers_do_not_read_back_as_strings() {
        for s in [
            "true",
            "on",
            "Yes",
            "n",
            "~",
            "",
            "null",
            "1",
            "010",
            "0x1F",
            "1e3",
            "-.5",
            "+1",
            "1_000",
            "0o17",
            "0b101",
            ".inf",
            "2020-01-01",
            "12:30",
            "1.",
        ] {
            assert!(!plain_reads_back_as_string(s), "{s} should need quotes");
        }
        for s in [
            "abc",
            "<<",
            "=",
            "1.2.3",
            "v1",
            "-a",
            "nan",
            "2020-13-01",
            "1_a",
        ] {
            assert!(plain_reads_back_as_string(s), "{s} should stay plain");
        }
    }

    #[test]
    fn resolves_numbers_like_go_yaml() {
        assert_eq!(resolve_plain("010"), PlainScalar::Int(8));
        assert_eq!(
            resolve_plain("12345678901234567000"),
            PlainScalar::Uint(12345678901234567000)
        );
        assert_eq!(
            resolve_plain("100000000000000000000"),
            PlainScalar::Float(1e20)
        );
        assert_eq!(resolve_plain("on"), PlainScalar::Bool(true));
    }
}
