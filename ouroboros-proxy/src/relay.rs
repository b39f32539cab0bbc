//! Byte relay between the client and the backend socket.
//!
//! Two pumps run concurrently, one per direction. A pump that sees EOF or an error shuts
//! down the write side of its destination (propagating half-close) and stops; the other
//! keeps running, so a client that half-closes after its request still gets the whole
//! response. Each pump holds at most one bounded buffer (a kernel pipe with `splice(2)`
//! on Linux, a user-space buffer elsewhere), so a slow reader back-pressures its writer
//! through TCP flow control instead of growing memory.

use std::io;
use std::net::Shutdown;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use socket2::SockRef;
use tokio::io::Interest;
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::metrics::{Direction, Metrics};

/// Size of the user-space buffer of the portable pump (one per direction, allocated only
/// once data arrives so idle connections cost no buffer). 64 KiB matches the default pipe
/// capacity that bounds the splice pump.
pub const COPY_BUFFER_SIZE: usize = 64 * 1024;

#[derive(Debug, Clone, Copy)]
pub struct RelayOptions {
    /// Close both sockets after this long without a byte in either direction.
    pub idle_timeout: Option<Duration>,
    /// Use `splice(2)` (Linux only; ignored elsewhere).
    pub splice: bool,
}

/// How a relay ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelayEnd {
    /// Both directions reached EOF or an error.
    Finished,
    IdleTimeout,
    /// The server is tearing down connections.
    Cancelled,
}

/// Time of the last relayed byte, shared by the two pumps and the idle watchdog.
struct Activity {
    origin: Instant,
    last_millis: AtomicU64,
}

impl Activity {
    fn new() -> Self {
        Activity {
            origin: Instant::now(),
            last_millis: AtomicU64::new(0),
        }
    }

    fn touch(&self) {
        let millis = u64::try_from(self.origin.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_millis.store(millis, Ordering::Relaxed);
    }

    fn last(&self) -> Instant {
        self.origin + Duration::from_millis(self.last_millis.load(Ordering::Relaxed))
    }
}

/// Relays until both directions are done, the idle timeout fires, or `cancel` fires.
/// The sockets are closed when the caller drops them.
pub async fn relay(
    client: &TcpStream,
    backend: &TcpStream,
    options: RelayOptions,
    metrics: &Metrics,
    cancel: &CancellationToken,
) -> RelayEnd {
    let activity = Activity::new();
    let both = async {
        tokio::join!(
            pump(
                client,
                backend,
                Direction::ClientToBackend,
                options.splice,
                metrics,
                &activity
            ),
            pump(
                backend,
                client,
                Direction::BackendToClient,
                options.splice,
                metrics,
                &activity
            ),
        )
    };
    // Cancellation is checked first so that a server teardown is never delayed by a
    // pump that keeps finding data.
    tokio::select! {
        biased;
        _ = cancel.cancelled() => RelayEnd::Cancelled,
        _ = idle_watchdog(&activity, options.idle_timeout) => RelayEnd::IdleTimeout,
        _ = both => RelayEnd::Finished,
    }
}

async fn idle_watchdog(activity: &Activity, idle_timeout: Option<Duration>) {
    let Some(idle_timeout) = idle_timeout else {
        return std::future::pending().await;
    };
    loop {
        let deadline = activity.last() + idle_timeout;
        if Instant::now() >= deadline {
            return;
        }
        tokio::time::sleep_until(deadline).await;
    }
}

/// Moves bytes from `source` to `destination` until EOF or error, then half-closes the
/// destination. Errors end the direction like EOF: a reset is normal TCP life.
async fn pump(
    source: &TcpStream,
    destination: &TcpStream,
    direction: Direction,
    splice: bool,
    metrics: &Metrics,
    activity: &Activity,
) {
    #[cfg(target_os = "linux")]
    let result = if splice {
        splice_pump::run(source, destination, direction, metrics, activity).await
    } else {
        copy_pump(source, destination, direction, metrics, activity).await
    };
    #[cfg(not(target_os = "linux"))]
    let result = {
        let _ = splice;
        copy_pump(source, destination, direction, metrics, activity).await
    };
    if let Err(error) = result {
        tracing::trace!(%error, ?direction, "relay direction ended with an error");
    }
    // The peer may already be gone; nothing useful can be done about a failed shutdown.
    let _ = SockRef::from(destination).shutdown(Shutdown::Write);
}

/// The portable pump: readiness-driven reads and writes through one bounded buffer.
async fn copy_pump(
    source: &TcpStream,
    destination: &TcpStream,
    direction: Direction,
    metrics: &Metrics,
    activity: &Activity,
) -> io::Result<()> {
    let mut buffer: Vec<u8> = Vec::new();
    loop {
        source.readable().await?;
        if buffer.is_empty() {
            buffer = vec![0; COPY_BUFFER_SIZE];
        }
        let read = match source.try_read(&mut buffer) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            Err(e) => return Err(e),
        };
        let mut written = 0;
        while written < read {
            destination.writable().await?;
            match destination.try_write(&buffer[written..read]) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => written += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) => return Err(e),
            }
        }
        metrics.bytes(direction, read as u64);
        activity.touch();
    }
}

