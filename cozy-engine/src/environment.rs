//! The minijinja environment of one chart tree, and the functions that need the engine itself:
//! `include`, `tpl`, `required`, `fail`, `lookup`. Everything else comes from `cozy-funcs`.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use minijinja::value::Value;
use minijinja::{AutoEscape, Environment, Error, ErrorKind, State, UndefinedBehavior};
use serde_json::{Map, Value as Json};

use crate::chart::Chart;
use crate::context::{
    chart_value, json_to_value, map_value, template_value, Capabilities, Files, ReleaseInfo,
};
use crate::definitions::parse_definitions;
use crate::error::RenderError;
use crate::limits::{BoundedOutput, Limits};
use crate::lookup::{lookup_value, LookupProvider};
use crate::manifest::snippet_around;
use crate::render::{RenderOptions, RenderedFile};
use cozy_values::Computed;

/// Helm stops nested `include`/`tpl` at this depth (the default of [`Limits::include_depth`]).
pub const MAX_INCLUDE_DEPTH: usize = crate::limits::DEFAULT_INCLUDE_DEPTH;
/// Instruction budget of one template render (minijinja fuel); stops runaway loops.
pub const DEFAULT_FUEL: u64 = crate::limits::DEFAULT_FUEL;

const DEFINE_PREFIX: &str = "define::";

thread_local! {
    static INCLUDE_DEPTH: Cell<usize> = const { Cell::new(0) };
    static LIMITS: Cell<Limits> = Cell::new(Limits::default());
    static PROVIDER: RefCell<Option<Arc<dyn LookupProvider>>> = const { RefCell::new(None) };
}

/// Where a compiled template came from, to turn minijinja errors into Helm's wording.
#[derive(Debug, Clone)]
struct SourceInfo {
    /// File name to report (`chart/templates/_helpers.tpl` for definitions too).
    file: String,
    /// Text as compiled (definition bodies are padded to keep line numbers).
    text: String,
}

/// A compiled chart tree.
#[derive(Debug)]
pub struct ChartEnvironment {
    env: Environment<'static>,
    sources: HashMap<String, SourceInfo>,
}

/// Charts of the tree with their key path from the root (`[]`, `["ouroboros"]`, ...).
fn charts_with_paths(chart: &Chart) -> Vec<(&Chart, Vec<String>)> {
    fn go<'a>(chart: &'a Chart, path: Vec<String>, out: &mut Vec<(&'a Chart, Vec<String>)>) {
        out.push((chart, path.clone()));
        for sub in &chart.subcharts {
            let mut p = path.clone();
            p.push(sub.name().to_string());
            go(sub, p, out);
        }
    }
    let mut out = Vec::new();
    go(chart, Vec::new(), &mut out);
    out
}

impl ChartEnvironment {
    /// Compile every template and definition of the tree.
    pub fn for_chart(chart: &Chart) -> Result<ChartEnvironment, RenderError> {
        Self::with_fuel(chart, DEFAULT_FUEL)
    }

