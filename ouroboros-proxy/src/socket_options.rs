//! Per-socket tuning. Tuning is an optimisation: a failure is logged and never fails the
//! connection.

use std::sync::OnceLock;
use std::time::Duration;

use socket2::{SockRef, TcpKeepalive};
use tokio::net::TcpStream;

/// Keepalive probing finds peers that vanished without a FIN (node crash, pod deleted
/// behind a NAT) after roughly 15 s + 9 × 15 s; the same figures as the Go runtime.
const KEEPALIVE_IDLE: Duration = Duration::from_secs(15);
const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(15);
const KEEPALIVE_PROBES: u32 = 9;

/// `TCP_NODELAY` (requests and TLS records are forwarded as they arrive, not batched)
/// and TCP keepalive, on a relayed socket.
pub fn tune_relay_socket(stream: &TcpStream) {
    tune(SockRef::from(stream));
}

/// The relay options on a backend socket, set before its `connect`, and on Linux the
/// delayed-ACK mode (`TCP_QUICKACK` off): the last ACK of the handshake then waits for
/// the PROXY header, which the relay writes as soon as the connect completes, and rides
/// on it. One segment fewer per connection, and the backend finds the connection and its
/// first bytes in one wake-up.
pub fn tune_backend_socket(socket: &socket2::Socket) {
    tune(SockRef::from(socket));
    #[cfg(any(target_os = "linux", target_os = "android"))]
    if let Err(error) = socket.set_tcp_quickack(false) {
        tracing::debug!(%error, "clear TCP_QUICKACK");
    }
}

/// The same options on a listening socket. Linux copies them to every connection the
/// listener accepts, which saves five `setsockopt` calls per accepted client; other
/// systems may not, so there the accepted socket is tuned as well
/// ([`tune_accepted_socket`]).
pub fn tune_listener(socket: &socket2::Socket) {
    tune(SockRef::from(socket));
}

/// Tunes an accepted client socket unless it inherited the options from its listener.
pub fn tune_accepted_socket(stream: &TcpStream) {
    if !ACCEPTED_SOCKETS_INHERIT_OPTIONS {
        tune_relay_socket(stream);
    }
}

/// Whether accepted sockets start with their listener's `TCP_NODELAY` and keepalive
/// settings (Linux clones the listening socket for each connection).
const ACCEPTED_SOCKETS_INHERIT_OPTIONS: bool =
    cfg!(any(target_os = "linux", target_os = "android"));

/// The system's default keepalive probe count, read once: where it already is the
/// wanted count (Linux's default is 9), setting it again on every socket is a wasted
/// system call.
fn system_keepalive_probes() -> Option<u32> {
    static PROBES: OnceLock<Option<u32>> = OnceLock::new();
    *PROBES.get_or_init(|| {
        std::fs::read_to_string("/proc/sys/net/ipv4/tcp_keepalive_probes")
            .ok()
            .and_then(|text| text.trim().parse().ok())
    })
}

fn tune(socket: SockRef<'_>) {
    if let Err(error) = socket.set_tcp_nodelay(true) {
        tracing::debug!(%error, "set TCP_NODELAY");
    }
    let keepalive = TcpKeepalive::new()
        .with_time(KEEPALIVE_IDLE)
        .with_interval(KEEPALIVE_INTERVAL);
    #[cfg(any(
        target_os = "linux",
        target_os = "android",
        target_os = "macos",
        target_os = "freebsd"
    ))]
    let keepalive = if system_keepalive_probes() == Some(KEEPALIVE_PROBES) {
        keepalive
    } else {
        keepalive.with_retries(KEEPALIVE_PROBES)
    };
    #[cfg(not(any(
        target_os = "linux",
        target_os = "android",
        target_os = "macos",
        target_os = "freebsd"
    )))]
    let _ = KEEPALIVE_PROBES;
    if let Err(error) = socket.set_tcp_keepalive(&keepalive) {
        tracing::debug!(%error, "enable TCP keepalive");
    }
}

/// Asserts the options every relayed socket carries: `TCP_NODELAY`, keepalive, and on
/// Linux the keepalive idle time. Shared by the tests of dialed and accepted sockets.
#[cfg(test)]
pub(crate) fn assert_relay_options(socket: &SockRef<'_>) {
    assert!(socket.tcp_nodelay().unwrap(), "TCP_NODELAY not set");
    assert!(socket.keepalive().unwrap(), "SO_KEEPALIVE not set");
    #[cfg(target_os = "linux")]
    assert_eq!(socket.tcp_keepalive_time().unwrap(), KEEPALIVE_IDLE);
}
