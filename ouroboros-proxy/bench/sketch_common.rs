//! What the measuring sketches share, included by path so that each stays a workspace of
//! its own: the subset of the relay's flags the benchmark passes, and a listening socket
//! per event loop on the same port.

use std::net::{SocketAddr, TcpListener};

/// `--listen-http`, `--target-http-port` and `--worker-threads`.
pub struct Args {
    pub listen: SocketAddr,
    pub backend_port: u16,
    pub loops: usize,
}

pub fn flag(name: &str) -> Option<String> {
    let prefix = format!("--{name}=");
    std::env::args().find_map(|a| a.strip_prefix(&prefix).map(str::to_string))
}

pub fn args() -> Args {
    let listen = flag("listen-http")
        .expect("--listen-http=ADDR is required")
        .parse()
        .expect("--listen-http: host:port");
    let backend_port = flag("target-http-port")
        .expect("--target-http-port=PORT is required")
        .parse()
        .expect("--target-http-port: a port");
    let loops = flag("worker-threads")
        .and_then(|t| t.parse().ok())
        .filter(|&t: &usize| t > 0)
        .unwrap_or(2);
    Args {
        listen,
        backend_port,
        loops,
    }
}

/// A listening socket sharing `address` with the other loops' (`SO_REUSEPORT`).
pub fn listen_socket(address: SocketAddr) -> TcpListener {
    let socket = socket2::Socket::new(
        socket2::Domain::for_address(address),
        socket2::Type::STREAM,
        None,
    )
    .expect("socket");
    socket.set_reuse_address(true).expect("SO_REUSEADDR");
    socket.set_reuse_port(true).expect("SO_REUSEPORT");
    socket.bind(&address.into()).expect("bind");
    socket.listen(1024).expect("listen");
    socket.into()
}
