//! The relay's open-descriptor limit: raised at startup, checked against
//! `--max-connections`.
//!
//! Processes often start with a soft `RLIMIT_NOFILE` of 1024 under a far higher hard
//! limit: systemd's default (1024 soft, 524288 hard) reaches containers whose runtime does
//! not set one of its own. The low soft limit only protects programs that use
//! `select(2)`; the relay uses `epoll`, so it raises its soft limit to the hard one before
//! anything opens, as Go's `os` package has done for Go programs since Go 1.19 (the
//! relay's specification describes a Go program). Without this, the default
//! `--max-connections` of 10,000 would end in EMFILE back-off near 500 connections.
//!
//! A relayed connection holds two sockets, and a pipe pair for each direction that streams
//! in bulk. When the limit cannot hold two descriptors per allowed connection, one WARN
//! says so at startup: the shortage would otherwise first show as accept back-off under
//! load.

use std::io;

/// A soft and a hard limit; `u64::MAX` stands for unlimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub soft: u64,
    pub hard: u64,
}

/// Descriptors the relay holds besides its connections: listeners, `epoll` and `eventfd`
/// descriptors of each event loop and engine, the health listener and its probes,
/// standard streams. Generous for any `--worker-threads` up to a few dozen.
pub const RESERVED: u64 = 64;

/// The least the limit must allow for `max_connections` connections relayed at once.
pub fn needed(max_connections: usize) -> u64 {
    (max_connections as u64)
        .saturating_mul(2)
        .saturating_add(RESERVED)
}

/// The soft limit to set, if raising it changes anything.
pub fn raised_soft(current: Limits) -> Option<u64> {
    (current.soft < current.hard).then_some(current.hard)
}

/// A limit as the startup log shows it.
pub fn describe(limit: u64) -> String {
    if limit == u64::MAX {
        "unlimited".to_string()
    } else {
        limit.to_string()
    }
}

/// Raises the soft limit to the hard one and returns the limits in effect afterwards.
/// A system that refuses the raise (some cap the soft limit below an unlimited hard one)
/// keeps the limits it had.
#[cfg(unix)]
pub fn raise() -> io::Result<Limits> {
    let before = current()?;
    let Some(soft) = raised_soft(before) else {
        return Ok(before);
    };
    let wanted = libc::rlimit {
        rlim_cur: from_u64(soft),
        rlim_max: from_u64(before.hard),
    };
    // SAFETY: plain syscall on a local struct.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &wanted) } != 0 {
        let error = io::Error::last_os_error();
        tracing::debug!(%error, soft, "cannot raise the soft descriptor limit");
        return Ok(before);
    }
    current()
}

/// The limits in effect now.
#[cfg(unix)]
pub fn current() -> io::Result<Limits> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: plain syscall filling a local struct.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(Limits {
        soft: to_u64(limit.rlim_cur),
        hard: to_u64(limit.rlim_max),
    })
}

// `rlim_t` is `u64` on Linux and macOS but `i64` on FreeBSD.
#[cfg(unix)]
#[allow(clippy::unnecessary_cast)]
fn to_u64(value: libc::rlim_t) -> u64 {
    if value == libc::RLIM_INFINITY {
        u64::MAX
    } else {
        value as u64
    }
}

#[cfg(unix)]
#[allow(clippy::unnecessary_cast)]
fn from_u64(value: u64) -> libc::rlim_t {
    if value == u64::MAX {
        libc::RLIM_INFINITY
    } else {
        value as libc::rlim_t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_soft_limit_rises_to_the_hard_one_only_when_below_it() {
        let limits = |soft, hard| Limits { soft, hard };
        assert_eq!(raised_soft(limits(1024, 524_288)), Some(524_288));
        assert_eq!(raised_soft(limits(1024, u64::MAX)), Some(u64::MAX));
        assert_eq!(raised_soft(limits(40, 40)), None);
        assert_eq!(raised_soft(limits(u64::MAX, u64::MAX)), None);
    }

    #[test]
    fn two_descriptors_per_connection_and_the_reserve() {
        assert_eq!(needed(10_000), 20_064);
        assert_eq!(needed(1), 66);
        assert_eq!(needed(usize::MAX), u64::MAX);
    }

    #[test]
    fn unlimited_is_named() {
        assert_eq!(describe(u64::MAX), "unlimited");
        assert_eq!(describe(1024), "1024");
    }

    #[test]
    fn raising_keeps_the_hard_limit() {
        let before = current().unwrap();
        let after = raise().unwrap();
        assert_eq!(after.hard, before.hard);
        // An unprivileged process may always raise its soft limit up to the hard one.
        assert_eq!(after.soft, before.hard);
    }
}
