//! cozy-values
