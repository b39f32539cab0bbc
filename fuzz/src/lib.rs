//! What each fuzz target does with its input, as plain functions so that `cargo test` in
//! cozy-render replays every committed corpus file through exactly the same code.
//!
//! Every function must return (with `Ok` or an error) for any input; a panic, a hang or an
//! unbounded allocation is a bug in the code under test.

pub mod checks;
