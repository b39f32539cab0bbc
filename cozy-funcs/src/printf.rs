//! Go's `fmt.Sprintf`, `fmt.Sprint` and `fmt.Sprintln` over template values, including Go's
//! in-band error notes (`%!d(string=abc)`, `%!s(MISSING)`, `%!(EXTRA int=2)`).

use minijinja::value::Value;

use crate::access::{go_type_name, GoValue};
use crate::go_print::{format_float_g, go_quote, go_v, go_v_value};

/// One parsed `%` directive.
#[derive(Debug, Default, Clone)]
struct Directive {
    minus: bool,
    plus: bool,
    sharp: bool,
    zero: bool,
    space: bool,
    width: Option<usize>,
    precision: Option<usize>,
    verb: char,
}

/// `fmt.Sprintf(format, args...)`.
pub fn sprintf(format: &str, args: &[Value]) -> String {
    let mut out = String::new();
    let mut next_arg = 0;
    let mut chars = format.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut d = Directive::default();
        while let Some(&f) = chars.peek() {
            match f {
                '-' => d.minus = true,
                '+' => d.plus = true,
                '#' => d.sharp = true,
                '0' => d.zero = true,
                ' ' => d.space = true,
                _ => break,
            }
            chars.next();
        }
        d.width = read_number(&mut chars, args, &mut next_arg);
        if chars.peek() == Some(&'.') {
            chars.next();
            d.precision = Some(read_number(&mut chars, args, &mut next_arg).unwrap_or(0));
        }
        let Some(verb) = chars.next() else {
            out.push_str("%!(NOVERB)");
            break;
        };
        d.verb = verb;
        if verb == '%' {
            out.push('%');
            continue;
        }
        match args.get(next_arg) {
            Some(arg) => {
                next_arg += 1;
                out.push_str(&format_one(&d, arg));
            }
            None => out.push_str(&format!("%!{verb}(MISSING)")),
        }
    }
    if next_arg < args.len() {
        let extra: Vec<String> = args[next_arg..]
            .iter()
            .map(|a| match GoValue::of(a) {
                GoValue::Nil => "<nil>".to_string(),
                other => format!("{}={}", go_type_name(a), go_v(&other)),
            })
            .collect();
        out.push_str(&format!("%!(EXTRA {})", extra.join(", ")));
    }
    out
}

fn read_number(
    chars: &mut std::iter::Peekable<std::str::Chars<'_>>,
    args: &[Value],
    next_arg: &mut usize,
) -> Option<usize> {
    if chars.peek() == Some(&'*') {
        chars.next();
        let n = args.get(*next_arg).and_then(|v| v.as_i64()).unwrap_or(0);
        *next_arg += 1;
        return Some(n.max(0) as usize);
    }
    let mut digits = String::new();
    while let Some(&c) = chars.peek() {
        if !c.is_ascii_digit() {
            break;
        }
        digits.push(c);
        chars.next();
    }
    digits.parse().ok().map(|n: usize| n.min(1 << 16))
}

fn bad_verb(verb: char, value: &Value) -> String {
    match GoValue::of(value) {
        GoValue::Nil => format!("%!{verb}(<nil>)"),
        other => format!("%!{verb}({}={})", go_type_name(value), go_v(&other)),
    }
}

fn format_one(d: &Directive, value: &Value) -> String {
    let shape = GoValue::of(value);
    if d.verb == 'T' {
        return pad(d, go_type_name(value), false);
    }
    if d.verb == 'v' {
        let text = match &shape {
            GoValue::Nil => "<nil>".to_string(),
            GoValue::Float(f) if d.precision.is_some() => format_float(d, *f, 'g'),
            GoValue::Int(i) if d.plus => format!("{i:+}"),
            _ => go_v(&shape),
        };
        let numeric = matches!(
            shape,
            GoValue::Int(_) | GoValue::Uint(_) | GoValue::Float(_)
        );
        return pad(d, text, numeric);
    }
    match shape {
        GoValue::Seq(items) => {
            let parts: Vec<String> = items.iter().map(|item| format_one(d, item)).collect();
            format!("[{}]", parts.join(" "))
        }
        GoValue::Map(entries) => {
            let parts: Vec<String> = entries
                .iter()
                .map(|(k, v)| {
                    format!(
                        "{}:{}",
                        format_one(d, &Value::from(k.as_str())),
                        format_one(d, v)
                    )
                })
                .collect();
            format!("map[{}]", parts.join(" "))
        }
        GoValue::Str(s) => match d.verb {
            's' => pad(d, truncate_chars(&s, d.precision), false),
            'q' => pad(d, go_quote(&truncate_chars(&s, d.precision)), false),
            'x' => pad(d, hex_bytes(s.as_bytes(), false), false),
            'X' => pad(d, hex_bytes(s.as_bytes(), true), false),
            _ => bad_verb(d.verb, value),
        },
        GoValue::Bool(b) => match d.verb {
            't' => pad(d, b.to_string(), false),
            _ => bad_verb(d.verb, value),
        },
        GoValue::Int(i) => format_int(d, i as i128, value),
        GoValue::Uint(u) => format_int(d, u as i128, value),
        GoValue::Float(f) => match d.verb {
            'f' | 'F' | 'e' | 'E' | 'g' | 'G' => pad(d, format_float(d, f, d.verb), true),
            _ => bad_verb(d.verb, value),
        },
        GoValue::Nil | GoValue::Other(_) => bad_verb(d.verb, value),
    }
}

