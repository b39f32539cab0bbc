//! Helm conformance table: every case in `tests/conformance/*.cases` renders its minijinja
//! snippet with the library and must equal the output helm produced for the equivalent
//! Go-template snippet (stored in the fixture). Cases whose expectation is an error must fail.
//!
//! `update_expected_outputs_from_helm` (ignored; `make conformance-update`) regenerates the
//! stored outputs by rendering every Go snippet with a real helm binary in one run.

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use minijinja::{context, Environment, Error, ErrorKind, Value};
use support::fixture::{self, Case, Expected, Fixture};

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance")
}

fn fixture_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(fixture_dir())
        .expect("tests/conformance exists")
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "cases"))
        .collect();
    files.sort();
    files
}

fn load(path: &Path) -> Fixture {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    fixture::parse(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The environment settings the renderer uses, with only this library installed.
fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    let syntax = minijinja::syntax::SyntaxConfig::builder()
        .trim_blocks(true)
        .lstrip_blocks(true)
        .keep_trailing_newline(true)
        .build()
        .expect("default delimiters are valid");
    env.set_syntax(syntax);
    cozy_funcs::register(&mut env);
    env.set_formatter(|out, _state, value| {
        out.write_str(&cozy_funcs::go_display(value))
            .map_err(|e| Error::new(ErrorKind::WriteFailure, e.to_string()))
    });
    env
}

/// Values as Helm reads a values file (YAML 1.1, numbers as float64).
fn values_of(case: &Case) -> Value {
    let text = case.values.as_deref().unwrap_or("");
    let parsed =
        cozy_values::yaml::parse_str(text, "values.yaml", cozy_values::yaml::NumberMode::Helm)
            .unwrap_or_else(|e| panic!("case {}: bad values: {e}", case.name));
    match parsed.value {
        serde_json::Value::Null => Value::from(minijinja::value::Serde(serde_json::json!({}))),
        other => Value::from(minijinja::value::Serde(other)),
    }
}

fn render(env: &Environment<'_>, case: &Case) -> Result<String, Error> {
    env.render_str(&case.jinja, context! { Values => values_of(case) })
}

fn diff(expected: &str, actual: &str) -> String {
    let mut out = String::new();
    let (e, a): (Vec<&str>, Vec<&str>) =
        (expected.split('\n').collect(), actual.split('\n').collect());
    for i in 0..e.len().max(a.len()) {
        match (e.get(i), a.get(i)) {
            (Some(x), Some(y)) if x == y => out.push_str(&format!("    {x:?}\n")),
            (x, y) => {
                if let Some(x) = x {
                    out.push_str(&format!("  - {x:?}\n"));
                }
                if let Some(y) = y {
                    out.push_str(&format!("  + {y:?}\n"));
                }
            }
        }
    }
    out
}

#[test]
fn minijinja_output_equals_stored_helm_output() {
    let env = environment();
    let mut total = 0;
    let mut failures = Vec::new();
    for path in fixture_files() {
        let file = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        for case in load(&path).cases {
            total += 1;
            let label = format!("{file}: {}", case.name);
            let result = render(&env, &case);
            match (&case.expected, result) {
                (None, _) => failures.push(format!(
                    "{label}: no stored helm output; run `make conformance-update`"
                )),
                (Some(Expected::Output(want)), Ok(got)) if &got == want => {}
                (Some(Expected::Output(want)), Ok(got)) => failures.push(format!(
                    "{label}: output differs (- helm, + ours)\n{}",
                    diff(want, &got)
                )),
                (Some(Expected::Output(_)), Err(err)) => {
                    failures.push(format!("{label}: helm succeeded, we failed: {err:#}"))
                }
                (Some(Expected::Error(_)), Err(_)) => {}
                (Some(Expected::Error(message)), Ok(got)) => failures.push(format!(
                    "{label}: helm failed ({message}), we printed {got:?}"
                )),
            }
        }
    }
    assert!(
        total >= 150,
        "the conformance table must hold at least 150 cases, it has {total}"
    );
    assert!(
        failures.is_empty(),
        "{} of {total} conformance cases differ:\n\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn case_names_are_unique_within_each_file() {
    for path in fixture_files() {
        let mut seen = BTreeMap::new();
        for case in load(&path).cases {
            assert!(
                !case.go.is_empty() && !case.jinja.is_empty(),
                "{}: {} lacks a snippet",
                path.display(),
                case.name
            );
            if let Some(previous) = seen.insert(case.name.clone(), ()) {
                panic!(
                    "{}: duplicate case {} {previous:?}",
                    path.display(),
                    case.name
                );
            }
        }
    }
}

// ---- regeneration from helm ---------------------------------------------------------------

fn find_helm() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("HELM").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(path));
    }
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join("helm"))
        .find(|p| p.is_file())
}

/// One case placed in the throwaway chart.
struct Placed {
    key: String,
    file: usize,
    case: usize,
}

