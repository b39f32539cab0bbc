//! Reading a chart directory: Chart.yaml, values.yaml, values.schema.json, templates/, the other
//! files `Files` exposes, and `charts/<sub>/` subcharts (recursively).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use serde_json::{Map, Value as Json};

use crate::environment::ChartEnvironment;
use crate::error::RenderError;
use cozy_values::{ChartValues, Computed, ValueLayer};

/// The Chart.yaml fields templates see, with Helm's capitalised names.
#[derive(Debug, Clone, PartialEq)]
pub struct ChartMetadata {
    pub api_version: String,
    pub name: String,
    pub version: String,
    pub app_version: String,
    pub kube_version: String,
    pub chart_type: String,
    /// The whole Chart.yaml as parsed (annotations, description, dependencies, ...).
    pub raw: Map<String, Json>,
}

/// One file under `templates/`.
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateSource {
    /// Path relative to this chart's directory, `/`-separated: `templates/x.yaml`.
    pub rel: String,
    pub text: String,
}

impl TemplateSource {
    fn file_name(&self) -> &str {
        self.rel.rsplit('/').next().unwrap_or(&self.rel)
    }
    /// `_*` files only hold definitions.
    pub fn is_partial(&self) -> bool {
        self.file_name().starts_with('_')
    }
    pub fn is_notes(&self) -> bool {
        self.rel == "templates/NOTES.txt"
    }
}

/// A loaded chart and its subcharts.
#[derive(Debug, Clone)]
pub struct Chart {
    pub dir: PathBuf,
    pub metadata: ChartMetadata,
    /// `values.yaml` (Helm number typing, positions kept) and `values.schema.json` of this
    /// chart alone (`subcharts` empty; see [`Chart::values_tree`]).
    pub values: ChartValues,
    pub templates: Vec<TemplateSource>,
    /// Files `Files.Get`/`Files.Glob` can read: everything in the chart directory except
    /// Chart.yaml, values.yaml, values.schema.json, templates/, charts/ and tests/.
    pub files: BTreeMap<String, Vec<u8>>,
    pub subcharts: Vec<Chart>,
    /// Prefix of `# Source:` names for this chart's templates: `<root>/charts/<sub>/` for a
    /// subchart, empty for the root.
    pub source_prefix: String,
    /// Prefix of paths relative to the root chart: `charts/<sub>/` for a subchart.
    pub rel_prefix: String,
    /// The compiled templates, built on first render and shared by every later render.
    compiled: OnceLock<Arc<ChartEnvironment>>,
    /// [`Chart::values_tree`], built on first render and shared by every later render.
    values_tree: OnceLock<ChartValues>,
}

impl Chart {
    /// Load a chart directory.
    pub fn load(dir: &Path) -> Result<Chart, RenderError> {
        Self::load_nested(dir, "", "")
    }

    fn load_nested(
        dir: &Path,
        source_parent: &str,
        rel_parent: &str,
    ) -> Result<Chart, RenderError> {
        if !dir.is_dir() {
            return Err(RenderError::Chart {
                path: dir.to_path_buf(),
                message: "is not a chart directory".into(),
            });
        }
        let chart_yaml = dir.join("Chart.yaml");
        let metadata = read_metadata(&chart_yaml)?;
        let shown_values = format!("{rel_parent}values.yaml");
        let values = ChartValues::load(
            &metadata.name,
            &dir.join("values.yaml"),
            &shown_values,
            &dir.join("values.schema.json"),
        )
        .map_err(|e| RenderError::Values(format!("{e:#}")))?;
        let templates = read_templates(dir)?;
        let files = read_files(dir)?;
        let source_prefix = if source_parent.is_empty() {
            String::new()
        } else {
            source_parent.to_string()
        };
        let own_source = format!("{source_prefix}{}/", metadata.name);
        let mut subcharts = Vec::new();
        let charts_dir = dir.join("charts");
        if charts_dir.is_dir() {
            let mut entries: Vec<PathBuf> = std::fs::read_dir(&charts_dir)
                .map_err(|e| RenderError::Io {
                    path: charts_dir.clone(),
                    message: e.to_string(),
                })?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .collect();
            entries.sort();
            // Helm would load an archive here; skipping it would render the chart without
            // that subchart and say nothing.
            if let Some(archive) = entries.iter().find(|p| is_packaged_chart(p)) {
                return Err(RenderError::Chart {
                    path: archive.clone(),
                    message: "packaged subcharts are not read; unpack it into a directory of \
                              charts/ (tar -xzf ARCHIVE -C charts/) and remove the archive"
                        .into(),
                });
            }
            entries.retain(|p| p.is_dir() && p.join("Chart.yaml").exists());
            for sub in entries {
                let dir_name = sub
                    .file_name()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .to_string();
                let rel = format!("{rel_parent}charts/{dir_name}/");
                subcharts.push(Chart::load_nested(
                    &sub,
                    &format!("{own_source}charts/"),
                    &rel,
                )?);
            }
        }
        Ok(Chart {
            dir: dir.to_path_buf(),
            metadata,
            values,
            templates,
            files,
            subcharts,
            source_prefix,
            rel_prefix: rel_parent.to_string(),
            compiled: OnceLock::new(),
            values_tree: OnceLock::new(),
        })
    }

