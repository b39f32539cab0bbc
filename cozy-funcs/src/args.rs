//! Argument checking with Go's messages: arity, and the typed parameters of Sprig functions
//! (a `string` parameter rejects an int, `int` parameters reject strings, and so on).

use minijinja::value::Value;

use crate::access::{go_type_name, GoValue};
use crate::convert::to_int64;
use crate::error::{FuncError, FuncResult};

/// The arguments of one Helm function call, in Helm's order.
pub struct Args<'a> {
    pub func: &'static str,
    pub values: &'a [Value],
}

impl<'a> Args<'a> {
    pub fn new(func: &'static str, values: &'a [Value]) -> Self {
        Args { func, values }
    }

    /// Requires exactly `n` arguments.
    pub fn exact(&self, n: usize) -> FuncResult<()> {
        if self.values.len() == n {
            Ok(())
        } else {
            Err(FuncError::Arity {
                func: self.func,
                want: n.to_string(),
                got: self.values.len(),
            })
        }
    }

    /// Requires at least `n` arguments.
    pub fn at_least(&self, n: usize) -> FuncResult<()> {
        if self.values.len() >= n {
            Ok(())
        } else {
            Err(FuncError::Arity {
                func: self.func,
                want: format!("at least {n}"),
                got: self.values.len(),
            })
        }
    }

    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Argument `i` (nil when absent).
    pub fn value(&self, i: usize) -> Value {
        self.values.get(i).cloned().unwrap_or_default()
    }

    /// Argument `i` as a Go `string` parameter.
    pub fn string(&self, i: usize) -> FuncResult<String> {
        let value = self.value(i);
        match GoValue::of(&value) {
            GoValue::Str(s) => Ok(s),
            GoValue::Nil => Err(FuncError::Missing {
                func: self.func,
                expected: "string",
            }),
            _ => Err(self.wrong_type("string", &value)),
        }
    }

    /// Argument `i` as a Go `int` parameter (template integer literals and ints from
    /// functions). Floats are rejected, as in Go.
    pub fn int(&self, i: usize) -> FuncResult<i64> {
        let value = self.value(i);
        match GoValue::of(&value) {
            GoValue::Int(n) => Ok(n),
            GoValue::Uint(n) => i64::try_from(n).map_err(|_| self.wrong_type("int", &value)),
            GoValue::Nil => Err(FuncError::Missing {
                func: self.func,
                expected: "int",
            }),
            _ => Err(self.wrong_type("int", &value)),
        }
    }

    /// Argument `i` as a Go `bool` parameter.
    pub fn bool(&self, i: usize) -> FuncResult<bool> {
        let value = self.value(i);
        match GoValue::of(&value) {
            GoValue::Bool(b) => Ok(b),
            GoValue::Nil => Err(FuncError::Missing {
                func: self.func,
                expected: "bool",
            }),
            _ => Err(self.wrong_type("bool", &value)),
        }
    }

    /// Argument `i` converted with Sprig's lenient `toInt64` (strings parse, failures are 0).
    pub fn lenient_int(&self, i: usize) -> i64 {
        to_int64(&self.value(i))
    }

    pub fn wrong_type(&self, expected: &'static str, value: &Value) -> FuncError {
        FuncError::WrongType {
            func: self.func,
            expected,
            got: go_type_name(value),
        }
    }
}
