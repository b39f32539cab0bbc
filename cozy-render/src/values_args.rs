//! Helm's value flags, shared by every command that renders.

use std::path::PathBuf;

use clap::Args;
use cozy_values::ValueLayer;

/// `-f/--values`, `--set`, `--set-string`, `--set-json`, `--set-file`.
#[derive(Debug, Clone, Default, Args)]
pub struct ValuesArgs {
    /// Values file (repeatable; later files win).
    #[arg(short = 'f', long = "values", value_name = "FILE")]
    pub values: Vec<PathBuf>,
    /// Set values on the command line: a.b=c,d[0]=e (typed like Helm).
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
