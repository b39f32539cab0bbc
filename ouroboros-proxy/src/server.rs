//! The relay server: binds the listeners, accepts, hands each connection to its own
//! task (dial → header → relay), and drains on shutdown.

use std::future::Future;
use std::io;
use std::net::{SocketAddr, TcpListener as StdTcpListener, ToSocketAddrs};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use socket2::{Domain, Protocol, Socket, Type};
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, Semaphore};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::ProxyConfig;
use crate::dial::{dial, BackendAddr};
use crate::header::{ClientAddr, LocalAddr, ProxyHeader, ProxyVersion};
use crate::health::{self, HealthContext};
use crate::metrics::{Metrics, RejectReason};
use crate::readiness::ReadinessTracker;
use crate::relay::{self, RelayEnd, RelayOptions};
use crate::socket_options;

/// Pending connections the kernel queues per listener while the accept loop is busy or
/// backing off.
const LISTEN_BACKLOG: i32 = 1024;
/// Accept back-off after running out of descriptors or memory: starts short so a brief
/// spike costs little latency, doubles up to a ceiling so a persistent shortage does not
/// spin a core.
const ACCEPT_BACKOFF_MIN: Duration = Duration::from_millis(5);
const ACCEPT_BACKOFF_MAX: Duration = Duration::from_secs(1);
/// After the grace period, how long to wait for force-closed handlers to return.
const FORCE_CLOSE_WAIT: Duration = Duration::from_secs(2);

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("listen {address:?}: {reason}")]
    BadAddress { address: String, reason: String },
    #[error("listen {address:?}: {source}")]
    Bind { address: String, source: io::Error },
    #[error("start event loop: {0}")]
    EventLoop(io::Error),
    #[error("accept on {listener}: {source}")]
    Accept {
        listener: SocketAddr,
        source: io::Error,
    },
}

/// Which relay listener a connection arrived on; selects the backend port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListenerRole {
    Http,
    Https,
}

/// Actual bound addresses (useful when port 0 was asked for).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BoundAddrs {
    pub http: Option<SocketAddr>,
    pub https: Option<SocketAddr>,
    pub health: Option<SocketAddr>,
}

/// A bound, not yet running server.
pub struct Server {
    config: ProxyConfig,
    http: Option<StdTcpListener>,
    https: Option<StdTcpListener>,
    health: Option<StdTcpListener>,
    metrics: Arc<Metrics>,
}

/// What every connection task needs.
struct ConnectionContext {
    http_backend: BackendAddr,
    https_backend: BackendAddr,
    dial_timeout: Duration,
    proxy_version: ProxyVersion,
    relay: RelayOptions,
    metrics: Arc<Metrics>,
    /// Fired when the grace period is over: remaining connections are closed.
    force_close: CancellationToken,
    draining: AtomicBool,
}

impl Server {
    /// Binds HTTP, HTTPS and health listeners in that order. On any failure the
    /// listeners bound so far are dropped (closed) before the error is returned.
    pub fn bind(config: ProxyConfig) -> Result<Server, ServerError> {
        let http = config
            .listen_http
            .as_deref()
            .map(bind_listener)
            .transpose()?;
        let https = config
            .listen_https
            .as_deref()
            .map(bind_listener)
            .transpose()?;
        let health = config
            .listen_health
            .as_deref()
            .map(bind_listener)
            .transpose()?;
        Ok(Server {
            config,
            http,
            https,
            health,
            metrics: Arc::new(Metrics::default()),
        })
    }

    pub fn local_addrs(&self) -> BoundAddrs {
        let addr = |l: &Option<StdTcpListener>| l.as_ref().and_then(|l| l.local_addr().ok());
        BoundAddrs {
            http: addr(&self.http),
            https: addr(&self.https),
            health: addr(&self.health),
        }
    }

    pub fn metrics(&self) -> Arc<Metrics> {
        Arc::clone(&self.metrics)
    }

