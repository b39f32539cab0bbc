//! cozy-diff
