//! The marker lines that delimit what the controller owns in a Corefile or hosts file (spec §8.1).

/// First line of the owned block, exact text after trimming.
pub const BEGIN: &str = "# === BEGIN ouroboros (do not edit by hand) ===";
/// Last line of the owned block, exact text after trimming.
pub const END: &str = "# === END ouroboros ===";

/// A line that looks like a BEGIN marker: how anomalies and the cleanup count them.
pub const BEGIN_PREFIX: &str = "# === BEGIN ouroboros";
/// A line that looks like an END marker.
pub const END_PREFIX: &str = "# === END ouroboros";

/// Which marker a line is, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MarkerLine {
    /// Exactly the BEGIN marker (surrounding whitespace allowed).
    Begin,
    /// Exactly the END marker (surrounding whitespace allowed).
    End,
    /// Contains a marker prefix but is not an exact marker (extra text, truncated copy).
    Damaged,
    /// Not a marker.
    None,
}

/// Classifies one line.
pub fn classify(line: &str) -> MarkerLine {
    let trimmed = line.trim();
    if trimmed == BEGIN {
        MarkerLine::Begin
    } else if trimmed == END {
        MarkerLine::End
    } else if line.contains(BEGIN_PREFIX) || line.contains(END_PREFIX) {
        MarkerLine::Damaged
    } else {
        MarkerLine::None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_markers_with_indentation_are_recognised() {
        assert_eq!(classify(&format!("    {BEGIN}")), MarkerLine::Begin);
        assert_eq!(classify(&format!("\t{END}\r")), MarkerLine::End);
    }

    #[test]
    fn extra_text_makes_a_damaged_marker() {
        assert_eq!(classify(&format!("{BEGIN} x")), MarkerLine::Damaged);
        assert_eq!(
            classify("# === END ouroboros (do not edit by hand) ==="),
            MarkerLine::Damaged
        );
        assert_eq!(classify("errors"), MarkerLine::None);
    }
}
