//! The relay's data path on a bare `epoll` loop, without an async runtime.
//!
//! It answers one question: how much of the CPU a relayed request costs is the relay's
//! async runtime (task wake-ups, readiness futures, the join of its two directions),
//! and how much is the kernel's? It makes the same system calls as the relay (one
//! `read` and one `send` per message, edge-triggered readiness, a short read taken as
//! a drained socket, header and early request in one write, `TCP_QUICKACK` off on the
//! backend socket before `connect`) and runs under the same default CPU policy
//! (`SCHED_BATCH`); only the runtime is missing.
//!
//! Deliberately missing, so never deploy it: dial and idle timeouts, connection limits,
//! metrics, health endpoints, IPv6, the v2 header, `splice(2)`, error reporting.
//!
//! Flags, the subset of the relay's that the benchmark passes: `--listen-http=ADDR`,
//! `--target-http-port=PORT` (the backend is 127.0.0.1), `--worker-threads=N` (default
//! 2), `--cpu-policy=batch|normal` (default batch).

use std::net::TcpListener;
use std::os::fd::{AsRawFd, BorrowedFd, RawFd};

const BUFFER: usize = 16 * 1024;
const LISTENER: u64 = u64::MAX;
const CLIENT: usize = 0;
const BACKEND: usize = 1;

/// One socket of a connection and the bytes still owed to it.
struct Side {
    fd: RawFd,
    /// Read from the other side, not yet accepted by this socket.
    owed: Vec<u8>,
    /// This socket's read side reached its end.
    ended: bool,
    /// Its peer's FIN has arrived: a short read is the last one. With edge-triggered
    /// readiness no further event would report the end.
    closing: bool,
}

struct Connection {
    sides: [Side; 2],
    header: Vec<u8>,
    connected: bool,
    closed: bool,
}

enum Next {
    Continue,
    Close,
}

#[path = "../../sketch_common.rs"]
mod sketch_common;

fn main() {
    let args = sketch_common::args();
    if sketch_common::flag("cpu-policy").as_deref() != Some("normal") {
        let parameters = libc::sched_param { sched_priority: 0 };
        // SAFETY: pid 0 is the calling thread; the loops started below inherit it.
        unsafe { libc::sched_setscheduler(0, libc::SCHED_BATCH, &parameters) };
    }
    let threads: Vec<_> = (0..args.loops)
        .map(|_| {
            let listener = listen_socket(args.listen);
            let port = args.backend_port;
            std::thread::spawn(move || EventLoop::new(port).run(listener))
        })
        .collect();
    for thread in threads {
        thread.join().expect("event loop panicked");
    }
}

/// The shared listening socket, with the options accepted sockets inherit (the relay's
/// `TCP_NODELAY`) and non-blocking for the edge-triggered loop.
fn listen_socket(address: std::net::SocketAddr) -> TcpListener {
    let listener = sketch_common::listen_socket(address);
    socket2::SockRef::from(&listener)
        .set_tcp_nodelay(true)
        .expect("TCP_NODELAY");
    listener.set_nonblocking(true).expect("O_NONBLOCK");
    listener
}

struct EventLoop {
    epoll: RawFd,
    backend: libc::sockaddr_in,
    slots: Vec<Option<Box<Connection>>>,
    free_slots: Vec<usize>,
    /// Slots closed during this batch; freed after it, since an event of the other
    /// socket may still follow in the same batch.
    closed: Vec<usize>,
    buffer: Box<[u8]>,
}

impl EventLoop {
    fn new(backend_port: u16) -> EventLoop {
        // SAFETY: plain syscall.
        let epoll = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        assert!(epoll >= 0, "epoll_create1");
        // SAFETY: all-zero is a valid sockaddr_in, filled in below.
        let mut backend: libc::sockaddr_in = unsafe { std::mem::zeroed() };
        backend.sin_family = libc::AF_INET as libc::sa_family_t;
        backend.sin_port = backend_port.to_be();
        backend.sin_addr.s_addr = u32::from(std::net::Ipv4Addr::LOCALHOST).to_be();
        EventLoop {
            epoll,
            backend,
            slots: Vec::new(),
            free_slots: Vec::new(),
            closed: Vec::new(),
            buffer: vec![0; BUFFER].into_boxed_slice(),
        }
    }

    fn run(mut self, listener: TcpListener) {
        self.register(listener.as_raw_fd(), LISTENER, libc::EPOLLIN);
        // SAFETY: all-zero is a valid epoll_event.
        let mut events = vec![unsafe { std::mem::zeroed::<libc::epoll_event>() }; 256];
        loop {
            // SAFETY: `events` has room for the number of entries passed.
            let ready = unsafe {
                libc::epoll_wait(self.epoll, events.as_mut_ptr(), events.len() as i32, -1)
            };
            for event in &events[..ready.max(0) as usize] {
                let (token, flags) = (event.u64, event.events as i32);
                if token == LISTENER {
                    self.accept_all(listener.as_raw_fd());
                } else {
                    self.on_event((token >> 1) as usize, (token & 1) as usize, flags);
                }
            }
            for slot in self.closed.drain(..) {
                self.slots[slot] = None;
                self.free_slots.push(slot);
            }
        }
    }

