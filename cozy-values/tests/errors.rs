//! Every error message, in both forms (one line, and `{:#}` with the snippet), compared with
//! the golden file `fixtures/errors.txt`. Run with `COZY_UPDATE_GOLDEN=1` to rewrite it after
//! an intended change, then review the diff.

mod support;

use std::path::Path;

use cozy_values::yaml::{Limits, Loader, NumberMode};
use cozy_values::{compute, strvals, ChartValues, Map, ValueLayer, ValuesError};

fn yaml_cases() -> Vec<(&'static str, &'static str)> {
    vec![
        ("unclosed flow list", "image:\n  tag: [1, 2\nreplicas: 3\n"),
        ("bad indentation", "image:\n  tag: 1\n   pull: Always\n"),
        ("tab indentation", "image:\n\ttag: 1\n"),
        ("unclosed quote", "name: \"abc\nother: 1\n"),
        ("infinity", "ratio: .inf\n"),
        ("null key", "~: value\n"),
        ("list as key", "[a, b]: value\n"),
        ("unknown anchor", "a: *missing\n"),
        ("bad explicit int", "port: !!int eighty\n"),
        ("bad base64", "cert: !!binary \"%%%\"\n"),
        ("merge of a scalar", "base: 1\nx:\n  <<: 1\n"),
    ]
}

fn set_cases() -> Vec<(&'static str, &'static str)> {
    vec![
        ("--set", "image.tag"),
        ("--set", "a=1,,b=2"),
        ("--set", "ports[one]=80"),
        ("--set", "ports[-1]=80"),
        ("--set", "ports[0]x=80"),
        ("--set", "list={a,b"),
        ("--set", "a..b=1"),
        ("--set", "a=1,a.b=2"),
        ("--set-string", "a[0"),
        ("--set-json", "a={\"b\":}"),
        ("--set-json", "a=[1,2"),
        ("--set-json", "{\"a\":1"),
        ("--set-file", "cert=does-not-exist.pem"),
        ("--set-literal", "novalue"),
    ]
}

fn render(err: &ValuesError) -> String {
    format!("{err}\n{err:#}\n")
}

#[test]
fn error_messages_match_the_golden_file() {
    let mut out = String::new();
    for (name, text) in yaml_cases() {
        let err = Loader::new(NumberMode::Helm)
            .parse(text, "values.yaml")
            .expect_err(name);
        out.push_str(&format!("=== yaml: {name}\n{}", render(&err)));
    }
    let limited = Loader::new(NumberMode::Helm).with_limits(Limits {
        max_depth: 3,
        max_alias_nodes: 10,
    });
    for (name, text) in [
        ("too deep", "a:\n  b:\n    c:\n      d:\n        e: 1\n"),
        (
            "too many aliased nodes",
            "a: &a [1, 2, 3, 4]\nb: [*a, *a, *a]\n",
        ),
    ] {
        let err = limited.parse(text, "values.yaml").expect_err(name);
        out.push_str(&format!("=== yaml: {name}\n{}", render(&err)));
    }
    let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/set");
    for (flag, expr) in set_cases() {
        let mut values = Map::new();
        let err = match flag {
            "--set" => strvals::parse_set(expr, &mut values),
            "--set-string" => strvals::parse_set_string(expr, &mut values),
            "--set-json" => strvals::parse_set_json(expr, &mut values),
            "--set-file" => strvals::parse_set_file(expr, &mut values, Path::new("fixtures")),
            _ => strvals::parse_set_literal(expr, &mut values),
        }
        .expect_err(expr);
        out.push_str(&format!("=== {flag} {expr}\n{}", render(&err)));
    }
    let chart = ChartValues {
        name: "app".into(),
        subcharts: vec![ChartValues {
            name: "db".into(),
            ..ChartValues::default()
        }],
        ..ChartValues::default()
    };
    for (name, layer) in [
        (
            "values file that is a list",
            ValueLayer::File("../yaml/not-a-map.yaml".into()),
        ),
        (
            "missing values file",
            ValueLayer::File("absent.yaml".into()),
        ),
        (
            "subchart section that is a string",
            ValueLayer::Set("db=postgres".into()),
        ),
    ] {
        let err = compute(&chart, &[layer], &base).expect_err(name);
        out.push_str(&format!("=== compute: {name}\n{}", render(&err)));
    }

    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/errors.txt");
    if std::env::var_os("COZY_UPDATE_GOLDEN").is_some() {
        std::fs::write(&golden, &out).unwrap();
    }
    let expected = std::fs::read_to_string(&golden).unwrap_or_default();
    if expected != out {
        let first = expected
            .lines()
            .zip(out.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(0);
        panic!(
            "error messages differ from {} (first difference at line {}); rerun with COZY_UPDATE_GOLDEN=1 and review the diff\n--- actual ---\n{out}",
            golden.display(),
            first + 1
        );
    }
}