    /// Serves until `shutdown` completes, then stops accepting, marks the relay not
    /// ready, lets in-flight connections finish for up to the shutdown grace, and closes
    /// what is left. An accept error that is not transient ends the server with an error
    /// after the same teardown.
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> Result<(), ServerError> {
        let Server {
            config,
            http,
            https,
            health,
            metrics,
        } = self;
        let relay_listeners: Vec<(StdTcpListener, ListenerRole)> =
            [(http, ListenerRole::Http), (https, ListenerRole::Https)]
                .into_iter()
                .filter_map(|(listener, role)| listener.map(|l| (l, role)))
                .collect();
        // Each extra event loop gets its own copy of every relay listener descriptor.
        let mut extra_loops = Vec::new();
        for _ in 1..config.worker_threads.max(1) {
            let runtime = BackgroundRuntime(Some(
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(ServerError::EventLoop)?,
            ));
            let mut listeners = Vec::new();
            for (listener, role) in &relay_listeners {
                let copy = listener.try_clone().map_err(|source| ServerError::Bind {
                    address: listener
                        .local_addr()
                        .map(|a| a.to_string())
                        .unwrap_or_default(),
                    source,
                })?;
                // Registers the copy with the extra loop's reactor, not this one.
                let _entered = runtime.enter();
                listeners.push((register(copy)?, *role));
            }
            extra_loops.push((runtime, listeners));
        }
        let health = health.map(register).transpose()?;
        let relay_listeners = relay_listeners
            .into_iter()
            .map(|(listener, role)| Ok((register(listener)?, role)))
            .collect::<Result<Vec<_>, ServerError>>()?;
        let connections = TaskTracker::new();
        let stop_accepting = CancellationToken::new();
        let context = Arc::new(ConnectionContext {
            http_backend: BackendAddr {
                host: config.backend_host.clone(),
                port: config.target_http_port,
            },
            https_backend: BackendAddr {
                host: config.backend_host.clone(),
                port: config.target_https_port,
            },
            dial_timeout: config.dial_timeout,
            proxy_version: config.proxy_version,
            relay: RelayOptions {
                idle_timeout: config.idle_timeout,
                splice: config.splice,
            },
            metrics: Arc::clone(&metrics),
            force_close: CancellationToken::new(),
            draining: AtomicBool::new(false),
        });
        let limit = Arc::new(Semaphore::new(
            config.max_connections.min(Semaphore::MAX_PERMITS),
        ));
        let (fatal_tx, mut fatal_rx) = mpsc::channel::<ServerError>(2);
        let accept_loops = TaskTracker::new();
        let accept_on = |listener, role| {
            accept_loop(
                listener,
                role,
                Arc::clone(&context),
                Arc::clone(&limit),
                connections.clone(),
                stop_accepting.clone(),
                fatal_tx.clone(),
            )
        };
        for (listener, role) in relay_listeners {
            accept_loops.spawn(accept_on(listener, role));
        }
        for (index, (runtime, listeners)) in extra_loops.into_iter().enumerate() {
            let loops: Vec<_> = listeners
                .into_iter()
                .map(|(listener, role)| accept_loops.track_future(accept_on(listener, role)))
                .collect();
            let connections = connections.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("relay-loop-{}", index + 1))
                .spawn(move || {
                    runtime.block_on(async move {
                        for accept in loops {
                            tokio::spawn(accept);
                        }
                        // The connections accepted here run on this loop: keep it
                        // alive until the server has drained them.
                        connections.wait().await;
                    })
                });
            if let Err(error) = spawned {
                stop_accepting.cancel();
                return Err(ServerError::EventLoop(error));
            }
        }
        drop(fatal_tx);
        accept_loops.close();

        let mut probe_targets = Vec::new();
        if config.listen_http.is_some() {
            probe_targets.push(context.http_backend.clone());
        }
        if config.listen_https.is_some() {
            probe_targets.push(context.https_backend.clone());
        }
        let health_context = Arc::new(HealthContext {
            probe_targets,
            ready_timeout: config.ready_timeout,
            readiness: ReadinessTracker::default(),
            metrics: Arc::clone(&metrics),
            shutting_down: AtomicBool::new(false),
        });
        let stop_health = CancellationToken::new();
        let health_requests = TaskTracker::new();
        let health_server = health.map(|listener| {
            tokio::spawn(health::serve(
                listener,
                Arc::clone(&health_context),
                stop_health.clone(),
                health_requests.clone(),
            ))
        });

        // Whichever comes first: the shutdown signal or a fatal accept error.
        let outcome = tokio::select! {
            _ = shutdown => Ok(()),
            Some(error) = fatal_rx.recv() => Err(error),
        };