    fn register(&self, fd: RawFd, token: u64, flags: i32) {
        let mut event = libc::epoll_event {
            events: (flags | libc::EPOLLET) as u32,
            u64: token,
        };
        // SAFETY: the event outlives the call.
        unsafe { libc::epoll_ctl(self.epoll, libc::EPOLL_CTL_ADD, fd, &mut event) };
    }

    fn accept_all(&mut self, listener: RawFd) {
        loop {
            // SAFETY: all-zero is a valid sockaddr_in.
            let mut peer: libc::sockaddr_in = unsafe { std::mem::zeroed() };
            let mut length = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
            // SAFETY: `peer` and `length` outlive the call and describe its room.
            let client = unsafe {
                libc::accept4(
                    listener,
                    (&mut peer as *mut libc::sockaddr_in).cast(),
                    &mut length,
                    libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
                )
            };
            if client < 0 {
                return;
            }
            // SAFETY: plain syscall.
            let backend = unsafe {
                libc::socket(
                    libc::AF_INET,
                    libc::SOCK_STREAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
                    0,
                )
            };
            set_option(backend, libc::TCP_NODELAY, 1);
            set_option(backend, libc::TCP_QUICKACK, 0);
            // SAFETY: the address outlives the call; EINPROGRESS is the expected answer.
            unsafe {
                libc::connect(
                    backend,
                    (&self.backend as *const libc::sockaddr_in).cast(),
                    std::mem::size_of::<libc::sockaddr_in>() as u32,
                )
            };
            let connection = Box::new(Connection {
                sides: [client, backend].map(|fd| Side {
                    fd,
                    owed: Vec::new(),
                    ended: false,
                    closing: false,
                }),
                header: header_v1(client, &peer),
                connected: false,
                closed: false,
            });
            let slot = match self.free_slots.pop() {
                Some(slot) => {
                    self.slots[slot] = Some(connection);
                    slot
                }
                None => {
                    self.slots.push(Some(connection));
                    self.slots.len() - 1
                }
            };
            let flags = libc::EPOLLIN | libc::EPOLLOUT | libc::EPOLLRDHUP;
            self.register(client, (slot as u64) << 1, flags);
            self.register(backend, ((slot as u64) << 1) | 1, flags);
        }
    }

    fn on_event(&mut self, slot: usize, side: usize, flags: i32) {
        let EventLoop {
            slots,
            buffer,
            closed,
            ..
        } = self;
        let Some(connection) = slots[slot].as_deref_mut() else {
            return;
        };
        if connection.closed {
            return;
        }
        let next = handle(connection, buffer, side, flags);
        if matches!(next, Next::Close) {
            connection.closed = true;
            for side in &connection.sides {
                // SAFETY: the connection owns its descriptors; closing also removes them
                // from the epoll set.
                unsafe { libc::close(side.fd) };
            }
            closed.push(slot);
        }
    }
}

fn handle(c: &mut Connection, buffer: &mut [u8], side: usize, flags: i32) -> Next {
    let writable = flags & (libc::EPOLLOUT | libc::EPOLLERR | libc::EPOLLHUP) != 0;
    if side == BACKEND && !c.connected && writable {
        if let Next::Close = on_connected(c, buffer) {
            return Next::Close;
        }
    }
    // Bytes owed to this socket went out: the direction feeding it may read again.
    let mut resumed = false;
    if flags & libc::EPOLLOUT != 0 && !c.sides[side].owed.is_empty() {
        match send_owed(&mut c.sides[side]) {
            Err(()) => return Next::Close,
            Ok(done) => resumed = done,
        }
    }
    if flags & (libc::EPOLLIN | libc::EPOLLRDHUP | libc::EPOLLHUP | libc::EPOLLERR) != 0 {
        if flags & (libc::EPOLLRDHUP | libc::EPOLLHUP | libc::EPOLLERR) != 0 {
            c.sides[side].closing = true;
        }
        if let Next::Close = pump(c, buffer, side) {
            return Next::Close;
        }
    }
    if resumed {
        return pump(c, buffer, 1 - side);
    }
    Next::Continue
}

