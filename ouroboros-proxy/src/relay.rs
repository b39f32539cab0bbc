//! Byte relay between the client and the backend socket.
//!
//! Two pumps run concurrently, one per direction. A pump that sees EOF or an error shuts
//! down the write side of its destination (propagating half-close) and stops; the other
//! keeps running, so a client that half-closes after its request still gets the whole
//! response. Each pump holds at most one bounded buffer (a 16 KiB user-space buffer for
//! small messages, or a 64 KiB kernel pipe once a direction streams in bulk and moves to
//! `splice(2)` on Linux), so a slow reader back-pressures its writer through TCP flow
//! control instead of growing memory.

use std::cell::RefCell;
use std::future::Future;
use std::io;
use std::net::Shutdown;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::task::Poll;

use std::os::fd::{AsRawFd, RawFd};

use socket2::SockRef;
use tokio::io::Interest;
use tokio::net::TcpStream;

use crate::metrics::{Counters, Direction};
use crate::watchdog::Watch;

/// Size of the user-space copy buffer (one per event loop, shared by its pumps). 16 KiB
/// holds a typical request or response head in one read, like HAProxy's default
/// buffer; bulk streams move on to `splice(2)` instead of a bigger buffer.
pub const COPY_BUFFER_SIZE: usize = 16 * 1024;

/// How [`relay`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relayed {
    /// Both directions are done.
    Done,
    /// The connection turned out to carry more than one exchange and stopped at a point
    /// where no bytes are held: the caller moves it to the relay engine.
    HandOff,
}

/// Relays until both directions are done, or, with `hand_off`, until the client sends
/// again after the backend answered (a second request on a kept-alive connection) while
/// nothing is held in between. The sockets are closed when the caller drops them; bounds
/// (idle timeout, force-close) are the caller's, through `watch`.
///
/// Why hand off: a connection that lives for one exchange is cheapest here, where its
/// dial and header already are; one that keeps exchanging is cheapest on the engine,
/// which moves a message without waking a task.
pub async fn relay(
    client: &TcpStream,
    backend: &TcpStream,
    splice: bool,
    metrics: &Counters,
    watch: &Watch,
    hand_off: bool,
) -> Relayed {
    let one_done = AtomicBool::new(false);
    let exchange = Exchange::default();
    let exchange = hand_off.then_some(&exchange);
    let mut to_backend = pin!(pump(
        client,
        backend,
        Direction::ClientToBackend,
        splice,
        metrics,
        watch,
        &one_done,
        exchange,
    ));
    let mut to_client = pin!(pump(
        backend,
        client,
        Direction::BackendToClient,
        splice,
        metrics,
        watch,
        &one_done,
        exchange,
    ));
    let (mut to_backend_done, mut to_client_done) = (false, false);
    std::future::poll_fn(|cx| {
        if !to_backend_done {
            if let Poll::Ready(end) = to_backend.as_mut().poll(cx) {
                if end == PumpEnd::HandOff {
                    // The other direction waits for readiness with nothing held
                    // (`Exchange::answer_idle`): dropping it loses no byte.
                    return Poll::Ready(Relayed::HandOff);
                }
                to_backend_done = true;
            }
        }
        if !to_client_done && to_client.as_mut().poll(cx).is_ready() {
            to_client_done = true;
        }
        if to_backend_done && to_client_done {
            Poll::Ready(Relayed::Done)
        } else {
            Poll::Pending
        }
    })
    .await
}

