//! The relay's data path on `io_uring`, reduced to what the keep-alive benchmark needs.
//!
//! It answers one question: would submitting the relay's reads and writes through a
//! ring, instead of `epoll` plus one syscall each, lower the CPU a relayed request
//! costs? Every loop owns a ring (single issuer, deferred task running) and a
//! `SO_REUSEPORT` listener; a multishot accept feeds connections; each connection keeps
//! one receive outstanding per direction, and each completed receive becomes a send
//! of the same buffer to the other side. One `io_uring_enter` submits everything queued
//! since the last one and waits for the next completion.
//!
//! Deliberately missing, so never deploy it: dial and idle timeouts, connection limits,
//! metrics, health endpoints, IPv6, the v2 header, `splice(2)`, error reporting.
//!
//! Flags, the subset of the relay's that the benchmark passes: `--listen-http=ADDR`,
//! `--target-http-port=PORT` (the backend is 127.0.0.1), `--worker-threads=N` (default
//! 2). Environment: `URING_WAIT=N` waits for N completions per enter, at most
//! `URING_MIN_WAIT_US` µs once one has arrived (batching wake-ups; off by default).

use std::net::TcpListener;
use std::os::fd::{AsRawFd, BorrowedFd, RawFd};

use io_uring::{cqueue, opcode, squeue, types, IoUring};

const BUFFER: usize = 16 * 1024;
const ACCEPT: u64 = u64::MAX;

/// What a completion finished; the low byte of its user data (the rest is the slot).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Op {
    Connect = 1,
    Header = 2,
    Receive = 3,
    Send = 4,
}

/// One direction of a connection: the socket it reads, the one it writes, its buffer.
struct Direction {
    from: RawFd,
    to: RawFd,
    buffer: Box<[u8]>,
    filled: usize,
    sent: usize,
    ended: bool,
}

struct Connection {
    /// `[client → backend, backend → client]`.
    directions: [Direction; 2],
    header: Vec<u8>,
    backend_address: libc::sockaddr_in,
    in_flight: u32,
    failed: bool,
}

fn user_data(slot: usize, op: Op, direction: usize) -> u64 {
    ((slot as u64) << 16) | ((direction as u64) << 8) | op as u64
}

#[path = "../../sketch_common.rs"]
mod sketch_common;

fn env_number<T: std::str::FromStr>(name: &str) -> Option<T> {
    std::env::var(name).ok()?.parse().ok()
}

fn main() {
    let args = sketch_common::args();
    let threads: Vec<_> = (0..args.loops)
        .map(|_| {
            let listener = sketch_common::listen_socket(args.listen);
            let port = args.backend_port;
            std::thread::spawn(move || event_loop(listener, port))
        })
        .collect();
    for thread in threads {
        thread.join().expect("event loop panicked");
    }
}

fn event_loop(listener: TcpListener, backend_port: u16) {
    let mut ring: IoUring = IoUring::builder()
        .setup_single_issuer()
        .setup_defer_taskrun()
        .setup_cqsize(8192)
        .build(4096)
        .expect("io_uring_setup (is io_uring disabled or filtered?)");
    let accept = opcode::AcceptMulti::new(types::Fd(listener.as_raw_fd()))
        .build()
        .user_data(ACCEPT);
    let mut queue = vec![accept.clone()];
    let mut slots: Vec<Option<Connection>> = Vec::new();
    let mut free_slots: Vec<usize> = Vec::new();
    let batch: usize = env_number("URING_WAIT").unwrap_or(1);
    let min_wait: u32 = env_number("URING_MIN_WAIT_US").unwrap_or(0);
    let idle_bound = types::Timespec::new().sec(1);
    let mut completions = Vec::new();
    loop {
        {
            let mut submission = ring.submission();
            for entry in queue.drain(..) {
                // SAFETY: every buffer and address an entry points into lives in a
                // boxed slot that is freed only after its last completion.
                unsafe { submission.push(&entry).expect("submission queue full") };
            }
        }
        if batch > 1 {
            let args = types::SubmitArgs::new()
                .timespec(&idle_bound)
                .min_wait_usec(min_wait);
            match ring.submitter().submit_with_args(batch, &args) {
                Ok(_) => {}
                Err(e) if matches!(e.raw_os_error(), Some(libc::ETIME | libc::EINTR)) => {}
                Err(e) => panic!("io_uring_enter: {e}"),
            }
        } else {
            match ring.submit_and_wait(1) {
                Ok(_) => {}
                Err(e) if e.raw_os_error() == Some(libc::EINTR) => {}
                Err(e) => panic!("io_uring_enter: {e}"),
            }
        }
        completions.extend(
            ring.completion()
                .map(|c| (c.user_data(), c.result(), c.flags())),
        );
        for (data, result, flags) in completions.drain(..) {
            if data == ACCEPT {
                if !cqueue::more(flags) {
                    queue.push(accept.clone());
                }
                if result >= 0 {
                    let slot = free_slots.pop().unwrap_or_else(|| {
                        slots.push(None);
                        slots.len() - 1
                    });
                    let connection = slots[slot].insert(open(result, backend_port));
                    queue.push(connect(connection, slot));
                    connection.in_flight += 1;
                }
                continue;
            }
            let slot = (data >> 16) as usize;
            let direction = ((data >> 8) & 0xff) as usize;
            let connection = slots[slot].as_mut().expect("completion for a live slot");
            connection.in_flight -= 1;
            let before = queue.len();
            advance(connection, slot, direction, data as u8, result, &mut queue);
            connection.in_flight += (queue.len() - before) as u32;
            let finished = connection.directions.iter().all(|d| d.ended);
            if (finished || connection.failed) && connection.in_flight == 0 {
                let [a, _] = &connection.directions;
                // SAFETY: both descriptors belong to this slot and nothing else uses them.
                unsafe {
                    libc::close(a.from);
                    libc::close(a.to);
                }
                slots[slot] = None;
                free_slots.push(slot);
            } else if connection.failed {
                // Outstanding operations end promptly once both sockets are shut.
                for d in &connection.directions {
                    unsafe { libc::shutdown(d.from, libc::SHUT_RDWR) };
                }
            }
        }
    }
}

