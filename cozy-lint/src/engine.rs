//! Rendering through `cozy-engine`: a chart into [`Manifest`]s, and the packages tree that the
//! platform rules render component charts from.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use cozy_engine::{render, Chart, RenderError, RenderOptions, ValueLayer};
use serde_json::Value as Json;

use crate::rules::proxy_target::{ComponentRenderer, ComponentRequest};
use crate::Manifest;

/// The parsed documents and computed values of one render.
#[derive(Debug, Clone)]
pub struct RenderedChart {
    pub manifests: Vec<Manifest>,
    pub values: Json,
}

/// Render and keep the parsed, non-empty documents in Helm's order.
pub fn render_chart(chart: &Chart, opts: &RenderOptions) -> Result<RenderedChart, RenderError> {
    let rendered = render(chart, opts)?;
    let manifests = rendered
        .documents
        .iter()
        .filter(|d| !d.value.is_null())
        .map(|d| Manifest::new(d.source.clone(), d.value.clone()))
        .collect();
    Ok(RenderedChart {
        manifests,
        values: rendered.values,
    })
}

/// The `packages/` directory a chart lives in: its nearest ancestor named `packages`.
pub fn packages_root(chart_dir: &Path) -> Option<PathBuf> {
    let abs = std::fs::canonicalize(chart_dir).ok()?;
    abs.ancestors()
        .skip(1)
        .find(|a| a.file_name().is_some_and(|n| n == "packages"))
        .map(Path::to_path_buf)
}

/// The repository's `schemas/` directory: the nearest ancestor of the chart holding one.
pub fn schemas_dir(chart_dir: &Path) -> Option<PathBuf> {
    let abs = std::fs::canonicalize(chart_dir).ok()?;
    abs.ancestors()
        .map(|a| a.join("schemas"))
        .find(|s| s.is_dir())
}

/// PackageSource objects of the platform's `sources/*.yaml` files under the packages tree
/// (`packages/<group>/<package>/sources/*.yaml`).
pub fn package_source_files(root: &Path) -> Vec<Json> {
    let mut files = Vec::new();
    for group in read_dirs(root) {
        for pkg in read_dirs(&group) {
            let Ok(entries) = std::fs::read_dir(pkg.join("sources")) else {
                continue;
            };
            files.extend(
                entries
                    .flatten()
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml")),
            );
        }
    }
    files.sort();
    let mut out = Vec::new();
    for f in files {
        let Ok(text) = std::fs::read_to_string(&f) else {
            continue;
        };
        let Ok(docs) =
            cozy_values::yaml::parse_documents(&text, cozy_values::yaml::NumberMode::Native)
        else {
            continue;
        };
        out.extend(
            docs.into_iter()
                .map(|(d, _)| d)
                .filter(|d| d.get("kind").and_then(Json::as_str) == Some("PackageSource")),
        );
    }
    out
}

fn read_dirs(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    out.sort();
    out
}

/// What rendering one component request gave.
type ComponentRender = Result<Option<Vec<Json>>, String>;

/// Renders component charts of a packages tree. Charts are loaded once and shared between
/// threads, and so is each distinct render: the cases of a matrix mostly give a component the
/// same values.
pub struct PackagesTree {
    root: PathBuf,
    charts: Mutex<HashMap<String, Option<Arc<Chart>>>>,
    renders: Mutex<HashMap<String, ComponentRender>>,
    kube_version: Option<String>,
}

impl PackagesTree {
    pub fn new(root: PathBuf, kube_version: Option<String>) -> PackagesTree {
        PackagesTree {
            root,
            charts: Mutex::new(HashMap::new()),
            renders: Mutex::new(HashMap::new()),
            kube_version,
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn chart(&self, path: &str) -> Result<Option<Arc<Chart>>, String> {
        let mut charts = self
            .charts
            .lock()
            .map_err(|_| "chart cache poisoned".to_string())?;
        if let Some(c) = charts.get(path) {
            return Ok(c.clone());
        }
        let dir = self.root.join(path);
        let chart = if dir.join("Chart.yaml").is_file() {
            Some(Arc::new(Chart::load(&dir).map_err(|e| e.to_string())?))
        } else {
            None
        };
        charts.insert(path.to_string(), chart.clone());
        Ok(chart)
    }
}

impl ComponentRenderer for PackagesTree {
    fn render(&self, req: &ComponentRequest) -> ComponentRender {
        let key = format!(
            "{}\n{}\n{}\n{}",
            req.path, req.release_name, req.namespace, req.values
        );
        let poisoned = |_| "render cache poisoned".to_string();
        if let Some(done) = self.renders.lock().map_err(poisoned)?.get(&key) {
            return done.clone();
        }
        let done = self.render_uncached(req);
        self.renders
            .lock()
            .map_err(poisoned)?
            .insert(key, done.clone());
        done
    }
}

impl PackagesTree {
    fn render_uncached(&self, req: &ComponentRequest) -> ComponentRender {
        let Some(chart) = self.chart(&req.path)? else {
            return Ok(None);
        };
        let values = match &req.values {
            Json::Object(map) => map.clone(),
            Json::Null => Default::default(),
            other => return Err(format!("component values must be a map, found {other}")),
        };
        let opts = RenderOptions {
            release_name: req.release_name.clone(),
            namespace: req.namespace.clone(),
            values: vec![ValueLayer::Literal {
                origin: format!("values given to {}", req.path),
                values,
            }],
            base_dir: self.root.clone(),
            kube_version: self.kube_version.clone(),
            ..RenderOptions::default()
        };
        let rendered = render(&chart, &opts).map_err(|e| e.to_string())?;
        Ok(Some(
            rendered
                .documents
                .into_iter()
                .map(|d| d.value)
                .filter(|v| !v.is_null())
                .collect(),
        ))
    }
}
