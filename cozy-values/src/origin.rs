//! Where a value came from, by value path.

use std::collections::BTreeMap;
use std::fmt;

use crate::path;

/// The source that set a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A chart's own `values.yaml` (or a subchart's, named as the caller shows it).
    ChartDefault { file: String, line: usize },
    /// A user values file (`-f tenant.yaml`).
    File { path: String, line: usize },
    /// A `--set`-family flag and its whole expression.
    Set { flag: String, expr: String },
    /// A ready-made map handed in by a caller (e.g. a test suite's `set:`), with its name.
    Literal { origin: String },
}

impl fmt::Display for Origin {
    /// `values.yaml:42`, `tenant.yaml:7`, `--set addons.x=1`, or the literal's name.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::ChartDefault { file, line } => write!(f, "{file}:{line}"),
            Origin::File { path, line } => write!(f, "{path}:{line}"),
            Origin::Set { flag, expr } => write!(f, "{flag} {expr}"),
            Origin::Literal { origin } => f.write_str(origin),
        }
    }
}

/// Value path → the last source that set it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Origins(pub BTreeMap<String, Origin>);

impl Origins {
    /// The origin recorded for exactly this path.
    pub fn get(&self, path: &str) -> Option<&Origin> {
        self.0.get(path)
    }

    /// The origin of this path or, failing that, of its nearest ancestor: a value inside a map
    /// that a `--set-json` replaced came from that flag.
    pub fn nearest(&self, mut path: &str) -> Option<&Origin> {
        loop {
            if let Some(origin) = self.0.get(path) {
                return Some(origin);
            }
            path = path::parent(path)?;
        }
    }

    pub(crate) fn set(&mut self, path: String, origin: Origin) {
        self.0.insert(path, origin);
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &Origin)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v))
    }
}

/// `prefix` + a path relative to it (both in [`crate::path`] syntax).
pub(crate) fn join(prefix: &str, relative: &str) -> String {
    match (prefix.is_empty(), relative.is_empty()) {
        (true, _) => relative.to_owned(),
        (false, true) => prefix.to_owned(),
        (false, false) if relative.starts_with('[') => format!("{prefix}{relative}"),
        (false, false) => format!("{prefix}.{relative}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_walks_up() {
        let mut origins = Origins::default();
        origins.set(
            "a".into(),
            Origin::Set {
                flag: "--set-json".into(),
                expr: r#"a={"b":{"c":1}}"#.into(),
            },
        );
        assert_eq!(
            origins.nearest("a.b.c").unwrap().to_string(),
            r#"--set-json a={"b":{"c":1}}"#
        );
        assert!(origins.nearest("z").is_none());
    }

    #[test]
    fn joins_paths() {
        assert_eq!(join("", "a.b"), "a.b");
        assert_eq!(join("sub", ""), "sub");
        assert_eq!(join("sub", "a[0]"), "sub.a[0]");
        assert_eq!(join("sub", r#"["x.y"]"#), r#"sub["x.y"]"#);
    }
}
