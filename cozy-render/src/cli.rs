//! The command line. Exit codes: 0 success, 1 "found something" (a diff, a failing test, a
//! drift, lint findings), 2 usage or render error.

use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use clap::{Parser, Subcommand, ValueEnum};

use crate::values_args::ValuesArgs;
use cozy_engine::{render, Chart, ClusterState, LookupProvider, RenderError, RenderOptions};

#[derive(Debug, Parser)]
#[command(
    name = "cozy-render",
    version,
    about = "Render, lint, test and diff Helm-style chart packages written as minijinja templates"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Render a chart to multi-document YAML (like `helm template`).
    Template(TemplateArgs),
    /// Schema, gates and manifest validation, optionally over a value matrix (like `helm lint` + kubeconform).
    Lint(cozy_lint::LintArgs),
    /// Run `tests/*_test.yaml` suites in helm-unittest format (like `helm unittest`).
    Test(cozy_unittest::TestArgs),
    /// Object-aware diff of two renders (like `helm diff`).
    Diff(cozy_diff::DiffArgs),
    /// Check vendored-chart pins, image digests, versions and generated files (`make check`).
    Drift(cozy_drift::DriftArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Yaml,
    Json,
}

/// Arguments shared by commands that render one chart.
#[derive(Debug, Clone, clap::Args)]
pub struct RenderArgs {
    #[command(flatten)]
    pub values: ValuesArgs,
    /// Release namespace.
    #[arg(short = 'n', long = "namespace", default_value = "default")]
    pub namespace: String,
    /// Kubernetes version for Capabilities.KubeVersion (e.g. 1.30).
    #[arg(long = "kube-version")]
    pub kube_version: Option<String>,
    /// Extra API versions for Capabilities.APIVersions (repeatable, comma-separated).
    #[arg(short = 'a', long = "api-versions")]
    pub api_versions: Vec<String>,
    /// Objects `lookup` sees: multi-document YAML or a `kind: List` file. With --live-lookup,
    /// these answer first and the cluster answers the rest.
    #[arg(long = "cluster-state", value_name = "FILE")]
    pub cluster_state: Option<PathBuf>,
    #[command(flatten)]
    pub live: LiveLookupArgs,
    /// Skip JSON Schema validation of values.
    #[arg(long = "skip-schema-validation")]
    pub skip_schema_validation: bool,
    #[command(flatten)]
    pub limits: LimitArgs,
}

/// Resource limits (docs/limits.md); each flag overrides one default.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct LimitArgs {
    /// Deepest nesting of lists and maps in any YAML read (values files, Chart.yaml, fromYaml).
    #[arg(long = "max-yaml-depth", value_name = "LEVELS")]
    pub max_yaml_depth: Option<usize>,
    /// Most nodes YAML aliases may expand to, per file (refuses "billion laughs").
    #[arg(long = "max-yaml-alias-nodes", value_name = "NODES")]
    pub max_yaml_alias_nodes: Option<u64>,
    /// Deepest nesting of include/tpl calls (Helm: 1000).
    #[arg(long = "max-include-depth", value_name = "LEVELS")]
    pub max_include_depth: Option<usize>,
    /// Execution budget of one template file (minijinja fuel).
    #[arg(long = "fuel", value_name = "UNITS")]
    pub fuel: Option<u64>,
    /// Largest output of one template file or include/tpl call, in bytes.
    #[arg(long = "max-template-output", value_name = "BYTES")]
    pub max_template_output: Option<usize>,
    /// Largest output of all templates together, in bytes.
    #[arg(long = "max-total-output", value_name = "BYTES")]
    pub max_total_output: Option<usize>,
}

impl LimitArgs {
    /// Install the limits for every later YAML read and render of this process.
    pub fn apply(&self) {
        let mut yaml = cozy_engine::limits::yaml_limits();
        yaml.max_depth = self.max_yaml_depth.unwrap_or(yaml.max_depth);
        yaml.max_alias_nodes = self
            .max_yaml_alias_nodes
            .unwrap_or(cozy_engine::limits::DEFAULT_YAML_ALIAS_NODES);
        cozy_engine::limits::set_yaml_limits(yaml);
        let mut limits = cozy_engine::Limits::current();
        limits.include_depth = self.max_include_depth.unwrap_or(limits.include_depth);
        limits.fuel = self.fuel.unwrap_or(limits.fuel);
        limits.max_template_output = self
            .max_template_output
            .unwrap_or(limits.max_template_output);
        limits.max_total_output = self.max_total_output.unwrap_or(limits.max_total_output);
        cozy_engine::limits::set_process_limits(limits);
    }
}

/// `lookup` against a live cluster. Only GET requests are ever sent (discovery, get, list).
#[derive(Debug, Clone, clap::Args)]
pub struct LiveLookupArgs {
    /// Answer `lookup` from the cluster of the kubeconfig (read-only).
    #[arg(long = "live-lookup")]
    pub live_lookup: bool,
    /// Kubeconfig for --live-lookup (default: $KUBECONFIG, ~/.kube/config, in-cluster).
    #[arg(long = "kubeconfig", value_name = "PATH", requires = "live_lookup")]
    pub kubeconfig: Option<PathBuf>,
    /// Kubeconfig context for --live-lookup (default: its current-context).
    #[arg(long = "kube-context", value_name = "NAME", requires = "live_lookup")]
    pub kube_context: Option<String>,
    /// Longest one lookup may take, connection included (e.g. 10s, 1m, 500ms).
    #[arg(
        long = "lookup-timeout",
        value_name = "DURATION",
        default_value = "10s"
    )]
    pub lookup_timeout: String,
}