/// What the two directions of one connection tell each other about a hand-off.
#[derive(Default)]
struct Exchange {
    /// Messages relayed to the client so far.
    answers: AtomicU32,
    /// The backend-to-client direction waits for readiness in copy mode, holding no
    /// bytes.
    answer_idle: AtomicBool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PumpEnd {
    Ended,
    HandOff,
}

/// Moves bytes from `source` to `destination` until EOF or error, then half-closes the
/// destination. Errors end the direction like EOF: a reset is normal TCP life.
///
/// The direction that ends second skips the `shutdown`: both sockets are closed right
/// after it, and `close` sends the same FIN (there is no unread data left to turn it
/// into a reset, since the other direction already read to its end).
#[allow(clippy::too_many_arguments)]
async fn pump(
    source: &TcpStream,
    destination: &TcpStream,
    direction: Direction,
    splice: bool,
    metrics: &Counters,
    watch: &Watch,
    one_done: &AtomicBool,
    exchange: Option<&Exchange>,
) -> PumpEnd {
    match run_pump(
        source,
        destination,
        direction,
        splice,
        metrics,
        watch,
        exchange,
    )
    .await
    {
        Ok(PumpEnd::HandOff) => return PumpEnd::HandOff,
        Ok(PumpEnd::Ended) => {}
        Err(error) => tracing::trace!(%error, ?direction, "relay direction ended with an error"),
    }
    if !one_done.swap(true, Ordering::Relaxed) {
        // The peer may already be gone; nothing useful can be done about a failed
        // shutdown.
        let _ = SockRef::from(destination).shutdown(Shutdown::Write);
    }
    PumpEnd::Ended
}

/// Consecutive reads that fill the whole copy buffer before a direction is considered a
/// bulk stream and switched to `splice(2)`.
pub(crate) const FULL_READS_BEFORE_SPLICE: u32 = 2;

/// Small messages (requests, most responses) are copied through a user-space buffer:
/// one `read` and one `write`, the fewest syscalls. A direction that keeps filling the
/// buffer is a bulk stream and moves to `splice(2)`, which avoids copying its bytes
/// through user space at all. Buffers and pipes are created only once data flows, so an
/// idle connection costs nothing but its two sockets.
async fn run_pump(
    source: &TcpStream,
    destination: &TcpStream,
    direction: Direction,
    splice: bool,
    metrics: &Counters,
    watch: &Watch,
    exchange: Option<&Exchange>,
) -> io::Result<PumpEnd> {
    let source_fd = source.as_raw_fd();
    let mut full_reads = 0;
    let answering = direction == Direction::BackendToClient;
    // Raised while this direction, if it is the answering one, waits with nothing held.
    let idle_flag = exchange
        .filter(|_| answering)
        .map(|exchange| &exchange.answer_idle);
    loop {
        if let Some(idle) = idle_flag {
            idle.store(true, Ordering::Relaxed);
        }
        let ready = source.ready(Interest::READABLE).await;
        if let Some(idle) = idle_flag {
            idle.store(false, Ordering::Relaxed);
        }
        let ready = ready?;
        let mut unsent = Vec::new();
        let moved = with_copy_buffer(|buffer| -> io::Result<Option<(usize, bool)>> {
            let capacity = buffer.len();
            let Some(read) =
                try_read_draining(source, capacity, || read_fd(source_fd, &mut buffer[..]))?
            else {
                return Ok(None);
            };
            // The peer's FIN had already arrived when this read began, and the read
            // came back short: these are the last bytes. Skipping the read that would
            // only return 0, they go out held back (`MSG_MORE`) so that the half-close
            // which follows at once leaves in the same segment as them: one packet and
            // one wake-up of the receiver instead of two.
            let last = read > 0 && read < capacity && ready.is_read_closed();
            let sent = send_now(destination, &buffer[..read], last)?;
            unsent.extend_from_slice(&buffer[sent..read]);
            Ok(Some((read, last)))
        })?;
        let Some((read, last)) = moved else {
            continue;
        };
        if read == 0 {
            return Ok(PumpEnd::Ended);
        }
        if !unsent.is_empty() {
            write_all(destination, &unsent, last).await?;
        }
        drop(unsent);
        metrics.bytes(direction, read as u64);
        watch.touch();
        if last {
            return Ok(PumpEnd::Ended);
        }
        if let Some(exchange) = exchange {
            if answering {
                exchange.answers.fetch_add(1, Ordering::Relaxed);
            } else if exchange.answers.load(Ordering::Relaxed) > 0
                && exchange.answer_idle.load(Ordering::Relaxed)
            {
                // The client spoke again after an answer, and this message is out.
                return Ok(PumpEnd::HandOff);
            }
        }
        full_reads = if read == COPY_BUFFER_SIZE {
            full_reads + 1
        } else {
            0
        };
        #[cfg(target_os = "linux")]
        if splice && full_reads >= FULL_READS_BEFORE_SPLICE {
            return splice_pump::run(source, destination, direction, metrics, watch)
                .await
                .map(|()| PumpEnd::Ended);
        }
        #[cfg(not(target_os = "linux"))]
        let _ = (splice, FULL_READS_BEFORE_SPLICE);
    }
}

thread_local! {
    /// The copy buffer of this thread's event loop, shared by all its pumps: each
    /// borrows it only from a read to the send that immediately follows, without
    /// waiting in between, so one buffer serves every connection. A destination that
    /// cannot take everything at once gets the rest copied into a buffer of the pump's
    /// own (at most one read's worth) until it can.
    static COPY_BUFFER: RefCell<Box<[u8]>> =
        RefCell::new(vec![0; COPY_BUFFER_SIZE].into_boxed_slice());
}

pub(crate) fn with_copy_buffer<T>(operation: impl FnOnce(&mut [u8]) -> T) -> T {
    COPY_BUFFER.with(|buffer| match buffer.try_borrow_mut() {
        Ok(mut buffer) => operation(&mut buffer),
        // Only reachable if an operation re-entered this function; stay correct anyway.
        Err(_) => operation(&mut vec![0; COPY_BUFFER_SIZE]),
    })
}

/// Sends the header and, in the same write, the client bytes that arrived while the
/// backend was dialed (typically the whole request, up to `early_limit` bytes), so the
/// backend gets one segment and one wake-up instead of two. The header still comes
/// first; nothing waits for the client, so server-first protocols get the header at
/// once. Returns the number of client bytes sent along.
///
/// A short read drained the client socket, so it also clears the read readiness: the
/// relay then waits for the next bytes instead of first trying a read that can only
/// say EAGAIN.
pub async fn send_header_with_early_bytes(
    client: &TcpStream,
    backend: &TcpStream,
    header: &[u8],
    early_limit: usize,
) -> io::Result<usize> {
    let client_fd = client.as_raw_fd();
    let mut unsent = Vec::new();
    let early = with_copy_buffer(|buffer| -> io::Result<usize> {
        let length = header.len().min(buffer.len());
        buffer[..length].copy_from_slice(&header[..length]);
        let room = (buffer.len() - length).min(early_limit);
        let early = if length == header.len() && room > 0 {
            let into = &mut buffer[length..length + room];
            match try_read_draining(client, room, || read_fd(client_fd, into)) {
                Ok(Some(read)) => read,
                // Nothing yet, or an error the relay will meet again on its first read.
                Ok(None) | Err(_) => 0,
            }
        } else {
            0
        };
        let total = length + early;
        let sent = send_now(backend, &buffer[..total], false)?;
        unsent.extend_from_slice(&buffer[sent..total]);
        unsent.extend_from_slice(&header[length..]);
        Ok(early)
    })?;
    if !unsent.is_empty() {
        write_all(backend, &unsent, false).await?;
    }
    Ok(early)
}

/// Sends as much of `data` as the socket takes without waiting; returns how much.
fn send_now(destination: &TcpStream, data: &[u8], hold: bool) -> io::Result<usize> {
    let fd = destination.as_raw_fd();
    let mut sent = 0;
    while sent < data.len() {
        match destination.try_io(Interest::WRITABLE, || send_fd(fd, &data[sent..], hold)) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => sent += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) => return Err(e),
        }
    }
    Ok(sent)
}

