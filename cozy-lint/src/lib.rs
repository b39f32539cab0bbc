//! cozy-lint
