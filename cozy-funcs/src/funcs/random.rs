//! Random values (`randAlphaNum`, `randAlpha`, `randNumeric`, `randAscii`, `randInt`,
//! `uuidv4`). Like Helm they differ on every render, so charts pair them with `lookup` to
//! keep generated secrets stable. Not for cryptographic use beyond what Helm offers either.

use std::cell::Cell;
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::time::{SystemTime, UNIX_EPOCH};

use minijinja::value::Value;

use super::HelmFn;
use crate::args::Args;
use crate::error::{invalid, FuncResult};

pub(crate) const FUNCS: &[(&str, HelmFn)] = &[
    ("randAlphaNum", rand_alpha_num),
    ("randAlpha", rand_alpha),
    ("randNumeric", rand_numeric),
    ("randAscii", rand_ascii),
    ("randInt", rand_int),
    ("uuidv4", uuidv4),
];

/// Longest random string produced; a larger request is a template bug.
const MAX_RANDOM_LEN: i64 = 1 << 16;

thread_local! {
    static STATE: Cell<u64> = Cell::new(seed());
}

fn seed() -> u64 {
    // RandomState is seeded from the OS per process; mixing in the clock separates threads.
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u128(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    hasher.finish() | 1
}

/// xorshift64* step.
fn next_u64() -> u64 {
    STATE.with(|state| {
        let mut x = state.get();
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        state.set(x);
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    })
}

fn below(n: u64) -> u64 {
    next_u64() % n.max(1)
}

fn random_string(func: &'static str, values: &[Value], alphabet: &[u8]) -> FuncResult {
    let args = Args::new(func, values);
    args.exact(1)?;
    let count = args.int(0)?;
    if !(0..=MAX_RANDOM_LEN).contains(&count) {
        return Err(invalid(
            func,
            format!("length {count} is out of range 0..={MAX_RANDOM_LEN}"),
        ));
    }
    let text: String = (0..count)
        .map(|_| alphabet[below(alphabet.len() as u64) as usize] as char)
        .collect();
    Ok(Value::from(text))
}

const ALPHA: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
const DIGITS: &[u8] = b"0123456789";

fn rand_alpha_num(values: &[Value]) -> FuncResult {
    random_string(
        "randAlphaNum",
        values,
        b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
    )
}

fn rand_alpha(values: &[Value]) -> FuncResult {
    random_string("randAlpha", values, ALPHA)
}

fn rand_numeric(values: &[Value]) -> FuncResult {
    random_string("randNumeric", values, DIGITS)
}

fn rand_ascii(values: &[Value]) -> FuncResult {
    let printable: Vec<u8> = (b' '..=b'~').collect();
    random_string("randAscii", values, &printable)
}

/// `randInt min max`: an integer in [min, max).
fn rand_int(values: &[Value]) -> FuncResult {
    let args = Args::new("randInt", values);
    args.exact(2)?;
    let (min, max) = (args.lenient_int(0), args.lenient_int(1));
    if max <= min {
        return Err(invalid("randInt", "invalid argument to Intn"));
    }
    let span = max.abs_diff(min);
    Ok(Value::from(min.wrapping_add(below(span) as i64)))
}

fn uuidv4(values: &[Value]) -> FuncResult {
    Args::new("uuidv4", values).exact(0)?;
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&next_u64().to_be_bytes());
    bytes[8..].copy_from_slice(&next_u64().to_be_bytes());
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    Ok(Value::from(format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_have_the_requested_length_and_alphabet() {
        let s = rand_alpha_num(&[Value::from(32)]).unwrap();
        let s = s.as_str().unwrap();
        assert_eq!(s.len(), 32);
        assert!(s.chars().all(|c| c.is_ascii_alphanumeric()));
        let n = rand_numeric(&[Value::from(8)]).unwrap();
        assert!(n.as_str().unwrap().chars().all(|c| c.is_ascii_digit()));
        assert_ne!(
            rand_alpha(&[Value::from(24)]).unwrap(),
            rand_alpha(&[Value::from(24)]).unwrap()
        );
    }

    #[test]
    fn bad_lengths_and_ranges_fail() {
        assert!(rand_alpha_num(&[Value::from(-1)]).is_err());
        assert!(rand_int(&[Value::from(5), Value::from(5)]).is_err());
        let i = rand_int(&[Value::from(-3), Value::from(3)])
            .unwrap()
            .as_i64()
            .unwrap();
        assert!((-3..3).contains(&i));
    }

    #[test]
    fn uuid_has_version_4_layout() {
        let id = uuidv4(&[]).unwrap();
        let id = id.as_str().unwrap();
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "4");
        assert!(matches!(&id[19..20], "8" | "9" | "a" | "b"));
    }
}
