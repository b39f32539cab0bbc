//! Backend dialing: name lookup (no cache, every dial resolves again so a Service that
//! moves is followed), TCP connect under one deadline, and the failure cause taxonomy
//! shared by `/readyz`, logs and metrics.

use std::fmt;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use socket2::{Domain, Protocol, Socket, Type};
use tokio::net::TcpStream;
use tokio::time::Instant;

use crate::resolve::{self, LookupError, LookupFailure};
use crate::socket_options;

/// Why a backend could not be reached, as a stable token for probes, logs and metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DialCause {
    DnsNxdomain,
    DnsTimeout,
    DnsError,
    ConnectionRefused,
    Timeout,
    Unreachable,
}

impl DialCause {
    pub const ALL: [DialCause; 6] = [
        DialCause::DnsNxdomain,
        DialCause::DnsTimeout,
        DialCause::DnsError,
        DialCause::ConnectionRefused,
        DialCause::Timeout,
        DialCause::Unreachable,
    ];

    pub fn token(self) -> &'static str {
        match self {
            DialCause::DnsNxdomain => "dns-nxdomain",
            DialCause::DnsTimeout => "dns-timeout",
            DialCause::DnsError => "dns-error",
            DialCause::ConnectionRefused => "connection-refused",
            DialCause::Timeout => "timeout",
            DialCause::Unreachable => "unreachable",
        }
    }

    /// Position in [`DialCause::ALL`], for per-cause counters.
    pub fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for DialCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.token())
    }
}

/// The backend a listener forwards to: a host name or IP literal plus a port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackendAddr {
    pub host: String,
    pub port: u16,
}

