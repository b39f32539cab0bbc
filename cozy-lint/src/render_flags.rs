//! Helm's rendering flags, shared by `lint` and `diff`: the value flags ([`ValuesArgs`], also
//! used by `template`), `-n/--namespace`, `--kube-version`, `-a/--api-versions`, plus
//! `--cluster-state FILE` (what `lookup` sees).

use std::path::{Path, PathBuf};

use clap::Args;
use cozy_engine::{ClusterState, RenderError, RenderOptions, ValueLayer};

/// `-f/--values`, `--set`, `--set-string`, `--set-json`, `--set-file`, `--set-literal`: Helm's
/// value flags, the same for every command that renders (`template` flattens them too).
#[derive(Debug, Clone, Default, Args)]
pub struct ValuesArgs {
    /// Values file (repeatable; later files win).
    #[arg(short = 'f', long = "values", value_name = "FILE")]
    pub values: Vec<PathBuf>,
    /// Set values on the command line: `a.b=c,d[0]=e` (typed like Helm).
    #[arg(long = "set", value_name = "EXPR")]
    pub set: Vec<String>,
    /// Like --set, but every value stays a string.
    #[arg(long = "set-string", value_name = "EXPR")]
    pub set_string: Vec<String>,
    /// Set JSON values: a={"b":1}.
    #[arg(long = "set-json", value_name = "EXPR")]
    pub set_json: Vec<String>,
    /// Set a value to the content of a file: a=path.
    #[arg(long = "set-file", value_name = "EXPR")]
    pub set_file: Vec<String>,
    /// Set a literal string value: no escapes, no lists, no typing.
    #[arg(long = "set-literal", value_name = "EXPR")]
    pub set_literal: Vec<String>,
}

impl ValuesArgs {
    /// The layers in Helm's precedence: files, then --set-json, --set, --set-string, --set-file,
    /// --set-literal (Helm applies them by kind, not by command-line position).
    pub fn layers(&self) -> Vec<ValueLayer> {
        let mut layers: Vec<ValueLayer> =
            self.values.iter().cloned().map(ValueLayer::File).collect();
        layers.extend(self.set_json.iter().cloned().map(ValueLayer::SetJson));
        layers.extend(self.set.iter().cloned().map(ValueLayer::Set));
        layers.extend(self.set_string.iter().cloned().map(ValueLayer::SetString));
        layers.extend(self.set_file.iter().cloned().map(ValueLayer::SetFile));
        layers.extend(self.set_literal.iter().cloned().map(ValueLayer::SetLiteral));
        layers
    }
}

#[derive(Debug, Clone, Default, Args)]
pub struct RenderFlags {
    #[command(flatten)]
    pub value_flags: ValuesArgs,
    /// Release namespace.
    #[arg(short = 'n', long = "namespace", default_value = "default")]
    pub namespace: String,
    /// Kubernetes version for Capabilities.KubeVersion (e.g. 1.33).
    #[arg(long = "kube-version")]
    pub kube_version: Option<String>,
    /// Extra API versions for Capabilities.APIVersions (repeatable).
    #[arg(short = 'a', long = "api-versions")]
    pub api_versions: Vec<String>,
    /// Objects `lookup` sees: multi-document YAML or a `kind: List` file.
    #[arg(long = "cluster-state", value_name = "FILE")]
    pub cluster_state: Option<PathBuf>,
}

impl RenderFlags {
    /// Render options for a release; relative paths resolve against `base_dir`.
    pub fn options(
        &self,
        release_name: &str,
        base_dir: &Path,
    ) -> Result<RenderOptions, RenderError> {
        let cluster_state = match &self.cluster_state {
            Some(path) => Some(ClusterState::from_file(&base_dir.join(path))?),
            None => None,
        };
        Ok(RenderOptions {
            release_name: release_name.to_string(),
            namespace: self.namespace.clone(),
            values: self.value_flags.layers(),
            base_dir: base_dir.to_path_buf(),
            kube_version: self.kube_version.clone(),
            api_versions: self.api_versions.clone(),
            cluster_state,
            ..RenderOptions::default()
        })
    }
}