    /// Like [`for_chart`](Self::for_chart) with another fuel budget per template.
    pub fn with_fuel(chart: &Chart, fuel: u64) -> Result<ChartEnvironment, RenderError> {
        let mut env = Environment::new();
        let mut syntax = minijinja::syntax::SyntaxConfig::builder();
        syntax
            .trim_blocks(true)
            .lstrip_blocks(true)
            .keep_trailing_newline(true);
        env.set_syntax(syntax.build().expect("default delimiters are valid"));
        env.set_undefined_behavior(UndefinedBehavior::Lenient);
        env.set_auto_escape_callback(|_| AutoEscape::None);
        env.set_fuel(Some(fuel));
        env.set_recursion_limit(MAX_INCLUDE_DEPTH);
        env.set_formatter(|out, _state, value| {
            if value.is_undefined() || value.is_none() {
                return Ok(());
            }
            out.write_str(&cozy_funcs::go_display(value))
                .map_err(|_| Error::new(ErrorKind::WriteFailure, "cannot write output"))
        });
        cozy_funcs::register(&mut env);
        env.add_function("include", include);
        env.add_filter("include", include_filter);
        env.add_function("tpl", tpl);
        env.add_filter("tpl", tpl_filter);
        env.add_function("required", required);
        env.add_filter("required", required_filter);
        env.add_function("fail", fail);
        env.add_function("lookup", lookup);

        let mut sources = HashMap::new();
        // Helm parses deeper charts first so that a parent's definition of a name wins.
        let mut charts = charts_with_paths(chart);
        charts.sort_by_key(|(_, path)| std::cmp::Reverse(path.len()));
        for (c, _) in &charts {
            for t in c
                .templates
                .iter()
                .filter(|t| t.is_partial() || t.rel.ends_with(".tpl"))
            {
                let file = c.source_name(t);
                let defs = parse_definitions(&t.text).map_err(|e| RenderError::Syntax {
                    template: file.clone(),
                    line: e.line,
                    message: e.message.clone(),
                    snippet: snippet_around(&t.text, e.line),
                })?;
                for d in defs {
                    let key = format!("{DEFINE_PREFIX}{}", d.name);
                    env.add_template_owned(key.clone(), d.body.clone())
                        .map_err(|e| syntax_error(&file, &d.body, &e))?;
                    sources.insert(
                        key,
                        SourceInfo {
                            file: file.clone(),
                            text: d.body,
                        },
                    );
                }
            }
        }
        for (c, _) in &charts {
            for t in c.templates.iter().filter(|t| !t.is_partial()) {
                let name = c.source_name(t);
                env.add_template_owned(name.clone(), t.text.clone())
                    .map_err(|e| syntax_error(&name, &t.text, &e))?;
                sources.insert(
                    name.clone(),
                    SourceInfo {
                        file: name,
                        text: t.text.clone(),
                    },
                );
            }
        }
        Ok(ChartEnvironment { env, sources })
    }

    /// The parts of a template's context that are the same for every template of one chart.
    fn chart_context(
        chart: &Chart,
        values: &Map<String, Json>,
        release: &Value,
        capabilities: &Value,
        opts: &RenderOptions,
        is_root: bool,
    ) -> BTreeMap<String, Value> {
        let (version, app_version) = if is_root {
            (opts.chart_version.as_deref(), opts.app_version.as_deref())
        } else {
            (None, None)
        };
        let mut base: BTreeMap<String, Value> = BTreeMap::new();
        base.insert(
            "Values".into(),
            json_to_value(&Json::Object(values.clone())),
        );
        base.insert("Release".into(), release.clone());
        base.insert(
            "Chart".into(),
            chart_value(&chart.metadata, version, app_version),
        );
        base.insert("Capabilities".into(), capabilities.clone());
        base.insert(
            "Files".into(),
            Value::from_object(Files(Arc::new(chart.files.clone()))),
        );
        base
    }

    /// The full context of one template: the chart parts, `Template`, and `dot` (all of it).
    fn template_context(chart_ctx: &BTreeMap<String, Value>, source_name: &str) -> Value {
        let mut base = chart_ctx.clone();
        base.insert("Template".into(), template_value(source_name));
        let dot = map_value(base.clone());
        base.insert("dot".into(), dot);
        map_value(base)
    }

