//! cozy-engine: load Helm-layout chart packages whose templates are minijinja, and render them the
//! way `helm template` renders Go-template charts.
//!
//! The public surface is small:
//! - [`Chart::load`] reads a chart directory (and its subcharts, recursively);
//! - [`render`](mod@render) computes values, validates them, renders every template and orders the
//!   documents like Helm, returning [`Rendered`];
//! - [`RenderOptions`] carries everything `helm template` takes on its command line;
//! - [`ClusterState`] is what `lookup` sees.
//!
//! Modules, in pipeline order:
//! - [`chart`]: Chart.yaml, values.yaml, values.schema.json, `templates/`, `charts/<sub>/`;
//! - [`definitions`]: `{% define %}` blocks of `_*.tpl` files;
//! - [`context`]: the Helm objects every template sees (`Values`, `Release`, `Chart`, ...);
//! - [`environment`]: the minijinja environment with the context-bound functions
//!   (`include`, `tpl`, `required`, `fail`, `lookup`);
//! - [`lookup`]: cluster-state providers;
//! - [`manifest`]: splitting rendered text into documents and ordering them like Helm;
//! - [`render`](mod@render): the pipeline that ties these together;
//! - `stack`: the large stack a render runs on, switched to on the calling thread;
//! - [`limits`]: resource limits of a render (include depth, fuel, output size, YAML);
//! - [`error`]: the error type and its Helm-compatible messages;
//! - [`fs`]: atomic file replacement (temporary file + rename) for every tool that writes.

pub mod chart;
pub mod context;
pub mod definitions;
pub mod environment;
pub mod error;
pub mod fs;
pub mod limits;
pub mod lookup;
pub mod manifest;
pub mod notes_only;
pub mod render;
mod stack;

pub use chart::{Chart, ChartMetadata};
pub use error::RenderError;
pub use limits::Limits;
pub use lookup::{ClusterState, LookupProvider};
pub use manifest::{Document, Hook};
pub use render::{on_render_workers, render, RenderOptions, Rendered, RenderedFile};

/// Value inputs in the order they apply, as `helm template` takes them.
pub use cozy_values::{Computed, Origin, SchemaViolation, ValueLayer};
