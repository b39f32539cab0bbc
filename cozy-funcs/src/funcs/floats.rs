//! Float arithmetic. Sprig's `addf`/`subf`/`mulf`/`divf` compute in decimal (shopspring
//! decimal over each operand's shortest representation), so `addf 0.1 0.2` is exactly 0.3;
//! `divf` keeps 16 decimal places. `ceil`, `floor` and `round` return float64.

use minijinja::value::Value;

use super::HelmFn;
use crate::args::Args;
use crate::convert::to_float64;
use crate::error::{invalid, FuncResult};

pub(crate) const FUNCS: &[(&str, HelmFn)] = &[
    ("addf", addf),
    ("subf", subf),
    ("mulf", mulf),
    ("divf", divf),
    ("maxf", maxf),
    ("minf", minf),
    ("ceil", ceil),
    ("floor", floor),
    ("round", round),
];

/// An exact decimal `mantissa × 10^-scale`.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Decimal {
    mantissa: i128,
    scale: u32,
}

/// Decimal places `divf` keeps (shopspring's `DivisionPrecision`).
const DIVISION_PRECISION: u32 = 16;

impl Decimal {
    /// The shortest decimal that reads back as `f` (`decimal.NewFromFloat`); `None` when it
    /// does not fit the fixed-width representation (then plain float math is used).
    fn from_f64(f: f64) -> Option<Decimal> {
        if !f.is_finite() {
            return None;
        }
        if f == 0.0 {
            return Some(Decimal {
                mantissa: 0,
                scale: 0,
            });
        }
        let sci = format!("{:e}", f.abs());
        let (digits, exp) = sci.split_once('e')?;
        let digits: String = digits.chars().filter(char::is_ascii_digit).collect();
        let exp: i32 = exp.parse().ok()?;
        let mut mantissa: i128 = digits.parse().ok()?;
        // value = mantissa × 10^(exp - (len - 1))
        let shift = exp - (digits.len() as i32 - 1);
        let scale = if shift >= 0 {
            mantissa = mantissa.checked_mul(10i128.checked_pow(shift as u32)?)?;
            0
        } else {
            (-shift) as u32
        };
        if scale > 60 {
            return None;
        }
        Some(Decimal {
            mantissa: if f < 0.0 { -mantissa } else { mantissa },
            scale,
        })
    }

    fn rescale(self, scale: u32) -> Option<Decimal> {
        let factor = 10i128.checked_pow(scale.checked_sub(self.scale)?)?;
        Some(Decimal {
            mantissa: self.mantissa.checked_mul(factor)?,
            scale,
        })
    }

    fn add(self, other: Decimal) -> Option<Decimal> {
        let scale = self.scale.max(other.scale);
        let (a, b) = (self.rescale(scale)?, other.rescale(scale)?);
        Some(Decimal {
            mantissa: a.mantissa.checked_add(b.mantissa)?,
            scale,
        })
    }

    fn neg(self) -> Decimal {
        Decimal {
            mantissa: -self.mantissa,
            scale: self.scale,
        }
    }

    fn mul(self, other: Decimal) -> Option<Decimal> {
        Some(Decimal {
            mantissa: self.mantissa.checked_mul(other.mantissa)?,
            scale: self.scale + other.scale,
        })
    }

    /// Division rounded half away from zero to 16 decimal places.
    fn div(self, other: Decimal) -> Option<Decimal> {
        // (a / 10^sa) / (b / 10^sb) = a × 10^(sb + P + 1 - sa) / b, in units of 10^-(P+1).
        let exponent = other.scale as i64 + DIVISION_PRECISION as i64 + 1 - self.scale as i64;
        let (numerator, denominator) = if exponent >= 0 {
            (
                self.mantissa
                    .checked_mul(10i128.checked_pow(exponent as u32)?)?,
                other.mantissa,
            )
        } else {
            (
                self.mantissa,
                other
                    .mantissa
                    .checked_mul(10i128.checked_pow((-exponent) as u32)?)?,
            )
        };
        let q = numerator / denominator;
        let rounded = if q >= 0 { (q + 5) / 10 } else { (q - 5) / 10 };
        Some(Decimal {
            mantissa: rounded,
            scale: DIVISION_PRECISION,
        })
    }

