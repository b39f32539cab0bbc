//! The [`Renderer`] backed by cozy-engine: the only module that knows the engine's types.

use std::path::Path as FsPath;

use cozy_engine::{Chart, ClusterState, RenderError, RenderOptions, ValueLayer};
use serde_json::Value as Json;

use crate::rendered::{
    RenderFailure, RenderRequest, RenderResult, RenderedChart, Renderer, SubchartPlace,
    TemplateOutput,
};
use crate::subchart::nest_under;

/// Renders charts with cozy-engine.
#[derive(Debug, Clone, Copy, Default)]
pub struct EngineRenderer;

const NOTES: &str = "templates/NOTES.txt";

impl Renderer for EngineRenderer {
    type Chart = Chart;

    fn load(&self, dir: &FsPath) -> Result<Chart, String> {
        Chart::load(dir).map_err(|e| e.to_string())
    }

    fn chart_name(&self, chart: &Chart) -> String {
        chart.name().to_string()
    }

    fn templates(&self, chart: &Chart) -> Vec<String> {
        let mut out: Vec<String> = chart
            .template_paths()
            .into_iter()
            .map(|(path, _)| path)
            .collect();
        if chart.templates.iter().any(|t| t.is_notes()) && !out.iter().any(|p| p == NOTES) {
            out.push(NOTES.to_string());
        }
        out
    }

    fn subcharts(&self, chart: &Chart) -> Vec<SubchartPlace> {
        fn go(chart: &Chart, path: &[String], out: &mut Vec<SubchartPlace>) {
            for sub in &chart.subcharts {
                // The engine scopes a subchart's values by its chart name.
                let mut values_path = path.to_vec();
                values_path.push(sub.name().to_string());
                out.push(SubchartPlace {
                    prefix: sub.rel_prefix.clone(),
                    values_path: values_path.clone(),
                });
                go(sub, &values_path, out);
            }
        }
        let mut out = Vec::new();
        go(chart, &[], &mut out);
        out
    }

    fn render(&self, chart: &Chart, request: &RenderRequest) -> RenderResult {
        let options = options_for(chart, request).map_err(|e| failure(chart, &e))?;
        if options.show_only.is_empty() && request.show_only.is_some() {
            return notes_only(chart, request, &options);
        }
        let rendered = cozy_engine::render(chart, &options).map_err(|e| failure(chart, &e))?;
        let mut out = RenderedChart::default();
        for file in &rendered.files {
            let mut docs: Vec<&cozy_engine::Document> = rendered
                .documents
                .iter()
                .filter(|d| d.path == file.path)
                .collect();
            docs.sort_by_key(|d| d.index);
            let documents = docs
                .into_iter()
                .map(|d| d.value.clone())
                .filter(|v| !v.is_null())
                .collect();
            out.templates.insert(
                file.path.clone(),
                TemplateOutput {
                    documents,
                    raw: None,
                },
            );
        }
        if let Some(notes) = rendered.notes {
            insert_notes(&mut out, notes);
        }
        Ok(out)
    }
}

/// A request that selects no manifest template: the notes alone, when asked for.
fn notes_only(chart: &Chart, request: &RenderRequest, options: &RenderOptions) -> RenderResult {
    let notes = cozy_engine::notes_only::render_notes_only(chart, options)
        .map_err(|e| failure(chart, &e))?;
    let mut out = RenderedChart::default();
    if let (true, Some(notes)) = (request.render_notes, notes) {
        insert_notes(&mut out, notes);
    }
    Ok(out)
}

/// NOTES.txt is kept as raw text, never split into documents.
fn insert_notes(out: &mut RenderedChart, notes: String) {
    out.templates.insert(
        NOTES.to_string(),
        TemplateOutput {
            documents: Vec::new(),
            raw: Some(notes),
        },
    );
}

/// A values file as a layer: as is for the chart's own suites, nested under the subchart's keys
/// for a subchart suite.
fn values_layer(file: &FsPath, scope: &[String]) -> Result<ValueLayer, RenderError> {
    if scope.is_empty() {
        return Ok(ValueLayer::File(file.to_path_buf()));
    }
    let parsed = cozy_values::yaml::parse_file(file, cozy_values::yaml::NumberMode::Helm)
        .map_err(|e| RenderError::Values(format!("{e:#}")))?;
    let map = match parsed.value {
        Json::Object(map) => map,
        Json::Null => serde_json::Map::new(),
        other => {
            return Err(RenderError::Values(format!(
                "{}: values must be a map of keys at the top level, found {}",
                file.display(),
                crate::suite::kind_of(&other)
            )))
        }
    };
    Ok(ValueLayer::Literal {
        origin: file.display().to_string(),
        values: match nest_under(scope, Json::Object(map)) {
            Json::Object(m) => m,
            _ => serde_json::Map::new(),
        },
    })
}

fn options_for(chart: &Chart, r: &RenderRequest) -> Result<RenderOptions, RenderError> {
    let mut values: Vec<ValueLayer> = r
        .values_files
        .iter()
        .map(|p| values_layer(p, &r.values_scope))
        .collect::<Result<_, _>>()?;
    if let Ok(Json::Object(map)) = serde_json::from_str::<Json>(&r.set_json) {
        if !map.is_empty() {
            values.push(ValueLayer::Literal {
                origin: r.set_origin.clone(),
                values: map,
            });
        }
    }
    let cluster_state = match &r.cluster_objects_json {
        None => None,
        Some(text) => match serde_json::from_str::<Json>(text) {
            Ok(Json::Array(items)) => Some(ClusterState::from_objects(items)),
            _ => Some(ClusterState::from_objects(Vec::new())),
        },
    };
    Ok(RenderOptions {
        release_name: r.release_name.clone(),
        namespace: r.namespace.clone(),
        revision: r.revision,
        is_upgrade: r.upgrade,
        values,
        base_dir: chart.dir.clone(),
        kube_version: r.kube_version.clone(),
        api_versions: r.api_versions.clone(),
        chart_version: r.chart_version.clone(),
        app_version: r.app_version.clone(),
        cluster_state,
        show_only: r.show_only.clone().unwrap_or_default(),
        skip_schema_validation: false,
        render_notes: r.render_notes,
    })
}

/// Locate an engine error the way helm-unittest locates Helm's.
fn failure(chart: &Chart, e: &RenderError) -> RenderFailure {
    let message = e.to_string();
    if let RenderError::Execution {
        template,
        message: inner,
        ..
    } = e
    {
        let name = chart.name();
        let rel = template
            .strip_prefix(&format!("{name}/"))
            .unwrap_or(template)
            .to_string();
        // helm-unittest keeps the lines after the first for multi-line messages.
        let detail = match message.split_once('\n') {
            Some((_, rest)) => rest.to_string(),
            None => inner.clone(),
        };
        return RenderFailure {
            message,
            template: Some(rel),
            detail,
        };
    }
    RenderFailure::from_message(chart.name(), &message)
}