/// A freshly accepted client and its not yet connected backend socket.
fn open(client: RawFd, backend_port: u16) -> Connection {
    // SAFETY: plain socket creation and options on descriptors this loop owns.
    let backend = unsafe { libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0) };
    assert!(backend >= 0, "socket: {}", std::io::Error::last_os_error());
    let on: libc::c_int = 1;
    for fd in [client, backend] {
        unsafe {
            libc::setsockopt(
                fd,
                libc::IPPROTO_TCP,
                libc::TCP_NODELAY,
                (&on as *const libc::c_int).cast(),
                4,
            );
        }
    }
    let direction = |from, to| Direction {
        from,
        to,
        buffer: vec![0; BUFFER].into(),
        filled: 0,
        sent: 0,
        ended: false,
    };
    Connection {
        directions: [direction(client, backend), direction(backend, client)],
        header: header_v1(client),
        backend_address: libc::sockaddr_in {
            sin_family: libc::AF_INET as libc::sa_family_t,
            sin_port: backend_port.to_be(),
            sin_addr: libc::in_addr {
                s_addr: u32::from_ne_bytes([127, 0, 0, 1]),
            },
            sin_zero: [0; 8],
        },
        in_flight: 0,
        failed: false,
    }
}

fn connect(connection: &Connection, slot: usize) -> squeue::Entry {
    let address = (&connection.backend_address as *const libc::sockaddr_in).cast();
    let length = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
    opcode::Connect::new(types::Fd(connection.directions[0].to), address, length)
        .build()
        .user_data(user_data(slot, Op::Connect, 0))
}

fn receive(connection: &mut Connection, slot: usize, direction: usize) -> squeue::Entry {
    let d = &mut connection.directions[direction];
    opcode::Recv::new(types::Fd(d.from), d.buffer.as_mut_ptr(), BUFFER as u32)
        .build()
        .user_data(user_data(slot, Op::Receive, direction))
}

fn send(connection: &Connection, slot: usize, direction: usize) -> squeue::Entry {
    let d = &connection.directions[direction];
    let rest = &d.buffer[d.sent..d.filled];
    opcode::Send::new(types::Fd(d.to), rest.as_ptr(), rest.len() as u32)
        .build()
        .user_data(user_data(slot, Op::Send, direction))
}

/// The next operations of one connection after a completion.
fn advance(
    c: &mut Connection,
    slot: usize,
    direction: usize,
    op: u8,
    result: i32,
    queue: &mut Vec<squeue::Entry>,
) {
    if result < 0 && op != Op::Receive as u8 {
        c.failed = true;
        return;
    }
    match op {
        op if op == Op::Connect as u8 => {
            let header = opcode::Send::new(
                types::Fd(c.directions[0].to),
                c.header.as_ptr(),
                c.header.len() as u32,
            )
            .build()
            .user_data(user_data(slot, Op::Header, 0))
            .flags(squeue::Flags::IO_LINK);
            queue.push(header);
            queue.push(receive(c, slot, 0));
            queue.push(receive(c, slot, 1));
        }
        op if op == Op::Header as u8 => {}
        op if op == Op::Receive as u8 => {
            if result <= 0 {
                // End of this direction: pass the half-close on, unless the other
                // direction already ended and the close is about to send it anyway.
                c.directions[direction].ended = true;
                if !c.directions[1 - direction].ended {
                    unsafe { libc::shutdown(c.directions[direction].to, libc::SHUT_WR) };
                }
                return;
            }
            let d = &mut c.directions[direction];
            d.filled = result as usize;
            d.sent = 0;
            queue.push(send(c, slot, direction));
        }
        op if op == Op::Send as u8 => {
            let d = &mut c.directions[direction];
            d.sent += result as usize;
            if d.sent < d.filled {
                queue.push(send(c, slot, direction));
            } else {
                queue.push(receive(c, slot, direction));
            }
        }
        _ => unreachable!("unknown operation {op}"),
    }
}

fn header_v1(client: RawFd) -> Vec<u8> {
    // SAFETY: the descriptor is open for the duration of the borrow.
    let fd = unsafe { BorrowedFd::borrow_raw(client) };
    let socket = socket2::SockRef::from(&fd);
    let (Some(peer), Some(local)) = (
        socket.peer_addr().ok().and_then(|a| a.as_socket()),
        socket.local_addr().ok().and_then(|a| a.as_socket()),
    ) else {
        return b"PROXY UNKNOWN\r\n".to_vec();
    };
    format!(
        "PROXY TCP4 {} {} {} {}\r\n",
        peer.ip(),
        local.ip(),
        peer.port(),
        local.port()
    )
    .into_bytes()
}
