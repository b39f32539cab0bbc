//! Evaluating one assertion against the documents of one template. Failure text follows
//! helm-unittest's layout (`DocumentIndex`, `Path`, `Expected to ...`, `Actual`, `Diff`), indented
//! values in YAML.

use base64::Engine as _;
use serde_json::Value as Json;

use crate::assertion::{Assertion, Check};
use crate::compare::{
    go_type_name, is_empty_value, is_subset, item_matches, type_matches, uniform_content,
    values_equal,
};
use crate::diff::unified;
use crate::path::Path;
use crate::select::Target;
use crate::snapshot::{Compared, SnapshotContent, SnapshotSession};
use crate::suite::kind_of;
use crate::yaml_out::to_yaml;

/// Result of checking one template.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Verdict {
    pub passed: bool,
    pub lines: Vec<String>,
}

impl Verdict {
    fn pass() -> Verdict {
        Verdict {
            passed: true,
            lines: Vec::new(),
        }
    }
    fn merge(&mut self, other: Verdict) {
        self.passed &= other.passed;
        self.lines.extend(other.lines);
    }
}

/// Indent a block of text for a failure message.
pub fn block(text: &str) -> Vec<String> {
    text.trim_end_matches('\n')
        .split('\n')
        .map(|l| format!("\t{l}"))
        .collect()
}

fn yaml_block(v: &Json) -> Vec<String> {
    block(&to_yaml(v))
}

fn error_lines(doc: Option<usize>, message: &str) -> Verdict {
    let mut lines = Vec::new();
    if let Some(i) = doc {
        lines.push(format!("DocumentIndex:\t{i}"));
    }
    lines.push("Error:".into());
    lines.extend(block(message));
    Verdict {
        passed: false,
        lines,
    }
}

fn expected_lines(
    doc: usize,
    path: Option<&Path>,
    negate: bool,
    what: &str,
    expected: &Json,
    actual: Option<&Json>,
) -> Verdict {
    let mut lines = vec![format!("DocumentIndex:\t{doc}")];
    if let Some(p) = path {
        lines.push(format!("Path:\t{}", p.text));
    }
    lines.push(format!(
        "Expected{} {what}:",
        if negate { " NOT" } else { "" }
    ));
    lines.extend(yaml_block(expected));
    if let (Some(actual), false) = (actual, negate) {
        lines.push("Actual:".into());
        lines.extend(yaml_block(actual));
        let (e, a) = (to_yaml(expected), to_yaml(actual));
        if e.lines().count() > 2 || a.lines().count() > 2 {
            lines.push("Diff:".into());
            lines.extend(block(&unified(&e, &a)));
        }
    }
    Verdict {
        passed: false,
        lines,
    }
}

/// Check the documents of one template. `test` names the test for snapshot bookkeeping.
pub fn check_target(
    a: &Assertion,
    target: &Target,
    test: &str,
    snapshots: &mut SnapshotSession,
) -> Verdict {
    let negate = a.negate;
    match &a.check {
        Check::HasDocuments {
            count,
            filter_aware,
        } => {
            let actual = if *filter_aware {
                target.docs.len()
            } else {
                target.output.documents.len()
            } as u64;
            if (actual == *count) != negate {
                return Verdict::pass();
            }
            let mut lines = vec![format!(
                "Expected{} documents count to be:",
                if negate { " NOT" } else { "" }
            )];
            lines.extend(block(&count.to_string()));
            if !negate {
                lines.push("Actual:".into());
                lines.extend(block(&actual.to_string()));
            }
            Verdict {
                passed: false,
                lines,
            }
        }
        Check::ContainsDocument {
            kind,
            api_version,
            name,
            namespace,
            any: _,
        } => {
            let found = target.docs.iter().any(|(_, d)| {
                d.get("kind").and_then(Json::as_str) == Some(kind.as_str())
                    && d.get("apiVersion").and_then(Json::as_str) == Some(api_version.as_str())
                    && name.as_ref().is_none_or(|n| {
                        d.pointer("/metadata/name").and_then(Json::as_str) == Some(n.as_str())
                    })
                    && namespace.as_ref().is_none_or(|n| {
                        d.pointer("/metadata/namespace").and_then(Json::as_str) == Some(n.as_str())
                    })
            });
            if found != negate {
                return Verdict::pass();
            }
            let mut wanted = serde_json::Map::new();
            wanted.insert("kind".into(), Json::String(kind.clone()));
            wanted.insert("apiVersion".into(), Json::String(api_version.clone()));
            if let Some(n) = name {
                wanted.insert("name".into(), Json::String(n.clone()));
            }
            if let Some(n) = namespace {
                wanted.insert("namespace".into(), Json::String(n.clone()));
            }
            let mut lines = vec![format!(
                "Expected{} to contain document:",
                if negate { " NOT" } else { "" }
            )];
            lines.extend(yaml_block(&Json::Object(wanted)));
            if !negate {
                let present: Vec<String> = target
                    .docs
                    .iter()
                    .map(|(_, d)| {
                        format!(
                            "{} {} {}",
                            d.get("apiVersion").and_then(Json::as_str).unwrap_or("?"),
                            d.get("kind").and_then(Json::as_str).unwrap_or("?"),
                            d.pointer("/metadata/name")
                                .and_then(Json::as_str)
                                .unwrap_or("?")
                        )
                    })
                    .collect();
                lines.push("Actual documents:".into());
                if present.is_empty() {
                    lines.push("\t(none)".into());
                }
                lines.extend(present.iter().map(|p| format!("\t{p}")));
            }
            Verdict {
                passed: false,
                lines,
            }
        }
        Check::EqualRaw { .. } | Check::MatchRegexRaw { .. } | Check::MatchSnapshotRaw => {
            check_raw(a, target, test, snapshots)
        }
        Check::FailedTemplate { .. } => {
            if negate {
                Verdict::pass()
            } else {
                error_lines(None, "expected the render to fail, but it succeeded")
            }
        }
        _ => {
            if target.docs.is_empty() {
                if negate {
                    return Verdict::pass();
                }
                return error_lines(None, &format!("no manifest found in {}", target.template));
            }
            let mut verdict = Verdict::pass();
            for (index, doc) in &target.docs {
                verdict.merge(check_document(a, *index, doc, test, snapshots));
            }
            verdict
        }
    }
}

