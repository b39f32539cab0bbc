//! Turning parsed YAML/JSON into template values: maps become [`MutableMap`]s (Helm's
//! `fromYaml` result is a plain Go map the chart may change), numbers are float64 as in Go.

use minijinja::value::Value;

use crate::mutable_map::MutableMap;

/// Converts JSON data into a template value with mutable maps.
pub fn json_to_value(json: &serde_json::Value) -> Value {
    match json {
        serde_json::Value::Null => Value::from(()),
        serde_json::Value::Bool(b) => Value::from(*b),
        serde_json::Value::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => Value::from(i),
            (None, Some(u), _) => Value::from(u),
            (_, _, Some(f)) => Value::from(f),
            _ => Value::from(()),
        },
        serde_json::Value::String(s) => Value::from(s.as_str()),
        serde_json::Value::Array(items) => {
            Value::from(items.iter().map(json_to_value).collect::<Vec<_>>())
        }
        serde_json::Value::Object(entries) => MutableMap::into_value(
            entries
                .iter()
                .map(|(k, v)| (k.clone(), json_to_value(v)))
                .collect(),
        ),
    }
}

/// Go's `json.Unmarshal` into `interface{}`: every number is a float64.
pub fn parse_json_as_go(text: &str) -> Result<Value, String> {
    let json: serde_json::Value = serde_json::from_str(text).map_err(|err| err.to_string())?;
    Ok(json_to_value(&floats_only(json)))
}

/// Helm's YAML reading (YAML 1.1 scalars, numbers as float64).
pub fn parse_yaml_as_go(text: &str) -> Result<Value, String> {
    let parsed =
        cozy_values::yaml::parse_str(text, "fromYaml", cozy_values::yaml::NumberMode::Helm)
            .map_err(|err| err.to_string())?;
    Ok(json_to_value(&floats_only(parsed.value)))
}

fn floats_only(json: serde_json::Value) -> serde_json::Value {
    match json {
        serde_json::Value::Number(n) => match n.as_f64() {
            Some(f) => serde_json::Number::from_f64(f)
                .map(serde_json::Value::Number)
                .unwrap_or(serde_json::Value::Null),
            None => serde_json::Value::Number(n),
        },
        serde_json::Value::Array(items) => {
            serde_json::Value::Array(items.into_iter().map(floats_only).collect())
        }
        serde_json::Value::Object(entries) => serde_json::Value::Object(
            entries
                .into_iter()
                .map(|(k, v)| (k, floats_only(v)))
                .collect(),
        ),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::go_type_name;

    #[test]
    fn yaml_is_read_as_helm_reads_it() {
        let value = parse_yaml_as_go("a: on\nb: 1\nc: \"on\"").unwrap();
        assert_eq!(value.get_attr("a").unwrap(), Value::from(true));
        assert_eq!(go_type_name(&value.get_attr("b").unwrap()), "float64");
        assert_eq!(value.get_attr("c").unwrap(), Value::from("on"));
        assert!(value.downcast_object_ref::<MutableMap>().is_some());
    }

    #[test]
    fn json_numbers_are_floats() {
        let value = parse_json_as_go(r#"{"n": 3}"#).unwrap();
        assert_eq!(go_type_name(&value.get_attr("n").unwrap()), "float64");
    }
}
