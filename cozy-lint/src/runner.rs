//! Running lint cases: render each (chart, value set) pair and apply every rule, in parallel.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use cozy_engine::Chart;
use serde_json::Value as Json;

use crate::engine::{package_source_files, packages_root, render_chart, schemas_dir, PackagesTree};
use crate::matrix::{Case, Expectation};
use crate::render_flags::RenderFlags;
use crate::rules::proxy_target::{ComponentRenderer, NoComponents};
use crate::rules::schemas::SchemaSet;
use crate::{lint_manifests, Finding, LintContext};

/// What linting one case produced.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Clean,
    Findings(Vec<Finding>),
    /// The chart refused the values (schema, gate, required value, invalid YAML ...).
    Rejected(String),
}

/// The result of one case.
#[derive(Debug, Clone)]
pub struct CaseReport {
    /// Chart directory as given on the command line.
    pub chart: String,
    pub case: String,
    pub expect: Option<Expectation>,
    pub outcome: Outcome,
    pub millis: u128,
}

impl CaseReport {
    /// True when this case makes the run fail: findings, or an outcome the matrix did not expect.
    /// A rejected case the matrix says nothing about is reported but does not fail the run.
    pub fn failed(&self) -> bool {
        matches!(
            (&self.outcome, self.expect),
            (Outcome::Findings(_), _)
                | (Outcome::Rejected(_), Some(Expectation::Clean))
                | (Outcome::Clean, Some(Expectation::Rejected))
        )
    }
}

/// A chart ready to lint: loaded once, with the schemas and packages tree of its repository.
pub struct PreparedChart {
    pub display: String,
    pub chart: Arc<Chart>,
    pub schemas: Arc<SchemaSet>,
    pub tree: Option<Arc<PackagesTree>>,
    pub sources: Arc<Vec<Json>>,
}

/// Loads charts and shares schema sets and packages trees between charts of one repository.
#[derive(Default)]
pub struct Preparer {
    schemas: HashMap<PathBuf, Arc<SchemaSet>>,
    trees: HashMap<PathBuf, (Arc<PackagesTree>, Arc<Vec<Json>>)>,
}

impl Preparer {
    /// `schemas_override`: `--schemas DIR`; otherwise the nearest `schemas/` above the chart.
    pub fn prepare(
        &mut self,
        chart_dir: &Path,
        schemas_override: Option<&Path>,
        kube_version: Option<&str>,
    ) -> Result<PreparedChart, String> {
        let chart = Chart::load(chart_dir).map_err(|e| format!("{e:#}"))?;
        let schema_dir = schemas_override
            .map(Path::to_path_buf)
            .or_else(|| schemas_dir(chart_dir));
        let schemas = match schema_dir {
            Some(dir) => match self.schemas.get(&dir) {
                Some(s) => s.clone(),
                None => {
                    let set = Arc::new(SchemaSet::load(&dir).map_err(|e| e.to_string())?);
                    self.schemas.insert(dir, set.clone());
                    set
                }
            },
            None => Arc::new(SchemaSet::default()),
        };
        let (tree, sources) = match packages_root(chart_dir) {
            Some(root) => {
                let entry = self.trees.entry(root.clone()).or_insert_with(|| {
                    let sources = Arc::new(package_source_files(&root));
                    (
                        Arc::new(PackagesTree::new(root, kube_version.map(str::to_string))),
                        sources,
                    )
                });
                (Some(entry.0.clone()), entry.1.clone())
            }
            None => (None, Arc::new(Vec::new())),
        };
        Ok(PreparedChart {
            display: chart_dir.display().to_string(),
            chart: Arc::new(chart),
            schemas,
            tree,
            sources,
        })
    }
}

/// One unit of work.
pub struct Job<'a> {
    pub chart: &'a PreparedChart,
    pub case: Case,
}

/// Lint one case: command-line flags first, then the case's files and `--set`s.
pub fn run_case(job: &Job, flags: &RenderFlags, release_name: &str, base_dir: &Path) -> CaseReport {
    let started = Instant::now();
    let mut flags = flags.clone();
    flags
        .value_flags
        .values
        .extend(job.case.values.iter().cloned());
    flags.value_flags.set.extend(job.case.set.iter().cloned());
    if let Some(state) = &job.case.cluster_state {
        flags.cluster_state = Some(state.clone());
    }
    if let Some(ns) = &job.case.namespace {
        flags.namespace = ns.clone();
    }
    let release = job.case.release.as_deref().unwrap_or(release_name);
    let outcome = match flags
        .options(release, base_dir)
        .and_then(|opts| render_chart(&job.chart.chart, &opts))
    {
        Err(e) => Outcome::Rejected(format!("{e:#}")),
        Ok(rendered) => {
            let components: &dyn ComponentRenderer = match &job.chart.tree {
                Some(t) => t.as_ref(),
                None => &NoComponents,
            };
            let ctx = LintContext {
                release_namespace: &flags.namespace,
                values: &rendered.values,
                schemas: &job.chart.schemas,
                extra_sources: &job.chart.sources,
                components,
            };
            let findings = lint_manifests(&rendered.manifests, &ctx);
            if findings.is_empty() {
                Outcome::Clean
            } else {
                Outcome::Findings(findings)
            }
        }
    };
    CaseReport {
        chart: job.chart.display.clone(),
        case: job.case.name.clone(),
        expect: job.case.expect,
        outcome,
        millis: started.elapsed().as_millis(),
    }
}

/// Lint every job in parallel, one render worker per CPU; `tick` is called after each case
/// (progress display). Reports come back in the order of `jobs`.
pub fn run_all(
    jobs: &[Job],
    flags: &RenderFlags,
    release_name: &str,
    base_dir: &Path,
    tick: &(dyn Fn(&CaseReport) + Sync),
) -> Vec<CaseReport> {
    let slots: Vec<Mutex<Option<CaseReport>>> = jobs.iter().map(|_| Mutex::new(None)).collect();
    cozy_engine::on_render_workers(jobs.len(), 0, |i| {
        let report = run_case(&jobs[i], flags, release_name, base_dir);
        tick(&report);
        *slots[i].lock().unwrap_or_else(|p| p.into_inner()) = Some(report);
    });
    slots
        .into_iter()
        .filter_map(|slot| slot.into_inner().unwrap_or_else(|p| p.into_inner()))
        .collect()
}
