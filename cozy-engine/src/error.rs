//! One error type for the whole pipeline. `Display` is a single line in Helm's words where Helm
//! has words for it (so helm-unittest `failedTemplate` assertions keep matching); the alternate
//! form (`{:#}`) adds the source snippet.

use std::fmt;
use std::path::PathBuf;

/// Why a render failed.
#[derive(Debug, Clone, PartialEq)]
pub enum RenderError {
    /// A file could not be read.
    Io { path: PathBuf, message: String },
    /// Chart.yaml is missing or malformed.
    ChartYaml { path: PathBuf, message: String },
    /// A chart directory is malformed in some other way.
    Chart { path: PathBuf, message: String },
    /// Values could not be computed (bad values file, bad `--set`, ...).
    Values(String),
    /// Values violate the chart's JSON Schema; every violation, one per entry.
    Schema {
        chart: String,
        violations: Vec<String>,
    },
    /// A template (or a `_*.tpl` definition file) does not parse.
    Syntax {
        template: String,
        line: usize,
        message: String,
        snippet: String,
    },
    /// `fail`/`required` or another execution error, with Helm's location.
    Execution {
        template: String,
        line: usize,
        col: usize,
        message: String,
        snippet: String,
    },
    /// A rendered document is not valid YAML.
    InvalidYaml {
        source_name: String,
        message: String,
        snippet: String,
    },
    /// `--show-only` named a template that does not exist.
    ShowOnly { name: String },
    /// `--kube-version` could not be parsed.
    KubeVersion { value: String },
    /// `--cluster-state` file problem.
    ClusterState { path: PathBuf, message: String },
}

impl fmt::Display for RenderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RenderError::Io { path, message } => write!(f, "{}: {message}", path.display()),
            RenderError::ChartYaml { path, message } => write!(f, "{}: {message}", path.display()),
            RenderError::Chart { path, message } => write!(f, "{}: {message}", path.display()),
            RenderError::Values(message) => write!(f, "{message}"),
            RenderError::Schema { chart, violations } => {
                write!(f, "values don't meet the specifications of the schema(s) in the following chart(s):\n{chart}:")?;
                for v in violations {
                    write!(f, "\n- {v}")?;
                }
                Ok(())
            }
            RenderError::Syntax {
                template,
                line,
                message,
                snippet,
            } => {
                write!(f, "parse error at ({template}:{line}): {message}")?;
                if f.alternate() && !snippet.is_empty() {
                    write!(f, "\n{snippet}")?;
                }
                Ok(())
            }
            RenderError::Execution {
                template,
                line,
                col,
                message,
                snippet,
            } => {
                write!(f, "execution error at ({template}:{line}:{col}): {message}")?;
                if f.alternate() && !snippet.is_empty() {
                    write!(f, "\n{snippet}")?;
                }
                Ok(())
            }
            RenderError::InvalidYaml {
                source_name,
                message,
                snippet,
            } => {
                write!(f, "YAML parse error on {source_name}: {message}")?;
                if f.alternate() && !snippet.is_empty() {
                    write!(f, "\n{snippet}")?;
                }
                Ok(())
            }
            RenderError::ShowOnly { name } => write!(f, "could not find template {name} in chart"),
            RenderError::KubeVersion { value } => {
                write!(f, "invalid kube version {value:?}: expected MAJOR.MINOR[.PATCH] with an optional leading v")
            }
            RenderError::ClusterState { path, message } => {
                write!(f, "cluster state {}: {message}", path.display())
            }
        }
    }
}

impl std::error::Error for RenderError {}
