//! The one error type of this crate.
//!
//! `Display` is a single line (`file:line:col: message`, or `--set expr (column N): message`);
//! the alternate form (`{:#}`) adds the offending source line with a caret under the fault.

use std::fmt;
use std::path::PathBuf;

/// Where in a text an error was found, with the text of that line for the snippet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceLocation {
    /// File name as given by the caller (e.g. `values.yaml`, `tenant.yaml`).
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, counted in characters.
    pub column: usize,
    /// The full text of the offending line, if known.
    pub line_text: Option<String>,
}

impl SourceLocation {
    /// Location of `line`/`column` (both 1-based) in `text`, capturing that line for snippets.
    pub fn in_text(file: &str, text: &str, line: usize, column: usize) -> Self {
        let line_text = text.lines().nth(line.saturating_sub(1)).map(str::to_owned);
        SourceLocation {
            file: file.to_owned(),
            line,
            column,
            line_text,
        }
    }
}

/// Everything that can go wrong while reading or computing values.
#[derive(Debug, thiserror::Error)]
pub enum ValuesError {
    /// Malformed YAML, an unsupported construct, or a limit exceeded, at a known position.
    #[error(fmt = fmt_yaml)]
    Yaml {
        location: SourceLocation,
        message: String,
    },

    /// A `--set`-family expression that does not parse or does not fit the existing values.
    #[error(fmt = fmt_set)]
    Set {
        /// The flag as the user typed it: `--set`, `--set-string`, `--set-json`, `--set-file`, `--set-literal`.
        flag: String,
        /// The whole expression.
        expr: String,
        /// 1-based character column of the fault within `expr`.
        column: usize,
        message: String,
    },

    /// A file could not be read.
    #[error("{}: cannot read: {source}", .path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// Values that cannot be combined, e.g. a subchart section that is not a map.
    #[error("{origin}: {message}")]
    Conflict { origin: String, message: String },
}

fn fmt_yaml(
    location: &SourceLocation,
    message: &String,
    f: &mut fmt::Formatter<'_>,
) -> fmt::Result {
    write!(
        f,
        "{}:{}:{}: {message}",
        location.file, location.line, location.column
    )?;
    if let (true, Some(text)) = (f.alternate(), &location.line_text) {
        let gutter = location.line.to_string();
        let blank = " ".repeat(gutter.len());
        write!(
            f,
            "\n {gutter} | {text}\n {blank} | {}^",
            caret_pad(text, location.column)
        )?;
    }
    Ok(())
}

fn fmt_set(
    flag: &String,
    expr: &String,
    column: &usize,
    message: &String,
    f: &mut fmt::Formatter<'_>,
) -> fmt::Result {
    write!(f, "{flag} {expr} (column {column}): {message}")?;
    if f.alternate() {
        write!(f, "\n    {expr}\n    {}^", caret_pad(expr, *column))?;
    }
    Ok(())
}

impl ValuesError {
    /// The file/line position of a YAML error, if this is one.
    pub fn location(&self) -> Option<&SourceLocation> {
        match self {
            ValuesError::Yaml { location, .. } => Some(location),
            _ => None,
        }
    }
}

/// Whitespace that puts a caret under `column` (1-based), keeping tabs so it lines up.
fn caret_pad(text: &str, column: usize) -> String {
    text.chars()
        .chain(std::iter::repeat(' '))
        .take(column.saturating_sub(1))
        .map(|c| if c == '\t' { '\t' } else { ' ' })
        .collect()
}
