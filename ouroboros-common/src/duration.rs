//! Durations in Go's `time.ParseDuration` syntax (`500ms`, `1m30s`, `1.5h`, `-1s`, `0`).
//!
//! Deployed charts pass durations in this syntax, and negative values are meaningful to
//! callers (they are kept, not rejected), so the value type is signed.

use std::fmt;
use std::time::Duration;

/// A signed span of time with nanosecond resolution, the range of Go's `time.Duration`
/// (about ±292 years).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct SignedDuration {
    nanos: i64,
}

/// A duration string that Go's `time.ParseDuration` would also reject.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    #[error("invalid duration {0:?}")]
    Invalid(String),
    #[error("missing unit in duration {0:?} (use ns, us, ms, s, m or h)")]
    MissingUnit(String),
    #[error("unknown unit {unit:?} in duration {input:?} (use ns, us, ms, s, m or h)")]
    UnknownUnit { unit: String, input: String },
}

const NANOS_PER_MICRO: u64 = 1_000;
const NANOS_PER_MILLI: u64 = 1_000_000;
const NANOS_PER_SECOND: u64 = 1_000_000_000;

impl SignedDuration {
    pub const ZERO: SignedDuration = SignedDuration { nanos: 0 };

    pub const fn from_nanos(nanos: i64) -> Self {
        SignedDuration { nanos }
    }

    pub const fn from_millis(millis: i64) -> Self {
        SignedDuration {
            nanos: millis.saturating_mul(NANOS_PER_MILLI as i64),
        }
    }

    pub const fn from_secs(secs: i64) -> Self {
        SignedDuration {
            nanos: secs.saturating_mul(NANOS_PER_SECOND as i64),
        }
    }

    pub const fn as_nanos(self) -> i64 {
        self.nanos
    }

    pub const fn is_zero(self) -> bool {
        self.nanos == 0
    }

    pub const fn is_negative(self) -> bool {
        self.nanos < 0
    }

    /// The unsigned duration, or `None` when negative.
    pub fn to_std(self) -> Option<Duration> {
        u64::try_from(self.nanos).ok().map(Duration::from_nanos)
    }

    /// The unsigned duration with negative values clamped to zero, for APIs where
    /// "already expired" is the meaning of a negative bound.
    pub fn to_std_saturating(self) -> Duration {
        self.to_std().unwrap_or(Duration::ZERO)
    }

    /// Parses Go duration syntax: an optional sign, then one or more decimal numbers
    /// (optional fraction) each followed by a unit (`ns`, `us`, `µs`, `μs`, `ms`, `s`,
    /// `m`, `h`). A bare `0` needs no unit.
    pub fn parse(input: &str) -> Result<Self, DurationError> {
        let invalid = || DurationError::Invalid(input.to_string());
        let (negative, mut rest) = match input.as_bytes().first() {
            Some(b'-') => (true, &input[1..]),
            Some(b'+') => (false, &input[1..]),
            _ => (false, input),
        };
        if rest == "0" {
            return Ok(SignedDuration::ZERO);
        }
        if rest.is_empty() {
            return Err(invalid());
        }
        // Accumulate the magnitude in u64 like Go does, so that i64::MIN is reachable.
        let mut total: u64 = 0;
        while !rest.is_empty() {
            let (whole, after_whole) = split_digits(rest);
            let (fraction, after_number) = match after_whole.strip_prefix('.') {
                Some(after_dot) => split_digits(after_dot),
                None => ("", after_whole),
            };
            if whole.is_empty() && fraction.is_empty() {
                return Err(invalid());
            }
            let unit_len = after_number
                .find(|c: char| c == '.' || c.is_ascii_digit())
                .unwrap_or(after_number.len());
            let (unit, after_unit) = after_number.split_at(unit_len);
            if unit.is_empty() {
                return Err(DurationError::MissingUnit(input.to_string()));
            }
            let unit_nanos = unit_nanos(unit).ok_or_else(|| DurationError::UnknownUnit {
                unit: unit.to_string(),
                input: input.to_string(),
            })?;
            let value = component_nanos(whole, fraction, unit_nanos).ok_or_else(invalid)?;
            total = total.checked_add(value).ok_or_else(invalid)?;
            rest = after_unit;
        }
        let limit = if negative {
            i64::MIN.unsigned_abs()
        } else {
            i64::MAX as u64
        };
        if total > limit {
            return Err(invalid());
        }
        let nanos = if negative {
            (total as i64).wrapping_neg()
        } else {
            total as i64
        };
        Ok(SignedDuration { nanos })
    }
}

