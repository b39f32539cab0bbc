//! How the relay's threads compete for CPU with the processes they serve.
//!
//! A relay's work is never more urgent than that of the process running on its CPU:
//! its bytes arrive because a client or the backend just wrote them, and they keep in
//! the socket buffer. Under `SCHED_BATCH` a relay thread woken by arriving bytes does
//! not preempt the running task; it runs when that task sleeps or its slice ends, and
//! then finds several connections ready at once. On a busy node that halves the relay's
//! context switches (fewer wake-ups of its own, fewer preemptions of its peers), which
//! buys throughput and CPU per request; the price is added latency of up to one
//! scheduler slice, and only while the CPU is busy. An idle CPU runs the relay at once
//! under either policy, and its share of a contended CPU is the same under both.
//! `normal` keeps the default policy for latency-critical paths.
//!
//! Bulk streams are the exception: a long transfer is a pipeline whose speed is set by
//! how quickly each hop reacts to data and room in its buffers, and waiting for a slice
//! there costs throughput. While a [`BulkStream`] is held on an event loop's thread,
//! that thread runs under the normal policy.

use std::cell::Cell;
use std::fmt;
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};

/// The scheduling policy of every relay thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CpuPolicy {
    /// `SCHED_BATCH`: never preempts on wake-up.
    Batch,
    /// `SCHED_OTHER`, the system default.
    Normal,
}

impl CpuPolicy {
    /// The flag values, in the order `--help` lists them.
    pub const NAMES: [&'static str; 2] = ["batch", "normal"];

    pub fn parse(text: &str) -> Option<CpuPolicy> {
        match text.to_ascii_lowercase().as_str() {
            "batch" => Some(CpuPolicy::Batch),
            "normal" | "other" => Some(CpuPolicy::Normal),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            CpuPolicy::Batch => "batch",
            CpuPolicy::Normal => "normal",
        }
    }
}

impl fmt::Display for CpuPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Whether the process applied [`CpuPolicy::Batch`]; bulk streams switch away from it
/// only then.
static BATCH_APPLIED: AtomicBool = AtomicBool::new(false);

/// Applies `policy` to the calling thread. Threads it starts afterwards inherit it, so
/// this runs before the event loops and the runtime's helper threads exist. Neither
/// policy needs a privilege; a sandbox that refuses the call leaves the default.
pub fn apply(policy: CpuPolicy) -> io::Result<()> {
    set_thread_policy(policy)?;
    BATCH_APPLIED.store(policy == CpuPolicy::Batch, Ordering::Relaxed);
    Ok(())
}

thread_local! {
    /// Bulk streams in flight on this thread's event loop.
    static BULK_STREAMS: Cell<u32> = const { Cell::new(0) };
}

/// Held by a relay direction while it streams in bulk: the first one on a thread moves
/// the thread to the normal policy, the last one to end moves it back.
#[derive(Debug)]
pub struct BulkStream {
    counted: bool,
}

impl BulkStream {
    pub fn begin() -> BulkStream {
        let counted = BATCH_APPLIED.load(Ordering::Relaxed);
        if counted {
            BULK_STREAMS.with(|streams| {
                if streams.get() == 0 {
                    // A refusal leaves the thread as it was; the stream runs anyway.
                    let _ = set_thread_policy(CpuPolicy::Normal);
                }
                streams.set(streams.get() + 1);
            });
        }
        BulkStream { counted }
    }
}

impl Drop for BulkStream {
    fn drop(&mut self) {
        if self.counted {
            BULK_STREAMS.with(|streams| {
                streams.set(streams.get() - 1);
                if streams.get() == 0 {
                    let _ = set_thread_policy(CpuPolicy::Batch);
                }
            });
        }
    }
}

fn set_thread_policy(policy: CpuPolicy) -> io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        let number = match policy {
            CpuPolicy::Batch => libc::SCHED_BATCH,
            CpuPolicy::Normal => libc::SCHED_OTHER,
        };
        let parameters = libc::sched_param { sched_priority: 0 };
        // SAFETY: pid 0 is the calling thread; `parameters` outlives the call.
        if unsafe { libc::sched_setscheduler(0, number, &parameters) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = policy;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for name in CpuPolicy::NAMES {
            assert_eq!(CpuPolicy::parse(name).unwrap().name(), name);
        }
        assert_eq!(CpuPolicy::parse("OTHER"), Some(CpuPolicy::Normal));
        assert_eq!(CpuPolicy::parse("fifo"), None);
    }

    /// One test for everything that sets the process-wide policy, on threads of its own
    /// so the test harness's threads keep theirs.
    #[cfg(target_os = "linux")]
    #[test]
    fn threads_inherit_the_policy_and_bulk_streams_run_under_normal() {
        fn policy() -> i32 {
            unsafe { libc::sched_getscheduler(0) }
        }
        let seen = std::thread::spawn(|| {
            apply(CpuPolicy::Batch).unwrap();
            let inherited = std::thread::spawn(policy).join().unwrap();
            let first = BulkStream::begin();
            let during_one = policy();
            let second = BulkStream::begin();
            drop(first);
            let during_the_other = policy();
            drop(second);
            let after = policy();
            apply(CpuPolicy::Normal).unwrap();
            let unconfigured = BulkStream::begin();
            let under_normal = policy();
            drop(unconfigured);
            (
                inherited,
                during_one,
                during_the_other,
                after,
                under_normal,
                policy(),
            )
        })
        .join()
        .unwrap();
        let (batch, other) = (libc::SCHED_BATCH, libc::SCHED_OTHER);
        assert_eq!(seen, (batch, other, other, batch, other, other));
    }
}
