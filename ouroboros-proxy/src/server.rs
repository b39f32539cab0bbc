//! The relay server: binds the listeners, accepts, and drains on shutdown. Each accepted
//! connection goes to its event loop's relay engine when the backend is an IP address
//! (Linux), or else to a task of its own (lookup → dial → header → relay).

use std::future::Future;
use std::io;
use std::net::{SocketAddr, TcpListener as StdTcpListener, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use socket2::{Domain, Protocol, Socket, Type};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::time::{Instant, MissedTickBehavior};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::ProxyConfig;
use crate::dial::{self, BackendAddr};
use crate::header::{ClientAddr, LocalAddr, ProxyHeader, ProxyVersion};
use crate::health::{self, HealthContext};
use crate::metrics::{Counters, Metrics, RejectReason};
use crate::readiness::ReadinessTracker;
use crate::relay;
#[cfg(target_os = "linux")]
use crate::relay_engine::{Adoption, Ending, EngineThread, RelayEngine};
use crate::socket_options;
use crate::watchdog::{supervise, Phase, Registration, Stop, Watchdog};

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
/// While draining, how often each event loop checks whether its connections are gone.
const DRAIN_CHECK: Duration = Duration::from_millis(10);

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
    idle_timeout: Option<Duration>,
    proxy_version: ProxyVersion,
    splice: bool,
    metrics: Arc<Metrics>,
    /// Fired when the grace period is over: remaining connections are closed.
    force_close: CancellationToken,
    draining: AtomicBool,
    limit: ConnectionLimit,
}

/// `--max-connections`: connections being handled, across all event loops.
struct ConnectionLimit {
    max: usize,
    current: AtomicUsize,
}

impl ConnectionContext {
    fn backend(&self, role: ListenerRole) -> &BackendAddr {
        match role {
            ListenerRole::Http => &self.http_backend,
            ListenerRole::Https => &self.https_backend,
        }
    }
}

impl ConnectionLimit {
    fn try_acquire(&self) -> bool {
        let previous = self.current.fetch_add(1, Ordering::Relaxed);
        if previous >= self.max {
            self.current.fetch_sub(1, Ordering::Relaxed);
            return false;
        }
        true
    }

