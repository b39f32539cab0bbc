//! Per-socket tuning. Tuning is an optimisation: a failure is logged and never fails the
//! connection.

use std::time::Duration;

use socket2::{SockRef, TcpKeepalive};
use tokio::net::TcpStream;

/// Keepalive probing finds peers that vanished without a FIN (node crash, pod deleted
/// behind a NAT) after roughly 15 s + 9 × 15 s; the same figures as the Go runtime.
const KEEPALIVE_IDLE: Duration = Duration::from_secs(15);
const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(15);
const KEEPALIVE_PROBES: u32 = 9;

/// `TCP_NODELAY` (requests and TLS records are forwarded as they arrive, not batched)
/// and TCP keepalive, on the backend socket.
pub fn tune_relay_socket(stream: &TcpStream) {
    tune(SockRef::from(stream));
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
    let keepalive = keepalive.with_retries(KEEPALIVE_PROBES);
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
