//! Printing lint results: one line per finding grouped by case, then a summary; or one JSON
//! document (`-o json`) for machines.

use std::io::{self, Write};

use serde_json::{json, Value as Json};

use crate::matrix::Expectation;
use crate::runner::{CaseReport, Outcome};

/// Counts over a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Summary {
    pub cases: usize,
    pub clean: usize,
    pub with_findings: usize,
    pub rejected: usize,
    pub findings: usize,
    pub failed: usize,
}

pub fn summarize(reports: &[CaseReport]) -> Summary {
    let mut s = Summary {
        cases: reports.len(),
        ..Summary::default()
    };
    for r in reports {
        match &r.outcome {
            Outcome::Clean => s.clean += 1,
            Outcome::Findings(f) => {
                s.with_findings += 1;
                s.findings += f.len();
            }
            Outcome::Rejected(_) => s.rejected += 1,
        }
        if r.failed() {
            s.failed += 1;
        }
    }
    s
}

fn expectation_note(r: &CaseReport) -> &'static str {
    match (&r.outcome, r.expect) {
        (Outcome::Rejected(_), Some(Expectation::Rejected)) => " (expected)",
        (Outcome::Rejected(_), Some(Expectation::Clean)) => " (expected clean)",
        (Outcome::Rejected(_), None) => " (not declared in matrix.yaml expect)",
        (Outcome::Clean, Some(Expectation::Rejected)) => {
            " (expected the chart to refuse these values)"
        }
        _ => "",
    }
}

/// Human-readable report. `verbose` also lists clean cases.
pub fn write_text(reports: &[CaseReport], verbose: bool, out: &mut dyn Write) -> io::Result<()> {
    for r in reports {
        let label = format!("{} [{}]", r.chart, r.case);
        match &r.outcome {
            Outcome::Clean => {
                if verbose || r.failed() {
                    writeln!(out, "{label}: clean{}", expectation_note(r))?;
                }
            }
            Outcome::Findings(findings) => {
                writeln!(out, "{label}: {} finding(s)", findings.len())?;
                for f in findings {
                    writeln!(out, "  {f}")?;
                }
            }
            Outcome::Rejected(err) => {
                let first = err.lines().next().unwrap_or("");
                writeln!(out, "{label}: rejected{}: {first}", expectation_note(r))?;
                for line in err.lines().skip(1) {
                    writeln!(out, "    {line}")?;
                }
            }
        }
    }
    let s = summarize(reports);
    writeln!(
        out,
        "{} case(s): {} clean, {} with findings, {} rejected; {} finding(s); {} failed",
        s.cases, s.clean, s.with_findings, s.rejected, s.findings, s.failed
    )
}

/// Machine-readable report.
pub fn to_json(reports: &[CaseReport]) -> Json {
    let s = summarize(reports);
    let cases: Vec<Json> = reports
        .iter()
        .map(|r| {
            let (outcome, findings, error) = match &r.outcome {
                Outcome::Clean => ("clean", Vec::new(), Json::Null),
                Outcome::Findings(f) => ("findings", f.clone(), Json::Null),
                Outcome::Rejected(e) => ("rejected", Vec::new(), Json::String(e.clone())),
            };
            json!({
                "chart": r.chart,
                "case": r.case,
                "outcome": outcome,
                "expected": r.expect.map(|e| match e { Expectation::Clean => "clean", Expectation::Rejected => "rejected" }),
                "failed": r.failed(),
                "findings": findings,
                "error": error,
                "millis": r.millis,
            })
        })
        .collect();
    json!({
        "summary": {
            "cases": s.cases, "clean": s.clean, "withFindings": s.with_findings,
            "rejected": s.rejected, "findings": s.findings, "failed": s.failed,
        },
        "cases": cases,
    })
}

pub fn write_json(reports: &[CaseReport], out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &to_json(reports))?;
    writeln!(out)
}
