//! ouroboros-proxy
pub mod cli {
    /// Entry point of `ouroboros proxy`; returns the process exit code.
    pub fn main(_args: Vec<String>) -> i32 { eprintln!("proxy: not built yet"); 1 }
}