fn truncate_chars(s: &str, precision: Option<usize>) -> String {
    match precision {
        Some(p) => s.chars().take(p).collect(),
        None => s.to_string(),
    }
}

fn hex_bytes(bytes: &[u8], upper: bool) -> String {
    bytes
        .iter()
        .map(|b| {
            if upper {
                format!("{b:02X}")
            } else {
                format!("{b:02x}")
            }
        })
        .collect()
}

fn format_int(d: &Directive, i: i128, value: &Value) -> String {
    let magnitude = i.unsigned_abs();
    let digits = match d.verb {
        'd' => magnitude.to_string(),
        'x' => format!("{magnitude:x}"),
        'X' => format!("{magnitude:X}"),
        'o' => format!("{magnitude:o}"),
        'b' => format!("{magnitude:b}"),
        'c' => {
            return pad(
                d,
                char::from_u32(i as u32).unwrap_or('\u{fffd}').to_string(),
                false,
            )
        }
        'q' => {
            let c = char::from_u32(i as u32).unwrap_or('\u{fffd}');
            let quoted = go_quote(&c.to_string());
            let inner = &quoted[1..quoted.len() - 1];
            let inner = if inner == "\\\"" {
                "\""
            } else if c == '\'' {
                "\\'"
            } else {
                inner
            };
            return pad(d, format!("'{inner}'"), false);
        }
        'f' | 'F' | 'e' | 'E' | 'g' | 'G' | 's' | 't' => return bad_verb(d.verb, value),
        _ => return bad_verb(d.verb, value),
    };
    let digits = match d.precision {
        Some(p) if digits.len() < p => format!("{}{digits}", "0".repeat(p - digits.len())),
        _ => digits,
    };
    let prefix = match (d.sharp, d.verb) {
        (true, 'x') => "0x",
        (true, 'X') => "0X",
        (true, 'o') => "0",
        _ => "",
    };
    let sign = if i < 0 {
        "-"
    } else if d.plus {
        "+"
    } else if d.space {
        " "
    } else {
        ""
    };
    pad_number(d, sign, &format!("{prefix}{digits}"))
}

fn format_float(d: &Directive, f: f64, verb: char) -> String {
    let body = match (verb, d.precision) {
        ('f' | 'F', p) => format!("{:.*}", p.unwrap_or(6), f),
        ('e' | 'E', p) => go_exponent(&format!("{:.*e}", p.unwrap_or(6), f)),
        ('g' | 'G' | 'v', None) => format_float_g(f),
        ('g' | 'G' | 'v', Some(p)) => format_g_precision(f, p.max(1)),
        _ => format_float_g(f),
    };
    let body = if verb.is_ascii_uppercase() {
        body.to_uppercase()
    } else {
        body
    };
    if d.plus && f >= 0.0 {
        format!("+{body}")
    } else {
        body
    }
}

/// Rust's `1.5e6` / `1.5e-7` exponent spelled Go's way: `1.5e+06` / `1.5e-07`.
fn go_exponent(rust: &str) -> String {
    match rust.split_once('e') {
        Some((mantissa, exp)) => {
            let n: i32 = exp.parse().unwrap_or(0);
            format!("{mantissa}e{}{:02}", if n < 0 { '-' } else { '+' }, n.abs())
        }
        None => rust.to_string(),
    }
}

