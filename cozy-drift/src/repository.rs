//! What drift reads from a repository: the workspace version, the packages and their vendored
//! subcharts.

use std::path::{Path, PathBuf};

use serde_json::Value as Json;

use crate::DriftError;

/// `[workspace.package] version` and the root `[package] name` of `Cargo.toml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workspace {
    pub version: String,
    /// Name of the binary package the charts deploy (the root package), if any.
    pub binary: Option<String>,
}

pub fn read_workspace(root: &Path) -> Result<Workspace, DriftError> {
    let path = root.join("Cargo.toml");
    let text = read(&path)?;
    let doc: toml_edit::DocumentMut =
        text.parse()
            .map_err(|e: toml_edit::TomlError| DriftError::Parse {
                path: path.clone(),
                message: e.to_string(),
            })?;
    let version = doc
        .get("workspace")
        .and_then(|w| w.get("package"))
        .and_then(|p| p.get("version"))
        .and_then(|v| v.as_str())
        .ok_or_else(|| DriftError::Parse {
            path: path.clone(),
            message: "no [workspace.package] version".into(),
        })?
        .to_string();
    let binary = doc
        .get("package")
        .and_then(|p| p.get("name"))
        .and_then(|n| n.as_str())
        .map(str::to_string);
    Ok(Workspace { version, binary })
}

/// A chart's `Chart.yaml` fields drift cares about, each with its 1-based line.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ChartMeta {
    pub path: PathBuf,
    pub name: String,
    pub version: Option<(String, usize)>,
    pub app_version: Option<(String, usize)>,
}

pub fn read_chart(dir: &Path) -> Result<ChartMeta, DriftError> {
    let path = dir.join("Chart.yaml");
    let text = read(&path)?;
    let value: serde_yaml::Value = serde_yaml::from_str(&text).map_err(|e| DriftError::Parse {
        path: path.clone(),
        message: e.to_string(),
    })?;
    let field = |key: &str| -> Option<(String, usize)> {
        let v = value.get(key)?;
        let s = match v {
            serde_yaml::Value::String(s) => s.clone(),
            serde_yaml::Value::Number(n) => n.to_string(),
            _ => return None,
        };
        let line = text
            .lines()
            .position(|l| l.starts_with(&format!("{key}:")))
            .map(|i| i + 1)
            .unwrap_or(1);
        Some((s, line))
    };
    Ok(ChartMeta {
        path,
        name: field("name").map(|f| f.0).unwrap_or_default(),
        version: field("version"),
        app_version: field("appVersion"),
    })
}

/// Package directories: every chart directory under `packages/` that is not itself vendored
/// (inside a `charts/` directory), sorted.
pub fn package_dirs(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    collect_packages(&root.join("packages"), 0, &mut out);
    out.sort();
    out
}

fn collect_packages(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) {
    if depth > 4 {
        return;
    }
    if dir.join("Chart.yaml").is_file() {
        out.push(dir.to_path_buf());
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir()
            && p.file_name()
                .is_some_and(|n| n != "charts" && !n.to_string_lossy().starts_with('.'))
        {
            collect_packages(&p, depth + 1, out);
        }
    }
}

/// Values of a chart as JSON (`values.yaml`), with the raw text for line lookups.
pub fn read_values(dir: &Path) -> Result<Option<(Json, String)>, DriftError> {
    let path = dir.join("values.yaml");
    if !path.is_file() {
        return Ok(None);
    }
    let text = read(&path)?;
    let value: Json = serde_yaml::from_str::<Option<Json>>(&text)
        .map_err(|e| DriftError::Parse {
            path: path.clone(),
            message: e.to_string(),
        })?
        .unwrap_or(Json::Null);
    Ok(Some((value, text)))
}

pub fn read(path: &Path) -> Result<String, DriftError> {
    std::fs::read_to_string(path).map_err(|e| DriftError::Read {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}