        // Stop accepting first so new connects are refused while the rest drains, and
        // report not-ready so the Service stops sending new clients here.
        health_context.shutting_down.store(true, Ordering::Relaxed);
        context.draining.store(true, Ordering::Relaxed);
        stop_accepting.cancel();
        accept_loops.wait().await;
        connections.close();
        let grace = if outcome.is_ok() {
            config.shutdown_grace
        } else {
            Duration::ZERO
        };
        if tokio::time::timeout(grace, connections.wait())
            .await
            .is_err()
        {
            tracing::warn!(
                active = metrics.active(),
                "shutdown grace expired with active connections"
            );
        }
        context.force_close.cancel();
        let _ = tokio::time::timeout(FORCE_CLOSE_WAIT, connections.wait()).await;

        stop_health.cancel();
        if let Some(server) = health_server {
            let _ = server.await;
        }
        health_requests.close();
        let _ = tokio::time::timeout(FORCE_CLOSE_WAIT, health_requests.wait()).await;
        outcome
    }
}

/// The runtime of an extra event loop. Dropping a runtime inside async code panics, so
/// one that never got its thread (startup failed half-way) is shut down in the
/// background instead.
struct BackgroundRuntime(Option<tokio::runtime::Runtime>);

impl BackgroundRuntime {
    /// Runs `future` to completion on this thread, then drops the runtime here, outside
    /// async code.
    fn block_on(mut self, future: impl Future<Output = ()>) {
        if let Some(runtime) = self.0.take() {
            runtime.block_on(future);
        }
    }

    fn enter(&self) -> Option<tokio::runtime::EnterGuard<'_>> {
        self.0.as_ref().map(|runtime| runtime.enter())
    }
}

impl Drop for BackgroundRuntime {
    fn drop(&mut self) {
        if let Some(runtime) = self.0.take() {
            runtime.shutdown_background();
        }
    }
}

/// Hands a bound listener to the runtime's reactor.
fn register(listener: StdTcpListener) -> Result<TcpListener, ServerError> {
    let address = listener
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    TcpListener::from_std(listener).map_err(|source| ServerError::Bind { address, source })
}

/// Binds one listen address. `:port` (empty host) means every interface, IPv6 and IPv4
/// (dual-stack), falling back to IPv4 only where IPv6 is unavailable.
pub fn bind_listener(address: &str) -> Result<StdTcpListener, ServerError> {
    let bad = |reason: String| ServerError::BadAddress {
        address: address.to_string(),
        reason,
    };
    let (host, port_text) = address
        .rsplit_once(':')
        .ok_or_else(|| bad("missing port (want host:port or :port)".into()))?;
    let port: u16 = port_text
        .parse()
        .map_err(|_| bad(format!("invalid port {port_text:?}")))?;
    let candidates: Vec<SocketAddr> = if host.is_empty() {
        vec![
            "[::]:0".parse().expect("literal"),
            "0.0.0.0:0".parse().expect("literal"),
        ]
        .into_iter()
        .map(|mut a: SocketAddr| {
            a.set_port(port);
            a
        })
        .collect()
    } else {
        let unbracketed = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        (unbracketed, port)
            .to_socket_addrs()
            .map_err(|e| bad(format!("resolve host {host:?}: {e}")))?
            .collect()
    };
    let mut last_error = None;
    for candidate in candidates {
        match listen_socket(candidate) {
            Ok(listener) => return Ok(listener),
            Err(source) => last_error = Some(source),
        }
    }
    Err(ServerError::Bind {
        address: address.to_string(),
        source: last_error.unwrap_or_else(|| {
            io::Error::new(io::ErrorKind::AddrNotAvailable, "no address to bind")
        }),
    })
}

fn listen_socket(address: SocketAddr) -> io::Result<StdTcpListener> {
    let socket = Socket::new(
        Domain::for_address(address),
        Type::STREAM,
        Some(Protocol::TCP),
    )?;
    if address.is_ipv6() && address.ip().is_unspecified() {
        socket.set_only_v6(false)?;
    }
    // Allows an immediate restart while old connections sit in TIME_WAIT.
    socket.set_reuse_address(true)?;
    socket.set_nonblocking(true)?;
    socket_options::tune_listener(&socket);
    socket.bind(&address.into())?;
    socket.listen(LISTEN_BACKLOG)?;
    Ok(StdTcpListener::from(socket))
}

/// What to do after a failed `accept`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AcceptFailure {
    /// The pending connection went away (reset, aborted); try the next one at once.
    Retry,
    /// Out of descriptors, buffers or memory: wait, then try again.
    BackOff,
    /// The listener itself is broken.
    Fatal,
}

pub fn classify_accept_error(error: &io::Error) -> AcceptFailure {
    match error.raw_os_error() {
        Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM) => AcceptFailure::BackOff,
        Some(libc::EBADF | libc::EINVAL | libc::ENOTSOCK | libc::EOPNOTSUPP | libc::EFAULT) => {
            AcceptFailure::Fatal
        }
        _ => AcceptFailure::Retry,
    }
}

