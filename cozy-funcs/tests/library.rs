//! Behaviour of the library inside a minijinja environment that the conformance table (which
//! compares with helm) cannot show: minijinja-specific call forms, mutation, robustness.

use minijinja::{context, Environment, Error, ErrorKind};

fn env() -> Environment<'static> {
    let mut env = Environment::new();
    cozy_funcs::register(&mut env);
    env.set_formatter(|out, _state, value| {
        out.write_str(&cozy_funcs::go_display(value))
            .map_err(|e| Error::new(ErrorKind::WriteFailure, e.to_string()))
    });
    env
}

fn render(template: &str) -> Result<String, Error> {
    env().render_str(template, context! {})
}

#[test]
fn a_map_that_contains_itself_does_not_overflow_the_stack() {
    let out = render(r#"{% set d = dict("a", 1) %}{% do set(d, "self", d) %}[{{ toYaml(d) }}][{{ toJson(d) }}]{{ deepCopy(d) | kindOf }}"#)
        .unwrap();
    assert_eq!(out, "[][]map");
    let printed = render(r#"{% set d = dict() %}{% do set(d, "self", d) %}{{ d }}"#).unwrap();
    assert!(printed.starts_with("map[self:map[self:"), "{printed}");
    let merged =
        render(r#"{% set d = dict() %}{% do set(d, "self", d) %}{{ merge(dict(), d) | kindOf }}"#);
    assert_eq!(merged.unwrap(), "map");
}

#[test]
fn immutable_destinations_are_copied_not_changed() {
    let env = env();
    let values =
        minijinja::Value::from(minijinja::value::Serde(serde_json::json!({"a": {"x": 1}})));
    let out = env
        .render_str(
            r#"{{ set(Values.a, "y", 2) | toJson }} {{ mergeOverwrite(Values.a, dict("x", 9)) | toJson }} {{ Values.a | toJson }}"#,
            context! { Values => values },
        )
        .unwrap();
    assert_eq!(out, r#"{"x":1,"y":2} {"x":9} {"x":1}"#);
}

#[test]
fn filters_take_the_piped_value_last() {
    assert_eq!(render(r#"{{ list("a", "b") | join("-") }}|{{ "x" | default("d") }}|{{ "ab" | trimPrefix("a") }}"#).unwrap(), "a-b|x|b");
}

#[test]
fn errors_name_the_function_and_the_problem() {
    let err = render(r#"{{ upper(1) }}"#).unwrap_err();
    let text = format!("{err:#}");
    assert!(
        text.contains("error calling upper: wrong type for value; expected string; got int"),
        "{text}"
    );
    let err = render(r#"{{ indent(100000, "x") }}"#).unwrap_err();
    assert!(format!("{err:#}").contains("too wide"));
}

#[test]
fn mutable_maps_iterate_sorted_and_support_attribute_access() {
    assert_eq!(
        render(r#"{% set d = dict("b", 1, "a", 2) %}{% for k in d %}{{ k }}={{ d[k] }},{% endfor %}{{ d.b }}"#).unwrap(),
        "a=2,b=1,1"
    );
}
