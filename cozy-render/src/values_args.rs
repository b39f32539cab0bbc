//! Helm's value flags, shared by every command that renders; defined once, beside the other
//! rendering flags `lint` and `diff` take.

pub use cozy_lint::render_flags::ValuesArgs;
