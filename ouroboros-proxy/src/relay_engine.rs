//! Kept-alive connections of one event loop, relayed on an `epoll` set of their own by a
//! thread of their own.
//!
//! A connection starts on the async relay, where its dial and header already are; once
//! the client speaks again after an answer (a second request on a kept-alive
//! connection), its two sockets move here. The engine's thread blocks in `epoll_wait`
//! on them and moves the bytes of every ready socket in plain function calls: a relayed
//! message costs its `read` and `send` and a share of one wake-up, instead of also
//! waking the connection's task and polling the readiness futures of both its
//! directions. Measured against the async relay alone, keep-alive CPU per request went
//! down by about 7 % and connection-per-request stayed the same (see the README); moving
//! every connection at once cost connection-per-request about 8 % (two more `epoll_ctl`s
//! and a wake-up of the task across threads), and an engine polled from inside the
//! runtime paid an extra `epoll_wait` per batch and gained nothing.
//!
//! Per direction the rules are those of the async relay: small messages go through the
//! copy buffer with one `read` and one `send`; a direction that keeps filling it moves to
//! `splice(2)`; a direction holds at most one read's worth of unsent bytes (or one pipe)
//! and stops reading until they are out; the direction that ends first half-closes its
//! destination, and both sockets close when both ended. The connection's task keeps its
//! deadlines: dropping [`Relaying`] closes both sockets.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use tokio::net::TcpStream;

use crate::metrics::{Direction, Metrics};
use crate::relay::splice_pump::{splice, Pipe, SPLICE_CHUNK};
use crate::relay::{
    read_fd, send_fd, with_copy_buffer, COPY_BUFFER_SIZE, FULL_READS_BEFORE_SPLICE,
};
use crate::watchdog::Watch;

/// Ready sockets taken per `epoll_wait`.
const EVENTS_PER_WAIT: usize = 256;

/// Socket and direction indexes: direction `d` reads socket `d` and writes the other.
const CLIENT: usize = 0;
const BACKEND: usize = 1;

/// The relay phase of the connections of one event loop.
#[derive(Clone)]
pub struct RelayEngine {
    shared: Arc<Shared>,
}

struct Shared {
    /// Owned here, not by the thread: connections are added (and the descriptor used)
    /// by the event loops as long as any of them holds the engine.
    epoll: OwnedFd,
    state: Mutex<State>,
    metrics: Arc<Metrics>,
    shard: usize,
}

struct State {
    connections: Vec<Option<Connection>>,
    free: Vec<usize>,
    /// Told apart the connections that used a slot one after the other: an event
    /// fetched just before a connection was dropped must not reach the next one in its
    /// slot (a stale hang-up would end the new one's direction early).
    next_generation: u32,
}

impl RelayEngine {
    /// Creates the engine and starts its thread, which runs until the returned handle is
    /// dropped.
    pub fn start(metrics: Arc<Metrics>, shard: usize) -> io::Result<(RelayEngine, EngineThread)> {
        // SAFETY: plain syscall; the descriptor is owned below.
        let epoll = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        if epoll < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: epoll_create1 succeeded, so the descriptor is open and ours alone.
        let epoll = unsafe { OwnedFd::from_raw_fd(epoll) };
        // SAFETY: plain syscall; the descriptor is owned below.
        let stop = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) };
        if stop < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: eventfd succeeded, so the descriptor is open and ours alone.
        let stop = unsafe { OwnedFd::from_raw_fd(stop) };
        let mut event = libc::epoll_event {
            events: libc::EPOLLIN as u32,
            u64: STOP,
        };
        // SAFETY: both descriptors are open; the event outlives the call.
        if unsafe {
            libc::epoll_ctl(
                epoll.as_raw_fd(),
                libc::EPOLL_CTL_ADD,
                stop.as_raw_fd(),
                &mut event,
            )
        } != 0
        {
            return Err(io::Error::last_os_error());
        }
        let shared = Arc::new(Shared {
            epoll,
            state: Mutex::new(State {
                connections: Vec::new(),
                free: Vec::new(),
                next_generation: 0,
            }),
            metrics,
            shard,
        });
        let thread = {
            let shared = Arc::clone(&shared);
            std::thread::Builder::new()
                .name(format!("relay-engine-{shard}"))
                .spawn(move || drive(&shared))?
        };
        Ok((
            RelayEngine { shared },
            EngineThread {
                stop,
                thread: Some(thread),
            },
        ))
    }

    /// Relays between `client` and `backend` until both directions ended (the future
    /// completes) or the future is dropped (both sockets close at once).
    pub fn relay(
        &self,
        client: TcpStream,
        backend: TcpStream,
        splice: bool,
        watch: Arc<Watch>,
    ) -> io::Result<Relaying> {
        let sockets = [owned(client)?, owned(backend)?];
        let fds = [sockets[CLIENT].as_raw_fd(), sockets[BACKEND].as_raw_fd()];
        let mut state = self.shared.lock();
        let slot = state.free.pop().unwrap_or(state.connections.len());
        if slot >= MAX_SLOTS {
            // Far beyond any descriptor limit; keeps every token distinct from `STOP`.
            return Err(io::Error::other("relay engine: too many connections"));
        }
        let generation = state.next_generation;
        state.next_generation = generation.wrapping_add(1);
        let connection = Connection {
            generation,
            sockets: Some(sockets),
            directions: [Flow::default(), Flow::default()],
            splice,
            watch,
            finished: false,
            waker: None,
        };
        if slot == state.connections.len() {
            state.connections.push(Some(connection));
        } else {
            state.connections[slot] = Some(connection);
        }
        for (side, fd) in fds.into_iter().enumerate() {
            let mut event = libc::epoll_event {
                events: (libc::EPOLLIN | libc::EPOLLOUT | libc::EPOLLRDHUP | libc::EPOLLET) as u32,
                u64: Token {
                    slot,
                    side,
                    generation,
                }
                .into(),
            };
            // SAFETY: both descriptors are open (owned by the connection just stored);
            // the event outlives the call.
            if unsafe {
                libc::epoll_ctl(
                    self.shared.epoll.as_raw_fd(),
                    libc::EPOLL_CTL_ADD,
                    fd,
                    &mut event,
                )
            } != 0
            {
                let error = io::Error::last_os_error();
                state.release(slot);
                return Err(error);
            }
        }
        Ok(Relaying {
            shared: Arc::clone(&self.shared),
            slot,
        })
    }
}