    /// Render every selected template of the tree (all when `selected` is `None`).
    pub fn render_all(
        &self,
        chart: &Chart,
        computed: &Computed,
        release: &ReleaseInfo,
        capabilities: &Capabilities,
        opts: &RenderOptions,
        selected: &Option<Vec<String>>,
    ) -> Result<Vec<RenderedFile>, RenderError> {
        let _provider = ProviderGuard::install(
            opts.cluster_state
                .clone()
                .map(|s| Arc::new(s) as Arc<dyn LookupProvider>),
        );
        let limits = Limits::current();
        LIMITS.with(|l| l.set(limits));
        let mut total_output = 0usize;
        let root_values = &computed.values;
        let release = release.to_value();
        let capabilities = capabilities.to_value();
        let mut out = Vec::new();
        for (c, path) in charts_with_paths(chart) {
            let values = scoped_values(root_values, &path);
            let chart_ctx =
                Self::chart_context(c, &values, &release, &capabilities, opts, path.is_empty());
            for t in c
                .templates
                .iter()
                .filter(|t| !t.is_partial() && !t.is_notes())
            {
                let rel = c.rel_path(t);
                if let Some(sel) = selected {
                    if !sel.contains(&rel) {
                        continue;
                    }
                }
                let source = c.source_name(t);
                let ctx = Self::template_context(&chart_ctx, &source);
                let text = self.render_one(&source, ctx)?;
                total_output = total_output.saturating_add(text.len());
                if total_output > limits.max_total_output {
                    return Err(RenderError::Chart {
                        path: source.clone().into(),
                        message: format!(
                            "rendered output of all templates exceeds {} bytes (raise it with --max-total-output)",
                            limits.max_total_output
                        ),
                    });
                }
                out.push(RenderedFile {
                    source,
                    path: rel,
                    text,
                });
            }
        }
        out.sort_by(|a, b| a.source.cmp(&b.source));
        Ok(out)
    }

    /// Render the root chart's NOTES.txt, if it has one.
    pub fn render_notes(
        &self,
        chart: &Chart,
        computed: &Computed,
        release: &ReleaseInfo,
        capabilities: &Capabilities,
        opts: &RenderOptions,
    ) -> Result<Option<String>, RenderError> {
        let Some(notes) = chart.templates.iter().find(|t| t.is_notes()) else {
            return Ok(None);
        };
        let _provider = ProviderGuard::install(
            opts.cluster_state
                .clone()
                .map(|s| Arc::new(s) as Arc<dyn LookupProvider>),
        );
        LIMITS.with(|l| l.set(Limits::current()));
        let chart_ctx = Self::chart_context(
            chart,
            &computed.values,
            &release.to_value(),
            &capabilities.to_value(),
            opts,
            true,
        );
        let source = chart.source_name(notes);
        self.render_one(&source, Self::template_context(&chart_ctx, &source))
            .map(Some)
    }

    fn render_one(&self, name: &str, ctx: Value) -> Result<String, RenderError> {
        let tmpl = self
            .env
            .get_template(name)
            .map_err(|e| self.execution_error(e))?;
        INCLUDE_DEPTH.with(|d| d.set(0));
        let limit = LIMITS.with(|l| l.get().max_template_output);
        let mut out = BoundedOutput::new(limit);
        match tmpl.render_captured_to(ctx, &mut out) {
            Ok(_) => Ok(out.into_string()),
            Err(_) if out.exceeded() => Err(RenderError::Chart {
                path: name.into(),
                message: format!(
                    "rendered output exceeds {limit} bytes (raise it with --max-template-output)"
                ),
            }),
            Err(e) => Err(self.execution_error(e)),
        }
    }

    /// Helm's wording: `execution error at (<file>:<line>:<col>): <message>`.
    fn execution_error(&self, err: Error) -> RenderError {
        let name = err.name().unwrap_or("").to_string();
        let info = self.sources.get(&name);
        let file = info
            .map(|i| i.file.clone())
            .unwrap_or_else(|| name.trim_start_matches(DEFINE_PREFIX).to_string());
        let line = err.line().unwrap_or(0);
        let col = match (info, err.range()) {
            (Some(info), Some(range)) if range.start <= info.text.len() => {
                let start = range.start;
                start - info.text[..start].rfind('\n').map(|i| i + 1).unwrap_or(0)
            }
            _ => 0,
        };
        let snippet = info
            .map(|i| snippet_around(&i.text, line.max(1)))
            .unwrap_or_default();
        RenderError::Execution {
            template: file,
            line,
            col,
            message: error_message(&err),
            snippet,
        }
    }
}

