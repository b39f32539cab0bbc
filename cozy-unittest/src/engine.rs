//! The [`Renderer`] backed by cozy-engine: the only module that knows the engine's types.

use std::path::Path as FsPath;

use cozy_engine::{Chart, ClusterState, RenderError, RenderOptions, ValueLayer};
use serde_json::Value as Json;

use crate::rendered::{
    RenderFailure, RenderRequest, RenderResult, RenderedChart, Renderer, TemplateOutput,
};

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

    fn render(&self, chart: &Chart, request: &RenderRequest) -> RenderResult {
        let options = options_for(chart, request).map_err(|e| failure(chart, &e))?;
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
            out.templates.insert(
                NOTES.to_string(),
                TemplateOutput {
                    documents: Vec::new(),
                    raw: Some(notes),
                },
            );
        }
        Ok(out)
    }
}

fn options_for(chart: &Chart, r: &RenderRequest) -> Result<RenderOptions, RenderError> {
    let mut values: Vec<ValueLayer> = r
        .values_files
        .iter()
        .map(|p| ValueLayer::File(p.clone()))
        .collect();
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
        show_only: r.show_only.clone(),
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