fn check_raw(
    a: &Assertion,
    target: &Target,
    test: &str,
    snapshots: &mut SnapshotSession,
) -> Verdict {
    let Some(raw) = &target.output.raw else {
        return error_lines(
            None,
            &format!(
                "`{}` checks raw text (NOTES.txt); {} renders YAML documents",
                a.name, target.template
            ),
        );
    };
    let negate = a.negate;
    match &a.check {
        Check::EqualRaw { value } => {
            let actual = uniform_content(raw);
            if (actual == uniform_content(value)) != negate {
                return Verdict::pass();
            }
            let mut lines = vec![format!(
                "Expected{} to equal:",
                if negate { " NOT" } else { "" }
            )];
            lines.extend(block(value));
            if !negate {
                lines.push("Actual:".into());
                lines.extend(block(&actual));
                if actual.lines().count() > 2 {
                    lines.push("Diff:".into());
                    lines.extend(block(&unified(value, &actual)));
                }
            }
            Verdict {
                passed: false,
                lines,
            }
        }
        Check::MatchRegexRaw { pattern } => {
            if pattern.regex.is_match(raw) != negate {
                return Verdict::pass();
            }
            let mut lines = vec![format!(
                "Expected{} to match:",
                if negate { " NOT" } else { "" }
            )];
            lines.extend(block(&pattern.text));
            lines.push("Actual:".into());
            lines.extend(block(raw));
            Verdict {
                passed: false,
                lines,
            }
        }
        _ => snapshot_verdict(
            snapshots,
            test,
            &SnapshotContent::Raw(raw.clone()),
            negate,
            None,
        ),
    }
}

fn snapshot_verdict(
    snapshots: &mut SnapshotSession,
    test: &str,
    content: &SnapshotContent,
    negate: bool,
    doc: Option<usize>,
) -> Verdict {
    let (index, compared) = snapshots.compare(test, content);
    let mut lines = Vec::new();
    if let Some(d) = doc {
        lines.push(format!("DocumentIndex:\t{d}"));
    }
    let ci = snapshots.mode() == crate::snapshot::SnapshotMode::Ci;
    match (negate, compared) {
        (false, Compared::Matched)
        | (false, Compared::Changed { accepted: true, .. })
        | (false, Compared::New { accepted: true, .. }) => Verdict::pass(),
        (false, Compared::Changed { stored, new, .. }) => {
            lines.push(format!("Expected to match snapshot {index}:"));
            lines.extend(block(&unified(&stored, &new)));
            lines.push(if ci {
                "the snapshot changed; `--ci` accepts nothing: run `cozy-render test -u` locally and commit the result".into()
            } else {
                "the new snapshot is pending; run `cozy-render test -u` to accept it".into()
            });
            Verdict {
                passed: false,
                lines,
            }
        }
        (false, Compared::New { new, .. }) => {
            lines.push(format!(
                "No snapshot {index} stored yet for this test; the new one is:"
            ));
            lines.extend(block(&new));
            lines.push(if ci {
                "`--ci` never accepts new snapshots: run `cozy-render test -u` locally and commit the snapshot file".into()
            } else {
                "it is pending; run `cozy-render test -u` to accept it".into()
            });
            Verdict {
                passed: false,
                lines,
            }
        }
        (true, Compared::Matched) => {
            lines.push(format!("Expected NOT to match snapshot {index}"));
            Verdict {
                passed: false,
                lines,
            }
        }
        (true, _) => Verdict::pass(),
    }
}