/// The values a (sub)chart sees: its own section of the root values.
fn scoped_values(root: &Map<String, Json>, path: &[String]) -> Map<String, Json> {
    let mut current = root;
    for key in path {
        match current.get(key) {
            Some(Json::Object(m)) => current = m,
            _ => return Map::new(),
        }
    }
    current.clone()
}

fn syntax_error(file: &str, text: &str, err: &Error) -> RenderError {
    let line = err.line().unwrap_or(1);
    RenderError::Syntax {
        template: file.to_string(),
        line,
        message: err
            .detail()
            .map(str::to_string)
            .unwrap_or_else(|| err.kind().to_string()),
        snippet: snippet_around(text, line),
    }
}

/// What a user reads: the message of `fail`/`required` verbatim, otherwise kind + detail.
fn error_message(err: &Error) -> String {
    match (err.kind(), err.detail()) {
        (ErrorKind::InvalidOperation, Some(detail)) => detail.to_string(),
        (ErrorKind::UndefinedError, detail) => {
            let what = detail.map(|d| format!(" ({d})")).unwrap_or_default();
            format!("nil pointer: attribute access on an undefined or null value{what}")
        }
        (kind, Some(detail)) => format!("{kind}: {detail}"),
        (kind, None) => kind.to_string(),
    }
}

/// Installs the lookup provider for the renders on this thread.
struct ProviderGuard;

impl ProviderGuard {
    fn install(provider: Option<Arc<dyn LookupProvider>>) -> ProviderGuard {
        PROVIDER.with(|p| *p.borrow_mut() = provider);
        ProviderGuard
    }
}

impl Drop for ProviderGuard {
    fn drop(&mut self) {
        PROVIDER.with(|p| *p.borrow_mut() = None);
    }
}

/// Re-raise an error from a nested render so that the caller's location is reported (Helm
/// reports `fail` inside a definition at the `include` call), keeping the message.
fn rethrow(err: Error) -> Error {
    let message = match err.kind() {
        ErrorKind::InvalidOperation => err.detail().unwrap_or("").to_string(),
        _ => {
            let location = match (err.name(), err.line()) {
                (Some(n), Some(l)) => format!(" (in {}:{l})", n.trim_start_matches(DEFINE_PREFIX)),
                _ => String::new(),
            };
            format!("{}{location}", error_message(&err))
        }
    };
    Error::new(ErrorKind::InvalidOperation, message)
}

struct DepthGuard;

impl DepthGuard {
    fn enter(what: &str) -> Result<DepthGuard, Error> {
        let depth = INCLUDE_DEPTH.with(|d| {
            let v = d.get() + 1;
            d.set(v);
            v
        });
        let max = LIMITS.with(|l| l.get().include_depth);
        if depth > max {
            INCLUDE_DEPTH.with(|d| d.set(d.get() - 1));
            return Err(Error::new(
                ErrorKind::InvalidOperation,
                format!("rendering template has a nested reference name: {what}: exceeded max template depth of {max}"),
            ));
        }
        Ok(DepthGuard)
    }
}

impl Drop for DepthGuard {
    fn drop(&mut self) {
        INCLUDE_DEPTH.with(|d| d.set(d.get().saturating_sub(1)));
    }
}

/// The context a definition or `tpl` text sees: the argument as `dot`, and its keys when it
/// is a map.
fn callee_context(arg: &Value) -> Value {
    Value::from_object(CalleeContext { dot: arg.clone() })
}

/// A view of the argument, not a copy: copying the keys of `.` (the whole root context, most
/// of the time) into a fresh map for every `include` was a tenth of a small chart's render.
#[derive(Debug)]
struct CalleeContext {
    dot: Value,
}