fn split_digits(text: &str) -> (&str, &str) {
    let end = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    text.split_at(end)
}

fn unit_nanos(unit: &str) -> Option<u64> {
    Some(match unit {
        "ns" => 1,
        "us" | "\u{b5}s" | "\u{3bc}s" => NANOS_PER_MICRO,
        "ms" => NANOS_PER_MILLI,
        "s" => NANOS_PER_SECOND,
        "m" => 60 * NANOS_PER_SECOND,
        "h" => 3600 * NANOS_PER_SECOND,
        _ => return None,
    })
}

/// `whole.fraction` × `unit` in nanoseconds, `None` on overflow. Fraction digits beyond
/// what can matter are ignored, as in Go.
fn component_nanos(whole: &str, fraction: &str, unit: u64) -> Option<u64> {
    let mut value: u64 = 0;
    for digit in whole.bytes() {
        value = value
            .checked_mul(10)?
            .checked_add(u64::from(digit - b'0'))?;
    }
    let mut nanos = value.checked_mul(unit)?;
    if !fraction.is_empty() {
        let mut numerator: u64 = 0;
        let mut scale: f64 = 1.0;
        let mut overflowed = false;
        for digit in fraction.bytes() {
            if overflowed {
                continue;
            }
            match numerator
                .checked_mul(10)
                .and_then(|n| n.checked_add(u64::from(digit - b'0')))
            {
                Some(next) if next <= (1 << 53) => {
                    numerator = next;
                    scale *= 10.0;
                }
                _ => overflowed = true,
            }
        }
        let fractional = (numerator as f64) * (unit as f64 / scale);
        nanos = nanos.checked_add(fractional as u64)?;
    }
    Some(nanos)
}

impl std::str::FromStr for SignedDuration {
    type Err = DurationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        SignedDuration::parse(s)
    }
}

impl From<Duration> for SignedDuration {
    /// Saturates at the largest representable duration.
    fn from(duration: Duration) -> Self {
        SignedDuration {
            nanos: i64::try_from(duration.as_nanos()).unwrap_or(i64::MAX),
        }
    }
}

/// Formats like Go's `Duration.String`: `0s`, `1.5s`, `500ms`, `1µs`, `1m30s`, `1h0m0s`.
impl fmt::Display for SignedDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.nanos == 0 {
            return f.write_str("0s");
        }
        let sign = if self.nanos < 0 { "-" } else { "" };
        let magnitude = self.nanos.unsigned_abs();
        if magnitude < NANOS_PER_SECOND {
            let (unit, per_unit, digits) = if magnitude < NANOS_PER_MICRO {
                ("ns", 1, 0)
            } else if magnitude < NANOS_PER_MILLI {
                ("\u{b5}s", NANOS_PER_MICRO, 3)
            } else {
                ("ms", NANOS_PER_MILLI, 6)
            };
            let fraction = format_fraction(magnitude % per_unit, digits);
            return write!(f, "{sign}{}{fraction}{unit}", magnitude / per_unit);
        }
        let seconds = magnitude / NANOS_PER_SECOND;
        let fraction = format_fraction(magnitude % NANOS_PER_SECOND, 9);
        let (hours, minutes) = (seconds / 3600, seconds / 60 % 60);
        write!(f, "{sign}")?;
        if hours > 0 {
            write!(f, "{hours}h{minutes}m")?;
        } else if minutes > 0 {
            write!(f, "{minutes}m")?;
        }
        write!(f, "{}{fraction}s", seconds % 60)
    }
}