    /// The compiled environment of this chart tree (compiled once, then shared).
    pub fn environment(&self) -> Result<Arc<ChartEnvironment>, RenderError> {
        if let Some(env) = self.compiled.get() {
            return Ok(env.clone());
        }
        let env = Arc::new(ChartEnvironment::for_chart(self)?);
        Ok(self.compiled.get_or_init(|| env).clone())
    }

    pub fn name(&self) -> &str {
        &self.metadata.name
    }

    /// `# Source:` name of one of this chart's templates.
    pub fn source_name(&self, template: &TemplateSource) -> String {
        format!(
            "{}{}/{}",
            self.source_prefix, self.metadata.name, template.rel
        )
    }

    /// Path of one of this chart's templates relative to the root chart.
    pub fn rel_path(&self, template: &TemplateSource) -> String {
        format!("{}{}", self.rel_prefix, template.rel)
    }

    /// Every renderable template of the tree as (path relative to root, source name).
    pub fn template_paths(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        self.walk(&mut |chart| {
            for t in &chart.templates {
                if !t.is_partial() && !t.is_notes() {
                    out.push((chart.rel_path(t), chart.source_name(t)));
                }
            }
        });
        out
    }

    /// Visit this chart and then every subchart, depth first.
    pub fn walk<'a>(&'a self, f: &mut dyn FnMut(&'a Chart)) {
        f(self);
        for sub in &self.subcharts {
            sub.walk(f);
        }
    }

    /// The value-computation view of this chart tree (built once, then shared).
    pub fn values_tree(&self) -> &ChartValues {
        self.values_tree.get_or_init(|| ChartValues {
            subcharts: self
                .subcharts
                .iter()
                .map(|sub| sub.values_tree().clone())
                .collect(),
            ..self.values.clone()
        })
    }
}

