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

use std::fmt;
use std::io;

/// The scheduling policy of every relay thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CpuPolicy {
    /// `SCHED_BATCH`: never preempts on wake-up.
    Batch,
    /// `SCHED_OTHER`, the system default.
    Normal,
}

impl CpuPolicy {
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

/// Applies `policy` to the calling thread. Threads it starts afterwards inherit it, so
/// this runs before the event loops and the runtime's helper threads exist. Neither
/// policy needs a privilege; a sandbox that refuses the call leaves the default.
pub fn apply(policy: CpuPolicy) -> io::Result<()> {
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
        for policy in [CpuPolicy::Batch, CpuPolicy::Normal] {
            assert_eq!(CpuPolicy::parse(policy.name()), Some(policy));
        }
        assert_eq!(CpuPolicy::parse("OTHER"), Some(CpuPolicy::Normal));
        assert_eq!(CpuPolicy::parse("fifo"), None);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_thread_started_after_apply_inherits_the_policy() {
        // On a thread of its own, so the test harness's threads keep their policy.
        let seen = std::thread::spawn(|| {
            apply(CpuPolicy::Batch).unwrap();
            let child = std::thread::spawn(|| unsafe { libc::sched_getscheduler(0) });
            let inherited = child.join().unwrap();
            apply(CpuPolicy::Normal).unwrap();
            (inherited, unsafe { libc::sched_getscheduler(0) })
        })
        .join()
        .unwrap();
        assert_eq!(seen, (libc::SCHED_BATCH, libc::SCHED_OTHER));
    }
}
