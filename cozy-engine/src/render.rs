//! The render pipeline: values → schema validation → templates → documents in Helm order.

use std::path::PathBuf;

use serde_json::Value as Json;

use crate::chart::Chart;
use crate::context::{Capabilities, ReleaseInfo};
use crate::error::RenderError;
use crate::limits::{Limits, RENDER_STACK_BYTES};
use crate::lookup::ClusterState;
use crate::manifest::{self, Document};
use cozy_values::ValueLayer;

/// Everything `helm template` takes besides the chart itself.
#[derive(Debug, Clone)]
pub struct RenderOptions {
    /// Release name (`helm template NAME`); Helm's default is `release-name`.
    pub release_name: String,
    /// Release namespace (`-n`); Helm's default is `default`.
    pub namespace: String,
    pub revision: u64,
    /// Render as an upgrade (`Release.IsUpgrade` true, `IsInstall` false).
    pub is_upgrade: bool,
    /// `-f`, `--set`, `--set-string`, `--set-json`, `--set-file` and literal maps, in order.
    pub values: Vec<ValueLayer>,
    /// Directory that relative `-f`/`--set-file` paths are resolved against.
    pub base_dir: PathBuf,
    /// `--kube-version`, e.g. `1.30` or `v1.30.2`.
    pub kube_version: Option<String>,
    /// `-a/--api-versions`, added to the built-in set.
    pub api_versions: Vec<String>,
    /// Override `Chart.Version` / `Chart.AppVersion` of the root chart (test suites do this).
    pub chart_version: Option<String>,
    pub app_version: Option<String>,
    /// Objects that `lookup` sees; `None` is Helm's offline behaviour (every lookup empty).
    pub cluster_state: Option<ClusterState>,
    /// `-s/--show-only`: template paths relative to the chart (`templates/x.yaml`,
    /// `charts/sub/templates/x.yaml`) or Helm source names (`chart/templates/x.yaml`).
    pub show_only: Vec<String>,
    /// Skip JSON Schema validation of values (Helm's `--skip-schema-validation`).
    pub skip_schema_validation: bool,
    /// Render `NOTES.txt` of the root chart into [`Rendered::notes`].
    pub render_notes: bool,
}

impl Default for RenderOptions {
    fn default() -> Self {
        RenderOptions {
            release_name: "release-name".into(),
            namespace: "default".into(),
            revision: 1,
            is_upgrade: false,
            values: Vec::new(),
            base_dir: PathBuf::from("."),
            kube_version: None,
            api_versions: Vec::new(),
            chart_version: None,
            app_version: None,
            cluster_state: None,
            show_only: Vec::new(),
            skip_schema_validation: false,
            render_notes: false,
        }
    }
}

/// The raw output of one template file, before splitting.
#[derive(Debug, Clone, PartialEq)]
pub struct RenderedFile {
    /// Helm's source name: `<chart>/templates/<file>` or `<parent>/charts/<sub>/templates/<file>`.
    pub source: String,
    /// Path relative to the root chart directory: `templates/<file>`, `charts/<sub>/templates/<file>`.
    pub path: String,
    /// The text the template produced.
    pub text: String,
}

/// Result of one render.
#[derive(Debug, Clone)]
pub struct Rendered {
    /// Every rendered (non-`_`, non-NOTES) template file, in path order, including ones that
    /// produced only whitespace.
    pub files: Vec<RenderedFile>,
    /// Non-empty documents in Helm's output order (ordinary documents by kind, then hooks).
    pub documents: Vec<Document>,
    /// Rendered NOTES.txt of the root chart when requested.
    pub notes: Option<String>,
    /// The computed values of the root chart (after defaults, files and --set).
    pub values: Json,
}

impl Rendered {
    /// Multi-document YAML exactly as `helm template` prints it.
    pub fn to_yaml_stream(&self) -> String {
        let mut out = String::new();
        for doc in &self.documents {
            out.push_str("---\n# Source: ");
            out.push_str(&doc.source);
            out.push('\n');
            out.push_str(&doc.text);
            out.push('\n');
        }
        out
    }

    /// One JSON array of the parsed documents (comment-only documents are skipped).
    pub fn to_json(&self) -> String {
        let items: Vec<&Json> = self
            .documents
            .iter()
            .filter(|d| !d.value.is_null())
            .map(|d| &d.value)
            .collect();
        serde_json::to_string_pretty(&items).unwrap_or_else(|_| "[]".into())
    }
}

/// Render a chart with the given options.
///
/// The work runs on a large stack ([`RENDER_STACK_BYTES`]) so that Helm's 1000 levels of
/// nested `include` end in the depth error, never in a stack overflow.
pub fn render(chart: &Chart, opts: &RenderOptions) -> Result<Rendered, RenderError> {
    on_render_stack(|| render_here(chart, opts))
}