fn read_text(path: &Path) -> Result<String, RenderError> {
    let bytes = std::fs::read(path).map_err(|e| RenderError::Io {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    String::from_utf8(bytes).map_err(|e| RenderError::Io {
        path: path.to_path_buf(),
        message: format!(
            "not valid UTF-8 (first bad byte at offset {})",
            e.utf8_error().valid_up_to()
        ),
    })
}

fn read_metadata(path: &Path) -> Result<ChartMetadata, RenderError> {
    if !path.exists() {
        return Err(RenderError::ChartYaml {
            path: path.to_path_buf(),
            message: "Chart.yaml file is missing".into(),
        });
    }
    let text = read_text(path)?;
    let value = cozy_values::yaml::parse_str(
        &text,
        &path.display().to_string(),
        cozy_values::yaml::NumberMode::Native,
    )
    .map_err(|e| RenderError::ChartYaml {
        path: path.to_path_buf(),
        message: format!("{e:#}"),
    })?
    .value;
    let Json::Object(raw) = value else {
        return Err(RenderError::ChartYaml {
            path: path.to_path_buf(),
            message: "must be a mapping".into(),
        });
    };
    let text_field = |key: &str| -> String {
        match raw.get(key) {
            Some(Json::String(s)) => s.clone(),
            Some(Json::Number(n)) => n.to_string(),
            _ => String::new(),
        }
    };
    let name = text_field("name");
    if name.is_empty() {
        return Err(RenderError::ChartYaml {
            path: path.to_path_buf(),
            message: "validation: chart.metadata.name is required".into(),
        });
    }
    let version = text_field("version");
    if version.is_empty() {
        return Err(RenderError::ChartYaml {
            path: path.to_path_buf(),
            message: "validation: chart.metadata.version is required".into(),
        });
    }
    Ok(ChartMetadata {
        api_version: text_field("apiVersion"),
        name,
        version,
        app_version: text_field("appVersion"),
        kube_version: text_field("kubeVersion"),
        chart_type: text_field("type"),
        raw,
    })
}

fn read_templates(dir: &Path) -> Result<Vec<TemplateSource>, RenderError> {
    let root = dir.join("templates");
    let mut out = Vec::new();
    if !root.is_dir() {
        return Ok(out);
    }
    for entry in walkdir::WalkDir::new(&root).sort_by_file_name() {
        let entry = entry.map_err(|e| RenderError::Io {
            path: root.clone(),
            message: e.to_string(),
        })?;
        if !entry.file_type().is_file() {
            continue;
        }
        let rel = relative(dir, entry.path());
        out.push(TemplateSource {
            rel,
            text: read_text(entry.path())?,
        });
    }
    Ok(out)
}

fn read_files(dir: &Path) -> Result<BTreeMap<String, Vec<u8>>, RenderError> {
    const SPECIAL: &[&str] = &[
        "Chart.yaml",
        "values.yaml",
        "values.schema.json",
        "Chart.lock",
    ];
    const SKIP_DIRS: &[&str] = &["templates", "charts", "tests"];
    let mut out = BTreeMap::new();
    let walker = walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| {
            let rel = relative(dir, e.path());
            let top = rel.split('/').next().unwrap_or("");
            !(e.depth() == 1 && e.file_type().is_dir() && SKIP_DIRS.contains(&top))
        });
    for entry in walker {
        let entry = entry.map_err(|e| RenderError::Io {
            path: dir.to_path_buf(),
            message: e.to_string(),
        })?;
        if !entry.file_type().is_file() {
            continue;
        }
        let rel = relative(dir, entry.path());
        if SPECIAL.contains(&rel.as_str()) {
            continue;
        }
        let bytes = std::fs::read(entry.path()).map_err(|e| RenderError::Io {
            path: entry.path().to_path_buf(),
            message: e.to_string(),
        })?;
        out.insert(rel, bytes);
    }
    Ok(out)
}

fn relative(base: &Path, path: &Path) -> String {
    path.strip_prefix(base)
        .unwrap_or(path)
        .components()
        .map(|c| c.as_os_str().to_string_lossy().to_string())
        .collect::<Vec<_>>()
        .join("/")
}

/// Compute the values of the chart tree from its defaults and the user's layers.
pub fn compute_values(
    chart: &Chart,
    layers: &[ValueLayer],
    base_dir: &Path,
) -> Result<Computed, RenderError> {
    cozy_values::compute(chart.values_tree(), layers, base_dir)
        .map_err(|e| RenderError::Values(format!("{e:#}")))
}

/// A subchart as `helm dependency update` leaves it: a `.tgz` (or `.tar.gz`) file.
fn is_packaged_chart(path: &Path) -> bool {
    let name = path
        .file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .to_ascii_lowercase();
    (name.ends_with(".tgz") || name.ends_with(".tar.gz")) && path.is_file()
}

/// Validate computed values against every chart's schema; all violations at once.
pub fn validate_values(chart: &Chart, computed: &Computed) -> Result<(), RenderError> {
    let violations = cozy_values::validate(chart.values_tree(), computed);
    if violations.is_empty() {
        return Ok(());
    }
    Err(RenderError::Schema {
        chart: chart.name().to_string(),
        violations: violations.iter().map(|v| v.to_string()).collect(),
    })
}