    fn to_f64(self) -> f64 {
        let digits = self.mantissa.unsigned_abs().to_string();
        let sign = if self.mantissa < 0 { "-" } else { "" };
        format!("{sign}{digits}e-{}", self.scale)
            .parse()
            .unwrap_or(f64::NAN)
    }
}

/// Folds the operands in decimal, falling back to float math when a value does not fit.
fn decimal_fold(
    start: f64,
    operands: &[Value],
    exact: fn(Decimal, Decimal) -> Option<Decimal>,
    approx: fn(f64, f64) -> f64,
) -> f64 {
    let mut acc = start;
    for operand in operands {
        let x = to_float64(operand);
        acc = match (Decimal::from_f64(acc), Decimal::from_f64(x)) {
            (Some(a), Some(b)) => exact(a, b)
                .map(Decimal::to_f64)
                .unwrap_or_else(|| approx(acc, x)),
            _ => approx(acc, x),
        };
    }
    acc
}

fn addf(values: &[Value]) -> FuncResult {
    Ok(Value::from(decimal_fold(
        0.0,
        values,
        Decimal::add,
        |a, b| a + b,
    )))
}

fn subf(values: &[Value]) -> FuncResult {
    let args = Args::new("subf", values);
    args.at_least(1)?;
    let first = to_float64(&args.value(0));
    Ok(Value::from(decimal_fold(
        first,
        &values[1..],
        |a, b| a.add(b.neg()),
        |a, b| a - b,
    )))
}

fn mulf(values: &[Value]) -> FuncResult {
    let args = Args::new("mulf", values);
    args.at_least(1)?;
    let first = to_float64(&args.value(0));
    Ok(Value::from(decimal_fold(
        first,
        &values[1..],
        Decimal::mul,
        |a, b| a * b,
    )))
}

fn divf(values: &[Value]) -> FuncResult {
    let args = Args::new("divf", values);
    args.at_least(1)?;
    if values[1..].iter().any(|v| to_float64(v) == 0.0) {
        return Err(invalid("divf", "decimal division by 0"));
    }
    let first = to_float64(&args.value(0));
    Ok(Value::from(decimal_fold(
        first,
        &values[1..],
        Decimal::div,
        |a, b| a / b,
    )))
}

fn maxf(values: &[Value]) -> FuncResult {
    let args = Args::new("maxf", values);
    args.at_least(1)?;
    Ok(Value::from(
        values
            .iter()
            .map(to_float64)
            .fold(f64::NEG_INFINITY, f64::max),
    ))
}

fn minf(values: &[Value]) -> FuncResult {
    let args = Args::new("minf", values);
    args.at_least(1)?;
    Ok(Value::from(
        values.iter().map(to_float64).fold(f64::INFINITY, f64::min),
    ))
}

fn ceil(values: &[Value]) -> FuncResult {
    let args = Args::new("ceil", values);
    args.exact(1)?;
    Ok(Value::from(to_float64(&args.value(0)).ceil()))
}

fn floor(values: &[Value]) -> FuncResult {
    let args = Args::new("floor", values);
    args.exact(1)?;
    Ok(Value::from(to_float64(&args.value(0)).floor()))
}

/// Sprig's `round x places`: scale, then ceil when the fraction is at least .5 and floor
/// otherwise (so -1.5 rounds to -2 and 1.005 to 1, as in Helm).
fn round(values: &[Value]) -> FuncResult {
    let args = Args::new("round", values);
    args.at_least(2)?;
    let places = args.int(1)?;
    let pow = 10f64.powi(places.clamp(-400, 400) as i32);
    let digit = pow * to_float64(&args.value(0));
    let fraction = digit.fract();
    let rounded = if fraction >= 0.5 {
        digit.ceil()
    } else {
        digit.floor()
    };
    Ok(Value::from(rounded / pow))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_sums_are_exact() {
        let sum = decimal_fold(
            0.0,
            &[Value::from(0.1), Value::from(0.2)],
            Decimal::add,
            |a, b| a + b,
        );
        assert_eq!(sum, 0.3);
    }

    #[test]
    fn division_keeps_sixteen_places() {
        let q = decimal_fold(1.0, &[Value::from(3)], Decimal::div, |a, b| a / b);
        assert_eq!(q, 0.3333333333333333);
    }
}
