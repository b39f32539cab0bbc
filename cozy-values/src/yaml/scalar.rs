//! YAML 1.1 resolution of scalars, as Helm's YAML reader (go-yaml v2 rules) applies it.
//!
//! A YAML 1.2 core-schema parser reads `on`, `yes` and `y` as strings and `010` as ten; Helm
//! reads them as `true`, `true`, `true` and eight. Every rule here was checked against Helm 4.

use base64::Engine as _;

/// A resolved scalar before it becomes JSON data.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Scalar {
    Null,
    Bool(bool),
    Int(i64),
    /// Integers above `i64::MAX` that still fit 64 unsigned bits.
    UInt(u64),
    Float(f64),
    Str(String),
}

const TRUE_WORDS: &[&str] = &[
    "y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON",
];
const FALSE_WORDS: &[&str] = &[
    "n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF",
];
const NULL_WORDS: &[&str] = &["", "~", "null", "Null", "NULL"];

/// The boolean or null a word stands for (`on`, `No`, `~`, ...), if it is one.
fn word(text: &str) -> Option<Scalar> {
    // Every boolean and null word is at most five bytes long.
    if text.len() > 5 {
        None
    } else if TRUE_WORDS.contains(&text) {
        Some(Scalar::Bool(true))
    } else if FALSE_WORDS.contains(&text) {
        Some(Scalar::Bool(false))
    } else if NULL_WORDS.contains(&text) {
        Some(Scalar::Null)
    } else {
        None
    }
}

/// Whether [`resolve_plain`] reads `text` as a string, without building the value.
pub(crate) fn is_plain_string(text: &str) -> bool {
    match text.as_bytes().first() {
        // Numbers, `.inf` and `.nan` start otherwise; words do not.
        Some(b) if b.is_ascii_alphabetic() => word(text).is_none(),
        _ => matches!(resolve_plain(text), Scalar::Str(_)),
    }
}

/// The JSON value of a resolved scalar: numbers as `mode` says; `None` for infinity and NaN,
/// which JSON data cannot hold.
pub(crate) fn json_of(scalar: Scalar, mode: super::NumberMode) -> Option<serde_json::Value> {
    use serde_json::{Number, Value};
    let float = |f: f64| Number::from_f64(f).map(Value::Number);
    match scalar {
        Scalar::Null => Some(Value::Null),
        Scalar::Bool(b) => Some(Value::Bool(b)),
        Scalar::Str(s) => Some(Value::String(s)),
        Scalar::Float(f) => float(f),
        Scalar::Int(i) => match mode {
            super::NumberMode::Helm => float(i as f64),
            super::NumberMode::Native => Some(Value::Number(i.into())),
        },
        Scalar::UInt(u) => match mode {
            super::NumberMode::Helm => float(u as f64),
            super::NumberMode::Native => Some(Value::Number(u.into())),
        },
    }
}

/// Resolve an untagged plain (unquoted) scalar.
pub(crate) fn resolve_plain(text: &str) -> Scalar {
    if let Some(scalar) = word(text) {
        return scalar;
    }
    match text {
        ".nan" | ".NaN" | ".NAN" => return Scalar::Float(f64::NAN),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Scalar::Float(f64::INFINITY)
        }
        "-.inf" | "-.Inf" | "-.INF" => return Scalar::Float(f64::NEG_INFINITY),
        _ => {}
    }
    match text.chars().next() {
        Some('.') => text
            .parse::<f64>()
            .map(Scalar::Float)
            .unwrap_or_else(|_| Scalar::Str(text.to_owned())),
        Some(c) if c.is_ascii_digit() || c == '+' || c == '-' => resolve_number(text),
        _ => Scalar::Str(text.to_owned()),
    }
}

/// Numbers: underscores are ignored; Go's base-prefix integer syntax (`0x`, `0o`, `0b`, and a
/// leading `0` for octal) is tried first, then unsigned, then the YAML float pattern.
fn resolve_number(text: &str) -> Scalar {
    let plain: String = text.chars().filter(|&c| c != '_').collect();
    if let Some(i) = parse_go_int(&plain) {
        return match i64::try_from(i) {
            Ok(v) => Scalar::Int(v),
            Err(_) => match u64::try_from(i) {
                Ok(v) if !plain.starts_with('+') => Scalar::UInt(v),
                _ => float_or_string(text, &plain),
            },
        };
    }
    float_or_string(text, &plain)
}

fn float_or_string(text: &str, plain: &str) -> Scalar {
    if is_yaml_float(plain) {
        // Go's ParseFloat refuses overflow (`1e400`), so Helm keeps such text as a string.
        if let Ok(f) =
            plain
                .parse::<f64>()
                .map_err(drop)
                .and_then(|f| if f.is_finite() { Ok(f) } else { Err(()) })
        {
            return Scalar::Float(f);
        }
    }
    Scalar::Str(text.to_owned())
}

/// Go's `strconv.ParseInt(s, 0, 64)` syntax, widened to i128 so the caller decides the range.
fn parse_go_int(s: &str) -> Option<i128> {
    let (negative, body) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let lower = body.to_ascii_lowercase();
    let (radix, digits) = if let Some(d) = lower.strip_prefix("0x") {
        (16, d)
    } else if let Some(d) = lower.strip_prefix("0o") {
        (8, d)
    } else if let Some(d) = lower.strip_prefix("0b") {
        (2, d)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, &lower[1..])
    } else {
        (10, lower.as_str())
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let magnitude = u64::from_str_radix(digits, radix).ok()?;
    Some(if negative {
        -i128::from(magnitude)
    } else {
        i128::from(magnitude)
    })
}

