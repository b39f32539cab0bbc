//! Running suites: load each chart once, render each distinct request once (shared across tests
//! and suites), run suites in parallel, evaluate assertions, keep snapshot files in order.

use std::collections::HashMap;
use std::path::{Path as FsPath, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use serde_json::Value as Json;

use crate::assertion::{Assertion, Check};
use crate::check::{block, check_target, Verdict};
use crate::outcome::{AssertOutcome, ChartOutcome, SuiteOutcome, TestOutcome};
use crate::path::{build_set_value, merge_into};
use crate::rendered::{
    RenderFailure, RenderRequest, RenderResult, RenderedChart, Renderer, SubchartPlace,
};
use crate::select::{resolve_templates_in, select, Selection};
use crate::snapshot::{SnapshotMode, SnapshotSession};
use crate::subchart::{nest_under, SuiteScope};
use crate::suite::{load_suite, RenderSettings, Suite, TestCase};

/// How to run.
#[derive(Debug, Clone, Default)]
pub struct RunSettings {
    pub snapshot_mode: SnapshotMode,
    pub strict: bool,
    /// Worker threads; 0 = one per CPU.
    pub jobs: usize,
}

/// A chart to test and its suite files (its own, then its subcharts').
#[derive(Debug, Clone)]
pub struct ChartSuites {
    pub dir: PathBuf,
    pub suites: Vec<SuiteFile>,
}

/// A suite file and whose suite it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuiteFile {
    pub path: PathBuf,
    /// Directory of the subchart the suite belongs to, relative to the chart (`charts/sub/`);
    /// empty for the chart's own suites.
    pub subchart: String,
}

impl SuiteFile {
    /// A suite of the chart itself.
    pub fn root(path: PathBuf) -> SuiteFile {
        SuiteFile {
            path,
            subchart: String::new(),
        }
    }
}

/// A loaded chart and what suites need to know about it.
struct LoadedChart<C> {
    chart: C,
    name: String,
    templates: Vec<String>,
    subcharts: Vec<SubchartPlace>,
}

type Shared = Arc<OnceLock<Arc<RenderResult>>>;

/// Renders shared by every test of a run, keyed by chart and request.
struct RenderCache {
    entries: Mutex<HashMap<(usize, RenderRequest), Shared>>,
    renders: AtomicUsize,
}

impl RenderCache {
    fn get<R: Renderer>(
        &self,
        renderer: &R,
        chart_id: usize,
        chart: &R::Chart,
        request: &RenderRequest,
    ) -> Arc<RenderResult> {
        let slot = {
            let mut map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
            map.entry((chart_id, request.clone())).or_default().clone()
        };
        slot.get_or_init(|| {
            self.renders.fetch_add(1, Ordering::Relaxed);
            Arc::new(renderer.render(chart, request))
        })
        .clone()
    }
}

/// Statistics of a run beyond pass/fail.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunStats {
    /// Distinct renders performed (tests sharing settings share one).
    pub renders: usize,
}

/// Run every suite of every chart; results keep the input order.
pub fn run_charts<R: Renderer>(
    renderer: &R,
    charts: &[ChartSuites],
    settings: &RunSettings,
) -> (Vec<ChartOutcome>, RunStats) {
    // Load charts once, in parallel with nothing else: loading is cheap next to rendering.
    let loaded: Vec<Result<LoadedChart<R::Chart>, String>> = charts
        .iter()
        .map(|c| {
            renderer.load(&c.dir).map(|chart| LoadedChart {
                name: renderer.chart_name(&chart),
                templates: renderer.templates(&chart),
                subcharts: renderer.subcharts(&chart),
                chart,
            })
        })
        .collect();
    let work: Vec<(usize, usize)> = charts
        .iter()
        .enumerate()
        .filter(|(i, _)| loaded[*i].is_ok())
        .flat_map(|(ci, c)| (0..c.suites.len()).map(move |si| (ci, si)))
        .collect();
    let cache = RenderCache {
        entries: Mutex::new(HashMap::new()),
        renders: AtomicUsize::new(0),
    };
    let results: Vec<Mutex<Option<SuiteOutcome>>> = work.iter().map(|_| Mutex::new(None)).collect();
    cozy_engine::on_render_workers(work.len(), settings.jobs, |i| {
        let (ci, si) = work[i];
        let Ok(l) = &loaded[ci] else {
            return;
        };
        let env = ChartEnv {
            renderer,
            chart: &l.chart,
            chart_id: ci,
            name: &l.name,
            templates: &l.templates,
            subcharts: &l.subcharts,
            cache: &cache,
        };
        let outcome = run_suite(&env, &charts[ci].suites[si], settings);
        *results[i].lock().unwrap_or_else(|p| p.into_inner()) = Some(outcome);
    });
    let mut by_chart: Vec<Vec<SuiteOutcome>> = charts.iter().map(|_| Vec::new()).collect();
    for ((ci, _), slot) in work.iter().zip(results) {
        if let Some(outcome) = slot.into_inner().unwrap_or_else(|p| p.into_inner()) {
            by_chart[*ci].push(outcome);
        }
    }
    let outcomes = charts
        .iter()
        .zip(loaded.iter())
        .zip(by_chart)
        .map(|((c, l), suites)| match l {
            Ok(l) => ChartOutcome {
                name: l.name.clone(),
                dir: c.dir.clone(),
                error: None,
                suites,
            },
            Err(e) => ChartOutcome {
                name: c
                    .dir
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                dir: c.dir.clone(),
                error: Some(e.clone()),
                suites,
            },
        })
        .collect();
    (
        outcomes,
        RunStats {
            renders: cache.renders.load(Ordering::Relaxed),
        },
    )
}

