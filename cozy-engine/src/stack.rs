//! A large stack for the calling thread, for the duration of one call.
//!
//! Renders recurse as deep as Helm allows (1000 nested `include`s), far past a default
//! thread stack. Instead of handing the work to a new thread (two cross-CPU wake-ups per
//! render), the calling thread switches to a fresh mapping and back.
//!
//! The mapping is reserved, not committed: pages cost memory only as deep as the work goes,
//! and a guard page on each side turns an overflow into a fault instead of a silent
//! overwrite. Unlike general-purpose stack-growing helpers, this asks the system nothing
//! about the thread's current stack (on Linux that means parsing `/proc/self/maps`, which
//! costs a short render a few percent of its time): the switch is unconditional.

/// Runs `work` on a new stack of at least `size` bytes and returns its result. A panic in
/// `work` continues on the original stack.
pub(crate) fn with_stack<T>(size: usize, work: impl FnOnce() -> T) -> T {
    switch::run(size, work)
}

psm::psm_stack_manipulation! {
    yes {
        mod switch {
            use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};

            /// A reserved stack mapping with a guard page below and above; unmapped on drop.
            struct Mapping {
                start: *mut libc::c_void,
                len: usize,
                page: usize,
            }

            impl Mapping {
                fn new(size: usize) -> Mapping {
                    // SAFETY: sysconf has no preconditions.
                    let page = usize::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) })
                        .ok()
                        .filter(|p| *p > 0)
                        .unwrap_or(4096);
                    let usable = size.div_ceil(page).max(1) * page;
                    let len = usable + 2 * page;
                    // SAFETY: a fresh anonymous mapping; nothing else refers to it.
                    let start = unsafe {
                        libc::mmap(
                            std::ptr::null_mut(),
                            len,
                            libc::PROT_NONE,
                            libc::MAP_PRIVATE | libc::MAP_ANON,
                            -1,
                            0,
                        )
                    };
                    assert!(
                        start != libc::MAP_FAILED,
                        "cannot reserve a {usable}-byte render stack: {}",
                        std::io::Error::last_os_error()
                    );
                    let mapping = Mapping { start, len, page };
                    // SAFETY: the range lies inside the mapping made above.
                    let opened = unsafe {
                        libc::mprotect(
                            mapping.base().cast(),
                            usable,
                            libc::PROT_READ | libc::PROT_WRITE,
                        )
                    };
                    assert!(
                        opened == 0,
                        "cannot open a {usable}-byte render stack: {}",
                        std::io::Error::last_os_error()
                    );
                    mapping
                }

                /// Lowest usable address, just above the lower guard page.
                fn base(&self) -> *mut u8 {
                    // SAFETY: one page into a mapping of at least three pages.
                    unsafe { self.start.cast::<u8>().add(self.page) }
                }

                fn usable(&self) -> usize {
                    self.len - 2 * self.page
                }
            }

            impl Drop for Mapping {
                fn drop(&mut self) {
                    // SAFETY: unmaps exactly what `new` mapped, after the stack is left.
                    unsafe { libc::munmap(self.start, self.len) };
                }
            }

            pub(super) fn run<T>(size: usize, work: impl FnOnce() -> T) -> T {
                let mapping = Mapping::new(size);
                // SAFETY: the stack is a live read-write range of `usable()` bytes that
                // outlives the call, and the callback cannot unwind across the switch (the
                // panic is caught on the new stack and resumed on the old one).
                let outcome = unsafe {
                    psm::on_stack(mapping.base(), mapping.usable(), move || {
                        catch_unwind(AssertUnwindSafe(work))
                    })
                };
                drop(mapping);
                outcome.unwrap_or_else(|panic| resume_unwind(panic))
            }
        }
    }
    no {
        mod switch {
            /// Targets where the stack cannot be switched in place keep the thread's own
            /// stack; the include-depth limit still bounds recursion there, just lower.
            pub(super) fn run<T>(_size: usize, work: impl FnOnce() -> T) -> T {
                work()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Recursion that needs far more than a default 2 MiB test-thread stack.
    fn depth(n: u64) -> u64 {
        let pad = std::hint::black_box([n as u8; 1024]);
        if n == 0 {
            0
        } else {
            let below = depth(n - 1);
            // Keeps the pad alive across the call, so every frame really holds it.
            std::hint::black_box(&pad);
            1 + below
        }
    }

    #[test]
    fn deep_recursion_fits_the_new_stack() {
        assert_eq!(with_stack(64 << 20, || depth(20_000)), 20_000);
    }

    #[test]
    fn panics_continue_on_the_caller_stack() {
        let caught = std::panic::catch_unwind(|| with_stack(1 << 20, || panic!("inside")));
        let message = caught.unwrap_err();
        assert_eq!(message.downcast_ref::<&str>(), Some(&"inside"));
        // The thread still works afterwards, on its own stack.
        assert_eq!(with_stack(1 << 20, || 7), 7);
    }
}
