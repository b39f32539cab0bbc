//! cozy-drift
