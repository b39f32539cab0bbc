//! YAML as Helm reads it: YAML 1.1 scalars, JSON data model, positions of every value.
//!
//! - [`parse_str`] / [`parse_file`]: one values-like file. A stream of several documents is
//!   deep-merged in order, as Helm 4 does for values files.
//! - [`parse_first`]: the first document only, as Helm's `fromYaml` reads a string.
//! - [`parse_documents`]: a multi-document stream (rendered manifests), one value per document.
//! - [`parse_manifest`]: one rendered manifest, through a quick reader for the block-style
//!   subset templates render (`plain_block`) and the full parser for the rest.
//! - [`Loader`]: the same with explicit [`Limits`] and richer results.

mod loader;
mod plain_block;
mod scalar;

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use crate::error::ValuesError;
use crate::{merge, path};

/// How integers are represented.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumberMode {
    /// As Helm values: every number is a float64 (`a: 1` is `1.0`), because Helm converts values
    /// files through JSON into Go `interface{}`.
    Helm,
    /// Integers stay integers (i64, or u64 above `i64::MAX`); for manifests and test suites.
    Native,
}

/// Resource limits that keep hostile documents cheap to refuse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Maximum nesting of lists and maps (the root is depth 0).
    pub max_depth: usize,
    /// Maximum number of nodes that aliases may paste in, summed over the whole stream. An
    /// exponential "billion laughs" document exceeds it after a few aliases.
    pub max_alias_nodes: u64,
}

impl Default for Limits {
    /// Depth 128 and one million aliased nodes: far above any real chart, far below harm.
    fn default() -> Self {
        Limits {
            max_depth: 128,
            max_alias_nodes: 1_000_000,
        }
    }
}

/// Limits set for the whole process by a command line (`None`: the defaults).
static PROCESS_LIMITS: std::sync::RwLock<Option<Limits>> = std::sync::RwLock::new(None);

impl Limits {
    /// The limits of this process: the defaults unless [`set_process_limits`] changed them.
    /// Every [`Loader::new`] (and so every `parse_*` function) starts from these.
    pub fn current() -> Limits {
        match PROCESS_LIMITS.read() {
            Ok(guard) => guard.clone().unwrap_or_default(),
            Err(poisoned) => poisoned.into_inner().clone().unwrap_or_default(),
        }
    }
}

/// Override the limits of every later YAML read in this process (command-line flags).
pub fn set_process_limits(limits: Limits) {
    match PROCESS_LIMITS.write() {
        Ok(mut guard) => *guard = Some(limits),
        Err(poisoned) => *poisoned.into_inner() = Some(limits),
    }
}

/// A 1-based line and column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

/// Where each value path (`a.b[0].c`, see [`crate::path`]) was written. A map entry points at
/// its key; a list item at its first character; aliased content at the alias.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Positions(pub BTreeMap<String, Position>);

impl Positions {
    /// The recorded position of exactly this path.
    pub fn get(&self, path: &str) -> Option<Position> {
        self.0.get(path).copied()
    }

    /// The position of this path, or of its nearest ancestor that has one.
    pub fn nearest(&self, mut path: &str) -> Option<Position> {
        loop {
            if let Some(p) = self.get(path) {
                return Some(p);
            }
            path = path::parent(path)?;
        }
    }

    /// All recorded paths with their positions.
    pub fn iter(&self) -> impl Iterator<Item = (&str, Position)> {
        self.0.iter().map(|(k, v)| (k.as_str(), *v))
    }
}

/// One document of a stream.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    pub value: Value,
    /// 1-based line where the document starts (its `---` line when there is one).
    pub start_line: usize,
    pub positions: Positions,
}

/// A parsed values-like file: the data and where each path was written.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    pub value: Value,
    pub positions: Positions,
}

/// A YAML reader with a number mode and limits.
#[derive(Debug, Clone)]
pub struct Loader {
    pub mode: NumberMode,
    pub limits: Limits,
}

