//! Deep merge of JSON data: maps merge key by key, everything else (lists, scalars, null)
//! replaces. This is how Helm combines `-f` files and the documents of one values file.

use serde_json::Value;

/// Merge `top` into `base`; `top` wins except where both sides are maps.
pub fn deep_merge(base: &mut Value, top: Value) {
    match (base, top) {
        (Value::Object(base_map), Value::Object(top_map)) => {
            for (key, value) in top_map {
                match base_map.get_mut(&key) {
                    Some(existing) => deep_merge(existing, value),
                    None => {
                        base_map.insert(key, value);
                    }
                }
            }
        }
        (base, top) => *base = top,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn maps_merge_and_the_rest_replaces() {
        let mut base = json!({"m": {"n": {"a": 1}, "l": [1]}, "x": 1, "keep": true});
        deep_merge(
            &mut base,
            json!({"m": {"n": {"b": 2}, "l": [2]}, "x": null}),
        );
        assert_eq!(
            base,
            json!({"m": {"n": {"a": 1, "b": 2}, "l": [2]}, "x": null, "keep": true})
        );
    }

    #[test]
    fn a_map_replaces_a_scalar_and_back() {
        let mut base = json!({"a": 1, "b": {"c": 1}});
        deep_merge(&mut base, json!({"a": {"x": 1}, "b": "s"}));
        assert_eq!(base, json!({"a": {"x": 1}, "b": "s"}));
    }
}
