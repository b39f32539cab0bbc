//! cozy-engine