/// `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`
fn is_yaml_float(s: &str) -> bool {
    let s = s.strip_prefix(['-', '+']).unwrap_or(s);
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = match mantissa.split_once('.') {
        Some(("", frac)) => digits(frac),
        Some((int, frac)) => digits(int) && (frac.is_empty() || digits(frac)),
        None => digits(mantissa),
    };
    let exponent_ok = match exponent {
        None => true,
        Some(e) => digits(e.strip_prefix(['-', '+']).unwrap_or(e)),
    };
    mantissa_ok && exponent_ok
}

/// Resolve a scalar carrying an explicit core tag (`!!str`, `!!int`, ...). `suffix` is the
/// part after `tag:yaml.org,2002:`.
pub(crate) fn resolve_tagged(text: &str, suffix: &str) -> Result<Scalar, String> {
    let resolved = resolve_plain(text);
    let mismatch = || format!("cannot read {text:?} as !!{suffix}");
    match suffix {
        "str" | "timestamp" => Ok(Scalar::Str(text.to_owned())),
        "null" => Ok(Scalar::Null),
        "bool" => match resolved {
            Scalar::Bool(_) => Ok(resolved),
            _ => Err(mismatch()),
        },
        "int" => match resolved {
            Scalar::Int(_) | Scalar::UInt(_) => Ok(resolved),
            _ => Err(mismatch()),
        },
        "float" => match resolved {
            Scalar::Float(_) => Ok(resolved),
            // go-yaml accepts an integer literal for a float tag and widens it.
            Scalar::Int(i) => Ok(Scalar::Float(i as f64)),
            Scalar::UInt(u) => Ok(Scalar::Float(u as f64)),
            _ => Err(mismatch()),
        },
        "binary" => {
            let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(compact)
                .map_err(|e| format!("invalid base64 in !!binary: {e}"))?;
            Ok(Scalar::Str(String::from_utf8_lossy(&bytes).into_owned()))
        }
        "map" | "seq" => Err(format!("!!{suffix} cannot tag a scalar")),
        "merge" => Err("!!merge must tag a mapping key `<<`".to_owned()),
        other => Err(format!("unknown tag !!{other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Scalar::*;

    #[test]
    fn yaml_1_1_words() {
        for w in [
            "y", "Y", "yes", "Yes", "YES", "on", "On", "ON", "true", "True", "TRUE",
        ] {
            assert_eq!(resolve_plain(w), Bool(true), "{w}");
        }
        for w in [
            "n", "N", "no", "No", "NO", "off", "Off", "OFF", "false", "False", "FALSE",
        ] {
            assert_eq!(resolve_plain(w), Bool(false), "{w}");
        }
        for w in ["", "~", "null", "Null", "NULL"] {
            assert_eq!(resolve_plain(w), Null, "{w}");
        }
        for w in [
            "tRue",
            "oN",
            "nULL",
            "yEs",
            "1:30",
            "2001-12-14",
            "-",
            "+",
            ".",
            "0x",
            "e3",
            "1e",
            "0b2",
        ] {
            assert_eq!(resolve_plain(w), Str(w.to_owned()), "{w}");
        }
    }

    #[test]
    fn numbers_as_helm_reads_them() {
        let cases: &[(&str, Scalar)] = &[
            ("0", Int(0)),
            ("-0", Int(0)),
            ("+5", Int(5)),
            ("-5", Int(-5)),
            ("010", Int(8)),
            ("0o17", Int(15)),
            ("0x1F", Int(31)),
            ("-0x10", Int(-16)),
            ("0b101", Int(5)),
            ("1_000", Int(1000)),
            ("08", Float(8.0)),
            ("9223372036854775807", Int(i64::MAX)),
            ("9223372036854775808", UInt(9223372036854775808)),
            ("18446744073709551616", Float(18446744073709551616.0)),
            ("1.0", Float(1.0)),
            ("1.", Float(1.0)),
            (".5", Float(0.5)),
            ("1e3", Float(1000.0)),
            ("1.5e+3", Float(1500.0)),
            ("-1.5E-1", Float(-0.15)),
            ("3e-400", Float(0.0)),
        ];
        for (text, want) in cases {
            assert_eq!(&resolve_plain(text), want, "{text}");
        }
        assert_eq!(resolve_plain(".inf"), Float(f64::INFINITY));
        assert_eq!(resolve_plain("-.Inf"), Float(f64::NEG_INFINITY));
        assert!(matches!(resolve_plain(".NaN"), Float(f) if f.is_nan()));
    }

    #[test]
    fn explicit_tags() {
        assert_eq!(resolve_tagged("12", "str"), Ok(Str("12".into())));
        assert_eq!(resolve_tagged("12", "int"), Ok(Int(12)));
        assert_eq!(resolve_tagged("2", "float"), Ok(Float(2.0)));
        assert_eq!(resolve_tagged("yes", "bool"), Ok(Bool(true)));
        assert_eq!(
            resolve_tagged("aGVsbG8=", "binary"),
            Ok(Str("hello".into()))
        );
        assert_eq!(resolve_tagged("", "str"), Ok(Str(String::new())));
        assert!(resolve_tagged("abc", "int").unwrap_err().contains("!!int"));
        assert!(resolve_tagged("1.5", "int").is_err());
        assert!(resolve_tagged("x", "bool").is_err());
        assert!(resolve_tagged("%%", "binary").is_err());
    }
}
