//! The relayed connections of one event loop, on an `epoll` set of their own and a
//! thread of their own.
//!
//! Connections come here two ways:
//!
//! - **Adopted** ([`RelayEngine::adopt`]), when the backend is an IP address: the loop
//!   accepts a plain descriptor, starts the backend's connect and, if it completed at
//!   once (loopback, or a fast backend), sends the header with the client's first bytes;
//!   the engine does the rest: the rest of the connect, the header if it is still due,
//!   the relay, and the owner's bookkeeping (`on_end`) before the sockets close. The
//!   watchdog's deadlines reach it through the connection's [`Watch`], whose stop wakes
//!   the engine. Such a connection costs no task, no registration with the runtime (two
//!   `epoll_ctl`s fewer, the runtime deregisters before it closes) and no wake-up of the
//!   loop after its accept: about 7 % less CPU per connection than the async path, at
//!   connection-per-request (see the README).
//! - **Handed over** ([`RelayEngine::relay`]), when the backend has a name: the
//!   connection starts on the async relay, where its lookup, dial and header are; once
//!   the client speaks again after an answer (a second request on a kept-alive
//!   connection), its two sockets move here, and its task awaits [`Relaying`], which keeps
//!   its deadlines (dropping it closes both sockets).
//!
//! The engine's thread blocks in `epoll_wait` and moves the bytes of every ready socket
//! in plain function calls: a relayed message costs its `read` and `send` and a share of
//! one wake-up, instead of also waking the connection's task and polling the readiness
//! futures of both its directions. Sockets are watched for writing only once bytes wait
//! for them: a fresh socket can always take bytes, and watching it would wake the engine
//! for nothing.
//!
//! Per direction the rules are those of the async relay: small messages go through the
//! copy buffer with one `read` and one `send`; a direction that keeps filling it moves to
//! `splice(2)`; a direction holds at most one read's worth of unsent bytes (or one pipe)
//! and stops reading until they are out; the direction that ends first half-closes its
//! destination, and both sockets close when both ended.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use socket2::SockRef;
use tokio::net::TcpStream;

use crate::metrics::{Direction, Metrics};
use crate::relay::splice_pump::{splice, Pipe, SPLICE_CHUNK};
use crate::relay::{
    read_fd, send_fd, with_copy_buffer, COPY_BUFFER_SIZE, FULL_READS_BEFORE_SPLICE,
};
use crate::watchdog::{Phase, Stop, Watch};

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
    /// Written when the watchdog stops an adopted connection (see [`WakeOnStop`]).
    wake: Arc<WakeOnStop>,
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
        let stop = new_eventfd()?;
        watch_eventfd(&epoll, &stop, STOP)?;
        let wake = Arc::new(WakeOnStop(new_eventfd()?));
        watch_eventfd(&epoll, &wake.0, WAKE)?;
        let shared = Arc::new(Shared {
            epoll,
            wake,
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
        let slot = self
            .insert(Connection::new(sockets, splice, watch))
            .map_err(|failed| failed.0)?;
        Ok(Relaying {
            shared: Arc::clone(&self.shared),
            slot,
        })
    }

    /// Takes over a connection from its accept on: waits for `backend`'s connect to
    /// complete, sends the header (with the client's first bytes), relays, and calls
    /// the adoption's `on_end` before the sockets close. `watch` is under the dial
    /// deadline; the watchdog's stops reach the engine through it.
    pub fn adopt(
        &self,
        client: OwnedFd,
        backend: OwnedFd,
        splice: bool,
        watch: Arc<Watch>,
        adoption: Adoption,
    ) {
        let Adoption {
            header,
            header_budget,
            early_limit,
            on_end,
        } = adoption;
        let mut connection = Connection::new([client, backend], splice, Arc::clone(&watch));
        connection.dialing = Some(header_budget);
        connection.on_end = Some(on_end);
        // On loopback, and wherever the backend answers fast, the connect is complete
        // already: the header goes out from here, and the engine's first wake-up is for
        // the backend's answer.
        let sent = with_copy_buffer(|buffer| connection.send_header(&header, early_limit, buffer));
        match sent {
            Ok(early) if early > 0 => self
                .shared
                .metrics
                .shard(self.shared.shard)
                .bytes(Direction::ClientToBackend, early),
            Ok(_) => {}
            Err(ending) => {
                connection.fail(ending);
                connection.finish();
                return;
            }
        }
        match self.insert(connection) {
            Ok(_) => {
                if watch.wake_on_stop(Waker::from(Arc::clone(&self.shared.wake))) {
                    self.shared.wake.wake_by_ref();
                }
            }
            Err(failed) => {
                let (error, mut connection) = *failed;
                connection.ending = Some(Ending::Refused(error));
                connection.finish();
            }
        }
    }

    /// Stores `connection` in a free slot and watches both its sockets; on failure hands
    /// it back (its sockets still open).
    fn insert(&self, mut connection: Connection) -> Result<usize, Box<(io::Error, Connection)>> {
        let fds = [connection.fd(CLIENT), connection.fd(BACKEND)];
        let mut state = self.shared.lock();
        let slot = state.free.pop().unwrap_or(state.connections.len());
        if slot >= MAX_SLOTS {
            // Far beyond any descriptor limit; keeps every token distinct from `STOP`.
            return Err(Box::new((
                io::Error::other("relay engine: too many connections"),
                connection,
            )));
        }
        let generation = state.next_generation;
        state.next_generation = generation.wrapping_add(1);
        connection.generation = generation;
        let wants_writable = [CLIENT, BACKEND].map(|side| connection.wants_writable(side));
        connection.watching_writable = wants_writable;
        if slot == state.connections.len() {
            state.connections.push(Some(connection));
        } else {
            state.connections[slot] = Some(connection);
        }
        for (side, fd) in fds.into_iter().enumerate() {
            let token = Token {
                slot,
                side,
                generation,
            };
            if let Err(error) = watch_socket(
                self.shared.epoll.as_raw_fd(),
                libc::EPOLL_CTL_ADD,
                fd,
                token,
                wants_writable[side],
            ) {
                let connection = state.connections[slot].take();
                state.free.push(slot);
                return Err(Box::new((error, connection.expect("stored just above"))));
            }
        }
        Ok(slot)
    }
}

