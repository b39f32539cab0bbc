//! cozy-unittest
