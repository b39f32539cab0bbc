//! cozy-render
