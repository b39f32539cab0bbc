//! Go-template truth and Sprig emptiness, which are the same rule: `false`, `0`, `""`, nil
//! and empty lists/maps are empty (false); everything else, including the string `"false"`,
//! is not.

use minijinja::value::Value;

use crate::access::GoValue;

/// Whether Sprig's `empty` holds for `value` (and so `default` replaces it).
pub fn is_empty(value: &Value) -> bool {
    match GoValue::of(value) {
        GoValue::Nil => true,
        GoValue::Bool(b) => !b,
        GoValue::Int(i) => i == 0,
        GoValue::Uint(u) => u == 0,
        GoValue::Float(f) => f == 0.0,
        GoValue::Str(s) => s.is_empty(),
        GoValue::Seq(items) => items.is_empty(),
        GoValue::Map(entries) => entries.is_empty(),
        GoValue::Other(_) => false,
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
