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
/// and TCP keepalive, on both the client and the backend socket.
pub fn tune_relay_socket(stream: &TcpStream) {
    if let Err(error) = stream.set_nodelay(true) {
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
    if let Err(error) = SockRef::from(stream).set_tcp_keepalive(&keepalive) {
        tracing::debug!(%error, "enable TCP keepalive");
    }
}