async fn accept_loop(
    listener: TcpListener,
    role: ListenerRole,
    context: Arc<ConnectionContext>,
    limit: Arc<Semaphore>,
    connections: TaskTracker,
    stop: CancellationToken,
    fatal: mpsc::Sender<ServerError>,
) {
    let local = listener
        .local_addr()
        .unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)));
    let mut backoff = ACCEPT_BACKOFF_MIN;
    let mut warned = false;
    loop {
        // Stop is checked first so a busy listener cannot delay shutdown.
        let accepted = tokio::select! {
            biased;
            _ = stop.cancelled() => return,
            accepted = listener.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(pair) => pair,
            Err(error) => {
                context.metrics.accept_error();
                match classify_accept_error(&error) {
                    AcceptFailure::Retry => continue,
                    AcceptFailure::BackOff => {
                        // One WARN per shortage, not per failed accept.
                        if !warned {
                            tracing::warn!(listener = %local, %error, "accept failed; backing off");
                            warned = true;
                        }
                        tokio::select! {
                            _ = stop.cancelled() => return,
                            _ = tokio::time::sleep(backoff) => {}
                        }
                        backoff = (backoff * 2).min(ACCEPT_BACKOFF_MAX);
                        continue;
                    }
                    AcceptFailure::Fatal => {
                        let _ = fatal
                            .send(ServerError::Accept {
                                listener: local,
                                source: error,
                            })
                            .await;
                        return;
                    }
                }
            }
        };
        if warned {
            tracing::info!(listener = %local, "accept recovered");
            warned = false;
        }
        backoff = ACCEPT_BACKOFF_MIN;
        context.metrics.connection_accepted();
        let Ok(permit) = Arc::clone(&limit).try_acquire_owned() else {
            context.metrics.rejected(RejectReason::MaxConnections);
            drop(stream);
            continue;
        };
        let context = Arc::clone(&context);
        connections.spawn(async move {
            handle_connection(stream, peer, role, &context).await;
            drop(permit);
        });
    }
}

async fn handle_connection(
    client: TcpStream,
    peer: SocketAddr,
    role: ListenerRole,
    context: &ConnectionContext,
) {
    if context.draining.load(Ordering::Relaxed) {
        context.metrics.rejected(RejectReason::ShuttingDown);
        return;
    }
    let started = Instant::now();
    context.metrics.connection_opened();
    relay_connection(client, peer, role, context).await;
    context.metrics.connection_closed(started.elapsed());
}

async fn relay_connection(
    client: TcpStream,
    peer: SocketAddr,
    role: ListenerRole,
    context: &ConnectionContext,
) {
    socket_options::tune_accepted_socket(&client);
    let backend_addr = match role {
        ListenerRole::Http => &context.http_backend,
        ListenerRole::Https => &context.https_backend,
    };
    // Client bytes are not read while dialing; they wait in the kernel buffer.
    let dialed = tokio::select! {
        _ = context.force_close.cancelled() => return,
        dialed = dial(backend_addr, context.dial_timeout) => dialed,
    };
    let mut backend = match dialed {
        Ok(backend) => backend,
        Err(error) => {
            let cause = error.cause();
            context.metrics.dial_failed(cause);
            tracing::warn!(host = %backend_addr.host, port = backend_addr.port, %cause, %error, "backend dial failed");
            // Dropping the client closes it without a byte written.
            return;
        }
    };
    let header = ProxyHeader::for_connection(
        Some(ClientAddr(peer)),
        client.local_addr().ok().map(LocalAddr),
    )
    .encode(context.proxy_version);
    let first_write = with_early_client_bytes(header, &client, &context.metrics);
    if let Err(error) = write_header(&mut backend, &first_write, context.dial_timeout).await {
        context.metrics.header_write_failed();
        tracing::warn!(%error, "write proxy header");
        return;
    }
    let end = relay::relay(
        &client,
        &backend,
        context.relay,
        &context.metrics,
        &context.force_close,
    )
    .await;
    if end == RelayEnd::IdleTimeout {
        context.metrics.idle_timeout();
    }
}

/// Most bytes of an early request sent together with the header.
const EARLY_DATA_LIMIT: usize = 4096;

