//! JUnit XML (`-o junit FILE`): one `<testsuite>` per suite file, one `<testcase>` per test job,
//! a `<failure>` carrying the same details as the human report.

use std::fmt::Write as _;

use crate::outcome::ChartOutcome;

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 => {}
            c => out.push(c),
        }
    }
    out
}

/// The JUnit document for a run.
pub fn to_junit(charts: &[ChartOutcome]) -> String {
    let mut body = String::new();
    let (mut tests, mut failures, mut errors, mut time) = (0usize, 0usize, 0usize, 0f64);
    for chart in charts {
        if let Some(e) = &chart.error {
            errors += 1;
            let _ = writeln!(
                body,
                "  <testsuite name=\"{}\" tests=\"0\" failures=\"0\" errors=\"1\" skipped=\"0\" time=\"0\">\n    <error message=\"cannot load the chart\">{}</error>\n  </testsuite>",
                escape(&chart.name),
                escape(e)
            );
        }
        for suite in &chart.suites {
            let t = suite.tests.len();
            let f = suite.tests.iter().filter(|t| !t.passed).count();
            let s = suite.tests.iter().filter(|t| t.skipped.is_some()).count();
            let problems = suite.snapshot_problems();
            let e = usize::from(suite.error.is_some()) + usize::from(!problems.is_empty());
            let secs = suite.duration.as_secs_f64();
            tests += t;
            failures += f;
            errors += e;
            time += secs;
            let _ = writeln!(
                body,
                "  <testsuite name=\"{}\" package=\"{}\" file=\"{}\" tests=\"{t}\" failures=\"{f}\" errors=\"{e}\" skipped=\"{s}\" time=\"{secs:.3}\">",
                escape(&suite.name),
                escape(&chart.name),
                escape(&suite.file.display().to_string())
            );
            if let Some(err) = &suite.error {
                let _ = writeln!(
                    body,
                    "    <error message=\"suite error\">{}</error>",
                    escape(err)
                );
            }
            for p in &problems {
                let _ = writeln!(
                    body,
                    "    <error message=\"snapshot\">{}</error>",
                    escape(p)
                );
            }
            for test in &suite.tests {
                let _ = write!(
                    body,
                    "    <testcase name=\"{}\" classname=\"{}\" time=\"{:.3}\"",
                    escape(&test.it),
                    escape(&format!("{}.{}", chart.name, suite.name)),
                    test.duration.as_secs_f64()
                );
                if let Some(reason) = &test.skipped {
                    let _ = writeln!(
                        body,
                        ">\n      <skipped message=\"{}\"/>\n    </testcase>",
                        escape(reason)
                    );
                } else if test.passed {
                    let _ = writeln!(body, "/>");
                } else {
                    let mut detail = String::new();
                    if let Some(e) = &test.error {
                        let _ = writeln!(detail, "Execution Error:\n\t{e}");
                    }
                    for a in test.asserts.iter().filter(|a| !a.passed) {
                        let _ = writeln!(detail, "- asserts[{}] `{}` fail", a.index, a.name);
                        for l in &a.lines {
                            let _ = writeln!(detail, "\t{l}");
                        }
                    }
                    let failed_names: Vec<String> = test
                        .asserts
                        .iter()
                        .filter(|a| !a.passed)
                        .map(|a| a.name.clone())
                        .collect();
                    let message = if failed_names.is_empty() {
                        "test failed".to_string()
                    } else {
                        format!("failed: {}", failed_names.join(", "))
                    };
                    let _ = writeln!(
                        body,
                        ">\n      <failure message=\"{}\" type=\"assertion\">{}</failure>\n    </testcase>",
                        escape(&message),
                        escape(&detail)
                    );
                }
            }
            let _ = writeln!(body, "  </testsuite>");
        }
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"cozy-render test\" tests=\"{tests}\" failures=\"{failures}\" errors=\"{errors}\" time=\"{time:.3}\">\n{body}</testsuites>\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::{AssertOutcome, SuiteOutcome, TestOutcome};

    #[test]
    fn failures_and_escaping() {
        let suite = SuiteOutcome {
            name: "deploy <x>".into(),
            file: "tests/d_test.yaml".into(),
            error: None,
            tests: vec![
                TestOutcome {
                    it: "ok".into(),
                    passed: true,
                    skipped: None,
                    error: None,
                    asserts: vec![],
                    duration: Default::default(),
                },
                TestOutcome {
                    it: "bad & sad".into(),
                    passed: false,
                    skipped: None,
                    error: None,
                    asserts: vec![AssertOutcome {
                        index: 0,
                        name: "equal".into(),
                        not: false,
                        passed: false,
                        skipped: false,
                        lines: vec!["Path:\ta".into()],
                    }],
                    duration: Default::default(),
                },
            ],
            snapshot: Default::default(),
            duration: Default::default(),
        };
        let chart = ChartOutcome {
            name: "web".into(),
            dir: "c".into(),
            error: None,
            suites: vec![suite],
        };
        let xml = to_junit(&[chart]);
        assert!(
            xml.contains(
                "<testsuites name=\"cozy-render test\" tests=\"2\" failures=\"1\" errors=\"0\""
            ),
            "{xml}"
        );
        assert!(xml.contains("name=\"deploy &lt;x&gt;\""));
        assert!(xml.contains("<testcase name=\"bad &amp; sad\""));
        assert!(xml.contains("<failure message=\"failed: equal\" type=\"assertion\">- asserts[0] `equal` fail\n\tPath:\ta\n</failure>"), "{xml}");
    }
}
