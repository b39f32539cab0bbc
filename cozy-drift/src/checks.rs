//! The drift checks. Each returns one [`Drift`] per disagreement, with the command that fixes it.

use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::Value as Json;

use crate::makefile_pins::{self, is_valid_digest, split_pinned_tag};
use crate::repository::{self, read_chart, ChartMeta, Workspace};
use crate::DriftError;

/// One disagreement between what is committed and what should be.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Drift {
    /// File at fault, relative to the repository root.
    pub file: String,
    pub line: Option<usize>,
    pub message: String,
    /// What to run (or do) to fix it.
    pub fix: String,
}

impl std::fmt::Display for Drift {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(line) => write!(
                f,
                "{}:{line}: {} (fix: {})",
                self.file, self.message, self.fix
            ),
            None => write!(f, "{}: {} (fix: {})", self.file, self.message, self.fix),
        }
    }
}

fn rel(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .to_string_lossy()
        .into_owned()
}

/// Run every check over the repository at `root`.
pub fn check_repository(root: &Path) -> Result<Vec<Drift>, DriftError> {
    let workspace = repository::read_workspace(root)?;
    let mut out = Vec::new();
    for pkg in repository::package_dirs(root) {
        out.extend(check_package(root, &pkg, &workspace)?);
    }
    out.extend(pending_snapshots(root));
    Ok(out)
}

/// Pins, digests and image tags of one package.
pub fn check_package(root: &Path, pkg: &Path, ws: &Workspace) -> Result<Vec<Drift>, DriftError> {
    let mut out = Vec::new();
    let pkg_rel = rel(root, pkg);
    let update = format!("make -C {pkg_rel} update");
    let makefile = pkg.join("Makefile");
    if makefile.is_file() {
        let mk_rel = rel(root, &makefile);
        for pin in makefile_pins::parse(&repository::read(&makefile)?) {
            if let Some((digest, line)) = &pin.digest {
                if !is_valid_digest(digest) {
                    out.push(Drift {
                        file: mk_rel.clone(),
                        line: Some(*line),
                        message: format!("{}_CHART_DIGEST {digest:?} is not `sha256:` followed by 64 lower-case hex digits", pin.name),
                        fix: format!("set it to the chart's OCI manifest digest, then run `{update}`"),
                    });
                }
            }
            let Some((version, line)) = &pin.version else {
                continue;
            };
            let sub = pkg.join("charts").join(pin.chart_name());
            if !sub.join("Chart.yaml").is_file() {
                out.push(Drift {
                    file: mk_rel.clone(),
                    line: Some(*line),
                    message: format!(
                        "{}_CHART_VERSION pins {version} but {}/charts/{} is not vendored",
                        pin.name,
                        pkg_rel,
                        pin.chart_name()
                    ),
                    fix: format!("run `{update}`"),
                });
                continue;
            }
            let meta = read_chart(&sub)?;
            let vendored = meta.version.as_ref().map(|v| v.0.as_str()).unwrap_or("");
            if vendored != version {
                out.push(Drift {
                    file: mk_rel.clone(),
                    line: Some(*line),
                    message: format!(
                        "{}_CHART_VERSION pins {version} but the vendored {} has version {}",
                        pin.name,
                        rel(root, &meta.path),
                        if vendored.is_empty() {
                            "<none>"
                        } else {
                            vendored
                        }
                    ),
                    fix: format!(
                        "run `{update}` (or set {}_CHART_VERSION and _DIGEST together)",
                        pin.name
                    ),
                });
            }
        }
    }
    out.extend(check_image_tags(root, pkg, ws)?);
    Ok(out)
}

/// Vendored subcharts of a package, by directory name.
fn subcharts(pkg: &Path) -> Vec<(String, PathBuf)> {
    let Ok(entries) = std::fs::read_dir(pkg.join("charts")) else {
        return Vec::new();
    };
    let mut out: Vec<(String, PathBuf)> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("Chart.yaml").is_file())
        .map(|p| {
            (
                p.file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                p,
            )
        })
        .collect();
    out.sort();
    out
}

