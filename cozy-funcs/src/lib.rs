//! Helm-compatible template functions for minijinja.
//!
//! The Helm/Sprig function library with Helm's semantics (Sprig emptiness, Go printing,
//! Helm's `toYaml`, mergo's merge rules), registered under Helm's names as functions and as
//! pipe-style filters, plus the value model the renderer shares with it.
//!
//! - [`register`]: install everything into an `Environment`.
//! - [`go_display`]: how `{{ x }}` prints a value in Helm (use it as the formatter).
//! - [`go_truthy`]: Go-template truth for `if`.
//! - [`to_yaml`]: Helm's `toYaml`.
//! - [`MutableMap`]: the map `dict`, `deepCopy`, `fromYaml`, `fromJson` return.

mod access;
mod args;
mod convert;
mod error;
mod from_data;
pub mod funcs;
mod go_print;
mod mutable_map;
mod printf;
mod register;
mod to_json;
mod to_yaml;
mod truthy;
mod yaml_resolve;

pub use access::{go_kind_name, go_type_name};
pub use convert::strval as go_string;
pub use error::FuncError;
pub use from_data::json_to_value;
pub use go_print::{go_display, go_v_value};
pub use mutable_map::MutableMap;
pub use register::register;
pub use to_json::{to_json, JsonStyle};
pub use to_yaml::{to_yaml, ToYamlError};
pub use truthy::{go_truthy, is_empty as sprig_empty};