/// A connection the engine dials and relays from its accept on.
pub struct Adoption {
    /// The encoded PROXY header, sent as soon as the backend connects.
    pub header: Vec<u8>,
    /// The header write's bound, from the moment the backend connects.
    pub header_budget: Duration,
    /// At most this many client bytes go out in one segment with the header.
    pub early_limit: usize,
    /// Runs once, before the sockets close, with how the connection ended.
    pub on_end: Box<dyn FnOnce(Ending) + Send>,
}

/// How an adopted connection ended.
#[derive(Debug)]
pub enum Ending {
    /// Both directions ended.
    Relayed,
    /// The backend's connect failed (`SO_ERROR`).
    DialFailed(io::Error),
    /// Writing the header failed.
    HeaderFailed(io::Error),
    /// The watchdog stopped it: a deadline passed or the drain's grace ended.
    Stopped(Stop),
    /// The engine could not watch its sockets.
    Refused(io::Error),
}

/// Wakes the engine's thread when the watchdog stops an adopted connection: the thread
/// then asks each adopted connection's watch whether it was stopped.
struct WakeOnStop(OwnedFd);

impl Wake for WakeOnStop {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        signal(&self.0);
    }
}

/// Adds one to an eventfd.
fn signal(eventfd: &OwnedFd) {
    let one: u64 = 1;
    // SAFETY: writes eight bytes from a live u64 to an eventfd.
    unsafe { libc::write(eventfd.as_raw_fd(), (&one as *const u64).cast(), 8) };
}

