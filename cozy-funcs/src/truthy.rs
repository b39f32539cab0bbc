//! Go-template truth and Sprig emptiness, which are the same rule: `false`, `0`, `""`, nil
//! and empty lists/maps are empty (false); everything else, including the string `"false"`,
//! is not.

use minijinja::value::Value;

use crate::access::{go_kind, GoKind};

/// Whether Sprig's `empty` holds for `value` (and so `default` replaces it).
pub fn is_empty(value: &Value) -> bool {
    match go_kind(value) {
        GoKind::Nil => true,
        GoKind::Bool | GoKind::Int | GoKind::Uint | GoKind::Float => !value.is_true(),
        GoKind::Str => value.len() == Some(0) || value.as_bytes().is_some_and(<[u8]>::is_empty),
        GoKind::Seq | GoKind::Map => match value.len() {
            Some(n) => n == 0,
            None => value
                .try_iter()
                .map_or(true, |mut items| items.next().is_none()),
        },
        GoKind::Other => false,
    }
}

/// Go template truth, as `{{ if x }}` decides it.
pub fn go_truthy(value: &Value) -> bool {
    !is_empty(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_truth_differs_from_python_truth_only_in_data_shapes() {
        assert!(!go_truthy(&Value::from(false)));
        assert!(!go_truthy(&Value::from(0.0)));
        assert!(!go_truthy(&Value::from("")));
        assert!(!go_truthy(&Value::UNDEFINED));
        assert!(!go_truthy(&Value::from(minijinja::value::Serde(
            serde_json::json!({})
        ))));
        assert!(go_truthy(&Value::from("false")));
        assert!(go_truthy(&Value::from(minijinja::value::Serde(
            serde_json::json!([0])
        ))));
    }
}
