//! `--matrix DIR`: the value sets a chart is linted with.
//!
//! Layout of a matrix directory:
//! - every `*.yaml`/`*.yml` file is one case, named after the file (`tenant.yaml` → `tenant`),
//!   rendered with that file as `-f` (after the command line's own `-f` files);
//! - `<case>.state.yaml` is not a case: it is the cluster state (`--cluster-state`) of `<case>`;
//! - `matrix.yaml` (optional) declares the rest:
//!
//! ```yaml
//! release: ouroboros          # release name of every case (default: --release-name)
//! namespace: cozy-ouroboros   # release namespace (default: -n)
//! skip: [scratch.yaml]        # files that are not cases on their own
//! combinations:               # extra cases: files applied in order, then --set expressions
//!   - name: tenant-gateway
//!     values: [tenant.yaml, gateway.yaml]
//!     set: ["ouroboros.proxy.replicaCount=3"]
//! expect:                     # outcome per case: clean (default) or rejected (the chart must
//!   bad-replicas: rejected    # refuse these values: a gate, required value or schema)
//! ```
//!
//! When linting several charts with one directory, a subdirectory named like a chart's directory
//! (`DIR/ouroboros` for `packages/system/ouroboros`) is that chart's matrix; otherwise `DIR`
//! itself is used for every chart.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// Why a matrix directory cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum MatrixError {
    #[error("{path}: {message}")]
    Read { path: PathBuf, message: String },
    #[error("{path}: {message}")]
    Invalid { path: PathBuf, message: String },
}

/// What a case is expected to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Expectation {
    /// Renders and lints without findings (the default).
    #[default]
    Clean,
    /// The chart refuses these values (render error).
    Rejected,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct MatrixFile {
    release: Option<String>,
    namespace: Option<String>,
    #[serde(default)]
    skip: Vec<String>,
    #[serde(default)]
    combinations: Vec<Combination>,
    #[serde(default)]
    expect: BTreeMap<String, Expectation>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Combination {
    name: String,
    #[serde(default)]
    values: Vec<String>,
    #[serde(default)]
    set: Vec<String>,
}

/// One value set to lint a chart with.
#[derive(Debug, Clone, PartialEq)]
pub struct Case {
    pub name: String,
    /// Values files, absolute or relative to the process's working directory.
    pub values: Vec<PathBuf>,
    pub set: Vec<String>,
    pub cluster_state: Option<PathBuf>,
    pub release: Option<String>,
    pub namespace: Option<String>,
    /// `None` when the matrix says nothing about the case.
    pub expect: Option<Expectation>,
}

/// The matrix directory for a chart: `DIR/<chart dir name>` when it exists, else `DIR`.
pub fn dir_for_chart(matrix: &Path, chart_dir: &Path) -> PathBuf {
    let name = std::fs::canonicalize(chart_dir)
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_os_string()));
    match name {
        Some(n) if matrix.join(&n).is_dir() => matrix.join(n),
        _ => matrix.to_path_buf(),
    }
}

