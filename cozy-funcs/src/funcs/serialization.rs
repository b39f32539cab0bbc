//! YAML and JSON in and out. Like Helm, the non-`must` encoders swallow errors (an
//! unencodable value gives ""), and the decoders report a parse error inside the result
//! (`{"Error": "..."}` / `["..."]`) instead of failing the render.

use std::collections::BTreeMap;

use minijinja::value::Value;

use super::HelmFn;
use crate::access::GoValue;
use crate::args::Args;
use crate::error::{invalid, FuncResult};
use crate::from_data::{parse_json_as_go, parse_yaml_as_go};
use crate::mutable_map::MutableMap;
use crate::to_json::{to_json, JsonStyle};
use crate::to_yaml::to_yaml;

pub(crate) const FUNCS: &[(&str, HelmFn)] = &[
    ("toYaml", to_yaml_fn),
    ("mustToYaml", must_to_yaml),
    ("toJson", to_json_fn),
    ("mustToJson", must_to_json),
    ("toRawJson", to_raw_json),
    ("mustToRawJson", must_to_raw_json),
    ("toPrettyJson", to_pretty_json),
    ("mustToPrettyJson", must_to_pretty_json),
    ("fromYaml", from_yaml),
    ("fromYamlArray", from_yaml_array),
    ("fromJson", from_json),
    ("fromJsonArray", from_json_array),
];

const COMPACT: JsonStyle = JsonStyle {
    escape_html: true,
    pretty: false,
};
const RAW: JsonStyle = JsonStyle {
    escape_html: false,
    pretty: false,
};
const PRETTY: JsonStyle = JsonStyle {
    escape_html: true,
    pretty: true,
};

fn one(func: &'static str, values: &[Value]) -> FuncResult<Value> {
    let args = Args::new(func, values);
    args.exact(1)?;
    Ok(args.value(0))
}

fn to_yaml_fn(values: &[Value]) -> FuncResult {
    Ok(Value::from(
        to_yaml(&one("toYaml", values)?).unwrap_or_default(),
    ))
}

fn must_to_yaml(values: &[Value]) -> FuncResult {
    to_yaml(&one("mustToYaml", values)?)
        .map(Value::from)
        .map_err(|err| invalid("mustToYaml", err.to_string()))
}

fn encode_json(func: &'static str, values: &[Value], style: JsonStyle, must: bool) -> FuncResult {
    match to_json(&one(func, values)?, style) {
        Ok(text) => Ok(Value::from(text)),
        Err(err) if must => Err(invalid(func, err.to_string())),
        Err(_) => Ok(Value::from("")),
    }
}

fn to_json_fn(values: &[Value]) -> FuncResult {
    encode_json("toJson", values, COMPACT, false)
}

fn must_to_json(values: &[Value]) -> FuncResult {
    encode_json("mustToJson", values, COMPACT, true)
}

fn to_raw_json(values: &[Value]) -> FuncResult {
    encode_json("toRawJson", values, RAW, false)
}

fn must_to_raw_json(values: &[Value]) -> FuncResult {
    encode_json("mustToRawJson", values, RAW, true)
}

fn to_pretty_json(values: &[Value]) -> FuncResult {
    encode_json("toPrettyJson", values, PRETTY, false)
}

fn must_to_pretty_json(values: &[Value]) -> FuncResult {
    encode_json("mustToPrettyJson", values, PRETTY, true)
}

fn error_map(message: String) -> Value {
    MutableMap::into_value(BTreeMap::from([(
        "Error".to_string(),
        Value::from(message),
    )]))
}

/// The parsed document must be a map (nil documents read as an empty map).
fn expect_map(func: &str, parsed: Result<Value, String>) -> Value {
    match parsed {
        Ok(value) => match GoValue::of(&value) {
            GoValue::Map(_) => value,
            GoValue::Nil => MutableMap::into_value(BTreeMap::new()),
            _ => error_map(format!(
                "{func}: cannot unmarshal a non-map document into map[string]interface {{}}"
            )),
        },
        Err(message) => error_map(message),
    }
}

fn expect_list(func: &str, parsed: Result<Value, String>) -> Value {
    match parsed {
        Ok(value) => match GoValue::of(&value) {
            GoValue::Seq(_) => value,
            GoValue::Nil => Value::from(Vec::<Value>::new()),
            _ => Value::from(vec![Value::from(format!(
                "{func}: cannot unmarshal a non-list document into []interface {{}}"
            ))]),
        },
        Err(message) => Value::from(vec![Value::from(message)]),
    }
}

fn text_arg(func: &'static str, values: &[Value]) -> FuncResult<String> {
    let args = Args::new(func, values);
    args.exact(1)?;
    args.string(0)
}

fn from_yaml(values: &[Value]) -> FuncResult {
    let text = text_arg("fromYaml", values)?;
    Ok(expect_map("fromYaml", parse_yaml_as_go(&text)))
}

fn from_yaml_array(values: &[Value]) -> FuncResult {
    let text = text_arg("fromYamlArray", values)?;
    Ok(expect_list("fromYamlArray", parse_yaml_as_go(&text)))
}

fn from_json(values: &[Value]) -> FuncResult {
    let text = text_arg("fromJson", values)?;
    Ok(expect_map("fromJson", parse_json_as_go(&text)))
}

fn from_json_array(values: &[Value]) -> FuncResult {
    let text = text_arg("fromJsonArray", values)?;
    Ok(expect_list("fromJsonArray", parse_json_as_go(&text)))
}
