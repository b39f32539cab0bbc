//! Printing a [`DiffReport`]: a summary of added/removed/changed objects, then one unified YAML
//! diff per changed object (coloured when asked), or one JSON document for machines.

use std::io::{self, Write};

use serde_json::json;

use crate::compare::DiffReport;

const RED: &str = "\x1b[31m";
const GREEN: &str = "\x1b[32m";
const CYAN: &str = "\x1b[36m";
const BOLD: &str = "\x1b[1m";
const RESET: &str = "\x1b[0m";

/// Human-readable report.
pub fn write_text(report: &DiffReport, color: bool, out: &mut dyn Write) -> io::Result<()> {
    let paint = |code: &str, text: &str| {
        if color {
            format!("{code}{text}{RESET}")
        } else {
            text.to_string()
        }
    };
    if report.is_equal() {
        writeln!(
            out,
            "no differences ({} objects compared)",
            report.unchanged
        )?;
        return Ok(());
    }
    writeln!(
        out,
        "{} added, {} removed, {} changed, {} unchanged",
        report.added.len(),
        report.removed.len(),
        report.changed.len(),
        report.unchanged
    )?;
    for key in &report.added {
        writeln!(out, "{}", paint(GREEN, &format!("+ added    {key}")))?;
    }
    for key in &report.removed {
        writeln!(out, "{}", paint(RED, &format!("- removed  {key}")))?;
    }
    for c in &report.changed {
        writeln!(out, "{}", paint(CYAN, &format!("~ changed  {}", c.key)))?;
    }
    for c in &report.changed {
        writeln!(out)?;
        writeln!(out, "{}", paint(BOLD, &format!("=== {}", c.key)))?;
        for line in c.diff.lines() {
            let code = if line.starts_with("+++") || line.starts_with("---") {
                BOLD
            } else if line.starts_with('+') {
                GREEN
            } else if line.starts_with('-') {
                RED
            } else if line.starts_with("@@") {
                CYAN
            } else {
                ""
            };
            if code.is_empty() {
                writeln!(out, "{line}")?;
            } else {
                writeln!(out, "{}", paint(code, line))?;
            }
        }
    }
    Ok(())
}

/// Machine-readable report: `{"equal", "added", "removed", "changed", "unchanged"}`.
pub fn write_json(report: &DiffReport, out: &mut dyn Write) -> io::Result<()> {
    let doc = json!({
        "equal": report.is_equal(),
        "added": report.added,
        "removed": report.removed,
        "changed": report.changed,
        "unchanged": report.unchanged,
    });
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}