/// What a suite needs from its chart.
struct ChartEnv<'a, R: Renderer> {
    renderer: &'a R,
    chart: &'a R::Chart,
    chart_id: usize,
    name: &'a str,
    templates: &'a [String],
    subcharts: &'a [SubchartPlace],
    cache: &'a RenderCache,
}

fn suite_failure(file: &FsPath, name: String, error: String, started: Instant) -> SuiteOutcome {
    SuiteOutcome {
        name,
        file: file.to_path_buf(),
        error: Some(error),
        tests: Vec::new(),
        snapshot: Default::default(),
        duration: started.elapsed(),
    }
}

fn run_suite<R: Renderer>(
    env: &ChartEnv<R>,
    suite_file: &SuiteFile,
    settings: &RunSettings,
) -> SuiteOutcome {
    let started = Instant::now();
    let file = suite_file.path.as_path();
    let file_name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let suite = match load_suite(file, settings.strict) {
        Ok(s) => s,
        Err(e) => return suite_failure(file, file_name, e.to_string(), started),
    };
    let Some(scope) = SuiteScope::for_subchart(&suite_file.subchart, env.subcharts) else {
        return suite_failure(
            file,
            suite.name.clone(),
            format!(
                "the suite belongs to the subchart in {}, which chart {} does not load",
                suite_file.subchart, env.name
            ),
            started,
        );
    };
    // Templates the suite renders: `templates` (all in its scope when empty) minus
    // `excludeTemplates`; names are relative to the suite's chart or subchart.
    let mut selection = if suite.templates.is_empty() {
        scope.templates_in_scope(env.templates)
    } else {
        match resolve_templates_in(&suite.templates, env.templates, &scope.prefix) {
            Ok(t) => t,
            Err(e) => {
                return suite_failure(file, suite.name.clone(), format!("templates: {e}"), started)
            }
        }
    };
    if !suite.exclude_templates.is_empty() {
        match resolve_templates_in(&suite.exclude_templates, env.templates, &scope.prefix) {
            Ok(excluded) => selection.retain(|t| !excluded.contains(t)),
            Err(e) => {
                return suite_failure(
                    file,
                    suite.name.clone(),
                    format!("excludeTemplates: {e}"),
                    started,
                )
            }
        }
    }
    let mut snapshots = SnapshotSession::open(file, settings.snapshot_mode);
    let mut tests = Vec::new();
    for test in &suite.tests {
        let t0 = Instant::now();
        let skip = suite
            .skip
            .clone()
            .or_else(|| test.skip.clone())
            .or_else(|| suite.unsupported.clone())
            .or_else(|| test.unsupported.clone());
        if let Some(reason) = skip {
            snapshots.keep_test(&test.it);
            tests.push(TestOutcome {
                it: test.it.clone(),
                passed: true,
                skipped: Some(reason),
                error: None,
                asserts: Vec::new(),
                duration: t0.elapsed(),
            });
            continue;
        }
        let mut outcome = run_test(env, &suite, &scope, test, &selection, &mut snapshots);
        outcome.duration = t0.elapsed();
        tests.push(outcome);
    }
    let snapshot = snapshots.finish();
    SuiteOutcome {
        name: suite.name.clone(),
        file: file.to_path_buf(),
        error: None,
        tests,
        snapshot,
        duration: started.elapsed(),
    }
}