impl minijinja::value::Object for CalleeContext {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        if key.as_str() == Some("dot") {
            return Some(self.dot.clone());
        }
        if self.dot.kind() != minijinja::value::ValueKind::Map {
            return None;
        }
        self.dot
            .get_item(key)
            .ok()
            .filter(|value| !value.is_undefined())
    }

    fn enumerate(self: &Arc<Self>) -> minijinja::value::Enumerator {
        let mut keys: Vec<Value> = Vec::new();
        if self.dot.kind() == minijinja::value::ValueKind::Map {
            if let Ok(iter) = self.dot.try_iter() {
                keys.extend(iter.filter(|k| k.as_str() != Some("dot")));
            }
        }
        keys.push(Value::from("dot"));
        minijinja::value::Enumerator::Values(keys)
    }
}

fn include(state: &State, name: String, arg: Option<Value>) -> Result<String, Error> {
    let tmpl = state
        .env()
        .get_template(&format!("{DEFINE_PREFIX}{name}"))
        .map_err(|_| Error::new(ErrorKind::InvalidOperation, format!("error calling include: template: no template {name:?} associated with template")))?;
    let _depth = DepthGuard::enter(&name)?;
    render_bounded(&tmpl, callee_context(&arg.unwrap_or_default()))
}

/// Render a nested template (a definition or `tpl` text) within the per-template output limit.
fn render_bounded(tmpl: &minijinja::Template<'_, '_>, ctx: Value) -> Result<String, Error> {
    let limit = LIMITS.with(|l| l.get().max_template_output);
    let mut out = BoundedOutput::new(limit);
    match tmpl.render_captured_to(ctx, &mut out) {
        Ok(_) => Ok(out.into_string()),
        Err(_) if out.exceeded() => Err(Error::new(
            ErrorKind::InvalidOperation,
            format!("rendered output exceeds {limit} bytes (raise it with --max-template-output)"),
        )),
        Err(e) => Err(rethrow(e)),
    }
}

/// `x | include("name")` reads as Helm's `include "name" x`.
fn include_filter(state: &State, arg: Value, name: String) -> Result<String, Error> {
    include(state, name, Some(arg))
}

fn tpl(state: &State, text: Value, arg: Option<Value>) -> Result<String, Error> {
    let text = match text.as_str() {
        Some(s) => s.to_string(),
        None if text.is_undefined() || text.is_none() => String::new(),
        None => cozy_funcs::go_display(&text),
    };
    let _depth = DepthGuard::enter("tpl")?;
    let tmpl = state
        .env()
        .template_from_named_str("tpl", &text)
        .map_err(rethrow)?;
    render_bounded(&tmpl, callee_context(&arg.unwrap_or_default()))
}

fn tpl_filter(state: &State, text: Value, arg: Value) -> Result<String, Error> {
    tpl(state, text, Some(arg))
}

fn required(message: String, value: Option<Value>) -> Result<Value, Error> {
    let value = value.unwrap_or_default();
    let empty = value.is_undefined() || value.is_none() || value.as_str() == Some("");
    if empty {
        Err(Error::new(ErrorKind::InvalidOperation, message))
    } else {
        Ok(value)
    }
}

/// `x | required("msg")` reads as Helm's `required "msg" x`.
fn required_filter(value: Value, message: String) -> Result<Value, Error> {
    required(message, Some(value))
}

fn fail(message: Value) -> Result<Value, Error> {
    let message = message
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| cozy_funcs::go_display(&message));
    Err(Error::new(ErrorKind::InvalidOperation, message))
}

fn lookup(
    api_version: String,
    kind: String,
    namespace: String,
    name: String,
) -> Result<Value, Error> {
    let provider = PROVIDER.with(|p| p.borrow().clone());
    let result = lookup_value(provider.as_deref(), &api_version, &kind, &namespace, &name)
        .map_err(|e| {
            Error::new(
                ErrorKind::InvalidOperation,
                format!("error calling lookup: {e}"),
            )
        })?;
    Ok(json_to_value(&result))
}
