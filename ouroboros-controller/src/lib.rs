//! ouroboros-controller
pub mod cli {
    /// Entry point of `ouroboros controller`; returns the process exit code.
    pub fn controller_main(_args: Vec<String>) -> i32 { eprintln!("controller: not built yet"); 1 }
    /// Entry point of `ouroboros cleanup`; returns the process exit code.
    pub fn cleanup_main(_args: Vec<String>) -> i32 { eprintln!("cleanup: not built yet"); 1 }
}