/// `.ddd` with trailing zeros removed, or nothing when the remainder is zero.
fn format_fraction(remainder: u64, digits: usize) -> String {
    if remainder == 0 {
        return String::new();
    }
    let padded = format!("{remainder:0digits$}");
    format!(".{}", padded.trim_end_matches('0'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ns(text: &str) -> i64 {
        SignedDuration::parse(text)
            .unwrap_or_else(|e| panic!("{text}: {e}"))
            .as_nanos()
    }

    #[test]
    fn parses_go_examples() {
        assert_eq!(ns("0"), 0);
        assert_eq!(ns("-0"), 0);
        assert_eq!(ns("+0"), 0);
        assert_eq!(ns("5s"), 5_000_000_000);
        assert_eq!(ns("500ms"), 500_000_000);
        assert_eq!(ns("1m30s"), 90_000_000_000);
        assert_eq!(ns("1.5h"), 5_400_000_000_000);
        assert_eq!(ns("-1s"), -1_000_000_000);
        assert_eq!(ns("+2m"), 120_000_000_000);
        assert_eq!(ns("1µs"), 1_000);
        assert_eq!(ns("1μs"), 1_000);
        assert_eq!(ns("1us"), 1_000);
        assert_eq!(ns("7ns"), 7);
        assert_eq!(ns(".5s"), 500_000_000);
        assert_eq!(ns("1.s"), 1_000_000_000);
        assert_eq!(ns("0s"), 0);
        assert_eq!(ns("1h2m3s4ms5us6ns"), 3_723_004_005_006);
        assert_eq!(ns("0.000000001s"), 1);
        assert_eq!(ns("2562047h47m16.854775807s"), i64::MAX);
        assert_eq!(ns("-2562047h47m16.854775808s"), i64::MIN);
    }

    #[test]
    fn rejects_what_go_rejects() {
        for bad in [
            "",
            "-",
            "+",
            "s",
            ".s",
            "1",
            "10",
            "5sec",
            "1x",
            "1.2.3s",
            "--1s",
            "1s-1s",
            "eighty",
            "2562047h47m16.854775808s",
        ] {
            assert!(
                SignedDuration::parse(bad).is_err(),
                "{bad:?} should be rejected"
            );
        }
        assert_eq!(
            SignedDuration::parse("10"),
            Err(DurationError::MissingUnit("10".into()))
        );
        assert!(
            matches!(SignedDuration::parse("5sec"), Err(DurationError::UnknownUnit { unit, .. }) if unit == "sec")
        );
        assert!(SignedDuration::parse("5sec")
            .unwrap_err()
            .to_string()
            .contains("\"5sec\""));
    }

    #[test]
    fn formats_like_go() {
        let cases = [
            (0, "0s"),
            (1, "1ns"),
            (1_100, "1.1µs"),
            (2_200_000, "2.2ms"),
            (500_000_000, "500ms"),
            (1_500_000_000, "1.5s"),
            (90_000_000_000, "1m30s"),
            (3_600_000_000_000, "1h0m0s"),
            (4_000_000_000_000, "1h6m40s"),
            (-1_000_000_000, "-1s"),
            (i64::MIN, "-2562047h47m16.854775808s"),
            (i64::MAX, "2562047h47m16.854775807s"),
        ];
        for (nanos, text) in cases {
            assert_eq!(SignedDuration::from_nanos(nanos).to_string(), text);
            assert_eq!(ns(text), nanos, "round trip of {text}");
        }
    }

    #[test]
    fn std_conversions() {
        assert_eq!(
            SignedDuration::from_secs(2).to_std(),
            Some(Duration::from_secs(2))
        );
        assert_eq!(SignedDuration::from_secs(-2).to_std(), None);
        assert_eq!(
            SignedDuration::from_millis(-2).to_std_saturating(),
            Duration::ZERO
        );
        assert_eq!(
            SignedDuration::from(Duration::from_millis(1500)),
            SignedDuration::from_millis(1500)
        );
        assert!(SignedDuration::from_nanos(-1).is_negative());
        assert!(SignedDuration::ZERO.is_zero());
    }
}
