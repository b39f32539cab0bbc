//! Removal of the owned block at uninstall (spec §12.1, step 2a).
//!
//! Deliberately stricter than the editor's span search: any line that merely contains the BEGIN
//! prefix counts, so a damaged or duplicated block makes the cleanup refuse instead of deleting
//! the wrong range.

use crate::markers::{BEGIN_PREFIX, END_PREFIX};

/// What the cleanup should do with a Corefile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BlockRemoval {
    /// No BEGIN line: nothing of ours is there.
    NothingToRemove,
    /// The text with the BEGIN..END lines (inclusive) removed.
    Removed {
        /// The new text.
        text: String,
        /// How many lines were removed, markers included.
        lines_removed: usize,
    },
}

/// Why the cleanup refuses to touch a Corefile; a person has to fix it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RemovalRefusal {
    /// More than one BEGIN line.
    #[error("found {count} lines containing {BEGIN_PREFIX:?} (lines {lines:?}); expected exactly one, fix by hand")]
    SeveralBegins {
        /// How many.
        count: usize,
        /// Their 1-based line numbers.
        lines: Vec<usize>,
    },
    /// BEGIN without a following END: removing would delete to the end of the file.
    #[error("BEGIN marker on line {begin_line} has no END marker after it; refusing to remove to the end of the file")]
    MissingEnd {
        /// 1-based line of the BEGIN marker.
        begin_line: usize,
    },
}

/// Removes the owned block, or explains why not.
pub fn remove_block_for_cleanup(text: &str) -> Result<BlockRemoval, RemovalRefusal> {
    let lines: Vec<&str> = text.split('\n').collect();
    let begins: Vec<usize> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.contains(BEGIN_PREFIX))
        .map(|(i, _)| i)
        .collect();
    let begin = match begins.as_slice() {
        [] => return Ok(BlockRemoval::NothingToRemove),
        [one] => *one,
        many => {
            return Err(RemovalRefusal::SeveralBegins {
                count: many.len(),
                lines: many.iter().map(|i| i + 1).collect(),
            })
        }
    };
    let end = lines
        .iter()
        .enumerate()
        .skip(begin + 1)
        .find(|(_, l)| l.contains(END_PREFIX))
        .map(|(i, _)| i)
        .ok_or(RemovalRefusal::MissingEnd {
            begin_line: begin + 1,
        })?;
    let kept: Vec<&str> = lines[..begin]
        .iter()
        .chain(&lines[end + 1..])
        .copied()
        .collect();
    Ok(BlockRemoval::Removed {
        text: kept.join("\n"),
        lines_removed: end - begin + 1,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::markers::{BEGIN, END};

    #[test]
    fn removes_exactly_the_block() {
        let text =
            format!(".:53 {{\n    errors\n    {BEGIN}\n    rewrite name a.com t.\n    {END}\n}}\n");
        assert_eq!(
            remove_block_for_cleanup(&text),
            Ok(BlockRemoval::Removed {
                text: ".:53 {\n    errors\n}\n".into(),
                lines_removed: 3
            })
        );
    }

    #[test]
    fn nothing_to_remove_without_begin() {
        assert_eq!(
            remove_block_for_cleanup(".:53 {\n}\n"),
            Ok(BlockRemoval::NothingToRemove)
        );
        assert_eq!(
            remove_block_for_cleanup(""),
            Ok(BlockRemoval::NothingToRemove)
        );
    }

    #[test]
    fn refuses_several_begins_and_missing_end() {
        let two = format!("{BEGIN}\n{END}\n# === BEGIN ouroboros copy\n");
        assert_eq!(
            remove_block_for_cleanup(&two),
            Err(RemovalRefusal::SeveralBegins {
                count: 2,
                lines: vec![1, 3]
            })
        );
        let no_end = format!(".:53 {{\n{BEGIN}\nrewrite name a.com t.\n}}\n");
        assert_eq!(
            remove_block_for_cleanup(&no_end),
            Err(RemovalRefusal::MissingEnd { begin_line: 2 })
        );
        let end_before = format!("{END}\n{BEGIN}\n");
        assert_eq!(
            remove_block_for_cleanup(&end_before),
            Err(RemovalRefusal::MissingEnd { begin_line: 2 })
        );
    }
}
