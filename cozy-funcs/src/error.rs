//! Errors raised by the function library, converted into minijinja errors at the call boundary.

use thiserror::Error;

/// Why a Helm function call failed. The message names the function and the value at fault,
/// the way Go's template engine does (`error calling int: ...`).
#[derive(Debug, Error, Clone, PartialEq)]
pub enum FuncError {
    #[error("wrong number of args for {func}: want {want} got {got}")]
    Arity {
        func: &'static str,
        want: String,
        got: usize,
    },
    #[error("{func}: wrong type for value; expected {expected}; got {got}")]
    WrongType {
        func: &'static str,
        expected: &'static str,
        got: String,
    },
    #[error("{func}: invalid value; expected {expected}")]
    Missing {
        func: &'static str,
        expected: &'static str,
    },
    #[error("{func}: {detail}")]
    Invalid { func: &'static str, detail: String },
}

impl From<FuncError> for minijinja::Error {
    fn from(err: FuncError) -> Self {
        minijinja::Error::new(
            minijinja::ErrorKind::InvalidOperation,
            format!("error calling {err}"),
        )
    }
}

/// Result type of every Helm function.
pub type FuncResult<T = minijinja::Value> = Result<T, FuncError>;

/// Builds a [`FuncError::Invalid`] for `func`.
pub(crate) fn invalid(func: &'static str, detail: impl Into<String>) -> FuncError {
    FuncError::Invalid {
        func,
        detail: detail.into(),
    }
}
