//! Allocator tuning for commands that render one chart and exit.

/// Makes every thread allocate from glibc's main malloc arena.
///
/// `template` renders on a second thread (for its deep stack). glibc would give that thread an
/// arena of its own: a fresh 64 MiB reservation grown one `mprotect` at a time, every page of it
/// faulted in anew. For one render that is about a fifth of the process's CPU time. Commands
/// that render many charts in parallel (`lint --matrix`, `test`) must not call this: one arena
/// serialises their threads on its lock.
pub fn share_main_arena() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator tuning; any value of M_ARENA_MAX is valid at any time.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 1);
    }
}
