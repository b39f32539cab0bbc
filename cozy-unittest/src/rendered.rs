//! What the runner needs from a renderer, as plain data: the request (one per distinct render
//! settings) and the result (documents per template, or the failure).
//!
//! The [`Renderer`] trait keeps the runner independent of the engine, so the assertion logic is
//! testable over hand-made documents and the engine adapter stays a thin edge.

use std::collections::BTreeMap;
use std::path::{Path as FsPath, PathBuf};

use serde_json::Value as Json;

/// Everything one render depends on. Two tests with equal requests share one render.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct RenderRequest {
    /// Template paths to render (`templates/x.yaml`, `charts/sub/templates/y.yaml`): `None`
    /// renders every template, `Some` only these (an empty list renders no manifest at all, as
    /// for a suite of NOTES.txt alone). Definitions in `_*.tpl` files are always available.
    pub show_only: Option<Vec<String>>,
    /// Values files in order.
    pub values_files: Vec<PathBuf>,
    /// `set:` entries merged into one map (canonical JSON text, so the request can be hashed),
    /// already placed under [`values_scope`](Self::values_scope).
    pub set_json: String,
    /// Keys the values files are nested under before they apply (a subchart suite's values mean
    /// `<sub>.<key>` of the parent chart); empty for the chart's own suites.
    pub values_scope: Vec<String>,
    /// Where the `set:` entries came from (for error messages).
    pub set_origin: String,
    pub release_name: String,
    pub namespace: String,
    pub revision: u64,
    pub upgrade: bool,
    pub chart_version: Option<String>,
    pub app_version: Option<String>,
    /// `v<major>.<minor>.0` when the suite sets both.
    pub kube_version: Option<String>,
    pub api_versions: Vec<String>,
    /// Objects for `lookup`, as canonical JSON text; `None` = offline.
    pub cluster_objects_json: Option<String>,
    /// Render NOTES.txt too.
    pub render_notes: bool,
}

/// Output of one template file.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TemplateOutput {
    /// Parsed, non-empty documents in file order.
    pub documents: Vec<Json>,
    /// Raw text (NOTES.txt).
    pub raw: Option<String>,
}

/// A successful render: outputs by template path relative to the chart.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RenderedChart {
    pub templates: BTreeMap<String, TemplateOutput>,
}

/// A failed render, located like helm-unittest locates it.
#[derive(Debug, Clone, PartialEq)]
pub struct RenderFailure {
    /// The whole message as the engine printed it.
    pub message: String,
    /// The template the failure happened in (relative path), when the message names one.
    pub template: Option<String>,
    /// What `failedTemplate.errorMessage` is compared with: the text after the location for
    /// located errors (`execution error at (c/templates/x.yaml:3:4): <this>`), the whole
    /// message otherwise.
    pub detail: String,
}

impl RenderFailure {
    /// Locate a failure message of chart `chart_name`.
    pub fn from_message(chart_name: &str, message: &str) -> RenderFailure {
        let (template, detail) = locate(chart_name, message);
        RenderFailure {
            message: message.to_string(),
            template,
            detail,
        }
    }

    /// Whether the failure happened in a shared definition (`_helpers.tpl`) or could not be
    /// attributed, in which case helm-unittest reports it for every asserted template.
    pub fn applies_everywhere(&self) -> bool {
        match &self.template {
            None => true,
            Some(t) => t
                .rsplit('/')
                .next()
                .is_some_and(|base| base.starts_with('_')),
        }
    }
}

/// Result of one render.
pub type RenderResult = Result<RenderedChart, RenderFailure>;

/// Where a subchart sits in the chart being tested.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubchartPlace {
    /// Prefix of its template paths relative to the tested chart: `charts/sub/`,
    /// `charts/sub/charts/inner/`.
    pub prefix: String,
    /// Keys its values live under in the tested chart's values: `["sub"]`, `["sub", "inner"]`.
    pub values_path: Vec<String>,
}