/// The cases of one matrix directory, files first (sorted), then combinations.
pub fn cases(dir: &Path) -> Result<Vec<Case>, MatrixError> {
    let entries = std::fs::read_dir(dir).map_err(|e| MatrixError::Read {
        path: dir.to_path_buf(),
        message: e.to_string(),
    })?;
    let mut files: Vec<String> = entries
        .flatten()
        .filter(|e| e.path().is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".yaml") || n.ends_with(".yml"))
        .collect();
    files.sort();
    let spec_path = dir.join("matrix.yaml");
    let spec: MatrixFile = if spec_path.is_file() {
        let text = std::fs::read_to_string(&spec_path).map_err(|e| MatrixError::Read {
            path: spec_path.clone(),
            message: e.to_string(),
        })?;
        serde_yaml::from_str::<Option<MatrixFile>>(&text)
            .map_err(|e| MatrixError::Invalid {
                path: spec_path.clone(),
                message: e.to_string(),
            })?
            .unwrap_or_default()
    } else {
        MatrixFile::default()
    };
    let stem = |f: &str| {
        f.trim_end_matches(".yaml")
            .trim_end_matches(".yml")
            .to_string()
    };
    let state_of = |name: &str| {
        ["state.yaml", "state.yml"]
            .iter()
            .map(|s| dir.join(format!("{name}.{s}")))
            .find(|p| p.is_file())
    };
    let mut out = Vec::new();
    for f in &files {
        if f == "matrix.yaml"
            || f.ends_with(".state.yaml")
            || f.ends_with(".state.yml")
            || spec.skip.contains(f)
        {
            continue;
        }
        let name = stem(f);
        out.push(Case {
            values: vec![dir.join(f)],
            set: Vec::new(),
            cluster_state: state_of(&name),
            release: spec.release.clone(),
            namespace: spec.namespace.clone(),
            expect: spec.expect.get(&name).copied(),
            name,
        });
    }
    for c in &spec.combinations {
        if out.iter().any(|o| o.name == c.name) {
            return Err(MatrixError::Invalid {
                path: spec_path.clone(),
                message: format!("combination {:?} has the name of another case", c.name),
            });
        }
        for v in &c.values {
            if !dir.join(v).is_file() {
                return Err(MatrixError::Invalid {
                    path: spec_path.clone(),
                    message: format!(
                        "combination {:?} names {v:?}, which is not a file of {}",
                        c.name,
                        dir.display()
                    ),
                });
            }
        }
        out.push(Case {
            name: c.name.clone(),
            values: c.values.iter().map(|v| dir.join(v)).collect(),
            set: c.set.clone(),
            cluster_state: state_of(&c.name),
            release: spec.release.clone(),
            namespace: spec.namespace.clone(),
            expect: spec.expect.get(&c.name).copied(),
        });
    }
    for name in spec.expect.keys() {
        if !out.iter().any(|c| &c.name == name) {
            return Err(MatrixError::Invalid {
                path: spec_path.clone(),
                message: format!("expect names {name:?}, which is not a case"),
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_states_and_combinations() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        for f in [
            "a.yaml",
            "b.yml",
            "guard.yaml",
            "guard.state.yaml",
            "scratch.yaml",
            "notes.txt",
        ] {
            std::fs::write(d.join(f), "{}").unwrap();
        }
        std::fs::write(
            d.join("matrix.yaml"),
            "release: r\nskip: [scratch.yaml]\ncombinations:\n  - name: ab\n    values: [a.yaml, b.yml]\n    set: [x=1]\nexpect:\n  guard: rejected\n",
        )
        .unwrap();
        let cs = cases(d).unwrap();
        let names: Vec<_> = cs.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, vec!["a", "b", "guard", "ab"]);
        assert_eq!(
            cs[2].cluster_state.as_deref(),
            Some(d.join("guard.state.yaml").as_path())
        );
        assert_eq!(cs[2].expect, Some(Expectation::Rejected));
        assert_eq!(cs[3].values, vec![d.join("a.yaml"), d.join("b.yml")]);
        assert_eq!(cs[3].set, vec!["x=1".to_string()]);
        assert!(cs.iter().all(|c| c.release.as_deref() == Some("r")));
    }

    #[test]
    fn bad_matrix_files_are_errors_naming_the_file() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(
            tmp.path().join("matrix.yaml"),
            "combinations:\n  - name: x\n    values: [missing.yaml]\n",
        )
        .unwrap();
        let e = cases(tmp.path()).unwrap_err().to_string();
        assert!(
            e.contains("matrix.yaml") && e.contains("missing.yaml"),
            "{e}"
        );
        std::fs::write(tmp.path().join("matrix.yaml"), "releas: x\n").unwrap();
        assert!(cases(tmp.path())
            .unwrap_err()
            .to_string()
            .contains("unknown field"));
        std::fs::write(tmp.path().join("matrix.yaml"), "expect: {nope: clean}\n").unwrap();
        assert!(cases(tmp.path()).unwrap_err().to_string().contains("nope"));
    }

    #[test]
    fn chart_subdirectory_preferred() {
        let tmp = tempfile::tempdir().unwrap();
        let chart = tmp.path().join("charts/ouroboros");
        std::fs::create_dir_all(&chart).unwrap();
        std::fs::create_dir_all(tmp.path().join("m/ouroboros")).unwrap();
        assert_eq!(
            dir_for_chart(&tmp.path().join("m"), &chart),
            tmp.path().join("m/ouroboros")
        );
        assert_eq!(
            dir_for_chart(&tmp.path().join("m"), tmp.path()),
            tmp.path().join("m")
        );
    }
}