thread_local! {
    /// Whether the calling thread already runs on a render-sized stack.
    static ON_RENDER_STACK: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Calls `work(i)` for every `i` in `0..count`, spread over `workers` threads (0: one per CPU)
/// that each switch to a render-sized stack once, so that renders run on them in place.
///
/// Commands that render many charts (`lint --matrix`, `test`) use this: a render then costs
/// no stack of its own, and a worker's allocator caches stay warm from one render to the next.
pub fn on_render_workers(count: usize, workers: usize, work: impl Fn(usize) + Sync) {
    let workers = if workers == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        workers
    }
    .min(count.max(1));
    let next = std::sync::atomic::AtomicUsize::new(0);
    let worker = || {
        manifest::remember_parsed_documents();
        on_render_stack(|| loop {
            let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            if i >= count {
                break;
            }
            work(i);
        })
    };
    std::thread::scope(|scope| {
        let spawned = (0..workers)
            .filter(|n| {
                std::thread::Builder::new()
                    .name(format!("render-worker-{n}"))
                    .spawn_scoped(scope, worker)
                    .is_ok()
            })
            .count();
        // No thread to spare at all: the calling thread does the work.
        if spawned == 0 {
            worker();
        }
    });
}

/// Runs `work` on a [`RENDER_STACK_BYTES`] stack and returns its result.
///
/// The calling thread switches to a fresh stack of that size for the duration (memory is
/// reserved, and only touched as deep as the render goes) unless it already runs on one.
/// No thread is spawned: handing a one-shot render to another thread and waiting for it
/// costs two cross-CPU wake-ups, a tenth of a small chart's wall time.
pub(crate) fn on_render_stack<T>(work: impl FnOnce() -> T) -> T {
    if ON_RENDER_STACK.with(|on| on.get()) {
        return work();
    }
    /// Clears the mark when the work ends, by return or by unwinding.
    struct Leave;
    impl Drop for Leave {
        fn drop(&mut self) {
            ON_RENDER_STACK.with(|on| on.set(false));
        }
    }
    ON_RENDER_STACK.with(|on| on.set(true));
    let _leave = Leave;
    crate::stack::with_stack(RENDER_STACK_BYTES, work)
}

/// What every kind of render works from: the computed (and validated) values, the release,
/// the capabilities and the compiled templates.
pub(crate) struct Prepared {
    pub computed: cozy_values::Computed,
    pub release: ReleaseInfo,
    pub capabilities: Capabilities,
    pub env: std::sync::Arc<crate::environment::ChartEnvironment>,
}

/// Compute and validate the values and pick the compiled environment for a render.
pub(crate) fn prepare(chart: &Chart, opts: &RenderOptions) -> Result<Prepared, RenderError> {
    let computed = crate::chart::compute_values(chart, &opts.values, &opts.base_dir)?;
    if !opts.skip_schema_validation {
        crate::chart::validate_values(chart, &computed)?;
    }
    let release = ReleaseInfo {
        name: opts.release_name.clone(),
        namespace: opts.namespace.clone(),
        revision: opts.revision,
        is_upgrade: opts.is_upgrade,
    };
    let capabilities = Capabilities::new(opts.kube_version.as_deref(), &opts.api_versions)?;
    let limits = Limits::current();
    // The shared environment carries the default fuel; another budget needs its own.
    let env = if limits.fuel == crate::limits::DEFAULT_FUEL {
        chart.environment()?
    } else {
        std::sync::Arc::new(crate::environment::ChartEnvironment::with_fuel(
            chart,
            limits.fuel,
        )?)
    };
    Ok(Prepared {
        computed,
        release,
        capabilities,
        env,
    })
}

/// [`render`] on the calling thread.
fn render_here(chart: &Chart, opts: &RenderOptions) -> Result<Rendered, RenderError> {
    let Prepared {
        computed,
        release,
        capabilities,
        env,
    } = prepare(chart, opts)?;
    let selected = select_templates(chart, &opts.show_only)?;
    let files = env.render_all(chart, &computed, &release, &capabilities, opts, &selected)?;
    let documents = manifest::order_documents(&files)?;
    let notes = if opts.render_notes {
        env.render_notes(chart, &computed, &release, &capabilities, opts)?
    } else {
        None
    };
    Ok(Rendered {
        files,
        documents,
        notes,
        values: Json::Object(computed.values.clone()),
    })
}

/// Resolve `--show-only` names to template paths; an unknown name is an error.
fn select_templates(
    chart: &Chart,
    show_only: &[String],
) -> Result<Option<Vec<String>>, RenderError> {
    if show_only.is_empty() {
        return Ok(None);
    }
    let all = chart.template_paths();
    let mut picked = Vec::new();
    for wanted in show_only {
        let wanted_norm = wanted.trim_start_matches("./");
        let hit: Vec<&(String, String)> = all
            .iter()
            .filter(|(path, source)| path == wanted_norm || source == wanted_norm)
            .collect();
        if hit.is_empty() {
            return Err(RenderError::ShowOnly {
                name: wanted.clone(),
            });
        }
        picked.extend(hit.into_iter().map(|(p, _)| p.clone()));
    }
    Ok(Some(picked))
}