impl LiveLookupArgs {
    /// `state` (from --cluster-state) in front of the cluster when --live-lookup is on;
    /// `state` unchanged otherwise (no runtime, no client, no request).
    pub fn attach(&self, state: Option<ClusterState>) -> Result<Option<ClusterState>, String> {
        if !self.live_lookup {
            return Ok(state);
        }
        let cluster = self.connect()?;
        Ok(Some(state.unwrap_or_default().over(cluster)))
    }

    #[cfg(feature = "live-lookup")]
    fn connect(&self) -> Result<Arc<dyn LookupProvider>, String> {
        let timeout = cozy_lookup_live::parse_duration(&self.lookup_timeout)
            .map_err(|e| format!("--lookup-timeout: {e}"))?;
        let settings = cozy_lookup_live::LiveLookupSettings {
            kubeconfig: self.kubeconfig.clone(),
            context: self.kube_context.clone(),
            timeout,
        };
        cozy_lookup_live::LiveLookup::connect(&settings)
            .map(cozy_lookup_live::LiveLookup::shared)
            .map_err(|e| format!("--live-lookup: {e}"))
    }

    #[cfg(not(feature = "live-lookup"))]
    fn connect(&self) -> Result<Arc<dyn LookupProvider>, String> {
        Err("--live-lookup: this cozy-render was built without the `live-lookup` feature".into())
    }
}

/// Why the render options could not be put together (or the render failed).
#[derive(Debug, thiserror::Error)]
pub enum OptionsError {
    #[error("{0:#}")]
    Render(#[from] RenderError),
    #[error("{0}")]
    LiveLookup(String),
}

impl RenderArgs {
    pub fn options(&self, release_name: &str) -> Result<RenderOptions, OptionsError> {
        self.limits.apply();
        let cluster_state = match &self.cluster_state {
            Some(path) => Some(ClusterState::from_file(path)?),
            None => None,
        };
        let cluster_state = self
            .live
            .attach(cluster_state)
            .map_err(OptionsError::LiveLookup)?;
        Ok(RenderOptions {
            release_name: release_name.to_string(),
            namespace: self.namespace.clone(),
            values: self.values.layers(),
            base_dir: std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")),
            kube_version: self.kube_version.clone(),
            api_versions: self.api_versions.clone(),
            cluster_state,
            skip_schema_validation: self.skip_schema_validation,
            ..RenderOptions::default()
        })
    }
}

#[derive(Debug, Clone, clap::Args)]
pub struct TemplateArgs {
    /// `[NAME] CHART`: release name (default `release-name`) and chart directory.
    #[arg(value_name = "NAME_OR_CHART", num_args = 1..=2, required = true)]
    pub positional: Vec<String>,
    #[command(flatten)]
    pub render: RenderArgs,
    /// Only show manifests rendered from these templates (e.g. templates/deployment.yaml).
    #[arg(short = 's', long = "show-only")]
    pub show_only: Vec<String>,
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum, default_value = "yaml")]
    pub output: OutputFormat,
}

/// Split `[NAME] CHART` the way Helm does.
pub fn name_and_chart(positional: &[String]) -> (String, PathBuf) {
    match positional {
        [chart] => ("release-name".to_string(), PathBuf::from(chart)),
        [name, chart, ..] => (name.clone(), PathBuf::from(chart)),
        [] => ("release-name".to_string(), PathBuf::from(".")),
    }
}

/// Parse arguments, run one command, return the exit code.
pub fn run<I, T>(args: I) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(err) => {
            let code = if err.use_stderr() { 2 } else { 0 };
            let _ = err.print();
            return code;
        }
    };
    let stdout = std::io::stdout();
    let stderr = std::io::stderr();
    let (mut out, mut err) = (stdout.lock(), stderr.lock());
    match cli.command {
        Command::Template(args) => template(&args),
        Command::Lint(args) => cozy_lint::main_with(args, &mut out, &mut err),
        Command::Test(args) => cozy_unittest::main_with(args, &mut out),
        Command::Diff(args) => cozy_diff::main_with(args, &mut out, &mut err),
        Command::Drift(args) => cozy_drift::main_with(args, &mut out, &mut err),
    }
}

fn template(args: &TemplateArgs) -> i32 {
    let (name, chart_dir) = name_and_chart(&args.positional);
    let result = (|| {
        args.render.limits.apply();
        let chart = Chart::load(&chart_dir)?;
        let mut opts = args.render.options(&name)?;
        opts.show_only = args.show_only.clone();
        Ok::<_, OptionsError>(render(&chart, &opts)?)
    })();
    match result {
        Ok(rendered) => {
            let text = match args.output {
                OutputFormat::Yaml => rendered.to_yaml_stream(),
                OutputFormat::Json => rendered.to_json() + "\n",
            };
            let stdout = std::io::stdout();
            let mut lock = stdout.lock();
            if lock
                .write_all(text.as_bytes())
                .and_then(|_| lock.flush())
                .is_err()
            {
                return 2;
            }
            0
        }
        Err(err) => {
            eprintln!("Error: {err}");
            2
        }
    }
}