/// Runs one read-like operation under read readiness. A short result (fewer bytes than
/// `capacity`) means the socket was drained at that instant, so readiness is cleared at
/// once rather than paying for another call that would only say EAGAIN; data arriving
/// meanwhile raises a new readiness event, which tokio keeps. `None` = nothing to read.
pub(crate) fn try_read_draining(
    source: &TcpStream,
    capacity: usize,
    operation: impl FnOnce() -> io::Result<usize>,
) -> io::Result<Option<usize>> {
    let mut short = None;
    let result = source.try_io(Interest::READABLE, || {
        let moved = operation()?;
        if moved > 0 && moved < capacity {
            short = Some(moved);
            return Err(io::ErrorKind::WouldBlock.into());
        }
        Ok(moved)
    });
    match result {
        Ok(moved) => Ok(Some(moved)),
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(short),
        Err(e) => Err(e),
    }
}

pub(crate) fn read_fd(fd: RawFd, buffer: &mut [u8]) -> io::Result<usize> {
    // SAFETY: reads into a live, exclusively borrowed buffer of the given length.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    let read = unsafe {
        raw_syscall(
            libc::SYS_read,
            [
                fd as libc::c_long,
                buffer.as_mut_ptr() as libc::c_long,
                buffer.len() as libc::c_long,
                0,
                0,
                0,
            ],
        )
    };
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    let read = unsafe { libc::read(fd, buffer.as_mut_ptr().cast(), buffer.len()) };
    byte_count(read)
}

/// `syscall(2)` with every argument widened to a full register, as the variadic call
/// expects; unused trailing arguments are zero and ignored by the kernel.
///
/// On Linux the relay's `read` and `send` go through here: glibc's wrappers are
/// thread-cancellation points and bracket every call with bookkeeping the relay never
/// uses (it cancels no threads), about 2 % of the CPU of a keep-alive request.
///
/// # Safety
/// As for the system call `number` with these arguments.
#[cfg(any(target_os = "linux", target_os = "android"))]
#[inline]
unsafe fn raw_syscall(number: libc::c_long, args: [libc::c_long; 6]) -> isize {
    let [a, b, c, d, e, f] = args;
    // SAFETY: forwarded from the caller.
    unsafe { libc::syscall(number, a, b, c, d, e, f) as isize }
}

