//! Sprig's lenient conversions (`toString`, `int`, `float64`) and Go's `reflect.DeepEqual`.

use minijinja::value::Value;

use crate::access::GoValue;
use crate::go_print::go_v;

/// Sprig's `strval`: strings as they are, everything else as Go's `%v` (nil is `<nil>`).
pub fn strval(value: &Value) -> String {
    match GoValue::of(value) {
        GoValue::Str(s) => s,
        other => go_v(&other),
    }
}

/// 2^63 as a float: the first value past `i64::MAX`.
const I64_RANGE_END: f64 = 9_223_372_036_854_775_808.0;

/// Sprig's `toInt64` (spf13/cast without its error): floats truncate, bools are 0/1, strings
/// parse as Go integer literals (`010` is octal, `0x1F` hex, `3.0` is 3); anything else is 0.
pub fn to_int64(value: &Value) -> i64 {
    match GoValue::of(value) {
        GoValue::Int(i) => i,
        GoValue::Uint(u) => u as i64,
        // Go's float-to-int conversion on amd64 yields i64::MIN for NaN and out-of-range
        // values, where Rust's `as` would saturate.
        GoValue::Float(f) if f.is_nan() || !(-I64_RANGE_END..I64_RANGE_END).contains(&f) => {
            i64::MIN
        }
        GoValue::Float(f) => f.trunc() as i64,
        GoValue::Bool(b) => i64::from(b),
        GoValue::Str(s) => parse_go_int(trim_zero_decimal(&s)).unwrap_or(0),
        _ => 0,
    }
}

/// Sprig's `toFloat64`: strings parse as Go floats, failures are 0.
pub fn to_float64(value: &Value) -> f64 {
    match GoValue::of(value) {
        GoValue::Int(i) => i as f64,
        GoValue::Uint(u) => u as f64,
        GoValue::Float(f) => f,
        GoValue::Bool(b) => f64::from(u8::from(b)),
        GoValue::Str(s) => parse_go_float(&s).unwrap_or(0.0),
        _ => 0.0,
    }
}

/// cast's `trimZeroDecimal`: `"3.00"` → `"3"`, anything else unchanged.
fn trim_zero_decimal(s: &str) -> &str {
    let mut found_zero = false;
    for (i, c) in s.char_indices().rev() {
        match c {
            '.' if found_zero => return &s[..i],
            '.' => return s,
            '0' => found_zero = true,
            _ => return s,
        }
    }
    s
}

/// `strconv.ParseInt(s, 0, 64)`: optional sign, then a decimal, `0x`, `0o`, `0b` or
/// leading-zero octal literal; underscores are allowed after a base prefix.
pub fn parse_go_int(s: &str) -> Option<i64> {
    let (negative, body) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let lower = body.to_ascii_lowercase();
    let (radix, digits, prefixed) = if let Some(rest) = lower.strip_prefix("0x") {
        (16, rest.to_string(), true)
    } else if let Some(rest) = lower.strip_prefix("0o") {
        (8, rest.to_string(), true)
    } else if let Some(rest) = lower.strip_prefix("0b") {
        (2, rest.to_string(), true)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, lower[1..].to_string(), true)
    } else {
        (10, lower.clone(), false)
    };
    let digits = if prefixed {
        digits.replace('_', "")
    } else {
        digits
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let magnitude = u64::from_str_radix(&digits, radix).ok()?;
    if negative {
        if magnitude <= i64::MAX as u64 + 1 {
            Some((magnitude as i64).wrapping_neg())
        } else {
            None
        }
    } else {
        i64::try_from(magnitude).ok()
    }
}

/// `strconv.ParseFloat(s, 64)` for the decimal forms charts use.
pub fn parse_go_float(s: &str) -> Option<f64> {
    let trimmed = s.strip_prefix('+').unwrap_or(s);
    let lower = trimmed.to_ascii_lowercase();
    let valid = lower
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | '-' | '+' | '_'))
        || matches!(lower.trim_start_matches('-'), "inf" | "infinity" | "nan");
    if !valid {
        return None;
    }
    lower.replace('_', "").parse().ok()
}

/// Go's `reflect.DeepEqual` on template data: types must match (the int 1 is not the
/// float64 1), lists and maps compare element-wise.
pub fn deep_equal(a: &Value, b: &Value) -> bool {
    deep_equal_at(a, b, 0)
}

fn deep_equal_at(a: &Value, b: &Value, depth: usize) -> bool {
    if depth > crate::access::MAX_NESTING {
        return false;
    }
    match (GoValue::of(a), GoValue::of(b)) {
        (GoValue::Nil, GoValue::Nil) => true,
        (GoValue::Bool(x), GoValue::Bool(y)) => x == y,
        (GoValue::Int(x), GoValue::Int(y)) => x == y,
        (GoValue::Uint(x), GoValue::Uint(y)) => x == y,
        (GoValue::Float(x), GoValue::Float(y)) => x == y,
        (GoValue::Str(x), GoValue::Str(y)) => x == y,
        (GoValue::Seq(x), GoValue::Seq(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(&y)
                    .all(|(p, q)| deep_equal_at(p, q, depth + 1))
        }
        (GoValue::Map(x), GoValue::Map(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| deep_equal_at(v, w, depth + 1)))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn int_conversion_follows_cast() {
        assert_eq!(to_int64(&Value::from("010")), 8);
        assert_eq!(to_int64(&Value::from("0x1F")), 31);
        assert_eq!(to_int64(&Value::from("3.00")), 3);
        assert_eq!(to_int64(&Value::from("1.5")), 0);
        assert_eq!(to_int64(&Value::from("abc")), 0);
        assert_eq!(to_int64(&Value::from("9999999999999999999")), 0);
        assert_eq!(to_int64(&Value::from(1.9)), 1);
        assert_eq!(to_int64(&Value::from(true)), 1);
    }

    #[test]
    fn deep_equal_is_type_strict() {
        assert!(!deep_equal(&Value::from(1), &Value::from(1.0)));
        assert!(deep_equal(&Value::from("a"), &Value::from("a")));
    }
}
