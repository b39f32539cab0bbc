//! Printing values the way Go does: `fmt`'s `%v`, `strconv` float formats, and what a
//! `{{ x }}` action writes in a Helm template.

use minijinja::value::Value;

use crate::access::{GoValue, MAX_NESTING};

/// What `{{ x }}` prints in a Helm template: Go's `%v`, except that nil and missing values
/// print nothing (Go writes `<no value>`, which Helm strips from the rendered file).
pub fn go_display(value: &Value) -> String {
    match GoValue::of(value) {
        GoValue::Nil => String::new(),
        other => go_v(&other),
    }
}

/// Go's `%v` of a value (`fmt.Sprint`): nil is `<nil>`, lists `[a b]`, maps `map[a:1 b:2]`.
pub fn go_v(value: &GoValue) -> String {
    let mut out = String::new();
    write_v(&mut out, value, 0);
    out
}

/// `%v` of a template value.
pub fn go_v_value(value: &Value) -> String {
    go_v(&GoValue::of(value))
}

fn write_v(out: &mut String, value: &GoValue, depth: usize) {
    if depth > MAX_NESTING {
        out.push_str("...");
        return;
    }
    match value {
        GoValue::Nil => out.push_str("<nil>"),
        GoValue::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        GoValue::Int(i) => out.push_str(&i.to_string()),
        GoValue::Uint(u) => out.push_str(&u.to_string()),
        GoValue::Float(f) => out.push_str(&format_float_g(*f)),
        GoValue::Str(s) => out.push_str(s),
        GoValue::Seq(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                write_v(out, &GoValue::of(item), depth + 1);
            }
            out.push(']');
        }
        GoValue::Map(entries) => {
            out.push_str("map[");
            for (i, (key, item)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                out.push_str(key);
                out.push(':');
                write_v(out, &GoValue::of(item), depth + 1);
            }
            out.push(']');
        }
        GoValue::Other(s) => out.push_str(s),
    }
}

/// Shortest round-trip decimal digits of a finite, non-zero float and its decimal exponent
/// (value = 0.d1d2d3... × 10^point).
fn shortest_digits(f: f64) -> (String, i32) {
    // Rust's `{:e}` prints the shortest representation that round-trips, like Go's `-1`
    // precision: "1.2345e6".
    let sci = format!("{:e}", f.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let digits: String = mantissa.chars().filter(|c| c.is_ascii_digit()).collect();
    let exp: i32 = exp.parse().unwrap_or(0);
    (digits, exp + 1)
}

fn special_float(f: f64) -> Option<String> {
    if f.is_nan() {
        Some("NaN".into())
    } else if f.is_infinite() {
        Some(if f > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        })
    } else {
        None
    }
}

fn sign(f: f64) -> &'static str {
    if f.is_sign_negative() {
        "-"
    } else {
        ""
    }
}

/// `strconv.FormatFloat(f, 'f', -1, 64)`: shortest digits, never an exponent.
pub fn format_float_f(f: f64) -> String {
    if let Some(s) = special_float(f) {
        return s;
    }
    if f == 0.0 {
        return format!("{}0", sign(f));
    }
    let (digits, point) = shortest_digits(f);
    format!("{}{}", sign(f), place_point(&digits, point))
}

fn place_point(digits: &str, point: i32) -> String {
    let nd = digits.len() as i32;
    if point <= 0 {
        format!("0.{}{}", "0".repeat((-point) as usize), digits)
    } else if point >= nd {
        format!("{}{}", digits, "0".repeat((point - nd) as usize))
    } else {
        format!(
            "{}.{}",
            &digits[..point as usize],
            &digits[point as usize..]
        )
    }
}

/// `strconv.FormatFloat(f, 'e', -1, 64)`: `1.5e+06`, exponent at least two digits.
pub fn format_float_e(f: f64) -> String {
    if let Some(s) = special_float(f) {
        return s;
    }
    if f == 0.0 {
        return format!("{}0e+00", sign(f));
    }
    let (digits, point) = shortest_digits(f);
    let exp = point - 1;
    let mantissa = if digits.len() > 1 {
        format!("{}.{}", &digits[..1], &digits[1..])
    } else {
        digits
    };
    format!(
        "{}{}e{}{:02}",
        sign(f),
        mantissa,
        if exp < 0 { '-' } else { '+' },
        exp.abs()
    )
}

/// `strconv.FormatFloat(f, 'g', -1, 64)`, which is also Go's `%v` of a float64: plain
/// decimal unless the exponent is below -4 or at least 6 (so 1000000 prints `1e+06`).
pub fn format_float_g(f: f64) -> String {
    if special_float(f).is_some() || f == 0.0 {
        return format_float_f(f);
    }
    let (_, point) = shortest_digits(f);
    let exp = point - 1;
    if !(-4..6).contains(&exp) {
        format_float_e(f)
    } else {
        format_float_f(f)
    }
}

/// How Go's `encoding/json` writes a float64: plain decimal, exponent form only below 1e-6 or
/// from 1e21 on, with `e-07` shortened to `e-7`.
pub fn format_float_json(f: f64) -> String {
    let abs = f.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        let s = format_float_e(f);
        match s.find("e-0") {
            Some(pos) => format!("{}e-{}", &s[..pos], &s[pos + 3..]),
            None => s,
        }
    } else {
        format_float_f(f)
    }
}

/// Go's `strconv.Quote` (the `%q` verb): double quotes, backslash escapes for quotes,
/// backslashes and non-printable characters; printable Unicode is kept as is.
pub fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c if c.is_control() || c == '\u{feff}' => {
                if (c as u32) <= 0xffff {
                    out.push_str(&format!("\\u{:04x}", c as u32))
                } else {
                    out.push_str(&format!("\\U{:08x}", c as u32))
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_print_like_go_v() {
        assert_eq!(format_float_g(1.0), "1");
        assert_eq!(format_float_g(1.5), "1.5");
        assert_eq!(format_float_g(1e6), "1e+06");
        assert_eq!(format_float_g(123456.0), "123456");
        assert_eq!(format_float_g(0.0001), "0.0001");
        assert_eq!(format_float_g(0.00001), "1e-05");
        assert_eq!(format_float_g(123456789012.0), "1.23456789012e+11");
        assert_eq!(format_float_g(-2.5e-7), "-2.5e-07");
    }

    #[test]
    fn floats_encode_like_go_json() {
        assert_eq!(format_float_json(1e6), "1000000");
        assert_eq!(format_float_json(1e20), "100000000000000000000");
        assert_eq!(format_float_json(1e21), "1e+21");
        assert_eq!(format_float_json(1e-7), "1e-7");
        assert_eq!(format_float_json(0.00001), "0.00001");
    }

    #[test]
    fn display_matches_template_printing() {
        let value = Value::from(minijinja::value::Serde(
            serde_json::json!({"b": [1.0, "x", null], "a": true}),
        ));
        assert_eq!(go_display(&value), "map[a:true b:[1 x <nil>]]");
        assert_eq!(go_display(&Value::UNDEFINED), "");
        assert_eq!(go_display(&Value::from(())), "");
    }
}
