use std::process::ExitCode;

fn main() -> ExitCode {
    single_malloc_arena();
    ExitCode::from(cozy_render::cli::run(std::env::args_os()) as u8)
}

/// Rendering runs on a second thread (for its deep stack). glibc would give that thread a
/// malloc arena of its own, grown one `mprotect` at a time; a one-shot CLI gains nothing from
/// it, so every thread shares the main arena.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn single_malloc_arena() {
    // SAFETY: mallopt only adjusts allocator tuning; it is called before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 1);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn single_malloc_arena() {}