/// The socket's descriptor, no longer watched by the runtime.
fn owned(stream: TcpStream) -> io::Result<OwnedFd> {
    Ok(OwnedFd::from(stream.into_std()?))
}

/// What an event's user data names: a socket of a connection in a slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Token {
    slot: usize,
    side: usize,
    generation: u32,
}

impl From<Token> for u64 {
    fn from(token: Token) -> u64 {
        (u64::from(token.generation) << 32)
            | ((token.slot as u64 & 0x7fff_ffff) << 1)
            | token.side as u64
    }
}

impl From<u64> for Token {
    fn from(data: u64) -> Token {
        Token {
            slot: ((data & 0xffff_ffff) >> 1) as usize,
            side: (data & 1) as usize,
            generation: (data >> 32) as u32,
        }
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // Nothing panics while holding the lock; a poisoned one is still consistent.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl State {
    fn release(&mut self, slot: usize) {
        if self.connections[slot].take().is_some() {
            self.free.push(slot);
        }
    }
}

/// A connection being relayed by the engine.
pub struct Relaying {
    shared: Arc<Shared>,
    slot: usize,
}

impl std::future::Future for Relaying {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut state = self.shared.lock();
        let Some(connection) = state.connections[self.slot].as_mut() else {
            return Poll::Ready(());
        };
        if connection.finished {
            return Poll::Ready(());
        }
        if !connection
            .waker
            .as_ref()
            .is_some_and(|waker| waker.will_wake(cx.waker()))
        {
            connection.waker = Some(cx.waker().clone());
        }
        Poll::Pending
    }
}

impl Drop for Relaying {
    fn drop(&mut self) {
        // Dropping the connection closes whichever sockets are still open, which also
        // takes them out of the epoll set.
        self.shared.lock().release(self.slot);
    }
}

