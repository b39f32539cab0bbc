//! cozy-unittest: `cozy-render test`, a runner for helm-unittest suites (`tests/*_test.yaml`)
//! against cozy-render charts.
//!
//! Reading order, from the suite file to the report:
//! - [`suite`], [`assertion`]: the documented suite format as plain data, with a strict parser;
//! - [`path`]: assertion paths (`a.b[0]`, `a["x.y"]`, `[*]`) resolved over documents;
//! - [`rendered`]: what a render request and result are, and the [`Renderer`] seam;
//! - [`engine`]: the renderer backed by cozy-engine;
//! - [`select`]: which templates and documents an assertion looks at;
//! - [`check`], [`compare`]: evaluating assertions, with helm-unittest's failure layout;
//! - [`snapshot`]: `__snapshot__/*.snap` files and the pending/accept/CI workflow;
//! - [`runner`]: charts loaded once, renders shared, suites in parallel;
//! - [`subchart`]: subchart suites run within their parent (template names and values scoped);
//! - [`discover`], [`glob`]: finding charts and suite files (subcharts' too);
//! - [`outcome`], [`report`], [`junit`]: results, the human report, JUnit XML;
//! - [`cli`]: [`TestArgs`], [`run`] and [`main_with`] for the `cozy-render` binary;
//! - [`yaml_in`], [`yaml_out`], [`diff`], [`error`]: supporting pieces.

pub mod assertion;
pub mod check;
pub mod cli;
pub mod compare;
pub mod diff;
pub mod discover;
pub mod engine;
pub mod error;
pub mod glob;
pub mod junit;
pub mod outcome;
pub mod path;
pub mod rendered;
pub mod report;
pub mod runner;
pub mod select;
pub mod snapshot;
pub mod subchart;
pub mod suite;
pub mod yaml_in;
pub mod yaml_out;

pub use cli::{main_with, run, run_with, ColorChoice, RunReport, TestArgs, TestOptions};
pub use engine::EngineRenderer;
pub use error::TestError;
pub use outcome::TestSummary;
pub use rendered::Renderer;
pub use snapshot::SnapshotMode;