/// Appends the client bytes that arrived while the backend was dialed (typically the
/// whole request) to the header, so the backend gets one segment and one wake-up instead
/// of two. The header still comes first; nothing waits for the client, so server-first
/// protocols get the header at once.
///
/// A short read drained the socket, so it also clears the read readiness: the relay
/// then waits for the next bytes instead of first trying a read that can only say
/// EAGAIN.
fn with_early_client_bytes(mut header: Vec<u8>, client: &TcpStream, metrics: &Metrics) -> Vec<u8> {
    let mut early = [0u8; EARLY_DATA_LIMIT];
    let fd = client.as_raw_fd();
    if let Ok(Some(read)) =
        relay::try_read_draining(client, early.len(), || relay::read_fd(fd, &mut early))
    {
        header.extend_from_slice(&early[..read]);
        metrics.bytes(crate::metrics::Direction::ClientToBackend, read as u64);
    }
    header
}

/// Writes the whole header before any client byte, bounded by `timeout` (a backend
/// that accepts but never reads must not pin the connection forever).
pub async fn write_header<W: AsyncWrite + Unpin>(
    backend: &mut W,
    header: &[u8],
    timeout: Duration,
) -> io::Result<()> {
    match tokio::time::timeout(timeout, backend.write_all(header)).await {
        Ok(result) => result,
        Err(_) => Err(io::Error::new(
            io::ErrorKind::TimedOut,
            format!("i/o timeout after {timeout:?}"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn header_write_to_a_peer_that_never_reads_times_out() {
        let (mut writer, _reader) = tokio::io::duplex(8);
        let started = std::time::Instant::now();
        let err = write_header(&mut writer, &[b'x'; 64], Duration::from_millis(100))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        assert!(started.elapsed() < Duration::from_millis(500));
    }

    #[tokio::test]
    async fn header_write_to_a_reading_peer_succeeds() {
        let (mut writer, mut reader) = tokio::io::duplex(8);
        let read = tokio::spawn(async move {
            let mut all = Vec::new();
            tokio::io::AsyncReadExt::read_to_end(&mut reader, &mut all)
                .await
                .map(|_| all)
        });
        write_header(&mut writer, &[b'x'; 64], Duration::from_millis(500))
            .await
            .unwrap();
        drop(writer);
        assert_eq!(read.await.unwrap().unwrap(), vec![b'x'; 64]);
    }

    #[test]
    fn accept_error_classes() {
        let os = io::Error::from_raw_os_error;
        assert_eq!(
            classify_accept_error(&os(libc::EMFILE)),
            AcceptFailure::BackOff
        );
        assert_eq!(
            classify_accept_error(&os(libc::ENFILE)),
            AcceptFailure::BackOff
        );
        assert_eq!(
            classify_accept_error(&os(libc::ECONNABORTED)),
            AcceptFailure::Retry
        );
        assert_eq!(
            classify_accept_error(&os(libc::EBADF)),
            AcceptFailure::Fatal
        );
    }

    #[test]
    fn bad_listen_addresses() {
        assert!(matches!(
            bind_listener("not-a-host:not-a-port"),
            Err(ServerError::BadAddress { .. })
        ));
        assert!(matches!(
            bind_listener("8080"),
            Err(ServerError::BadAddress { .. })
        ));
        let taken = bind_listener("127.0.0.1:0").unwrap();
        let address = taken.local_addr().unwrap().to_string();
        let err = bind_listener(&address).unwrap_err();
        assert!(matches!(err, ServerError::Bind { .. }), "{err}");
        assert!(err.to_string().contains(&address));
    }

    #[tokio::test]
    async fn accepted_clients_are_tuned_like_the_listener() {
        let listener = register(bind_listener("127.0.0.1:0").unwrap()).unwrap();
        let address = listener.local_addr().unwrap();
        let _client = std::net::TcpStream::connect(address).unwrap();
        let (accepted, _) = listener.accept().await.unwrap();
        socket_options::tune_accepted_socket(&accepted);
        let socket = socket2::SockRef::from(&accepted);
        assert!(socket.tcp_nodelay().unwrap(), "TCP_NODELAY not set");
        assert!(socket.keepalive().unwrap(), "SO_KEEPALIVE not set");
        #[cfg(target_os = "linux")]
        assert_eq!(
            socket.tcp_keepalive_time().unwrap(),
            Duration::from_secs(15)
        );
    }

    #[test]
    fn port_only_binds_every_interface() {
        let listener = bind_listener(":0").unwrap();
        assert!(listener.local_addr().unwrap().ip().is_unspecified());
    }
}