fn decode(s: &str, decode_base64: bool) -> Result<String, String> {
    if !decode_base64 {
        return Ok(s.to_string());
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(s.trim())
        .map_err(|_| format!("unable to decode base64 expected content {s}"))?;
    String::from_utf8(bytes).map_err(|_| format!("base64 content of {s} is not UTF-8 text"))
}

fn check_document(
    a: &Assertion,
    index: usize,
    doc: &Json,
    test: &str,
    snapshots: &mut SnapshotSession,
) -> Verdict {
    let negate = a.negate;
    let missing = |path: &Path| error_lines(Some(index), &format!("unknown path {}", path.text));
    match &a.check {
        Check::Equal {
            path,
            value,
            decode_base64,
        } => {
            let actuals = path.resolve(doc);
            if actuals.is_empty() {
                return if negate {
                    Verdict::pass()
                } else {
                    missing(path)
                };
            }
            let mut v = Verdict::pass();
            for actual in actuals {
                let actual = match actual {
                    Json::String(s) => match decode(s, *decode_base64) {
                        Ok(d) => Json::String(uniform_content(&d)),
                        Err(e) => return error_lines(Some(index), &e),
                    },
                    other => other.clone(),
                };
                let expected = match value {
                    Json::String(s) => Json::String(uniform_content(s)),
                    other => other.clone(),
                };
                if values_equal(&expected, &actual) == negate {
                    v.merge(expected_lines(
                        index,
                        Some(path),
                        negate,
                        "to equal",
                        value,
                        Some(&actual),
                    ));
                }
            }
            v
        }
        Check::MatchRegex {
            path,
            pattern,
            decode_base64,
        } => {
            let actuals = path.resolve(doc);
            if actuals.is_empty() {
                return if negate {
                    Verdict::pass()
                } else {
                    missing(path)
                };
            }
            let mut v = Verdict::pass();
            for actual in actuals {
                let Json::String(s) = actual else {
                    v.merge(error_lines(
                        Some(index),
                        &format!(
                            "expected {} to be a string, got {}:\n{}",
                            path.text,
                            kind_of(actual),
                            to_yaml(actual)
                        ),
                    ));
                    continue;
                };
                let s = match decode(s, *decode_base64) {
                    Ok(s) => s,
                    Err(e) => return error_lines(Some(index), &e),
                };
                if pattern.regex.is_match(&s) == negate {
                    v.merge(expected_lines(
                        index,
                        Some(path),
                        negate,
                        "to match",
                        &Json::String(pattern.text.clone()),
                        Some(actual),
                    ));
                }
            }
            v
        }
        Check::Contains {
            path,
            content,
            count,
            any,
        } => {
            let actuals = path.resolve(doc);
            if actuals.is_empty() {
                return if negate {
                    Verdict::pass()
                } else {
                    missing(path)
                };
            }
            let mut v = Verdict::pass();
            for actual in actuals {
                let Json::Array(items) = actual else {
                    v.merge(error_lines(
                        Some(index),
                        &format!(
                            "expect '{}' to be an array, got:\n{}",
                            path.text,
                            to_yaml(actual)
                        ),
                    ));
                    continue;
                };
                let found = items
                    .iter()
                    .filter(|i| item_matches(i, content, *any))
                    .count() as u64;
                let ok = match count {
                    Some(c) => found == *c,
                    None => found > 0,
                };
                if ok == negate {
                    let what = match count {
                        Some(c) => format!("to contain {c} time{}", if *c == 1 { "" } else { "s" }),
                        None => "to contain".into(),
                    };
                    let mut f = expected_lines(index, Some(path), negate, &what, content, None);
                    f.lines.push("Actual:".into());
                    f.lines.extend(yaml_block(actual));
                    if count.is_some() {
                        f.lines.push(format!("Found:\t{found}"));
                    }
                    v.merge(f);
                }
            }
            v
        }
        Check::Exists { path } => {
            let exists = !path.resolve(doc).is_empty();
            if exists != negate {
                Verdict::pass()
            } else {
                Verdict {
                    passed: false,
                    lines: vec![
                        format!("DocumentIndex:\t{index}"),
                        format!(
                            "Path:\t{} expected to {}exist",
                            path.text,
                            if negate { "NOT " } else { "" }
                        ),
                    ],
                }
            }
        }
        Check::IsNull { path } => {
            let actuals = path.resolve(doc);
            let null = actuals.iter().all(|v| v.is_null());
            if null != negate {
                return Verdict::pass();
            }
            let actual = actuals.first().map(|v| (*v).clone()).unwrap_or(Json::Null);
            expected_lines(index, Some(path), negate, "to be null, got", &actual, None)
        }
        Check::IsNullOrEmpty { path } => {
            let actuals = path.resolve(doc);
            let empty = actuals.iter().all(|v| is_empty_value(v));
            if empty != negate {
                return Verdict::pass();
            }
            let actual = actuals
                .iter()
                .find(|v| is_empty_value(v) == negate)
                .map(|v| (*v).clone())
                .unwrap_or(Json::Null);
            expected_lines(index, Some(path), negate, "to be empty, got", &actual, None)
        }
        Check::IsKind { of } | Check::IsApiVersion { of } => {
            let key = if matches!(a.check, Check::IsKind { .. }) {
                "kind"
            } else {
                "apiVersion"
            };
            let actual = doc.get(key).cloned().unwrap_or(Json::Null);
            if (actual.as_str() == Some(of.as_str())) != negate {
                return Verdict::pass();
            }
            expected_lines(
                index,
                None,
                negate,
                &format!("`{key}` to be"),
                &Json::String(of.clone()),
                Some(&actual),
            )
        }
        Check::IsType { path, type_name } => {
            let actuals = path.resolve(doc);
            if actuals.is_empty() {
                return if negate {
                    Verdict::pass()
                } else {
                    missing(path)
                };
            }
            let mut v = Verdict::pass();
            for actual in actuals {
                if type_matches(actual, type_name) == negate {
                    v.merge(expected_lines(
                        index,
                        Some(path),
                        negate,
                        "to be of type",
                        &Json::String(type_name.clone()),
                        Some(&Json::String(go_type_name(actual).to_string())),
                    ));
                }
            }
            v
        }
        Check::LengthEqual { paths, count } => {
            let mut lengths = Vec::new();
            for path in paths {
                let actuals = path.resolve(doc);
                if actuals.is_empty() {
                    if negate {
                        continue;
                    }
                    return missing(path);
                }
                for actual in actuals {
                    match actual {
                        Json::Array(items) => lengths.push((path, items.len() as u64)),
                        Json::Object(m) => lengths.push((path, m.len() as u64)),
                        Json::Null => lengths.push((path, 0)),
                        other => {
                            return error_lines(
                                Some(index),
                                &format!(
                                    "expect '{}' to be an array, got {}",
                                    path.text,
                                    kind_of(other)
                                ),
                            )
                        }
                    }
                }
            }
            let ok = match count {
                Some(c) => lengths.iter().all(|(_, l)| l == c),
                None => lengths.windows(2).all(|w| w[0].1 == w[1].1),
            };
            if ok != negate {
                return Verdict::pass();
            }
            let mut lines = vec![format!("DocumentIndex:\t{index}")];
            match count {
                Some(c) => lines.push(format!(
                    "Expected{} length to be {c}:",
                    if negate { " NOT" } else { "" }
                )),
                None => lines.push(format!(
                    "Expected{} the lengths to be equal:",
                    if negate { " NOT" } else { "" }
                )),
            }
            for (p, l) in lengths {
                lines.push(format!("\t{}: {l}", p.text));
            }
            Verdict {
                passed: false,
                lines,
            }
        }
        Check::IsSubset { path, content } => {
            let actuals = path.resolve(doc);
            if actuals.is_empty() {
                return if negate {
                    Verdict::pass()
                } else {
                    missing(path)
                };
            }
            let mut v = Verdict::pass();
            for actual in actuals {
                let Json::Object(map) = actual else {
                    v.merge(error_lines(
                        Some(index),
                        &format!(
                            "expect '{}' to be an object, got:\n{}",
                            path.text,
                            to_yaml(actual)
                        ),
                    ));
                    continue;
                };
                if is_subset(map, content) == negate {
                    let mut f = expected_lines(
                        index,
                        Some(path),
                        negate,
                        "to contain",
                        &Json::Object(content.clone()),
                        None,
                    );
                    f.lines.push("Actual:".into());
                    f.lines.extend(yaml_block(actual));
                    v.merge(f);
                }
            }
            v
        }
        Check::MatchSnapshot { path } => {
            let content = match path {
                None => doc.clone(),
                Some(p) => {
                    let actuals = p.resolve(doc);
                    match actuals.len() {
                        0 => return missing(p),
                        1 => actuals[0].clone(),
                        _ => Json::Array(actuals.into_iter().cloned().collect()),
                    }
                }
            };
            snapshot_verdict(
                snapshots,
                test,
                &SnapshotContent::Value(content),
                negate,
                Some(index),
            )
        }
        // Handled per template in `check_target`.
        Check::HasDocuments { .. }
        | Check::ContainsDocument { .. }
        | Check::EqualRaw { .. }
        | Check::MatchRegexRaw { .. }
        | Check::MatchSnapshotRaw
        | Check::FailedTemplate { .. } => Verdict::pass(),
    }
}
