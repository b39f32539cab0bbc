//! The conformance fixture format.
//!
//! A fixture file holds cases; each case starts with `=== <name>` and has sections that start
//! with `--- <kind>`:
//!
//! ```text
//! === default-false
//! --- values
//! x: false
//! --- go
//! {{ .Values.x | default true }}
//! --- jinja
//! {{ Values.x | default(true) }}
//! --- expected
//! true
//! ```
//!
//! `expected` holds helm's output verbatim; `expected json` holds it as one JSON string (used
//! when the text ends in a newline or could be mistaken for a marker); `expected error` holds
//! helm's error message, meaning the case must fail. Lines before the first case are comments.

use std::fmt::Write as _;

/// What helm produced for a case.
#[derive(Debug, Clone, PartialEq)]
pub enum Expected {
    Output(String),
    Error(String),
}

/// One conformance case.
#[derive(Debug, Clone, PartialEq)]
pub struct Case {
    pub name: String,
    pub values: Option<String>,
    pub go: String,
    pub jinja: String,
    pub expected: Option<Expected>,
}

/// A parsed fixture file.
#[derive(Debug, Clone, PartialEq)]
pub struct Fixture {
    pub header: String,
    pub cases: Vec<Case>,
}

fn finish_section(lines: &mut Vec<&str>) -> String {
    while lines.last().is_some_and(|l| l.trim().is_empty()) {
        lines.pop();
    }
    let text = lines.join("\n");
    lines.clear();
    text
}

/// Parses fixture text; errors name the line.
pub fn parse(text: &str) -> Result<Fixture, String> {
    let mut header = Vec::new();
    let mut cases: Vec<Case> = Vec::new();
    let mut section: Option<String> = None;
    let mut lines: Vec<&str> = Vec::new();
    let store = |cases: &mut Vec<Case>,
                 section: &Option<String>,
                 lines: &mut Vec<&str>,
                 at: usize|
     -> Result<(), String> {
        let Some(kind) = section else {
            return Ok(());
        };
        let text = finish_section(lines);
        let case = cases
            .last_mut()
            .ok_or_else(|| format!("line {at}: section outside a case"))?;
        match kind.as_str() {
            "values" => case.values = Some(text),
            "go" => case.go = text,
            "jinja" => case.jinja = text,
            "expected" => case.expected = Some(Expected::Output(text)),
            "expected json" => {
                let decoded: String = serde_json::from_str(text.trim())
                    .map_err(|e| format!("line {at}: bad JSON string: {e}"))?;
                case.expected = Some(Expected::Output(decoded));
            }
            "expected error" => case.expected = Some(Expected::Error(text)),
            other => return Err(format!("line {at}: unknown section `--- {other}`")),
        }
        Ok(())
    };
    for (index, line) in text.lines().enumerate() {
        let line_no = index + 1;
        if let Some(name) = line.strip_prefix("=== ") {
            store(&mut cases, &section, &mut lines, line_no)?;
            section = None;
            cases.push(Case {
                name: name.trim().to_string(),
                values: None,
                go: String::new(),
                jinja: String::new(),
                expected: None,
            });
        } else if let Some(kind) = line.strip_prefix("--- ") {
            store(&mut cases, &section, &mut lines, line_no)?;
            section = Some(kind.trim().to_string());
        } else if cases.is_empty() {
            header.push(line);
        } else if section.is_some() {
            lines.push(line);
        } else if !line.trim().is_empty() {
            return Err(format!("line {line_no}: text outside a section"));
        }
    }
    store(&mut cases, &section, &mut lines, text.lines().count())?;
    let mut header = header.join("\n");
    while header.ends_with('\n') {
        header.pop();
    }
    Ok(Fixture { header, cases })
}

fn needs_json(text: &str) -> bool {
    text.ends_with('\n')
        || text.contains('\r')
        || text.starts_with(char::is_whitespace)
            && text.lines().next().is_some_and(|l| l.trim().is_empty())
        || text
            .lines()
            .any(|l| l.starts_with("=== ") || l.starts_with("--- "))
        || text.lines().last().is_some_and(|l| l.trim().is_empty())
}

/// Writes a fixture back in canonical form.
pub fn write(fixture: &Fixture) -> String {
    let mut out = String::new();
    if !fixture.header.is_empty() {
        out.push_str(&fixture.header);
        out.push_str("\n\n");
    }
    for case in &fixture.cases {
        let _ = writeln!(out, "=== {}", case.name);
        if let Some(values) = &case.values {
            let _ = writeln!(out, "--- values\n{values}");
        }
        let _ = writeln!(out, "--- go\n{}", case.go);
        let _ = writeln!(out, "--- jinja\n{}", case.jinja);
        match &case.expected {
            Some(Expected::Output(text)) if needs_json(text) => {
                let _ = writeln!(
                    out,
                    "--- expected json\n{}",
                    serde_json::to_string(text).unwrap_or_default()
                );
            }
            Some(Expected::Output(text)) if text.is_empty() => out.push_str("--- expected\n"),
            Some(Expected::Output(text)) => {
                let _ = writeln!(out, "--- expected\n{text}");
            }
            Some(Expected::Error(message)) => {
                let _ = writeln!(out, "--- expected error\n{}", message.trim());
            }
            None => {}
        }
        out.push('\n');
    }
    out
}