impl fmt::Display for BackendAddr {
    /// `host:port`, with IPv6 literals bracketed.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') && !self.host.starts_with('[') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

/// A failed dial; `Display` reads like a resolver or socket error message.
#[derive(Debug, thiserror::Error)]
pub enum DialError {
    #[error("{0}")]
    Lookup(#[from] LookupError),
    #[error("dial tcp {backend}: lookup timed out after {elapsed:?}")]
    LookupTimeout { backend: String, elapsed: Duration },
    #[error("dial tcp {backend}: i/o timeout after {elapsed:?}")]
    ConnectTimeout { backend: String, elapsed: Duration },
    #[error("dial tcp {address}: {source}")]
    Connect {
        address: SocketAddr,
        source: io::Error,
    },
}

impl DialError {
    /// The first matching rule wins; DNS failures are checked before connection failures
    /// so that a slow resolver reads as `dns-timeout`, never as `timeout`.
    pub fn cause(&self) -> DialCause {
        match self {
            DialError::Lookup(e) => match e.failure {
                LookupFailure::NotFound => DialCause::DnsNxdomain,
                LookupFailure::Timeout => DialCause::DnsTimeout,
                LookupFailure::Temporary | LookupFailure::Other => DialCause::DnsError,
            },
            DialError::LookupTimeout { .. } => DialCause::DnsTimeout,
            DialError::ConnectTimeout { .. } => DialCause::Timeout,
            DialError::Connect { source, .. } => io_cause(source),
        }
    }
}

/// The cause of a socket-level error.
pub fn io_cause(error: &io::Error) -> DialCause {
    if error.kind() == io::ErrorKind::ConnectionRefused
        || error.raw_os_error() == Some(libc::ECONNREFUSED)
    {
        DialCause::ConnectionRefused
    } else if error.kind() == io::ErrorKind::TimedOut
        || error.raw_os_error() == Some(libc::ETIMEDOUT)
    {
        DialCause::Timeout
    } else {
        DialCause::Unreachable
    }
}

/// Resolves and connects to `backend` within `timeout` (lookup and connect together).
/// Addresses are tried in resolver order until one accepts.
pub async fn dial(backend: &BackendAddr, timeout: Duration) -> Result<TcpStream, DialError> {
    let started = Instant::now();
    let deadline = started + timeout;
    // An expired budget (a zero or negative configured timeout) fails before any work,
    // whatever the resolver cache or a loopback connect could have done in no time.
    if timeout.is_zero() {
        return Err(no_budget(backend));
    }
    let addresses = match tokio::time::timeout_at(deadline, resolve_backend(backend)).await {
        Ok(result) => result?,
        Err(_) => return Err(timed_out(backend, true, started.elapsed())),
    };
    match tokio::time::timeout_at(deadline, connect_any(backend, addresses)).await {
        Ok(result) => result,
        Err(_) => Err(timed_out(backend, false, started.elapsed())),
    }
}

/// The failure of a dial with a zero budget.
pub fn no_budget(backend: &BackendAddr) -> DialError {
    timed_out(backend, literal_ip(&backend.host).is_none(), Duration::ZERO)
}

/// The failure of a dial whose budget ran out after `elapsed`, during the name lookup or
/// during the connect.
pub fn timed_out(backend: &BackendAddr, during_lookup: bool, elapsed: Duration) -> DialError {
    let backend = backend.to_string();
    if during_lookup {
        DialError::LookupTimeout { backend, elapsed }
    } else {
        DialError::ConnectTimeout { backend, elapsed }
    }
}

/// The addresses of `backend`: its IP literal, or what the resolver answers (no cache).
/// Unbounded: callers bound it.
pub async fn resolve_backend(backend: &BackendAddr) -> Result<Vec<SocketAddr>, DialError> {
    match literal_ip(&backend.host) {
        Some(ip) => Ok(vec![SocketAddr::new(ip, backend.port)]),
        None => Ok(resolve::lookup(&backend.host, backend.port).await?),
    }
}

/// Connects to the first of `addresses` that accepts, tuned for relaying. Unbounded:
/// callers bound it.
pub async fn connect_any(
    backend: &BackendAddr,
    addresses: Vec<SocketAddr>,
) -> Result<TcpStream, DialError> {
    let mut last_error = None;
    for address in addresses {
        match connect(address).await {
            Ok(stream) => return Ok(stream),
            Err(source) => last_error = Some(DialError::Connect { address, source }),
        }
    }
    Err(last_error.unwrap_or_else(|| {
        DialError::Lookup(LookupError {
            host: backend.host.clone(),
            failure: LookupFailure::NotFound,
            detail: "no addresses".into(),
        })
    }))
}

/// One non-blocking connect, with the socket tuned before it starts (so that the
/// handshake itself already follows the relay's options).
async fn connect(address: SocketAddr) -> io::Result<TcpStream> {
    let socket = start_connect(address)?;
    let stream = TcpStream::from_std(std::net::TcpStream::from(socket))?;
    stream.writable().await?;
    match stream.take_error()? {
        Some(error) => Err(error),
        None => Ok(stream),
    }
}

/// A non-blocking socket to `address`, tuned for relaying, its connect started: it is
/// connected once writable, and `SO_ERROR` then says whether it failed.
pub fn start_connect(address: SocketAddr) -> io::Result<Socket> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    let kind = Type::STREAM.nonblocking();
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    let kind = Type::STREAM;
    let socket = Socket::new(Domain::for_address(address), kind, Some(Protocol::TCP))?;
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    socket.set_nonblocking(true)?;
    socket_options::tune_backend_socket(&socket);
    match socket.connect(&address.into()) {
        Ok(()) => Ok(socket),
        Err(error) if error.raw_os_error() == Some(libc::EINPROGRESS) => Ok(socket),
        Err(error) => Err(error),
    }
}

/// An IP literal (IPv6 optionally bracketed) needs no lookup.
pub fn literal_ip(host: &str) -> Option<IpAddr> {
    let unbracketed = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    unbracketed.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup_error(failure: LookupFailure) -> DialError {
        DialError::Lookup(LookupError {
            host: "h".into(),
            failure,
            detail: "x".into(),
        })
    }

    #[test]
    fn dns_classification() {
        assert_eq!(
            lookup_error(LookupFailure::NotFound).cause(),
            DialCause::DnsNxdomain
        );
        assert_eq!(
            lookup_error(LookupFailure::Timeout).cause(),
            DialCause::DnsTimeout
        );
        assert_eq!(
            lookup_error(LookupFailure::Temporary).cause(),
            DialCause::DnsError
        );
        assert_eq!(
            lookup_error(LookupFailure::Other).cause(),
            DialCause::DnsError
        );
        let timeout = DialError::LookupTimeout {
            backend: "h:1".into(),
            elapsed: Duration::from_secs(1),
        };
        assert_eq!(timeout.cause(), DialCause::DnsTimeout);
    }

    #[test]
    fn connect_classification() {
        let address: SocketAddr = "127.0.0.1:1".parse().unwrap();
        let wrap = |source| DialError::Connect { address, source };
        assert_eq!(
            wrap(io::Error::from_raw_os_error(libc::ECONNREFUSED)).cause(),
            DialCause::ConnectionRefused
        );
        assert_eq!(
            wrap(io::Error::from_raw_os_error(libc::ETIMEDOUT)).cause(),
            DialCause::Timeout
        );
        assert_eq!(
            wrap(io::Error::from(io::ErrorKind::TimedOut)).cause(),
            DialCause::Timeout
        );
        assert_eq!(
            wrap(io::Error::from_raw_os_error(libc::EHOSTUNREACH)).cause(),
            DialCause::Unreachable
        );
        assert_eq!(
            wrap(io::Error::from_raw_os_error(libc::ENETUNREACH)).cause(),
            DialCause::Unreachable
        );
        assert_eq!(
            wrap(io::Error::other("anything")).cause(),
            DialCause::Unreachable
        );
        let timeout = DialError::ConnectTimeout {
            backend: "h:1".into(),
            elapsed: Duration::from_secs(1),
        };
        assert_eq!(timeout.cause(), DialCause::Timeout);
    }

    #[test]
    fn tokens_are_stable() {
        let tokens: Vec<&str> = DialCause::ALL.iter().map(|c| c.token()).collect();
        assert_eq!(
            tokens,
            [
                "dns-nxdomain",
                "dns-timeout",
                "dns-error",
                "connection-refused",
                "timeout",
                "unreachable"
            ]
        );
        for (i, cause) in DialCause::ALL.iter().enumerate() {
            assert_eq!(cause.index(), i);
        }
    }

    #[test]
    fn backend_display_brackets_ipv6() {
        assert_eq!(
            BackendAddr {
                host: "::1".into(),
                port: 80
            }
            .to_string(),
            "[::1]:80"
        );
        assert_eq!(
            BackendAddr {
                host: "[::1]".into(),
                port: 80
            }
            .to_string(),
            "[::1]:80"
        );
        assert_eq!(
            BackendAddr {
                host: "a.b".into(),
                port: 443
            }
            .to_string(),
            "a.b:443"
        );
        assert_eq!(literal_ip("[::1]"), Some("::1".parse().unwrap()));
        assert_eq!(literal_ip("a.b"), None);
    }

    #[tokio::test]
    async fn refused_port_is_connection_refused() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let err = dial(
            &BackendAddr {
                host: "127.0.0.1".into(),
                port,
            },
            Duration::from_secs(2),
        )
        .await
        .unwrap_err();
        assert_eq!(err.cause(), DialCause::ConnectionRefused, "{err}");
    }

