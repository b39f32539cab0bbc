//! cozy-funcs