/// `%.Ng`: N significant digits, trailing zeros dropped, exponent form when the exponent
/// is below -4 or at least N.
fn format_g_precision(f: f64, p: usize) -> String {
    if !f.is_finite() || f == 0.0 {
        return format_float_g(f);
    }
    let sci = format!("{:.*e}", p - 1, f);
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if exp < -4 || exp >= p as i32 {
        let mantissa = if mantissa.contains('.') {
            mantissa.trim_end_matches('0').trim_end_matches('.')
        } else {
            mantissa
        };
        go_exponent(&format!("{mantissa}e{exp}"))
    } else {
        let decimals = (p as i32 - 1 - exp).max(0) as usize;
        let fixed = format!("{:.*}", decimals, f);
        if fixed.contains('.') {
            fixed
                .trim_end_matches('0')
                .trim_end_matches('.')
                .to_string()
        } else {
            fixed
        }
    }
}

fn pad(d: &Directive, text: String, numeric: bool) -> String {
    if numeric && d.zero && !d.minus {
        let (sign, digits) = match text.strip_prefix('-') {
            Some(rest) => ("-", rest.to_string()),
            None => match text.strip_prefix('+') {
                Some(rest) => ("+", rest.to_string()),
                None => ("", text.clone()),
            },
        };
        return pad_number(d, sign, &digits);
    }
    let len = text.chars().count();
    match d.width {
        Some(w) if w > len => {
            let fill = " ".repeat(w - len);
            if d.minus {
                format!("{text}{fill}")
            } else {
                format!("{fill}{text}")
            }
        }
        _ => text,
    }
}

fn pad_number(d: &Directive, sign: &str, digits: &str) -> String {
    let len = sign.len() + digits.len();
    match d.width {
        Some(w) if w > len => {
            if d.minus {
                format!("{sign}{digits}{}", " ".repeat(w - len))
            } else if d.zero && d.precision.is_none() {
                format!("{sign}{}{digits}", "0".repeat(w - len))
            } else {
                format!("{}{sign}{digits}", " ".repeat(w - len))
            }
        }
        _ => format!("{sign}{digits}"),
    }
}

/// `fmt.Sprint`: operands' `%v`, with a space between two operands when neither is a string.
pub fn sprint(args: &[Value]) -> String {
    let mut out = String::new();
    for (i, arg) in args.iter().enumerate() {
        let is_string = matches!(GoValue::of(arg), GoValue::Str(_));
        if i > 0 && !is_string && !matches!(GoValue::of(&args[i - 1]), GoValue::Str(_)) {
            out.push(' ');
        }
        out.push_str(&go_v_value(arg));
    }
    out
}

/// `fmt.Sprintln`: operands' `%v` separated by spaces, then a newline.
pub fn sprintln(args: &[Value]) -> String {
    let parts: Vec<String> = args.iter().map(go_v_value).collect();
    format!("{}\n", parts.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(json: serde_json::Value) -> Value {
        Value::from(minijinja::value::Serde(json))
    }

    #[test]
    fn verbs_match_go() {
        assert_eq!(sprintf("%s-%d", &[Value::from("a"), Value::from(5)]), "a-5");
        assert_eq!(sprintf("%d", &[Value::from(3.0)]), "%!d(float64=3)");
        assert_eq!(sprintf("%v", &[v(serde_json::json!(1000000.0))]), "1e+06");
        assert_eq!(sprintf("%q", &[Value::from("a\"b")]), "\"a\\\"b\"");
        assert_eq!(
            sprintf(
                "%05d|%-4s|%x",
                &[Value::from(42), Value::from("ab"), Value::from(255)]
            ),
            "00042|ab  |ff"
        );
        assert_eq!(
            sprintf("%.2f %e", &[Value::from(1.23456), Value::from(1500000.0)]),
            "1.23 1.500000e+06"
        );
    }

    #[test]
    fn argument_mismatches_are_reported_in_band() {
        assert_eq!(sprintf("%d %d", &[Value::from(1)]), "1 %!d(MISSING)");
        assert_eq!(
            sprintf("%d", &[Value::from(1), Value::from(2)]),
            "1%!(EXTRA int=2)"
        );
        assert_eq!(sprintf("%s", &[Value::from(())]), "%!s(<nil>)");
    }

    #[test]
    fn sprint_spaces_only_between_non_strings() {
        assert_eq!(
            sprint(&[
                Value::from(1),
                Value::from(2),
                Value::from("a"),
                Value::from(3)
            ]),
            "1 2a3"
        );
    }
}