/// Image tags in the wrapper's values for each vendored subchart (`<sub>.image.tag`): a tag with a
/// digest is `<version>@sha256:<64 hex>` and its version is the subchart's appVersion; the chart
/// that deploys this workspace's binary also has appVersion == the workspace version.
fn check_image_tags(root: &Path, pkg: &Path, ws: &Workspace) -> Result<Vec<Drift>, DriftError> {
    let mut out = Vec::new();
    let Some((values, text)) = repository::read_values(pkg)? else {
        return Ok(out);
    };
    let values_rel = rel(root, &pkg.join("values.yaml"));
    let pkg_rel = rel(root, pkg);
    for (name, dir) in subcharts(pkg) {
        let meta = read_chart(&dir)?;
        let app_version = meta.app_version.as_ref().map(|a| a.0.clone());
        let ours = ws.binary.as_deref() == Some(meta.name.as_str());
        if ours {
            out.extend(check_our_chart(root, &pkg_rel, &meta, ws));
        }
        let Some(tag) = values
            .pointer(&format!("/{}/image/tag", escape(&name)))
            .and_then(Json::as_str)
        else {
            continue;
        };
        let line = line_of(&text, "tag:", tag);
        let key = format!("{name}.image.tag");
        match split_pinned_tag(tag) {
            Some((version, digest)) => {
                if !is_valid_digest(digest) {
                    out.push(Drift {
                        file: values_rel.clone(),
                        line,
                        message: format!("{key} {tag:?}: the digest is not `sha256:` followed by 64 lower-case hex digits"),
                        fix: format!("set {key} to <version>@<the image's sha256 digest>"),
                    });
                }
                if let Some(app) = &app_version {
                    if version != app {
                        out.push(Drift {
                            file: values_rel.clone(),
                            line,
                            message: format!("{key} pins version {version} but the vendored chart {} has appVersion {app}", rel(root, &meta.path)),
                            fix: format!("set {key} to {app}@<digest of the {app} image> (version and digest together)"),
                        });
                    }
                }
                if ours && version != ws.version {
                    out.push(Drift {
                        file: values_rel.clone(),
                        line,
                        message: format!("{key} pins version {version} but the workspace version (Cargo.toml) is {}", ws.version),
                        fix: format!("set {key} to {}@<digest of the image built from this workspace> (`make image`)", ws.version),
                    });
                }
            }
            None if ours && !tag.is_empty() && tag != ws.version => out.push(Drift {
                file: values_rel.clone(),
                line,
                message: format!(
                    "{key} is {tag} but the workspace version (Cargo.toml) is {}",
                    ws.version
                ),
                fix: format!(
                    "set {key} to {}@<digest of the image built from this workspace>",
                    ws.version
                ),
            }),
            None => {}
        }
    }
    Ok(out)
}

fn check_our_chart(root: &Path, pkg_rel: &str, meta: &ChartMeta, ws: &Workspace) -> Option<Drift> {
    let (app, line) = meta.app_version.clone().unwrap_or_default();
    (app != ws.version).then(|| Drift {
        file: rel(root, &meta.path),
        line: Some(line.max(1)),
        message: format!(
            "chart {} deploys the {} binary but its appVersion is {} while the workspace version (Cargo.toml) is {}",
            meta.name,
            ws.binary.as_deref().unwrap_or("workspace"),
            if app.is_empty() { "<none>" } else { &app },
            ws.version
        ),
        fix: format!(
            "publish chart {} for {}, set its _CHART_VERSION/_CHART_DIGEST pins and run `make -C {pkg_rel} update`",
            meta.name, ws.version
        ),
    })
}

/// Snapshot files written beside the accepted ones and not yet reviewed.
fn pending_snapshots(root: &Path) -> Vec<Drift> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            let name = e.file_name().to_string_lossy().into_owned();
            if p.is_dir() {
                if !name.starts_with('.') && name != "target" && !name.starts_with("tgt") {
                    stack.push(p);
                }
            } else if name.ends_with(".snap.new") || name.ends_with(".pending-snap") {
                out.push(Drift {
                    file: rel(root, &p),
                    line: None,
                    message: "snapshot written but not reviewed".into(),
                    fix: "run `cargo insta review` (accept or reject)".into(),
                });
            }
        }
    }
    out.sort_by(|a, b| a.file.cmp(&b.file));
    out
}

fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// Line of the first `key value` occurrence (1-based).
fn line_of(text: &str, key: &str, value: &str) -> Option<usize> {
    text.lines()
        .position(|l| l.contains(key) && l.contains(value))
        .map(|i| i + 1)
}
