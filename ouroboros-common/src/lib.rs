//! ouroboros-common