impl Loader {
    pub fn new(mode: NumberMode) -> Self {
        Loader {
            mode,
            limits: Limits::current(),
        }
    }

    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// All documents of `text`; `file` names the source in errors.
    pub fn documents(&self, text: &str, file: &str) -> Result<Vec<Document>, ValuesError> {
        loader::Builder::new(text, file, self.mode, &self.limits).documents()
    }

    /// One value: the documents of `text` deep-merged in order (`Null` when there are none).
    pub fn parse(&self, text: &str, file: &str) -> Result<Parsed, ValuesError> {
        let mut value = Value::Null;
        let mut positions = Positions::default();
        // An empty (or `null`) document adds nothing, as when Helm decodes it into a map.
        for doc in self
            .documents(text, file)?
            .into_iter()
            .filter(|d| !d.value.is_null())
        {
            merge::deep_merge(&mut value, doc.value);
            if positions.0.is_empty() {
                positions = doc.positions;
            } else {
                positions.0.extend(doc.positions.0);
            }
        }
        Ok(Parsed { value, positions })
    }

    /// Only the first document (`Null` when there is none), as Helm's `fromYaml` reads a
    /// string; the rest of the stream must still be well-formed.
    pub fn parse_first(&self, text: &str, file: &str) -> Result<Parsed, ValuesError> {
        Ok(match self.documents(text, file)?.into_iter().next() {
            Some(doc) => Parsed {
                value: doc.value,
                positions: doc.positions,
            },
            None => Parsed {
                value: Value::Null,
                positions: Positions::default(),
            },
        })
    }

    /// Read and parse a file; errors name the path as given.
    pub fn parse_file(&self, path: &Path) -> Result<Parsed, ValuesError> {
        let text = std::fs::read_to_string(path).map_err(|source| ValuesError::Io {
            path: path.to_owned(),
            source,
        })?;
        self.parse(&text, &path.display().to_string())
    }
}

/// Parse one values-like text with default limits (see [`Loader::parse`]).
pub fn parse_str(text: &str, file: &str, mode: NumberMode) -> Result<Parsed, ValuesError> {
    Loader::new(mode).parse(text, file)
}

/// The first document only, with default limits (see [`Loader::parse_first`]); this is how
/// Helm's `fromYaml` reads (checked with Helm 4: `"a: 1\n---\nb: 2" | fromYaml` is `{a: 1}`).
pub fn parse_first(text: &str, file: &str, mode: NumberMode) -> Result<Parsed, ValuesError> {
    Loader::new(mode).parse_first(text, file)
}

/// Read and parse a file with default limits (see [`Loader::parse_file`]).
pub fn parse_file(path: &Path, mode: NumberMode) -> Result<Parsed, ValuesError> {
    Loader::new(mode).parse_file(path)
}

/// The first document of a rendered manifest (`Null` when there is none), with default
/// limits. The block-style subset templates usually render is read by a quick line-based
/// reader; anything else, and every error, goes through the full parser.
pub fn parse_manifest(text: &str, mode: NumberMode) -> Result<Value, ValuesError> {
    let limits = Limits::current();
    if let Some(value) = plain_block::read(text, mode, limits.max_depth) {
        return Ok(value);
    }
    let docs = parse_documents(text, mode)?;
    Ok(docs
        .into_iter()
        .next()
        .map_or(Value::Null, |(value, _)| value))
}

/// Split a multi-document stream into `(value, start_line)` pairs, with default limits.
/// A `---` separates documents only at the start of a line (inside a block scalar an indented
/// `---` is text). Empty documents are `Null`.
pub fn parse_documents(text: &str, mode: NumberMode) -> Result<Vec<(Value, usize)>, ValuesError> {
    let limits = Limits::current();
    let docs =
        loader::Builder::with_positions(text, "<stream>", mode, &limits, false).documents()?;
    Ok(docs.into_iter().map(|d| (d.value, d.start_line)).collect())
}