/// A chart renderer (the engine, or a test double).
pub trait Renderer: Sync {
    type Chart: Send + Sync;
    /// Load a chart directory once; the error text is shown as is.
    fn load(&self, dir: &FsPath) -> Result<Self::Chart, String>;
    /// The chart's name (Chart.yaml `name`).
    fn chart_name(&self, chart: &Self::Chart) -> String;
    /// Renderable template paths relative to the chart (`templates/x.yaml`,
    /// `charts/sub/templates/y.yaml`, `templates/NOTES.txt`), partials excluded.
    fn templates(&self, chart: &Self::Chart) -> Vec<String>;
    /// Every subchart of the tree, nested ones included, parents before their children.
    fn subcharts(&self, chart: &Self::Chart) -> Vec<SubchartPlace>;
    fn render(&self, chart: &Self::Chart, request: &RenderRequest) -> RenderResult;
}

/// helm-unittest's reading of a render error: the file from `<file>:<line>:<col>`, and the text
/// after the first `: ` that follows it (skipping `executing ... at <...>` parts). A multi-line
/// message yields everything after its first line.
fn locate(chart_name: &str, message: &str) -> (Option<String>, String) {
    let re = location_regex();
    let Some(caps) = re.captures(message) else {
        return (None, message.to_string());
    };
    let file = caps.get(1).map(|m| m.as_str()).unwrap_or_default();
    let end = caps.get(0).map(|m| m.end()).unwrap_or(0);
    let template = file
        .strip_prefix(&format!("{chart_name}/"))
        .unwrap_or(file)
        .to_string();
    let detail = if let Some((_, rest)) = message.split_once('\n') {
        rest.to_string()
    } else {
        let after = &message[end..];
        // Skip at least one character (the `)` of `(...)`), then up to the first `: `,
        // jumping over any `at <...>: ` expression markers.
        let tail = after.get(1..).unwrap_or("");
        let tail = match tail.rfind(">: ") {
            Some(pos) if tail[..pos].contains('<') => &tail[pos + 1..],
            _ => tail,
        };
        match tail.find(": ") {
            Some(pos) => tail[pos + 2..].to_string(),
            None => message.to_string(),
        }
    };
    (Some(template), detail)
}

fn location_regex() -> &'static regex::Regex {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| {
        regex::Regex::new(r"([^\s():]+/templates/[^\s():]+):(\d+):(\d+)").expect("static regex")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fail_messages_yield_the_text_after_the_location() {
        let f = RenderFailure::from_message(
            "web",
            "execution error at (web/templates/deploy.yaml:3:4): image.tag is required",
        );
        assert_eq!(f.template.as_deref(), Some("templates/deploy.yaml"));
        assert_eq!(f.detail, "image.tag is required");
        assert!(!f.applies_everywhere());
    }

    #[test]
    fn messages_with_colons_keep_them() {
        let f = RenderFailure::from_message(
            "web",
            "execution error at (web/templates/a.yaml:1:2): bad value: x: y",
        );
        assert_eq!(f.detail, "bad value: x: y");
    }

    #[test]
    fn go_style_errors_skip_the_expression_marker() {
        let f = RenderFailure::from_message(
            "web",
            "template: web/templates/a.yaml:3:4: executing \"web/templates/a.yaml\" at <.Values.a.b>: nil pointer evaluating interface {}.b",
        );
        assert_eq!(f.detail, "nil pointer evaluating interface {}.b");
    }

    #[test]
    fn partials_and_unlocated_errors_apply_everywhere() {
        let f = RenderFailure::from_message(
            "web",
            "execution error at (web/templates/_helpers.tpl:1:2): boom",
        );
        assert!(f.applies_everywhere());
        let f = RenderFailure::from_message(
            "web",
            "values don't meet the schema: replicas must be an integer",
        );
        assert_eq!(f.template, None);
        assert_eq!(
            f.detail,
            "values don't meet the schema: replicas must be an integer"
        );
    }

    #[test]
    fn subchart_locations_are_relative_to_the_parent() {
        let f = RenderFailure::from_message(
            "top",
            "execution error at (top/charts/sub/templates/x.yaml:1:1): no",
        );
        assert_eq!(f.template.as_deref(), Some("charts/sub/templates/x.yaml"));
        assert_eq!(f.detail, "no");
    }

    #[test]
    fn multi_line_messages_keep_the_lines_after_the_first() {
        let f = RenderFailure::from_message(
            "web",
            "execution error at (web/templates/a.yaml:1:2): first\nsecond\nthird",
        );
        assert_eq!(f.detail, "second\nthird");
    }
}
