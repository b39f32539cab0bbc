//! The CLI over a corpus of broken charts and inputs: every case must exit with the expected
//! code, name the file/line/value at fault, and never print a Rust panic message.
//!
//! Each case is plain data: the files of a throw-away chart directory, the command line, the
//! exit code and the fragments the error output must contain. Static fixtures that are easier
//! to keep as files (binary junk, non-UTF-8, a billion-laughs values file) live in
//! `tests/broken/`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_cozy-render");
const CHART_YAML: &str = "apiVersion: v2\nname: broken\nversion: 0.1.0\n";

/// One broken input (a few are accepted on purpose, as Helm accepts them: they must still
/// behave, without a panic).
struct Case {
    name: &'static str,
    /// Files of the chart directory (`Chart.yaml` is added unless a file of that name is given).
    files: Vec<(&'static str, Vec<u8>)>,
    /// Arguments after `cozy-render`; `{chart}` is the chart directory, `{broken}` the fixtures.
    args: Vec<&'static str>,
    code: i32,
    /// Fragments the combined output must contain.
    expect: Vec<&'static str>,
}

fn case(
    name: &'static str,
    files: Vec<(&'static str, &str)>,
    args: &[&'static str],
    code: i32,
    expect: &[&'static str],
) -> Case {
    Case {
        name,
        files: files
            .into_iter()
            .map(|(p, t)| (p, t.as_bytes().to_vec()))
            .collect(),
        args: args.to_vec(),
        code,
        expect: expect.to_vec(),
    }
}

fn tpl(text: &str) -> Vec<(&'static str, &str)> {
    vec![("templates/cm.yaml", text)]
}

const T: &[&str] = &["template", "{chart}"];

fn deep_yaml(levels: usize) -> String {
    let mut s = String::new();
    for i in 0..levels {
        s.push_str(&" ".repeat(i));
        s.push_str("a:\n");
    }
    s.push_str(&" ".repeat(levels));
    s.push_str("b: 1\n");
    s
}

fn cases() -> Vec<Case> {
    let deep_values: &'static str = Box::leak(deep_yaml(300).into_boxed_str());
    let deep_flow: &'static str =
        Box::leak(format!("x: {}{}\n", "[".repeat(5000), "]".repeat(5000)).into_boxed_str());
    let huge_set: &'static str = Box::leak(format!("--set=a[{}]=1", 10_000_000).into_boxed_str());
    let deep_set: &'static str =
        Box::leak(format!("--set={}=1", vec!["a"; 200].join(".")).into_boxed_str());
    let deep_json: &'static str = Box::leak(
        format!("--set-json=a={}1{}", "[".repeat(20_000), "]".repeat(20_000)).into_boxed_str(),
    );
    let long_name: &'static str = Box::leak("x".repeat(100_000).into_boxed_str());
    let _ = long_name;
    let mut v = vec![
        // --- command line -------------------------------------------------------------------
        case("unknown subcommand", vec![], &["frobnicate"], 2, &["frobnicate"]),
        case("unknown flag", vec![], &["template", "{chart}", "--no-such-flag"], 2, &["--no-such-flag"]),
        case("no chart argument", vec![], &["template"], 2, &["required"]),
        case("too many positionals", vec![], &["template", "a", "b", "c"], 2, &["c"]),
        case("bad output format", vec![], &["template", "{chart}", "-o", "toml"], 2, &["toml"]),
        case("flag missing its value", vec![], &["template", "{chart}", "--set"], 2, &["--set"]),
        case("bad kube version", tpl("a: b\n"), &["template", "{chart}", "--kube-version", "banana"], 2, &["banana"]),
        case("unknown show-only", tpl("a: b\n"), &["template", "{chart}", "-s", "templates/nope.yaml"], 2, &["templates/nope.yaml"]),
        // --- chart directory ----------------------------------------------------------------
        case("missing chart directory", vec![], &["template", "/nonexistent/chart/dir"], 2, &["/nonexistent/chart/dir"]),
        case("chart is a file", vec![], &["template", "{chart}/Chart.yaml"], 2, &["Chart.yaml"]),
        case("empty Chart.yaml", vec![("Chart.yaml", "")], T, 2, &["Chart.yaml"]),
        case("Chart.yaml not a map", vec![("Chart.yaml", "- a\n- b\n")], T, 2, &["Chart.yaml"]),
        case("Chart.yaml bad YAML", vec![("Chart.yaml", "name: [unclosed\n")], T, 2, &["Chart.yaml"]),
        case("Chart.yaml without name", vec![("Chart.yaml", "apiVersion: v2\nversion: 0.1.0\n")], T, 2, &["Chart.yaml", "name"]),
        case("Chart.yaml name wrong type", vec![("Chart.yaml", "apiVersion: v2\nname: [1]\nversion: 0.1.0\n")], T, 2, &["Chart.yaml"]),
        case("packaged subchart", vec![("charts/redis-17.3.0.tgz", "not unpacked")], T, 2, &["charts/redis-17.3.0.tgz", "packaged subcharts are not read", "tar -xzf"]),
        case("Chart.yaml tab indentation", vec![("Chart.yaml", "apiVersion: v2\nname: x\n\tversion: 1\n")], T, 2, &["Chart.yaml"]),
        // --- chart values.yaml ----------------------------------------------------------------
        case("values.yaml bad YAML", vec![("values.yaml", "a: [1, 2\n")], T, 2, &["values.yaml"]),
        case("values.yaml is a list", vec![("values.yaml", "- 1\n- 2\n")], T, 2, &["values.yaml"]),
        case("values.yaml duplicate key (last wins, like Helm)", vec![("values.yaml", "a: 1\na: 2\n")], T, 0, &[]),
        case("values.yaml undefined alias", vec![("values.yaml", "a: *nothere\n")], T, 2, &["values.yaml", "nothere"]),
        case("values.yaml too deep", vec![("values.yaml", deep_values)], T, 2, &["values.yaml", "nesting deeper"]),
        case("values.yaml deep flow", vec![("values.yaml", deep_flow)], T, 2, &["values.yaml"]),
        // --- -f values files ------------------------------------------------------------------
        case("missing -f file", tpl("a: b\n"), &["template", "{chart}", "-f", "/nonexistent/values.yaml"], 2, &["/nonexistent/values.yaml"]),
        case("-f is a directory", tpl("a: b\n"), &["template", "{chart}", "-f", "{chart}"], 2, &["broken-"]),
        case("-f binary junk", tpl("a: b\n"), &["template", "{chart}", "-f", "{broken}/junk.bin"], 2, &["junk.bin"]),
        case("-f non-UTF-8", tpl("a: b\n"), &["template", "{chart}", "-f", "{broken}/latin1.yaml"], 2, &["latin1.yaml"]),
        case("-f billion laughs", tpl("a: b\n"), &["template", "{chart}", "-f", "{broken}/billion-laughs.yaml"], 2, &["billion-laughs.yaml", "aliases expand"]),
        case("-f scalar document", tpl("a: b\n"), &["template", "{chart}", "-f", "{broken}/scalar.yaml"], 2, &["scalar.yaml"]),
        case("-f bad indentation", tpl("a: b\n"), &["template", "{chart}", "-f", "{broken}/bad-indent.yaml"], 2, &["bad-indent.yaml"]),
        case("-f unknown tag", tpl("a: b\n"), &["template", "{chart}", "-f", "{broken}/unknown-tag.yaml"], 2, &["unknown-tag.yaml"]),
        // --- --set family -----------------------------------------------------------------------
        case("--set without =", tpl("a: b\n"), &["template", "{chart}", "--set", "novalue"], 2, &["novalue"]),
        case("--set empty key", tpl("a: b\n"), &["template", "{chart}", "--set", "=1"], 2, &["--set"]),
        case("--set unclosed index", tpl("a: b\n"), &["template", "{chart}", "--set", "a[0=1"], 2, &["a[0=1"]),
        case("--set negative index", tpl("a: b\n"), &["template", "{chart}", "--set", "a[-1]=1"], 2, &["-1"]),
        case("--set non-numeric index", tpl("a: b\n"), &["template", "{chart}", "--set", "a[x]=1"], 2, &["a[x]"]),
        case("--set huge index", tpl("a: b\n"), &["template", "{chart}", huge_set], 2, &["10000000"]),
        case("--set names too deep", tpl("a: b\n"), &["template", "{chart}", deep_set], 2, &["nested deeper"]),
        case("--set-json invalid", tpl("a: b\n"), &["template", "{chart}", "--set-json", "a={oops"], 2, &["a={oops"]),
        case("--set-json too deep", tpl("a: b\n"), &["template", "{chart}", deep_json], 2, &["--set-json"]),
        case("--set-file missing", tpl("a: b\n"), &["template", "{chart}", "--set-file", "a=/nonexistent/file.txt"], 2, &["/nonexistent/file.txt"]),
        case("--set-file binary", tpl("a: {{ Values.a | quote }}\n"), &["template", "{chart}", "--set-file", "a={broken}/junk.bin"], 0, &[]),
        // --- schema -----------------------------------------------------------------------------
        case(
            "schema type violation",
            vec![("values.yaml", "replicas: many\n"), ("values.schema.json", r#"{"type":"object","properties":{"replicas":{"type":"integer"}}}"#)],
            T,
            2,
            &["replicas", "many"],
        ),
        case(
            "schema required missing",
            vec![("values.schema.json", r#"{"type":"object","required":["image"]}"#)],
            T,
            2,
            &["image"],
        ),
        case(
            "schema violation from --set",
            vec![("values.schema.json", r#"{"type":"object","properties":{"port":{"type":"integer","maximum":65535}}}"#)],
            &["template", "{chart}", "--set", "port=70000"],
            2,
            &["port", "70000"],
        ),
        case("schema not JSON", vec![("values.schema.json", "{not json")], T, 2, &["values.schema.json"]),
        case("schema not a schema", vec![("values.schema.json", r#"{"type": 12}"#)], T, 2, &["values.schema.json"]),
        case("schema binary", vec![("values.schema.json", "\u{0}\u{1}\u{2}")], T, 2, &["values.schema.json"]),
        // --- template syntax ----------------------------------------------------------------
        case("unclosed expression", tpl("a: {{ Values.x\n"), T, 2, &["broken/templates/cm.yaml", "1"]),
        case("unclosed block", tpl("{% if true %}\na: b\n"), T, 2, &["broken/templates/cm.yaml"]),
        case("unknown tag", tpl("a: b\n{% frobnicate %}\n"), T, 2, &["broken/templates/cm.yaml", "2"]),
        case("mismatched end tag", tpl("{% for x in [1] %}\n{% endif %}\n"), T, 2, &["broken/templates/cm.yaml"]),
        case("bad definition file", vec![("templates/_helpers.tpl", "{% define \"x\" %}\nno end\n")], T, 2, &["_helpers.tpl"]),
        case("definition without name", vec![("templates/_helpers.tpl", "{% define %}\n{% enddefine %}\n")], T, 2, &["_helpers.tpl"]),
        case("syntax error inside definition", vec![("templates/_helpers.tpl", "{% define \"x\" %}\n{{ oops(\n{% enddefine %}\n")], T, 2, &["_helpers.tpl"]),
        // --- template execution -------------------------------------------------------------
        case("undefined attribute access", tpl("a: {{ Values.missing.deeper }}\n"), T, 2, &["broken/templates/cm.yaml:1", "nil pointer"]),
        case("unknown function", tpl("a: {{ frobnicate(1) }}\n"), T, 2, &["broken/templates/cm.yaml:1"]),
        case("fail", tpl("\n{{ fail(\"stop here\") }}\n"), T, 2, &["broken/templates/cm.yaml:2", "stop here"]),
        case("required missing", tpl("a: {{ required(\"image.tag is required\", Values.image) }}\n"), T, 2, &["image.tag is required"]),
        case("include unknown definition", tpl("a: {{ include(\"nope\", dot) }}\n"), T, 2, &["nope"]),
        case("wrong argument type (Go-style coercion)", tpl("a: {{ add(\"x\", Values) }}\n"), T, 0, &[]),
        case("division by zero", tpl("a: {{ 1 // 0 }}\n"), T, 2, &["broken/templates/cm.yaml:1"]),
        case("fromYaml of binary", tpl("a: {{ Files.Get(\"junk.bin\") | fromYaml | toYaml }}\n"), T, 2, &["broken/templates/cm.yaml"]),
        case(
            "infinite include recursion",
            vec![("templates/_helpers.tpl", "{% define \"loop\" %}{{ include(\"loop\", dot) }}{% enddefine %}\n"), ("templates/cm.yaml", "a: {{ include(\"loop\", dot) }}\n")],
            T,
            2,
            &["loop", "exceeded max template depth"],
        ),
        case(
            "tpl recursion through values",
            vec![("values.yaml", "t: \"{{ tpl(Values.t, dot) }}\"\n"), ("templates/cm.yaml", "a: {{ tpl(Values.t, dot) }}\n")],
            T,
            2,
            &["exceeded max template depth"],
        ),
        case("runaway loop", tpl("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}\n"), T, 2, &["broken/templates/cm.yaml"]),
        case("tpl with syntax error in value", vec![("values.yaml", "t: \"{{ oops(\"\n"), ("templates/cm.yaml", "a: {{ tpl(Values.t, dot) }}\n")], T, 2, &["broken/templates/cm.yaml"]),
        // --- rendered output ------------------------------------------------------------------
        case("invalid rendered YAML", tpl("a: [1, 2\n"), T, 2, &["broken/templates/cm.yaml"]),
        case("rendered YAML bad indentation", tpl("a:\n  b: 1\n c: 2\n"), T, 2, &["broken/templates/cm.yaml"]),
        case("rendered duplicate key (last wins, like Helm)", tpl("a: 1\na: 2\n"), T, 0, &[]),
        // --- cluster state ----------------------------------------------------------------------
        case("missing cluster state", tpl("a: b\n"), &["template", "{chart}", "--cluster-state", "/nonexistent/state.yaml"], 2, &["/nonexistent/state.yaml"]),
        case("cluster state bad YAML", tpl("a: b\n"), &["template", "{chart}", "--cluster-state", "{broken}/bad-indent.yaml"], 2, &["bad-indent.yaml"]),
        case("cluster state binary", tpl("a: b\n"), &["template", "{chart}", "--cluster-state", "{broken}/junk.bin"], 2, &["junk.bin"]),
        // --- chart files ------------------------------------------------------------------------
        case("non-UTF-8 template", vec![], T, 2, &["templates/latin1.yaml"]),
        case("binary template", vec![], T, 2, &["templates/junk.yaml"]),
    ];
    // Byte-level fixtures that cannot be written as &str.
    for c in v.iter_mut() {
        match c.name {
            "non-UTF-8 template" => c
                .files
                .push(("templates/latin1.yaml", b"a: caf\xe9\n".to_vec())),
            "binary template" => c.files.push((
                "templates/junk.yaml",
                vec![0xff, 0xfe, 0x00, 0x9f, 0x92, 0x96, 0x00, 0x01],
            )),
            "fromYaml of binary" => c.files.push(("junk.bin", vec![0xff, 0xfe, 0x00, 0x01])),
            _ => {}
        }
    }
    v
}

fn broken_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/broken")
}

static SEQ: AtomicUsize = AtomicUsize::new(0);

/// A fresh chart directory for one case, named after the case for readable errors.
fn make_chart(case: &Case) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "broken-{}-{}",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("templates")).unwrap();
    if !case.files.iter().any(|(p, _)| *p == "Chart.yaml") {
        std::fs::write(dir.join("Chart.yaml"), CHART_YAML).unwrap();
    }
    for (path, bytes) in &case.files {
        let full = dir.join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, bytes).unwrap();
    }
    dir
}

struct Outcome {
    code: Option<i32>,
    output: String,
    elapsed: Duration,
}

fn run(case: &Case) -> Outcome {
    let chart = make_chart(case);
    let broken = broken_dir();
    let args: Vec<String> = case
        .args
        .iter()
        .map(|a| {
            a.replace("{chart}", &chart.display().to_string())
                .replace("{broken}", &broken.display().to_string())
        })
        .collect();
    let started = Instant::now();
    let out = Command::new(BIN)
        .args(&args)
        .env("RUST_BACKTRACE", "0")
        .output()
        .expect("spawn cozy-render");
    let elapsed = started.elapsed();
    let _ = std::fs::remove_dir_all(&chart);
    let mut output = String::from_utf8_lossy(&out.stderr).into_owned();
    output.push_str(&String::from_utf8_lossy(&out.stdout));
    Outcome {
        code: out.status.code(),
        output,
        elapsed,
    }
}

#[test]
fn corpus_has_at_least_sixty_cases() {
    let all = cases();
    assert!(all.len() >= 60, "only {} cases", all.len());
    let mut names: Vec<&str> = all.iter().map(|c| c.name).collect();
    names.sort();
    let before = names.len();
    names.dedup();
    assert_eq!(before, names.len(), "case names must be unique");
}

#[test]
fn every_broken_input_is_a_clear_error() {
    let mut failures = Vec::new();
    for case in cases() {
        let outcome = run(&case);
        let mut problems = Vec::new();
        if outcome.code != Some(case.code) {
            problems.push(format!(
                "exit code {:?}, expected {}",
                outcome.code, case.code
            ));
        }
        for needle in &case.expect {
            if !outcome.output.contains(needle) {
                problems.push(format!("output lacks {needle:?}"));
            }
        }
        for panic_marker in ["panicked at", "RUST_BACKTRACE", "stack overflow"] {
            if outcome.output.contains(panic_marker) {
                problems.push(format!("output contains {panic_marker:?}"));
            }
        }
        if outcome.elapsed > Duration::from_secs(60) {
            problems.push(format!("took {:?}", outcome.elapsed));
        }
        if !problems.is_empty() {
            let shown: String = outcome.output.chars().take(600).collect();
            failures.push(format!(
                "{}: {}\n    output: {}",
                case.name,
                problems.join("; "),
                shown.replace('\n', "\n    ")
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} broken inputs misbehaved:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Every committed fuzz corpus file replayed through the function its fuzz target calls: no
/// panic, and each input handled in bounded time. This is how CI runs the fuzz regressions.
#[path = "../../fuzz/src/checks.rs"]
mod checks;

mod fuzz_corpus {
    use super::checks;
    use std::time::{Duration, Instant};

    #[test]
    fn fuzz_corpus_files_run_without_panics() {
        let corpus = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus");
        let mut replayed = 0;
        for (target, check) in checks::TARGETS {
            let dir = corpus.join(target);
            let mut files: Vec<_> = std::fs::read_dir(&dir)
                .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
                .map(|e| e.unwrap().path())
                .collect();
            files.sort();
            assert!(!files.is_empty(), "{}: empty corpus", dir.display());
            for file in files {
                let data = std::fs::read(&file).unwrap();
                let started = Instant::now();
                check(&data);
                let took = started.elapsed();
                assert!(
                    took < Duration::from_secs(20),
                    "{} took {took:?}",
                    file.display()
                );
                replayed += 1;
            }
        }
        assert!(replayed >= checks::TARGETS.len());
    }
}