    #[tokio::test]
    async fn dialed_sockets_carry_the_relay_options() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let stream = dial(
            &BackendAddr {
                host: "127.0.0.1".into(),
                port,
            },
            Duration::from_secs(2),
        )
        .await
        .unwrap();
        let socket = socket2::SockRef::from(&stream);
        crate::socket_options::assert_relay_options(&socket);
        #[cfg(target_os = "linux")]
        {
            assert_eq!(
                socket.tcp_keepalive_interval().unwrap(),
                Duration::from_secs(15)
            );
            assert_eq!(socket.tcp_keepalive_retries().unwrap(), 9);
        }
    }

    #[tokio::test]
    async fn invalid_tld_is_nxdomain() {
        let err = dial(
            &BackendAddr {
                host: "backend.invalid".into(),
                port: 80,
            },
            Duration::from_secs(2),
        )
        .await
        .unwrap_err();
        assert_eq!(err.cause(), DialCause::DnsNxdomain, "{err}");
        assert!(err.to_string().contains("backend.invalid"), "{err}");
    }

    #[tokio::test]
    async fn negative_budget_fails_at_once() {
        let err = dial(
            &BackendAddr {
                host: "localhost".into(),
                port: 9,
            },
            Duration::ZERO,
        )
        .await
        .unwrap_err();
        assert_eq!(err.cause(), DialCause::DnsTimeout, "{err}");
        let err = dial(
            &BackendAddr {
                host: "127.0.0.1".into(),
                port: 9,
            },
            Duration::ZERO,
        )
        .await
        .unwrap_err();
        assert_eq!(err.cause(), DialCause::Timeout, "{err}");
    }
}