/// The render request of one test of a suite in `scope`.
pub fn build_request(
    suite_file: &FsPath,
    scope: &SuiteScope,
    settings: &RenderSettings,
    selection: &[String],
    all_templates: &[String],
) -> RenderRequest {
    let mut set = Json::Object(Default::default());
    for (path, value) in &settings.set {
        merge_into(&mut set, build_set_value(path, value.clone()));
    }
    let set = match &set {
        Json::Object(m) if m.is_empty() => set,
        _ => nest_under(&scope.values_path, set),
    };
    let kube_version = match (
        &settings.capabilities.major_version,
        &settings.capabilities.minor_version,
    ) {
        (Some(major), Some(minor)) => Some(format!("v{major}.{minor}.0")),
        _ => None,
    };
    // helm-unittest renders only the selected templates (and the definitions), so a template
    // the suite does not select cannot fail it.
    let show_only = if selection.len() == all_templates.len() {
        None
    } else {
        Some(selection.iter().filter(|t| !is_notes(t)).cloned().collect())
    };
    RenderRequest {
        render_notes: selection.iter().any(|t| is_notes(t)),
        show_only,
        values_files: settings.values.clone(),
        set_json: set.to_string(),
        values_scope: scope.values_path.clone(),
        set_origin: format!("{} (set)", suite_file.display()),
        release_name: settings
            .release
            .name
            .clone()
            .unwrap_or_else(|| "RELEASE-NAME".into()),
        namespace: settings
            .release
            .namespace
            .clone()
            .unwrap_or_else(|| "NAMESPACE".into()),
        revision: settings.release.revision.unwrap_or(0),
        upgrade: settings.release.upgrade.unwrap_or(false),
        chart_version: settings.chart.version.clone(),
        app_version: settings.chart.app_version.clone(),
        kube_version,
        api_versions: settings
            .capabilities
            .api_versions
            .clone()
            .unwrap_or_default(),
        cluster_objects_json: settings
            .cluster_objects
            .as_ref()
            .map(|o| Json::Array(o.clone()).to_string()),
    }
}

/// Whether a template path is the chart's NOTES.txt (rendered as raw text).
pub fn is_notes(template: &str) -> bool {
    template.rsplit('/').next() == Some("NOTES.txt")
}

fn run_test<R: Renderer>(
    env: &ChartEnv<R>,
    suite: &Suite,
    scope: &SuiteScope,
    test: &TestCase,
    selection: &[String],
    snapshots: &mut SnapshotSession,
) -> TestOutcome {
    let settings = RenderSettings::layered(&suite.settings, &test.settings);
    let mut outcome = TestOutcome {
        it: test.it.clone(),
        passed: false,
        skipped: None,
        error: None,
        asserts: Vec::new(),
        duration: Default::default(),
    };
    for v in &settings.values {
        if !v.is_file() {
            outcome.error = Some(format!(
                "values file {} does not exist (paths are relative to the suite file)",
                v.display()
            ));
            return outcome;
        }
    }
    let request = build_request(&suite.file, scope, &settings, selection, env.templates);
    let result = env
        .cache
        .get(env.renderer, env.chart_id, env.chart, &request);
    let mut all_passed = true;
    for a in &test.asserts {
        let ao = run_assertion(
            env.name,
            &scope.prefix,
            a,
            test,
            selection,
            &result,
            snapshots,
        );
        all_passed &= ao.passed;
        outcome.asserts.push(ao);
    }
    outcome.passed = all_passed;
    outcome
}

fn run_assertion(
    chart_name: &str,
    prefix: &str,
    a: &Assertion,
    test: &TestCase,
    selection: &[String],
    result: &RenderResult,
    snapshots: &mut SnapshotSession,
) -> AssertOutcome {
    let mut out = AssertOutcome {
        index: a.index,
        name: a.name.clone(),
        not: a.not,
        passed: false,
        skipped: false,
        lines: Vec::new(),
    };
    let names: Vec<String> = match (&a.template, test.templates.is_empty()) {
        (Some(t), _) => vec![t.clone()],
        (None, false) => test.templates.clone(),
        (None, true) => Vec::new(),
    };
    let targets = if names.is_empty() {
        Ok(selection.to_vec())
    } else {
        resolve_templates_in(&names, selection, prefix)
    };
    let targets = match targets {
        Ok(t) => t,
        Err(e) => {
            out.lines = vec!["Error:".into(), format!("\t{e}")];
            return out;
        }
    };
    match result {
        Err(failure) => {
            let verdict = failed_render(a, failure, &targets);
            out.passed = verdict.passed;
            out.lines = verdict.lines;
        }
        Ok(rendered) => {
            let verdict = rendered_checks(chart_name, a, test, &targets, rendered, snapshots);
            out.passed = verdict.0.passed;
            out.lines = verdict.0.lines;
            out.skipped = verdict.1;
        }
    }
    out
}