/// The byte count of a read- or write-like system call, or the error its -1 stands for.
fn byte_count(result: isize) -> io::Result<usize> {
    if result < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(result as usize)
    }
}

/// Writes all of `data`, waiting for write readiness only when the socket is full.
/// `more_follows_shutdown`: the caller half-closes right after, so the bytes may wait
/// for the FIN and leave with it (see [`send_fd`]).
async fn write_all(
    destination: &TcpStream,
    mut data: &[u8],
    more_follows_shutdown: bool,
) -> io::Result<()> {
    let fd = destination.as_raw_fd();
    while !data.is_empty() {
        match destination.try_io(Interest::WRITABLE, || {
            send_fd(fd, data, more_follows_shutdown)
        }) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => data = &data[n..],
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => destination.writable().await?,
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// `send(2)` without SIGPIPE. With `hold`, `MSG_MORE` keeps a short tail in the socket
/// until the caller's `shutdown`/`close`, which pushes it out together with the FIN.
#[cfg(any(target_os = "linux", target_os = "android"))]
pub(crate) fn send_fd(fd: RawFd, data: &[u8], hold: bool) -> io::Result<usize> {
    let mut flags = libc::MSG_NOSIGNAL;
    if hold {
        flags |= libc::MSG_MORE;
    }
    // SAFETY: sends from a live borrowed buffer of the given length, to the connected
    // peer (no address, zero address length).
    let sent = unsafe {
        raw_syscall(
            libc::SYS_sendto,
            [
                fd as libc::c_long,
                data.as_ptr() as libc::c_long,
                data.len() as libc::c_long,
                flags as libc::c_long,
                0,
                0,
            ],
        )
    };
    byte_count(sent)
}

/// Elsewhere a plain `write(2)` (the Rust runtime ignores SIGPIPE); the tail and the FIN
/// may leave in separate segments.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
pub(crate) fn send_fd(fd: RawFd, data: &[u8], _hold: bool) -> io::Result<usize> {
    // SAFETY: writes from a live borrowed buffer of the given length.
    let sent = unsafe { libc::write(fd, data.as_ptr().cast(), data.len()) };
    byte_count(sent)
}

#[cfg(target_os = "linux")]
pub(crate) mod splice_pump {
    use super::*;
    use std::os::fd::{FromRawFd, OwnedFd};

    /// Most bytes moved per splice call; the default pipe capacity, so one call fills
    /// the pipe and the next drains it.
    pub(crate) const SPLICE_CHUNK: usize = 64 * 1024;

    pub(crate) struct Pipe {
        pub(crate) read: OwnedFd,
        pub(crate) write: OwnedFd,
    }

    impl Pipe {
        pub(crate) fn new() -> io::Result<Pipe> {
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

    pub(crate) fn splice(from: RawFd, to: RawFd, length: usize) -> io::Result<usize> {
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
        byte_count(moved)
    }

    /// socket → pipe → socket. The pipe is always drained completely before the next
    /// fill, so it never holds more than one chunk.
    pub(super) async fn run(
        source: &TcpStream,
        destination: &TcpStream,
        direction: Direction,
        metrics: &Counters,
        watch: &Watch,
    ) -> io::Result<()> {
        let pipe = Pipe::new()?;
        let (source_fd, destination_fd) = (source.as_raw_fd(), destination.as_raw_fd());
        loop {
            source.readable().await?;
            // Unlike read(2), a short splice does not mean the socket was drained: the
            // pipe holds a limited number of segments and may fill before the socket
            // empties. Readiness is therefore only cleared on a real EAGAIN; clearing it
            // early would wait forever for an edge a stalled sender never produces.
            let filled = match source.try_io(Interest::READABLE, || {
                splice(source_fd, pipe.write.as_raw_fd(), SPLICE_CHUNK)
            }) {
                Ok(0) => return Ok(()),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) => return Err(e),
            };
            let mut remaining = filled;
            while remaining > 0 {
                match destination.try_io(Interest::WRITABLE, || {
                    splice(pipe.read.as_raw_fd(), destination_fd, remaining)
                }) {
                    Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                    Ok(n) => remaining -= n,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        destination.writable().await?
                    }
                    Err(e) => return Err(e),
                }
            }
            metrics.bytes(direction, filled as u64);
            watch.touch();
        }
    }
}