/// Adds `eventfd` to the `epoll` set, level-triggered, its events carrying `data`.
fn watch_eventfd(epoll: &OwnedFd, eventfd: &OwnedFd, data: u64) -> io::Result<()> {
    let mut event = libc::epoll_event {
        events: libc::EPOLLIN as u32,
        u64: data,
    };
    // SAFETY: both descriptors are open; the event outlives the call.
    if unsafe {
        libc::epoll_ctl(
            epoll.as_raw_fd(),
            libc::EPOLL_CTL_ADD,
            eventfd.as_raw_fd(),
            &mut event,
        )
    } != 0
    {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// A non-blocking eventfd.
fn new_eventfd() -> io::Result<OwnedFd> {
    // SAFETY: plain syscall; the descriptor is owned below.
    let fd = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: eventfd succeeded, so the descriptor is open and ours alone.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// The socket's descriptor, no longer watched by the runtime.
fn owned(stream: TcpStream) -> io::Result<OwnedFd> {
    Ok(OwnedFd::from(stream.into_std()?))
}

/// Adds (or modifies) `fd` in the engine's `epoll` set, edge-triggered: always for
/// reading and its peer's hang-up, for writing only when asked. A socket that can take
/// bytes, as a fresh one can, would otherwise wake the engine for nothing each time it
/// is added.
fn watch_socket(
    epoll: RawFd,
    op: libc::c_int,
    fd: RawFd,
    token: Token,
    writable: bool,
) -> io::Result<()> {
    let mut events = libc::EPOLLIN | libc::EPOLLRDHUP | libc::EPOLLET;
    if writable {
        events |= libc::EPOLLOUT;
    }
    let mut event = libc::epoll_event {
        events: events as u32,
        u64: token.into(),
    };
    // SAFETY: plain syscall; the event outlives the call, and the caller's descriptors
    // are open.
    if unsafe { libc::epoll_ctl(epoll, op, fd, &mut event) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
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

    /// Ends the adopted connection in `slot`, if there is one, as the watchdog said.
    fn stop_adopted(&mut self, slot: usize, stop: Stop) {
        let Some(connection) = self.connections[slot].as_mut() else {
            return;
        };
        if connection.on_end.is_none() || connection.finished {
            return;
        }
        connection.ending = Some(Ending::Stopped(stop));
        self.finish(slot);
    }

    /// Finishes the connection in `slot`. An adopted one leaves its slot at once; a
    /// handed-over one leaves it when its task drops [`Relaying`].
    fn finish(&mut self, slot: usize) {
        let Some(connection) = self.connections[slot].as_mut() else {
            return;
        };
        let adopted = connection.on_end.is_some();
        connection.finish();
        if adopted {
            self.release(slot);
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
        signal(&self.stop);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The user data of the stop eventfd's event.
const STOP: u64 = u64::MAX;
/// The user data of the wake eventfd's event (its slot is one no connection gets).
const WAKE: u64 = u64::MAX - 1;
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
        let mut state = shared.lock();
        if events[..ready].iter().any(|event| event.u64 == STOP) {
            // The server is gone; its connections' tasks close theirs, and adopted ones
            // end as at the end of a drain.
            for slot in 0..state.connections.len() {
                state.stop_adopted(slot, Stop::ForceClosed);
            }
            return;
        }
        with_copy_buffer(|buffer| {
            for event in &events[..ready] {
                if event.u64 == WAKE {
                    drain_eventfd(&shared.wake.0);
                    for slot in 0..state.connections.len() {
                        let stopped = state.connections[slot]
                            .as_ref()
                            .and_then(|connection| connection.watch.stopped());
                        // Only adopted connections end here; a handed-over one's task
                        // sees the stop itself.
                        if let Some(stop) = stopped {
                            state.stop_adopted(slot, stop);
                        }
                    }
                    continue;
                }
                let Token {
                    slot,
                    side,
                    generation,
                } = Token::from(event.u64);
                let Some(connection) = state.connections.get_mut(slot).and_then(Option::as_mut)
                else {
                    continue;
                };
                if connection.generation != generation || connection.finished {
                    continue;
                }
                let moved = connection.on_event(side, event.events as i32, buffer);
                connection.watch_writable_where_needed(shared.epoll.as_raw_fd(), slot);
                for (direction, bytes) in moved.into_iter().enumerate() {
                    if bytes > 0 {
                        counters.bytes(metric_direction(direction), bytes);
                    }
                }
                if connection.directions.iter().all(|flow| flow.ended) {
                    state.finish(slot);
                }
            }
        });
    }
}

/// Reads an eventfd's count back to zero.
fn drain_eventfd(eventfd: &OwnedFd) {
    let mut count: u64 = 0;
    // SAFETY: reads at most eight bytes into a live u64.
    unsafe { libc::read(eventfd.as_raw_fd(), (&mut count as *mut u64).cast(), 8) };
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
    /// The task of a connection handed over after its first exchange.
    waker: Option<Waker>,
    /// Adopted connections: the backend's connect is not known to be complete; the
    /// bound of the header write, which starts once it is.
    dialing: Option<Duration>,
    /// Adopted connections: part of the header is still unsent.
    header_pending: bool,
    /// Adopted connections: told how the connection ended, before its sockets close.
    on_end: Option<Box<dyn FnOnce(Ending) + Send>>,
    ending: Option<Ending>,
    /// Per socket: watched for writability too (once something waited to be sent to it).
    watching_writable: [bool; 2],
}

impl Connection {
    fn new(sockets: [OwnedFd; 2], splice: bool, watch: Arc<Watch>) -> Connection {
        Connection {
            generation: 0,
            sockets: Some(sockets),
            directions: [Flow::default(), Flow::default()],
            splice,
            watch,
            finished: false,
            waker: None,
            dialing: None,
            header_pending: false,
            on_end: None,
            ending: None,
            watching_writable: [false; 2],
        }
    }

    /// Socket `side` has to say when it can take bytes: its connect is under way, or
    /// bytes wait for it.
    fn wants_writable(&self, side: usize) -> bool {
        (side == BACKEND && self.dialing.is_some()) || self.directions[1 - side].blocked()
    }

    /// Watches for writability the sockets that now need it; once watched, a socket
    /// stays watched (edge-triggered, it costs nothing while nothing changes). `epoll`
    /// and `slot` say where the connection is watched.
    fn watch_writable_where_needed(&mut self, epoll: RawFd, slot: usize) {
        for side in [CLIENT, BACKEND] {
            if self.watching_writable[side] || !self.wants_writable(side) || self.finished {
                continue;
            }
            self.watching_writable[side] = true;
            let token = Token {
                slot,
                side,
                generation: self.generation,
            };
            // A socket the kernel refuses to watch stalls its direction until the idle
            // timeout; nothing better can be done here.
            if let Err(error) = watch_socket(epoll, libc::EPOLL_CTL_MOD, self.fd(side), token, true)
            {
                tracing::warn!(%error, "relay engine: cannot watch a socket for writing");
            }
        }
    }

    /// Ends both directions at once, without a half-close: the sockets just close.
    fn fail(&mut self, ending: Ending) {
        self.ending = Some(ending);
        for flow in &mut self.directions {
            flow.ended = true;
        }
    }

    /// Sends the header, with as many of the client's first bytes as have come (up to
    /// `early_limit`), in one segment; what the backend does not take (all of it while
    /// its connect is still under way) waits in the client direction's unsent bytes,
    /// which go first once the backend is writable. Returns the client bytes read.
    fn send_header(
        &mut self,
        header: &[u8],
        early_limit: usize,
        buffer: &mut [u8],
    ) -> Result<u64, Ending> {
        let length = header.len().min(buffer.len());
        buffer[..length].copy_from_slice(&header[..length]);
        let room = (buffer.len() - length).min(early_limit);
        let (early, client_ended) = if length == header.len() && room > 0 {
            match read_fd(self.fd(CLIENT), &mut buffer[length..length + room]) {
                Ok(0) => (0, true),
                Ok(read) => (read, false),
                // Nothing yet, or an error the relay meets again on its next read.
                Err(_) => (0, false),
            }
        } else {
            (0, false)
        };
        let total = length + early;
        let sent = match send_all_now(self.fd(BACKEND), &buffer[..total], false) {
            Ok(sent) => sent,
            // A connect that failed reports its error to the first send.
            Err(error) if self.dialing.is_some() => return Err(Ending::DialFailed(error)),
            Err(error) => return Err(Ending::HeaderFailed(error)),
        };
        if sent > 0 {
            self.established();
        }
        let flow = &mut self.directions[CLIENT];
        flow.unsent.extend_from_slice(&buffer[sent..total]);
        flow.unsent.extend_from_slice(&header[length..]);
        flow.end_after_unsent = client_ended;
        if flow.blocked() {
            self.header_pending = true;
            return Ok(early as u64);
        }
        self.watch.enter_relay();
        if client_ended {
            self.end(CLIENT);
            return Ok(early as u64);
        }
        // The read filled its share: more may wait, and no new edge would tell.
        let more = if early == room {
            self.pump(CLIENT, buffer)
        } else {
            0
        };
        Ok(early as u64 + more)
    }

    /// The backend's connect completed: the header's own bound starts.
    fn established(&mut self) {
        if let Some(budget) = self.dialing.take() {
            self.watch.enter(Phase::Header, budget);
        }
    }

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
        if self.dialing.is_some() {
            // Client events wait for the connect: the header and whatever the client
            // sent meanwhile go out once it completes (the flush below, then a read).
            if side == CLIENT || flags & (libc::EPOLLOUT | libc::EPOLLHUP | libc::EPOLLERR) == 0 {
                return moved;
            }
            // `SO_ERROR` says how the connect ended (and clears it).
            let connect_error = self.sockets.as_ref().map_or(Ok(None), |sockets| {
                SockRef::from(&sockets[BACKEND]).take_error()
            });
            match connect_error {
                Ok(None) => self.established(),
                Ok(Some(error)) | Err(error) => {
                    self.fail(Ending::DialFailed(error));
                    return moved;
                }
            }
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
                if into == CLIENT && self.header_pending && !self.directions[into].blocked() {
                    self.header_pending = false;
                    self.watch.enter_relay();
                }
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

    /// Both directions ended: tell an adopted connection's owner how, close the
    /// sockets and wake the connection's task.
    fn finish(&mut self) {
        self.finished = true;
        if let Some(on_end) = self.on_end.take() {
            on_end(self.ending.take().unwrap_or(Ending::Relayed));
        }
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
