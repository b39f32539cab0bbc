//! cozy-render: render, validate, test and diff Helm-style chart packages whose templates are
//! minijinja.
//!
//! - [`cli`]: the command line (`template`, `lint`, `test`, `diff`, `drift`);
//! - [`values_args`]: Helm's value flags (`-f`, `--set*`), shared by every command;
//! - the engine itself lives in `cozy-engine` and is re-exported here.

pub mod cli;
pub mod values_args;

pub use cozy_engine::{
    render, Chart, ClusterState, Document, RenderError, RenderOptions, Rendered,
};