    fn release(&self) {
        self.current.fetch_sub(1, Ordering::Relaxed);
    }
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
        let metrics = Arc::new(Metrics::with_shards(config.worker_threads.max(1)));
        Ok(Server {
            config,
            http,
            https,
            health,
            metrics,
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
                let copy = sibling_listener(listener).map_err(|source| ServerError::Bind {
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
            idle_timeout: config.idle_timeout,
            proxy_version: config.proxy_version,
            splice: config.splice,
            metrics: Arc::clone(&metrics),
            force_close: CancellationToken::new(),
            draining: AtomicBool::new(false),
            limit: ConnectionLimit {
                max: config.max_connections,
                current: AtomicUsize::new(0),
            },
        });
        let (fatal_tx, mut fatal_rx) = mpsc::channel::<ServerError>(2);
        let accept_loops = TaskTracker::new();
        // Event loop `n` adds to metrics shard `n`; this thread's loop is 0.
        let accept_on = |listener, role, event_loop: &EventLoop| {
            accept_loop(
                listener,
                role,
                event_loop.clone(),
                Arc::clone(&context),
                connections.clone(),
                stop_accepting.clone(),
                fatal_tx.clone(),
            )
        };
        let main_loop = EventLoop::start(&context, 0);
        for (listener, role) in relay_listeners {
            accept_loops.spawn(accept_on(listener, role, &main_loop));
        }
        drop(main_loop);
        for (index, (runtime, listeners)) in extra_loops.into_iter().enumerate() {
            let event_loop = EventLoop::start(&context, index + 1);
            let loops: Vec<_> = listeners
                .into_iter()
                .map(|(listener, role)| {
                    accept_loops.track_future(accept_on(listener, role, &event_loop))
                })
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

/// On Linux every event loop gets a listening socket of its own on the relay port
/// (`SO_REUSEPORT`): the kernel spreads connections over them by a hash of the
/// addresses, so no loop is woken for a connection another one accepts, and a burst of
/// connections (a client pool opening) cannot all land on whichever loop woke first,
/// leaving the other loops idle. Elsewhere the loops share one socket.
const SOCKET_PER_LOOP: bool = cfg!(any(target_os = "linux", target_os = "android"));

fn listen_socket(address: SocketAddr) -> io::Result<StdTcpListener> {
    if SOCKET_PER_LOOP && address.port() != 0 {
        // Sharing the port with our own sockets must not hide that somebody else holds
        // it: a plain bind finds out first (and is closed before it ever listens).
        new_socket(address, false)?.bind(&address.into())?;
    }
    let socket = new_socket(address, SOCKET_PER_LOOP)?;
    socket.bind(&address.into())?;
    socket.listen(LISTEN_BACKLOG)?;
    Ok(StdTcpListener::from(socket))
}

/// Another listening socket for another event loop, on the port `listener` holds.
fn sibling_listener(listener: &StdTcpListener) -> io::Result<StdTcpListener> {
    if !SOCKET_PER_LOOP {
        return listener.try_clone();
    }
    let address = listener.local_addr()?;
    let socket = new_socket(address, true)?;
    socket.bind(&address.into())?;
    socket.listen(LISTEN_BACKLOG)?;
    Ok(StdTcpListener::from(socket))
}

fn new_socket(address: SocketAddr, share_port: bool) -> io::Result<Socket> {
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
    #[cfg(any(target_os = "linux", target_os = "android"))]
    if share_port {
        socket.set_reuse_port(true)?;
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    let _ = share_port;
    socket.set_nonblocking(true)?;
    socket_options::tune_listener(&socket);
    Ok(socket)
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

/// What the accept loops of one event loop share: its metrics shard and relay engine.
#[derive(Clone)]
struct EventLoop {
    shard: usize,
    engine: Engine,
    /// Stops the engine's thread when the last accept loop's sweep is over.
    engine_thread: Option<Arc<EngineThread>>,
}

impl EventLoop {
    /// Starts the loop's relay engine; its thread runs until the last clone is dropped.
    fn start(context: &ConnectionContext, shard: usize) -> EventLoop {
        #[cfg(target_os = "linux")]
        match RelayEngine::start(Arc::clone(&context.metrics), shard) {
            Ok((engine, thread)) => {
                return EventLoop {
                    shard,
                    engine: Some(engine),
                    engine_thread: Some(Arc::new(thread)),
                }
            }
            Err(error) => {
                tracing::warn!(%error, "relay engine unavailable; relaying on the async runtime")
            }
        }
        #[cfg(not(target_os = "linux"))]
        let _ = context;
        EventLoop {
            shard,
            engine: None,
            engine_thread: None,
        }
    }
}

async fn accept_loop(
    listener: TcpListener,
    role: ListenerRole,
    event_loop: EventLoop,
    context: Arc<ConnectionContext>,
    connections: TaskTracker,
    stop: CancellationToken,
    fatal: mpsc::Sender<ServerError>,
) {
    let local = listener
        .local_addr()
        .unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)));
    let EventLoop {
        shard,
        engine,
        engine_thread,
    } = event_loop;
    let report_fatal = |source| async move {
        let _ = fatal
            .send(ServerError::Accept {
                listener: local,
                source,
            })
            .await;
    };
    let listener = match Listener::for_loop(listener, role, &context, &engine) {
        Ok(listener) => listener,
        Err(error) => return report_fatal(error).await,
    };
    let counters = context.metrics.shard(shard);
    // The connections accepted here stay on this event loop, and so do their watchdog
    // and the engine that relays them; the engine runs until the sweeps of all its
    // loop's listeners are over.
    let watchdog = Watchdog::new(context.dial_timeout, context.idle_timeout);
    let sweep = sweep_loop(
        Arc::clone(&watchdog),
        stop.clone(),
        context.force_close.clone(),
    );
    connections.spawn(async move {
        let _engine_thread = engine_thread;
        sweep.await;
    });
    // The stop signal is polled before every accept: a token of this loop's own (and
    // one wait on it, not one per accept) keeps that off the lock the shared token's
    // other waiters use.
    let stop = stop.child_token();
    let stopped = stop.cancelled();
    tokio::pin!(stopped);
    let mut backoff = ACCEPT_BACKOFF_MIN;
    let mut warned = false;
    // Set when descriptors or memory ran out: accepting pauses before the next try.
    let mut shortage: Option<io::Error> = None;
    loop {
        if let Some(error) = shortage.take() {
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
        }
        // Stop is checked first so a busy listener cannot delay shutdown.
        let accepted = tokio::select! {
            biased;
            _ = &mut stopped => return,
            accepted = listener.accept() => accepted,
        };
        let accepted = match accepted {
            Ok(accepted) => accepted,
            Err(error) => {
                counters.accept_error();
                match classify_accept_error(&error) {
                    AcceptFailure::Retry => {}
                    AcceptFailure::BackOff => shortage = Some(error),
                    AcceptFailure::Fatal => return report_fatal(error).await,
                }
                continue;
            }
        };
        counters.connection_accepted();
        if !context.limit.try_acquire() {
            counters.rejected(RejectReason::MaxConnections);
            drop(accepted);
            continue;
        }
        match accepted {
            Accepted::Stream(stream, peer) => {
                let registration = watchdog.register();
                let context = Arc::clone(&context);
                // A handle on Linux; off Linux `Engine` is an empty `Copy` type.
                #[allow(clippy::clone_on_copy)]
                let engine = engine.clone();
                connections.spawn(async move {
                    handle_connection(stream, peer, role, &context, shard, registration, engine)
                        .await;
                    context.limit.release();
                });
            }
            #[cfg(target_os = "linux")]
            Accepted::Descriptor {
                client,
                peer,
                backend_ip,
                engine,
            } => {
                // The accept took the last descriptor but one: the backend's socket found
                // none. That is the same shortage, and it pauses accepting alike.
                if let Err(error) = adopt_connection(
                    client, peer, backend_ip, role, &context, shard, &watchdog, &engine,
                ) {
                    shortage = Some(error);
                    continue;
                }
            }
        }
        if warned {
            tracing::info!(listener = %local, "accept recovered");
            warned = false;
        }
        backoff = ACCEPT_BACKOFF_MIN;
    }
}

/// An accept loop's listening socket, and where the connections it accepts go.
enum Listener {
    /// Accepted as runtime sockets: each connection is a task (dial, header, relay) and
    /// moves to the relay engine only if it is kept alive.
    Runtime(TcpListener),
    /// Accepted as plain descriptors and handed to the loop's relay engine, dial and
    /// header included (Linux, with the backend given as an IP address): a connection
    /// costs no task, no registration with the runtime and no wake-up of the loop.
    #[cfg(target_os = "linux")]
    Engine {
        listener: tokio::io::unix::AsyncFd<StdTcpListener>,
        backend_ip: std::net::IpAddr,
        engine: RelayEngine,
    },
}

/// One accepted connection, as its [`Listener`] hands it over.
enum Accepted {
    Stream(TcpStream, SocketAddr),
    #[cfg(target_os = "linux")]
    Descriptor {
        client: std::os::fd::OwnedFd,
        peer: Option<SocketAddr>,
        backend_ip: std::net::IpAddr,
        engine: RelayEngine,
    },
}

impl Listener {
    /// Connections go to the engine when there is one, the backend needs no lookup and
    /// the dial has a budget (a zero budget fails every dial on the runtime path).
    fn for_loop(
        listener: TcpListener,
        role: ListenerRole,
        context: &ConnectionContext,
        engine: &Engine,
    ) -> io::Result<Listener> {
        #[cfg(target_os = "linux")]
        if let (Some(engine), false) = (engine, context.dial_timeout.is_zero()) {
            if let Some(backend_ip) = dial::literal_ip(&context.backend(role).host) {
                // SAFETY: the std listener owns its descriptor, which stays open and the
                // same for as long as the `AsyncFd` holds the listener.
                let listener = unsafe {
                    tokio::io::unix::AsyncFd::register_with_interest(
                        listener.into_std()?,
                        tokio::io::Interest::READABLE,
                    )
                }
                .map_err(io::Error::from)?;
                return Ok(Listener::Engine {
                    listener,
                    backend_ip,
                    engine: engine.clone(),
                });
            }
        }
        #[cfg(not(target_os = "linux"))]
        let _ = (role, context, engine);
        Ok(Listener::Runtime(listener))
    }

    async fn accept(&self) -> io::Result<Accepted> {
        match self {
            Listener::Runtime(listener) => {
                let (stream, peer) = listener.accept().await?;
                Ok(Accepted::Stream(stream, peer))
            }
            #[cfg(target_os = "linux")]
            Listener::Engine {
                listener,
                backend_ip,
                engine,
            } => {
                let (client, peer) = listener
                    .async_io(tokio::io::Interest::READABLE, accept_descriptor)
                    .await?;
                Ok(Accepted::Descriptor {
                    client,
                    peer,
                    backend_ip: *backend_ip,
                    engine: engine.clone(),
                })
            }
        }
    }
}

/// `accept4` straight to a non-blocking descriptor (std's accept would need a second
/// call to make it non-blocking).
#[cfg(target_os = "linux")]
fn accept_descriptor(
    listener: &StdTcpListener,
) -> io::Result<(std::os::fd::OwnedFd, Option<SocketAddr>)> {
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    // SAFETY: accept4 fills at most `length` bytes of the storage socket2 provides and
    // sets `length` to what it wrote; the descriptor it returns is owned below.
    let (fd, peer) = unsafe {
        socket2::SockAddr::try_init(|storage, length| {
            let fd = libc::accept4(
                listener.as_raw_fd(),
                storage.cast(),
                length,
                libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
            );
            if fd < 0 {
                Err(io::Error::last_os_error())
            } else {
                Ok(OwnedFd::from_raw_fd(fd))
            }
        })
    }?;
    Ok((fd, peer.as_socket()))
}

/// Hands an accepted connection to the relay engine: the backend's connect is started
/// here, the rest (header, relay, deadlines as the watchdog reports them) happens there.
#[cfg(target_os = "linux")]
#[allow(clippy::too_many_arguments)]
fn adopt_connection(
    client: std::os::fd::OwnedFd,
    peer: Option<SocketAddr>,
    backend_ip: std::net::IpAddr,
    role: ListenerRole,
    context: &Arc<ConnectionContext>,
    shard: usize,
    watchdog: &Arc<Watchdog>,
    engine: &RelayEngine,
) -> Result<(), io::Error> {
    let counters = context.metrics.shard(shard);
    if context.draining.load(Ordering::Relaxed) {
        counters.rejected(RejectReason::ShuttingDown);
        context.limit.release();
        return Ok(());
    }
    let started = std::time::Instant::now();
    counters.connection_opened();
    let registration = watchdog.register();
    let watch = registration.shared_watch();
    watch.enter(Phase::Connect, context.dial_timeout);
    let address = SocketAddr::new(backend_ip, context.backend(role).port);
    let local = socket2::SockRef::from(&client)
        .local_addr()
        .ok()
        .and_then(|local| local.as_socket());
    let header = ProxyHeader::for_connection(peer.map(ClientAddr), local.map(LocalAddr))
        .encode(context.proxy_version);
    let on_end = {
        let context = Arc::clone(context);
        move |ending: Ending| {
            let counters = context.metrics.shard(shard);
            let backend = context.backend(role);
            match ending {
                Ending::Relayed => {}
                Ending::DialFailed(source) => report_dial_failure(
                    backend,
                    &dial::DialError::Connect { address, source },
                    counters,
                ),
                Ending::HeaderFailed(error) => report_header_failure(&error, counters),
                Ending::Stopped(stop) => report_stop(stop, backend, started, &context, counters),
                Ending::Refused(error) => {
                    tracing::warn!(%error, "relay engine refused a connection")
                }
            }
            drop(registration);
            counters.connection_closed(started.elapsed());
            context.limit.release();
        }
    };
    match dial::start_connect(address) {
        Ok(backend) => {
            engine.adopt(
                client,
                backend.into(),
                context.splice,
                watch,
                Adoption {
                    header,
                    header_budget: context.dial_timeout,
                    early_limit: EARLY_DATA_LIMIT,
                    on_end: Box::new(on_end),
                },
            );
            Ok(())
        }
        // Recorded before the client closes, without a byte written; a shortage of
        // descriptors or memory is also handed back, for the accept loop to pause.
        Err(source) => {
            let shortage = source
                .raw_os_error()
                .filter(|_| classify_accept_error(&source) == AcceptFailure::BackOff)
                .map(io::Error::from_raw_os_error);
            on_end(Ending::DialFailed(source));
            shortage.map_or(Ok(()), Err)
        }
    }
}

/// Enforces the bounds of one event loop's connections: a sweep per tick, the
/// force-close at the end of the grace period, and, once accepting stopped, an end when
/// the last connection is gone (so that the drain can tell).
async fn sweep_loop(
    watchdog: Arc<Watchdog>,
    stop: CancellationToken,
    force_close: CancellationToken,
) {
    let mut ticks = tokio::time::interval(watchdog.tick());
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut last_sweep = Instant::now();
    let mut draining = false;
    loop {
        tokio::select! {
            biased;
            _ = force_close.cancelled() => {
                watchdog.force_close_all();
                return;
            }
            _ = stop.cancelled(), if !draining => {
                draining = true;
                ticks = tokio::time::interval(DRAIN_CHECK.min(watchdog.tick()));
                ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
            }
            _ = ticks.tick() => {
                if last_sweep.elapsed() >= watchdog.tick() || !draining {
                    watchdog.sweep();
                    last_sweep = Instant::now();
                }
                if draining && watchdog.is_empty() {
                    return;
                }
            }
        }
    }
}

async fn handle_connection(
    client: TcpStream,
    peer: SocketAddr,
    role: ListenerRole,
    context: &ConnectionContext,
    shard: usize,
    registration: Registration,
    engine: Engine,
) {
    let counters = context.metrics.shard(shard);
    if context.draining.load(Ordering::Relaxed) {
        counters.rejected(RejectReason::ShuttingDown);
        return;
    }
    let started = std::time::Instant::now();
    counters.connection_opened();
    let watch = registration.watch();
    watch.enter(Phase::Lookup, context.dial_timeout);
    let backend = context.backend(role);
    let report_stop = |stop| report_stop(stop, backend, started, context, counters);
    // The outcome is fully handled: normal endings inside, stops by `report_stop`.
    let _ = supervise(
        watch,
        relay_connection(
            client,
            peer,
            backend,
            context,
            counters,
            &registration,
            engine,
        ),
        report_stop,
    )
    .await;
    drop(registration);
    counters.connection_closed(started.elapsed());
}

/// Records why the watchdog stopped a connection.
fn report_stop(
    stop: Stop,
    backend: &BackendAddr,
    started: std::time::Instant,
    context: &ConnectionContext,
    counters: &Counters,
) {
    match stop {
        Stop::ForceClosed => {}
        Stop::Expired(phase @ (Phase::Lookup | Phase::Connect)) => report_dial_failure(
            backend,
            &dial::timed_out(backend, phase == Phase::Lookup, started.elapsed()),
            counters,
        ),
        Stop::Expired(Phase::Header) => report_header_failure(
            &io::Error::new(
                io::ErrorKind::TimedOut,
                format!("i/o timeout after {:?}", context.dial_timeout),
            ),
            counters,
        ),
        Stop::Expired(Phase::Relay) => counters.idle_timeout(),
    }
}

fn report_dial_failure(backend: &BackendAddr, error: &dial::DialError, metrics: &Counters) {
    let cause = error.cause();
    metrics.dial_failed(cause);
    tracing::warn!(host = %backend.host, port = backend.port, %cause, %error, "backend dial failed");
}

fn report_header_failure(error: &io::Error, metrics: &Counters) {
    metrics.header_write_failed();
    tracing::warn!(%error, "write proxy header");
}

/// Dial, header, relay; bounded from outside by the connection's watchdog.
async fn relay_connection(
    client: TcpStream,
    peer: SocketAddr,
    backend_addr: &BackendAddr,
    context: &ConnectionContext,
    counters: &Counters,
    registration: &Registration,
    engine: Engine,
) {
    let watch = registration.watch();
    socket_options::tune_accepted_socket(&client);
    // Client bytes are not read while dialing; they wait in the kernel buffer.
    let dialed = if context.dial_timeout.is_zero() {
        Err(dial::no_budget(backend_addr))
    } else {
        match dial::resolve_backend(backend_addr).await {
            Ok(addresses) => {
                watch.advance(Phase::Connect);
                dial::connect_any(backend_addr, addresses).await
            }
            Err(error) => Err(error),
        }
    };
    let backend = match dialed {
        Ok(backend) => backend,
        Err(error) => {
            // Dropping the client closes it without a byte written.
            report_dial_failure(backend_addr, &error, counters);
            return;
        }
    };
    let header = ProxyHeader::for_connection(
        Some(ClientAddr(peer)),
        client.local_addr().ok().map(LocalAddr),
    )
    .encode(context.proxy_version);
    watch.enter(Phase::Header, context.dial_timeout);
    match relay::send_header_with_early_bytes(&client, &backend, &header, EARLY_DATA_LIMIT).await {
        Ok(early) => counters.bytes(crate::metrics::Direction::ClientToBackend, early as u64),
        Err(error) => {
            report_header_failure(&error, counters);
            return;
        }
    }
    watch.enter_relay();
    let relayed = relay::relay(
        &client,
        &backend,
        context.splice,
        counters,
        watch,
        engine.is_some(),
    )
    .await;
    #[cfg(target_os = "linux")]
    if let (relay::Relayed::HandOff, Some(engine)) = (relayed, engine) {
        match engine.relay(client, backend, context.splice, registration.shared_watch()) {
            Ok(relaying) => relaying.await,
            // Both sockets are closed by now; this only happens when the kernel refuses
            // to watch another descriptor.
            Err(error) => tracing::warn!(%error, "relay engine refused a connection"),
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (relayed, engine);
}

/// Where kept-alive connections move after their first exchange: the loop's
/// [`RelayEngine`] on Linux; elsewhere (or if the engine could not start) they stay on
/// the async relay.
#[cfg(target_os = "linux")]
type Engine = Option<RelayEngine>;
#[cfg(not(target_os = "linux"))]
type Engine = Option<std::convert::Infallible>;
#[cfg(not(target_os = "linux"))]
type EngineThread = std::convert::Infallible;

/// Most bytes of an early request sent together with the header.
const EARLY_DATA_LIMIT: usize = 4096;

#[cfg(test)]
mod tests {
    use super::*;

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
        socket_options::assert_relay_options(&socket2::SockRef::from(&accepted));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn each_event_loop_gets_its_own_share_of_the_connections() {
        let first = bind_listener("127.0.0.1:0").unwrap();
        let second = sibling_listener(&first).unwrap();
        let address = first.local_addr().unwrap();
        assert_eq!(second.local_addr().unwrap(), address);
        let _clients: Vec<_> = (0..64)
            .map(|_| std::net::TcpStream::connect(address).unwrap())
            .collect();
        std::thread::sleep(Duration::from_millis(100));
        let drain =
            |listener: &StdTcpListener| std::iter::from_fn(|| listener.accept().ok()).count();
        // Drained one after the other: a shared queue would give the first one all 64.
        let (from_first, from_second) = (drain(&first), drain(&second));
        assert_eq!(from_first + from_second, 64);
        assert!(
            from_first > 0 && from_second > 0,
            "{from_first} and {from_second}: one socket took every connection"
        );
    }

    #[test]
    fn port_only_binds_every_interface() {
        let listener = bind_listener(":0").unwrap();
        assert!(listener.local_addr().unwrap().ip().is_unspecified());
    }
}