/// The backend accepted: the header goes out with whatever the client sent meanwhile.
fn on_connected(c: &mut Connection, buffer: &mut [u8]) -> Next {
    let mut error: libc::c_int = 0;
    let mut length = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: `error` and `length` outlive the call.
    unsafe {
        libc::getsockopt(
            c.sides[BACKEND].fd,
            libc::SOL_SOCKET,
            libc::SO_ERROR,
            (&mut error as *mut libc::c_int).cast(),
            &mut length,
        )
    };
    if error != 0 {
        return Next::Close;
    }
    c.connected = true;
    let header = c.header.len();
    buffer[..header].copy_from_slice(&c.header);
    let early = read(c.sides[CLIENT].fd, &mut buffer[header..]);
    let total = header + early.unwrap_or(0).max(0) as usize;
    if send_or_owe(&mut c.sides[BACKEND], &buffer[..total]).is_err() {
        return Next::Close;
    }
    match early {
        Some(0) => end_direction(c, CLIENT),
        Some(n) if n as usize == buffer.len() - header => pump(c, buffer, CLIENT),
        _ => Next::Continue,
    }
}

/// Moves bytes from `from` to the other side until `from` is drained, the other side
/// is full or `from` ended.
fn pump(c: &mut Connection, buffer: &mut [u8], from: usize) -> Next {
    let to = 1 - from;
    if c.sides[from].ended || !c.sides[to].owed.is_empty() || (to == BACKEND && !c.connected) {
        return Next::Continue;
    }
    loop {
        let moved = match read(c.sides[from].fd, buffer) {
            None => return Next::Continue,
            Some(n) if n <= 0 => return end_direction(c, from),
            Some(n) => n as usize,
        };
        if send_or_owe(&mut c.sides[to], &buffer[..moved]).is_err() {
            return Next::Close;
        }
        if moved < buffer.len() && c.sides[from].closing {
            return end_direction(c, from);
        }
        if !c.sides[to].owed.is_empty() || moved < buffer.len() {
            return Next::Continue;
        }
    }
}

/// `from` reached its end: the other socket is half-closed, or, when that one already
/// ended too, the connection is done.
fn end_direction(c: &mut Connection, from: usize) -> Next {
    c.sides[from].ended = true;
    if c.sides[1 - from].ended {
        return Next::Close;
    }
    // SAFETY: plain syscall on an owned descriptor.
    unsafe { libc::shutdown(c.sides[1 - from].fd, libc::SHUT_WR) };
    Next::Continue
}

/// `Some(n)`: read returned n (0 = end, negative = error); `None`: nothing to read.
fn read(fd: RawFd, buffer: &mut [u8]) -> Option<isize> {
    // SAFETY: reads into a live buffer of the given length.
    let n = unsafe { libc::read(fd, buffer.as_mut_ptr().cast(), buffer.len()) };
    if n < 0 && std::io::Error::last_os_error().raw_os_error() == Some(libc::EAGAIN) {
        return None;
    }
    Some(n)
}

fn send(fd: RawFd, data: &[u8]) -> Result<usize, ()> {
    // SAFETY: sends from a live buffer of the given length.
    let n = unsafe { libc::send(fd, data.as_ptr().cast(), data.len(), libc::MSG_NOSIGNAL) };
    if n >= 0 {
        Ok(n as usize)
    } else if std::io::Error::last_os_error().raw_os_error() == Some(libc::EAGAIN) {
        Ok(0)
    } else {
        Err(())
    }
}

fn send_or_owe(to: &mut Side, data: &[u8]) -> Result<(), ()> {
    let sent = send(to.fd, data)?;
    to.owed.extend_from_slice(&data[sent..]);
    Ok(())
}

/// Sends what `to` is owed; `Ok(true)` once all of it went out.
fn send_owed(to: &mut Side) -> Result<bool, ()> {
    let sent = send(to.fd, &to.owed)?;
    to.owed.drain(..sent);
    Ok(to.owed.is_empty())
}

fn set_option(fd: RawFd, option: libc::c_int, value: libc::c_int) {
    // SAFETY: `value` outlives the call.
    unsafe {
        libc::setsockopt(
            fd,
            libc::IPPROTO_TCP,
            option,
            (&value as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as u32,
        )
    };
}

/// The peer comes from `accept4`, the local address (the header's destination) from
/// `getsockname`, as in the relay.
fn header_v1(client: RawFd, peer: &libc::sockaddr_in) -> Vec<u8> {
    // SAFETY: the descriptor is open for the duration of the borrow.
    let fd = unsafe { BorrowedFd::borrow_raw(client) };
    let Some(local) = socket2::SockRef::from(&fd)
        .local_addr()
        .ok()
        .and_then(|a| a.as_socket())
    else {
        return b"PROXY UNKNOWN\r\n".to_vec();
    };
    let source = std::net::Ipv4Addr::from(u32::from_be(peer.sin_addr.s_addr));
    format!(
        "PROXY TCP4 {} {} {} {}\r\n",
        source,
        local.ip(),
        u16::from_be(peer.sin_port),
        local.port()
    )
    .into_bytes()
}