fn indent_block(text: &str) -> String {
    text.lines()
        .map(|l| format!("  {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn write_chart(dir: &Path, fixtures: &[Fixture], placed: &[Placed]) {
    let templates = dir.join("templates");
    std::fs::create_dir_all(&templates).expect("create chart dir");
    std::fs::write(
        dir.join("Chart.yaml"),
        "apiVersion: v2\nname: conf\nversion: 0.1.0\n",
    )
    .expect("write Chart.yaml");
    let (mut values, mut defines, mut out) = (String::new(), String::new(), String::new());
    for p in placed {
        let case = &fixtures[p.file].cases[p.case];
        match case
            .values
            .as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
        {
            Some(v) => values.push_str(&format!("{}:\n{}\n", p.key, indent_block(v))),
            None => values.push_str(&format!("{}: {{}}\n", p.key)),
        }
        let go = case.go.replace(".Values", &format!(".Values.{}", p.key));
        defines.push_str(&format!(
            "{{{{ define \"{}\" }}}}{go}{{{{ end }}}}\n",
            p.key
        ));
        out.push_str(&format!(
            "{0}: {{{{ include \"{0}\" . | b64enc | quote }}}}\n",
            p.key
        ));
    }
    std::fs::write(dir.join("values.yaml"), values).expect("write values.yaml");
    std::fs::write(templates.join("_cases.tpl"), defines).expect("write _cases.tpl");
    std::fs::write(templates.join("out.yaml"), out).expect("write out.yaml");
}

fn decode_outputs(stdout: &str) -> BTreeMap<String, String> {
    use base64::Engine as _;
    let mut outputs = BTreeMap::new();
    for line in stdout.lines() {
        let Some((key, rest)) = line.split_once(": ") else {
            continue;
        };
        let Ok(encoded) = serde_json::from_str::<String>(rest) else {
            continue;
        };
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .expect("helm wrote base64");
        // Helm removes Go's `<no value>` from every rendered file.
        let text = String::from_utf8_lossy(&bytes).replace("<no value>", "");
        outputs.insert(key.to_string(), text);
    }
    outputs
}

/// The message of a failing case, without the chart-specific location prefix.
fn error_message(stderr: &str, key: &str) -> String {
    let marker = format!("executing \"{key}\" at ");
    let tail = match stderr.find(&marker) {
        Some(pos) => &stderr[pos + marker.len()..],
        None => stderr,
    };
    // Undo the per-case values prefix so stored messages read like the fixture's snippet.
    let message = tail
        .trim()
        .trim_start_matches("Error: ")
        .replace(&format!(".Values.{key}"), ".Values");
    message.lines().map(str::trim).collect::<Vec<_>>().join(" ")
}

#[test]
#[ignore = "needs helm; run `make conformance-update`"]
fn update_expected_outputs_from_helm() {
    let Some(helm) = find_helm() else {
        eprintln!("helm not found (set HELM or put helm on PATH); stored outputs left unchanged");
        return;
    };
    let files = fixture_files();
    let mut fixtures: Vec<Fixture> = files.iter().map(|p| load(p)).collect();
    let mut placed: Vec<Placed> = Vec::new();
    for (f, fixture) in fixtures.iter().enumerate() {
        for c in 0..fixture.cases.len() {
            placed.push(Placed {
                key: format!("c{}", placed.len() + 1),
                file: f,
                case: c,
            });
        }
    }
    let dir = std::env::temp_dir().join(format!("cozy-funcs-conformance-{}", std::process::id()));
    let mut errors: BTreeMap<String, String> = BTreeMap::new();
    let outputs = loop {
        let _ = std::fs::remove_dir_all(&dir);
        let remaining: Vec<&Placed> = placed
            .iter()
            .filter(|p| !errors.contains_key(&p.key))
            .collect();
        let remaining: Vec<Placed> = remaining
            .iter()
            .map(|p| Placed {
                key: p.key.clone(),
                file: p.file,
                case: p.case,
            })
            .collect();
        write_chart(&dir, &fixtures, &remaining);
        let run = Command::new(&helm)
            .arg("template")
            .arg("conf")
            .arg(&dir)
            .output()
            .expect("run helm");
        let stderr = String::from_utf8_lossy(&run.stderr).into_owned();
        if run.status.success() {
            break decode_outputs(&String::from_utf8_lossy(&run.stdout));
        }
        let failing = remaining
            .iter()
            .find(|p| stderr.contains(&format!("<include \"{}\"", p.key)));
        match failing {
            Some(p) => {
                errors.insert(p.key.clone(), error_message(&stderr, &p.key));
            }
            None => panic!("helm failed outside any single case (fixture syntax?):\n{stderr}"),
        }
    };
    let _ = std::fs::remove_dir_all(&dir);
    let mut changed = 0;
    for p in &placed {
        let expected = match errors.get(&p.key) {
            Some(message) => Expected::Error(message.clone()),
            None => Expected::Output(
                outputs
                    .get(&p.key)
                    .cloned()
                    .unwrap_or_else(|| panic!("no output for {}", p.key)),
            ),
        };
        let case = &mut fixtures[p.file].cases[p.case];
        if case.expected.as_ref() != Some(&expected) {
            changed += 1;
            case.expected = Some(expected);
        }
    }
    for (path, fixture) in files.iter().zip(&fixtures) {
        std::fs::write(path, fixture::write(fixture)).expect("write fixture");
    }
    eprintln!(
        "{} cases, {} expectations updated, {} error cases",
        placed.len(),
        changed,
        errors.len()
    );
}

#[test]
fn fixture_files_are_in_canonical_form() {
    // The updater rewrites files with `fixture::write`; a file that does not round-trip would
    // change on the next update for reasons other than helm's output.
    for path in fixture_files() {
        let text = std::fs::read_to_string(&path).expect("read fixture");
        let fixture = load(&path);
        assert_eq!(
            fixture::parse(&fixture::write(&fixture)).unwrap(),
            fixture,
            "{}",
            path.display()
        );
        assert_eq!(
            fixture::write(&fixture),
            text,
            "{} is not in canonical form",
            path.display()
        );
    }
}
