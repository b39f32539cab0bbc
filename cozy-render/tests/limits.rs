//! Every resource limit (docs/limits.md) refuses what exceeds it with a clear error, accepts
//! what fits, and can be changed by its flag. Limits are process-wide, so each case runs the
//! CLI binary.

use std::path::PathBuf;
use std::process::Command;

mod support;

const BIN: &str = env!("CARGO_BIN_EXE_cozy-render");

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn chart(name: &str, files: &[(&str, String)]) -> PathBuf {
    let dir = support::scratch("limits", name);
    let files: Vec<(&str, &str)> = files.iter().map(|(p, t)| (*p, t.as_str())).collect();
    support::write_chart(&dir, "limits", &files);
    dir
}

fn template(dir: &PathBuf, extra: &[&str]) -> Run {
    let out = Command::new(BIN)
        .arg("template")
        .arg(dir)
        .args(extra)
        .output()
        .unwrap();
    let run = Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert!(
        !run.stderr.contains("panicked at") && !run.stderr.contains("overflow"),
        "{}",
        run.stderr
    );
    run
}

const COUNTDOWN: &str = "{% define \"down\" %}{% if dot > 0 %}{{ include(\"down\", dot - 1) }}{% else %}bottom{% endif %}{% enddefine %}\n";

#[test]
fn helms_thousand_nested_includes_render_without_overflowing_the_stack() {
    let dir = chart(
        "depth-ok",
        &[
            ("templates/_helpers.tpl", COUNTDOWN.into()),
            (
                "templates/cm.yaml",
                "a: {{ include(\"down\", 999) }}\n".into(),
            ),
        ],
    );
    let run = template(&dir, &[]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(run.stdout.contains("a: bottom"), "{}", run.stdout);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn one_include_past_the_depth_limit_is_refused_and_the_limit_is_a_flag() {
    let dir = chart(
        "depth-over",
        &[
            ("templates/_helpers.tpl", COUNTDOWN.into()),
            (
                "templates/cm.yaml",
                "a: {{ include(\"down\", 1000) }}\n".into(),
            ),
        ],
    );
    let run = template(&dir, &[]);
    assert_eq!(run.code, Some(2));
    assert!(
        run.stderr.contains("exceeded max template depth of 1000"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("limits/templates/cm.yaml"),
        "{}",
        run.stderr
    );

    let lowered = template(&dir, &["--max-include-depth", "10"]);
    assert_eq!(lowered.code, Some(2));
    assert!(
        lowered.stderr.contains("exceeded max template depth of 10"),
        "{}",
        lowered.stderr
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn runaway_loops_run_out_of_fuel() {
    let loop_text =
        "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}a: b\n";
    let dir = chart("fuel", &[("templates/cm.yaml", loop_text.into())]);
    let run = template(&dir, &[]);
    assert_eq!(run.code, Some(2));
    assert!(run.stderr.contains("fuel"), "{}", run.stderr);
    assert!(
        run.stderr.contains("limits/templates/cm.yaml"),
        "{}",
        run.stderr
    );
    let _ = std::fs::remove_dir_all(dir);

    let small = chart(
        "fuel-small",
        &[(
            "templates/cm.yaml",
            "{% for i in range(1000) %}{% endfor %}a: b\n".into(),
        )],
    );
    assert_eq!(template(&small, &[]).code, Some(0));
    let starved = template(&small, &["--fuel", "100"]);
    assert_eq!(starved.code, Some(2));
    assert!(starved.stderr.contains("fuel"), "{}", starved.stderr);
    let _ = std::fs::remove_dir_all(small);
}

#[test]
fn output_of_a_template_an_include_and_a_render_is_bounded() {
    let big = "a: |\n{% for i in range(200) %}  0123456789\n{% endfor %}".to_string();
    let dir = chart(
        "output",
        &[
            (
                "templates/_helpers.tpl",
                format!("{{% define \"big\" %}}{big}{{% enddefine %}}\n"),
            ),
            ("templates/one.yaml", big.clone()),
            ("templates/two.yaml", "{{ include(\"big\", dot) }}".into()),
        ],
    );
    assert_eq!(template(&dir, &[]).code, Some(0));

    let per_template = template(
        &dir,
        &["--max-template-output", "1000", "-s", "templates/one.yaml"],
    );
    assert_eq!(per_template.code, Some(2));
    assert!(
        per_template.stderr.contains("limits/templates/one.yaml"),
        "{}",
        per_template.stderr
    );
    assert!(
        per_template.stderr.contains("exceeds 1000 bytes"),
        "{}",
        per_template.stderr
    );

    let per_include = template(
        &dir,
        &["--max-template-output", "1000", "-s", "templates/two.yaml"],
    );
    assert_eq!(per_include.code, Some(2));
    assert!(
        per_include.stderr.contains("limits/templates/two.yaml"),
        "{}",
        per_include.stderr
    );
    assert!(
        per_include.stderr.contains("exceeds 1000 bytes"),
        "{}",
        per_include.stderr
    );

    let total = template(&dir, &["--max-total-output", "3000"]);
    assert_eq!(total.code, Some(2));
    assert!(
        total
            .stderr
            .contains("rendered output of all templates exceeds 3000 bytes"),
        "{}",
        total.stderr
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn yaml_alias_expansion_and_depth_are_bounded_and_adjustable() {
    let aliases = "base: &b [1, 2, 3, 4, 5, 6, 7, 8]\nx: [*b, *b, *b, *b]\n".to_string();
    let deep = "a:\n  b:\n    c:\n      d:\n        e: 1\n".to_string();
    let dir = chart(
        "yaml",
        &[
            ("templates/cm.yaml", "a: b\n".into()),
            ("aliases.yaml", aliases),
            ("deep.yaml", deep),
        ],
    );
    let aliases_file = dir.join("aliases.yaml").display().to_string();
    let deep_file = dir.join("deep.yaml").display().to_string();

    assert_eq!(template(&dir, &["-f", &aliases_file]).code, Some(0));
    let refused = template(&dir, &["-f", &aliases_file, "--max-yaml-alias-nodes", "10"]);
    assert_eq!(refused.code, Some(2));
    assert!(
        refused.stderr.contains("aliases.yaml") && refused.stderr.contains("more than 10 nodes"),
        "{}",
        refused.stderr
    );

    assert_eq!(template(&dir, &["-f", &deep_file]).code, Some(0));
    let too_deep = template(&dir, &["-f", &deep_file, "--max-yaml-depth", "3"]);
    assert_eq!(too_deep.code, Some(2));
    assert!(
        too_deep.stderr.contains("deep.yaml") && too_deep.stderr.contains("nesting deeper than 3"),
        "{}",
        too_deep.stderr
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_billion_laughs_values_file_is_refused() {
    let laughs = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/broken/billion-laughs.yaml");
    assert!(std::fs::metadata(&laughs).unwrap().len() <= 1024);
    let dir = chart("laughs", &[("templates/cm.yaml", "a: b\n".into())]);
    let run = template(&dir, &["-f", &laughs.display().to_string()]);
    assert_eq!(run.code, Some(2));
    assert!(
        run.stderr.contains("billion-laughs.yaml")
            && run
                .stderr
                .contains("aliases expand to more than 100000 nodes"),
        "{}",
        run.stderr
    );
    let _ = std::fs::remove_dir_all(dir);
}