fn rendered_checks(
    chart_name: &str,
    a: &Assertion,
    test: &TestCase,
    targets: &[String],
    rendered: &RenderedChart,
    snapshots: &mut SnapshotSession,
) -> (Verdict, bool) {
    let index = a.document_index.or(test.document_index);
    let selector = a
        .document_selector
        .as_ref()
        .or(test.document_selector.as_ref());
    let (index, selector) = if matches!(
        a.check,
        Check::HasDocuments {
            filter_aware: false,
            ..
        }
    ) {
        (None, None)
    } else {
        (index, selector)
    };
    let selection = match select(rendered, targets, index, selector) {
        Ok(s) => s,
        Err(e) => {
            let mut lines = vec!["Error:".to_string()];
            lines.extend(block(&e));
            return (
                Verdict {
                    passed: false,
                    lines,
                },
                false,
            );
        }
    };
    let targets = match selection {
        Selection::Skipped => {
            return (
                Verdict {
                    passed: true,
                    lines: Vec::new(),
                },
                true,
            )
        }
        Selection::Targets(t) => t,
    };
    if targets.is_empty() {
        let v = if a.negate || matches!(a.check, Check::HasDocuments { count: 0, .. }) {
            Verdict {
                passed: true,
                lines: Vec::new(),
            }
        } else {
            Verdict {
                passed: false,
                lines: vec![
                    "Error:".into(),
                    "\tthe suite selects no template to assert".into(),
                ],
            }
        };
        return (v, false);
    }
    let mut total = Verdict {
        passed: true,
        lines: Vec::new(),
    };
    for target in &targets {
        let v = check_target(a, target, &test.it, snapshots);
        if !v.passed {
            total.passed = false;
            total
                .lines
                .push(format!("Template:\t{chart_name}/{}", target.template));
            total.lines.extend(v.lines);
        }
    }
    (total, false)
}

fn failed_render(a: &Assertion, failure: &RenderFailure, targets: &[String]) -> Verdict {
    let mut lines = Vec::new();
    let Check::FailedTemplate {
        error_message,
        error_pattern,
    } = &a.check
    else {
        lines.push("Error:".into());
        lines.push("\tthe chart failed to render:".into());
        lines.extend(
            block(&failure.message)
                .into_iter()
                .map(|l| format!("\t{l}")),
        );
        return Verdict {
            passed: false,
            lines,
        };
    };
    if a.negate {
        lines.push("Expected NOT to fail, but the render failed with:".into());
        lines.extend(block(&failure.message));
        return Verdict {
            passed: false,
            lines,
        };
    }
    let relevant = failure.applies_everywhere()
        || failure
            .template
            .as_ref()
            .is_some_and(|t| targets.contains(t));
    if !relevant {
        lines.push("Error:".into());
        lines.push(format!(
            "\tthe render failed in {}, which this assertion does not select ({}):",
            failure.template.as_deref().unwrap_or("?"),
            targets.join(", ")
        ));
        lines.extend(
            block(&failure.message)
                .into_iter()
                .map(|l| format!("\t{l}")),
        );
        return Verdict {
            passed: false,
            lines,
        };
    }
    let (ok, expected, what) = match (error_message, error_pattern) {
        (Some(m), _) => (failure.detail == *m, m.clone(), "to equal"),
        (None, Some(p)) => (
            p.regex.is_match(&failure.detail) || p.regex.is_match(&failure.message),
            p.text.clone(),
            "to match",
        ),
        (None, None) => (true, String::new(), ""),
    };
    if ok {
        return Verdict {
            passed: true,
            lines,
        };
    }
    if let Some(t) = &failure.template {
        lines.push(format!("Template:\t{t}"));
    }
    lines.push(format!("Expected {what}:"));
    lines.extend(block(&expected));
    lines.push("Actual:".into());
    lines.extend(block(&failure.detail));
    Verdict {
        passed: false,
        lines,
    }
}