/// Stops the engine's thread when dropped, and waits for it.
pub struct EngineThread {
    stop: OwnedFd,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for EngineThread {
    fn drop(&mut self) {
        let one: u64 = 1;
        // SAFETY: writes eight bytes from a live u64 to an eventfd this handle owns.
        unsafe { libc::write(self.stop.as_raw_fd(), (&one as *const u64).cast(), 8) };
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The user data of the stop eventfd's event.
const STOP: u64 = u64::MAX;
/// Slots a token can name (31 bits), one less than would let a token equal `STOP`.
const MAX_SLOTS: usize = 0x7fff_ffff;

fn drive(shared: &Shared) {
    // SAFETY: all-zero is a valid epoll_event.
    let mut events = vec![unsafe { std::mem::zeroed::<libc::epoll_event>() }; EVENTS_PER_WAIT];
    let counters = shared.metrics.shard(shared.shard);
    loop {
        // SAFETY: `events` has room for the number of entries passed.
        let ready = unsafe {
            libc::epoll_wait(
                shared.epoll.as_raw_fd(),
                events.as_mut_ptr(),
                EVENTS_PER_WAIT as libc::c_int,
                -1,
            )
        };
        if ready < 0 {
            let error = io::Error::last_os_error();
            if error.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            tracing::error!(%error, "relay engine: epoll_wait failed");
            return;
        }
        let ready = ready as usize;
        if events[..ready].iter().any(|event| event.u64 == STOP) {
            return;
        }
        let connections = &mut shared.lock().connections;
        with_copy_buffer(|buffer| {
            for event in &events[..ready] {
                let Token {
                    slot,
                    side,
                    generation,
                } = Token::from(event.u64);
                let Some(connection) = connections.get_mut(slot).and_then(Option::as_mut) else {
                    continue;
                };
                if connection.generation != generation || connection.finished {
                    continue;
                }
                let moved = connection.on_event(side, event.events as i32, buffer);
                for (direction, bytes) in moved.into_iter().enumerate() {
                    if bytes > 0 {
                        counters.bytes(metric_direction(direction), bytes);
                    }
                }
                if connection.directions.iter().all(|flow| flow.ended) {
                    connection.finish();
                }
            }
        });
    }
}

fn metric_direction(direction: usize) -> Direction {
    if direction == CLIENT {
        Direction::ClientToBackend
    } else {
        Direction::BackendToClient
    }
}

/// One direction's state.
#[derive(Default)]
struct Flow {
    /// Read its end (or failed): nothing more goes this way.
    ended: bool,
    /// The source's FIN has arrived: a short read is the last one.
    source_closing: bool,
    /// Read, not yet accepted by the destination (at most one read's worth).
    unsent: Vec<u8>,
    /// Once the unsent bytes are out, the direction ends (they were the last).
    end_after_unsent: bool,
    full_reads: u32,
    /// `splice(2)` mode: the pipe and how many bytes it holds.
    pipe: Option<Pipe>,
    in_pipe: usize,
}

impl Flow {
    fn blocked(&self) -> bool {
        !self.unsent.is_empty() || self.in_pipe > 0
    }
}

struct Connection {
    generation: u32,
    /// `[client, backend]`; `None` once closed.
    sockets: Option<[OwnedFd; 2]>,
    /// `[client → backend, backend → client]`.
    directions: [Flow; 2],
    splice: bool,
    watch: Arc<Watch>,
    finished: bool,
    waker: Option<Waker>,
}

impl Connection {
    fn fd(&self, side: usize) -> RawFd {
        self.sockets
            .as_ref()
            .map_or(-1, |sockets| sockets[side].as_raw_fd())
    }

    /// Handles readiness of socket `side`; returns the bytes moved per direction.
    fn on_event(&mut self, side: usize, flags: i32, buffer: &mut [u8]) -> [u64; 2] {
        let mut moved = [0; 2];
        if flags & (libc::EPOLLRDHUP | libc::EPOLLHUP | libc::EPOLLERR) != 0 {
            self.directions[side].source_closing = true;
        }
        // The direction writing into this socket may have waited for room.
        let into = 1 - side;
        if flags & (libc::EPOLLOUT | libc::EPOLLHUP | libc::EPOLLERR) != 0
            && self.directions[into].blocked()
            && !self.directions[into].ended
        {
            if self.directions[into].pipe.is_some() {
                // The splice loop empties the pipe first, then reads on.
                moved[into] += self.splice_pump(into);
            } else {
                self.flush(into);
                if !self.directions[into].blocked() {
                    if self.directions[into].end_after_unsent {
                        self.end(into);
                    } else {
                        moved[into] += self.pump(into, buffer);
                    }
                }
            }
        }
        if flags & (libc::EPOLLIN | libc::EPOLLRDHUP | libc::EPOLLHUP | libc::EPOLLERR) != 0 {
            moved[side] += self.pump(side, buffer);
        }
        if moved.iter().any(|&bytes| bytes > 0) {
            self.watch.touch();
        }
        moved
    }

    /// Moves bytes of direction `d` until its source is drained, its destination is
    /// full or it ended; returns how many were read.
    fn pump(&mut self, d: usize, buffer: &mut [u8]) -> u64 {
        if self.directions[d].ended || self.directions[d].blocked() {
            return 0;
        }
        if self.directions[d].pipe.is_some() {
            return self.splice_pump(d);
        }
        let (source, destination) = (self.fd(d), self.fd(1 - d));
        let mut total = 0;
        loop {
            let read = match read_fd(source, buffer) {
                Ok(0) => {
                    self.end(d);
                    return total;
                }
                Ok(read) => read,
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => return total,
                Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => {
                    // A reset is normal TCP life: the direction ends as with EOF.
                    self.end(d);
                    return total;
                }
            };
            total += read as u64;
            // The FIN had arrived and the read came back short: these are the last
            // bytes. They go out held back (`MSG_MORE`) and leave with the half-close
            // that follows, in one segment.
            let last = read < buffer.len() && self.directions[d].source_closing;
            let sent = match send_all_now(destination, &buffer[..read], last) {
                Ok(sent) => sent,
                Err(_) => {
                    self.end(d);
                    return total;
                }
            };
            let flow = &mut self.directions[d];
            if sent < read {
                flow.unsent.extend_from_slice(&buffer[sent..read]);
                flow.end_after_unsent = last;
                return total;
            }
            if last {
                self.end(d);
                return total;
            }
            flow.full_reads = if read == COPY_BUFFER_SIZE {
                flow.full_reads + 1
            } else {
                0
            };
            if self.splice && flow.full_reads >= FULL_READS_BEFORE_SPLICE {
                // Without a pipe the direction simply keeps copying.
                if let Ok(pipe) = Pipe::new() {
                    flow.pipe = Some(pipe);
                    return total + self.splice_pump(d);
                }
            }
            if read < buffer.len() {
                return total;
            }
        }
    }

    /// socket → pipe → socket until the source is drained or the destination full.
    fn splice_pump(&mut self, d: usize) -> u64 {
        let (source, destination) = (self.fd(d), self.fd(1 - d));
        let mut total = 0;
        loop {
            let flow = &mut self.directions[d];
            let Some(pipe) = flow.pipe.as_ref() else {
                return total;
            };
            if flow.in_pipe > 0 {
                match splice(pipe.read.as_raw_fd(), destination, flow.in_pipe) {
                    Ok(0) => {
                        self.end(d);
                        return total;
                    }
                    Ok(moved) => {
                        flow.in_pipe -= moved;
                        continue;
                    }
                    Err(error) if error.kind() == io::ErrorKind::WouldBlock => return total,
                    Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                    Err(_) => {
                        self.end(d);
                        return total;
                    }
                }
            }
            match splice(source, pipe.write.as_raw_fd(), SPLICE_CHUNK) {
                Ok(0) => {
                    self.end(d);
                    return total;
                }
                Ok(filled) => {
                    flow.in_pipe = filled;
                    total += filled as u64;
                }
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => return total,
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => {
                    self.end(d);
                    return total;
                }
            }
        }
    }

    /// Sends the unsent bytes of copying direction `d`.
    fn flush(&mut self, d: usize) {
        let destination = self.fd(1 - d);
        let flow = &mut self.directions[d];
        match send_all_now(destination, &flow.unsent, flow.end_after_unsent) {
            Ok(sent) => {
                flow.unsent.drain(..sent);
                if flow.unsent.is_empty() {
                    flow.unsent = Vec::new();
                }
            }
            Err(_) => {
                flow.unsent = Vec::new();
                flow.end_after_unsent = false;
                self.end(d);
            }
        }
    }

    /// Direction `d` is over. The first direction to end half-closes its destination;
    /// the second does not, since both sockets close right after and `close` sends the
    /// same FIN.
    fn end(&mut self, d: usize) {
        if self.directions[d].ended {
            return;
        }
        self.directions[d].ended = true;
        if !self.directions[1 - d].ended {
            // SAFETY: plain syscall on a descriptor this connection owns. The peer may
            // already be gone; nothing useful can be done about a failed shutdown.
            unsafe { libc::shutdown(self.fd(1 - d), libc::SHUT_WR) };
        }
    }

    /// Both directions ended: close the sockets and wake the connection's task.
    fn finish(&mut self) {
        self.finished = true;
        self.sockets = None;
        if let Some(waker) = self.waker.take() {
            waker.wake();
        }
    }
}

/// Sends as much of `data` as the socket takes now.
fn send_all_now(fd: RawFd, data: &[u8], hold: bool) -> io::Result<usize> {
    let mut sent = 0;
    while sent < data.len() {
        match send_fd(fd, &data[sent..], hold) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => sent += n,
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => break,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => return Err(error),
        }
    }
    Ok(sent)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_never_look_like_the_stop_event() {
        for token in [
            Token {
                slot: 0,
                side: 0,
                generation: 0,
            },
            Token {
                slot: 5,
                side: 1,
                generation: 7,
            },
            Token {
                slot: 0x7fff_fffe,
                side: 1,
                generation: u32::MAX,
            },
        ] {
            let data = u64::from(token);
            assert_eq!(Token::from(data), token);
            assert_ne!(data, STOP);
        }
    }
}