#[cfg(target_os = "linux")]
mod splice_pump {
    use super::*;
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

    /// Most bytes moved per splice call; the default pipe capacity, so one call fills
    /// the pipe and the next drains it.
    const SPLICE_CHUNK: usize = 64 * 1024;

    struct Pipe {
        read: OwnedFd,
        write: OwnedFd,
    }

    impl Pipe {
        fn new() -> io::Result<Pipe> {
            let mut fds = [0 as libc::c_int; 2];
            // SAFETY: fds has room for the two descriptors pipe2 writes.
            if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_NONBLOCK | libc::O_CLOEXEC) } != 0 {
                return Err(io::Error::last_os_error());
            }
            // SAFETY: pipe2 succeeded, so both descriptors are open and owned by us alone.
            unsafe {
                Ok(Pipe {
                    read: OwnedFd::from_raw_fd(fds[0]),
                    write: OwnedFd::from_raw_fd(fds[1]),
                })
            }
        }
    }

    /// How many bytes (0 or 1) are waiting, without consuming them; 0 means EOF.
    fn peek(fd: RawFd) -> io::Result<usize> {
        let mut byte = 0u8;
        // SAFETY: reads at most one byte into a local.
        let seen = unsafe {
            libc::recv(
                fd,
                (&mut byte as *mut u8).cast(),
                1,
                libc::MSG_PEEK | libc::MSG_DONTWAIT,
            )
        };
        if seen < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(seen as usize)
        }
    }

    fn splice(from: RawFd, to: RawFd, length: usize) -> io::Result<usize> {
        // SAFETY: plain syscall on descriptors that outlive the call; null offsets mean
        // "use and advance the file position", which is what sockets and pipes need.
        let moved = unsafe {
            libc::splice(
                from,
                std::ptr::null_mut(),
                to,
                std::ptr::null_mut(),
                length,
                libc::SPLICE_F_MOVE | libc::SPLICE_F_NONBLOCK,
            )
        };
        if moved < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(moved as usize)
        }
    }

    /// socket → pipe → socket. The pipe is created when the first bytes arrive and is
    /// always drained completely before the next fill, so it never holds more than one
    /// chunk.
    pub(super) async fn run(
        source: &TcpStream,
        destination: &TcpStream,
        direction: Direction,
        metrics: &Metrics,
        activity: &Activity,
    ) -> io::Result<()> {
        let mut pipe: Option<Pipe> = None;
        loop {
            source.readable().await?;
            let pipe = match &pipe {
                Some(pipe) => pipe,
                None => {
                    // Readiness can be reported before any byte arrives (for example right
                    // after registration); only real data justifies the two descriptors
                    // of a pipe, so idle connections keep costing just their sockets.
                    match source.try_io(Interest::READABLE, || peek(source.as_raw_fd())) {
                        Ok(0) => return Ok(()),
                        Ok(_) => pipe.insert(Pipe::new()?),
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                        Err(e) => return Err(e),
                    }
                }
            };
            let filled = match source.try_io(Interest::READABLE, || {
                splice(source.as_raw_fd(), pipe.write.as_raw_fd(), SPLICE_CHUNK)
            }) {
                Ok(0) => return Ok(()),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) => return Err(e),
            };
            let mut remaining = filled;
            while remaining > 0 {
                destination.writable().await?;
                match destination.try_io(Interest::WRITABLE, || {
                    splice(pipe.read.as_raw_fd(), destination.as_raw_fd(), remaining)
                }) {
                    Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                    Ok(n) => remaining -= n,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                    Err(e) => return Err(e),
                }
            }
            metrics.bytes(direction, filled as u64);
            activity.touch();
        }
    }
}
