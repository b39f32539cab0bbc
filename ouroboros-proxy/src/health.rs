//! The health listener: `/healthz` (liveness), `/readyz` (backend reachability) and
//! `/metrics` (Prometheus text), over a deliberately tiny HTTP/1.1 server: one request
//! per connection, exact paths, any method, query ignored.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::dial::{dial, BackendAddr, DialError};
use crate::metrics::Metrics;
use crate::readiness::{ReadinessTracker, Transition};

/// A client must send its request head within this bound (slowloris protection).
pub const REQUEST_HEAD_TIMEOUT: Duration = Duration::from_secs(5);
/// Request heads larger than this are refused; probes send a few hundred bytes.
const MAX_REQUEST_HEAD: usize = 8 * 1024;

/// Everything the health endpoints read.
#[derive(Debug)]
pub struct HealthContext {
    /// The backends whose reachability makes the relay ready (one per enabled listener).
    pub probe_targets: Vec<BackendAddr>,
    pub ready_timeout: Duration,
    pub readiness: ReadinessTracker,
    pub metrics: Arc<Metrics>,
    /// Set when shutdown starts: the relay stops being ready so traffic drains away.
    pub shutting_down: AtomicBool,
}

/// An HTTP response of the health server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthResponse {
    pub status: u16,
    pub content_type: Option<&'static str>,
    pub body: String,
}

impl HealthResponse {
    fn empty(status: u16) -> Self {
        HealthResponse {
            status,
            content_type: None,
            body: String::new(),
        }
    }

    fn text(status: u16, body: String) -> Self {
        HealthResponse {
            status,
            content_type: Some("text/plain; charset=utf-8"),
            body,
        }
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let reason = match self.status {
            200 => "OK",
            400 => "Bad Request",
            404 => "Not Found",
            408 => "Request Timeout",
            431 => "Request Header Fields Too Large",
            503 => "Service Unavailable",
            _ => "",
        };
        let mut head = format!("HTTP/1.1 {} {reason}\r\n", self.status);
        if let Some(content_type) = self.content_type {
            head.push_str(&format!("Content-Type: {content_type}\r\n"));
        }
        head.push_str(&format!(
            "Content-Length: {}\r\nConnection: close\r\n\r\n",
            self.body.len()
        ));
        let mut bytes = head.into_bytes();
        bytes.extend_from_slice(self.body.as_bytes());
        bytes
    }
}

/// Serves until `stop` fires; in-flight requests are tracked by `tracker`.
pub async fn serve(
    listener: TcpListener,
    context: Arc<HealthContext>,
    stop: CancellationToken,
    tracker: TaskTracker,
) {
    loop {
        let accepted = tokio::select! {
            _ = stop.cancelled() => return,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((stream, _)) => {
                let context = Arc::clone(&context);
                tracker.spawn(async move { handle(stream, &context).await });
            }
            Err(error) => {
                // Out of descriptors or similar: the data path has its own back-off; the
                // probe server just waits a little instead of spinning.
                tracing::debug!(%error, "health accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

async fn handle(mut stream: TcpStream, context: &HealthContext) {
    let response =
        match tokio::time::timeout(REQUEST_HEAD_TIMEOUT, read_request_path(&mut stream)).await {
            Err(_) => HealthResponse::empty(408),
            Ok(Err(status)) => HealthResponse::empty(status),
            Ok(Ok(path)) => route(&path, context).await,
        };
    let _ = stream.write_all(&response.to_bytes()).await;
    let _ = stream.shutdown().await;
}

/// Reads the request head and returns the request-target path without the query.
async fn read_request_path(stream: &mut TcpStream) -> Result<String, u16> {
    let mut head = Vec::with_capacity(512);
    let mut chunk = [0u8; 1024];
    loop {
        if let Some(end) = head.windows(4).position(|w| w == b"\r\n\r\n") {
            head.truncate(end);
            break;
        }
        if head.len() > MAX_REQUEST_HEAD {
            return Err(431);
        }
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return Err(400),
            Ok(n) => head.extend_from_slice(&chunk[..n]),
        }
    }
    parse_request_line(&head).ok_or(400)
}

/// `METHOD SP target SP HTTP/x.y` → the path part of the target.
pub fn parse_request_line(head: &[u8]) -> Option<String> {
    let line_end = head
        .windows(2)
        .position(|w| w == b"\r\n")
        .unwrap_or(head.len());
    let line = std::str::from_utf8(&head[..line_end]).ok()?;
    let mut parts = line.split(' ');
    let (_method, target, version) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || !version.starts_with("HTTP/") {
        return None;
    }
    Some(target.split('?').next().unwrap_or_default().to_string())
}

/// Answers one request for `path`.
pub async fn route(path: &str, context: &HealthContext) -> HealthResponse {
    match path {
        "/healthz" => HealthResponse::empty(200),
        "/readyz" => readyz(context).await,
        "/metrics" => HealthResponse {
            status: 200,
            content_type: Some("text/plain; version=0.0.4; charset=utf-8"),
            body: context.metrics.render(),
        },
        _ => HealthResponse::empty(404),
    }
}

async fn readyz(context: &HealthContext) -> HealthResponse {
    if context.shutting_down.load(Ordering::Relaxed) {
        return HealthResponse::text(503, "shutting down\n".into());
    }
    let failure = probe(&context.probe_targets, context.ready_timeout).await;
    match context.readiness.observe(failure.is_none()) {
        Transition::Unchanged => {}
        Transition::BecameFailing => {
            if let Some((backend, error)) = &failure {
                tracing::warn!(backend = %backend, cause = %error.cause(), error = %error, "backend readiness check failed");
            }
        }
        Transition::Recovered => {
            let backends: Vec<String> = context
                .probe_targets
                .iter()
                .map(ToString::to_string)
                .collect();
            tracing::info!(backend = %backends.join(","), "backend readiness recovered");
        }
    }
    match failure {
        None => HealthResponse::empty(200),
        Some((_, error)) => HealthResponse::text(
            503,
            format!("backend unreachable ({}): {error}\n", error.cause()),
        ),
    }
}

/// Dials every target concurrently (each bounded by `timeout`) and closes the
/// connections at once without sending anything. Returns the first failure in target
/// order.
pub async fn probe(targets: &[BackendAddr], timeout: Duration) -> Option<(BackendAddr, DialError)> {
    let dials = targets.iter().map(|target| async move {
        // A backend that completed the handshake from its backlog counts as reachable.
        dial(target, timeout)
            .await
            .err()
            .map(|error| (target.clone(), error))
    });
    let results = futures_join_all(dials).await;
    results.into_iter().flatten().next()
}

/// Runs futures concurrently and collects their outputs in order (the probe list is at
/// most two long, so a spawned task each would be overkill).
async fn futures_join_all<F: std::future::Future>(
    futures: impl IntoIterator<Item = F>,
) -> Vec<F::Output> {
    let mut pinned: Vec<_> = futures.into_iter().map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = pinned.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (future, output) in pinned.iter_mut().zip(outputs.iter_mut()) {
            if output.is_none() {
                match future.as_mut().poll(cx) {
                    std::task::Poll::Ready(value) => *output = Some(value),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    outputs.into_iter().flatten().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context(targets: Vec<BackendAddr>) -> HealthContext {
        HealthContext {
            probe_targets: targets,
            ready_timeout: Duration::from_millis(500),
            readiness: ReadinessTracker::default(),
            metrics: Arc::new(Metrics::default()),
            shutting_down: AtomicBool::new(false),
        }
    }

    /// A loopback port that refuses connections while the returned socket lives: bound,
    /// so no other test can take it, and never listening.
    fn refusing_port() -> (socket2::Socket, u16) {
        let socket =
            socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
        socket
            .bind(&std::net::SocketAddr::from(([127, 0, 0, 1], 0)).into())
            .unwrap();
        let port = socket.local_addr().unwrap().as_socket().unwrap().port();
        (socket, port)
    }

    #[test]
    fn request_line_parsing() {
        assert_eq!(
            parse_request_line(b"GET /readyz HTTP/1.1\r\nHost: x"),
            Some("/readyz".into())
        );
        assert_eq!(
            parse_request_line(b"HEAD /healthz?verbose=1 HTTP/1.0"),
            Some("/healthz".into())
        );
        assert_eq!(parse_request_line(b"GET /readyz"), None);
        assert_eq!(parse_request_line(b"GET / x HTTP/1.1"), None);
        assert_eq!(parse_request_line(&[0xff, 0xfe]), None);
    }

    #[test]
    fn response_bytes() {
        let text = String::from_utf8(HealthResponse::text(503, "x\n".into()).to_bytes()).unwrap();
        assert_eq!(
            text,
            "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 2\r\nConnection: close\r\n\r\nx\n"
        );
    }

    #[tokio::test]
    async fn routes() {
        let ctx = context(vec![]);
        assert_eq!(route("/healthz", &ctx).await.status, 200);
        assert_eq!(route("/healthz/", &ctx).await.status, 404);
        assert_eq!(route("/", &ctx).await.status, 404);
        let ready = route("/readyz", &ctx).await;
        assert_eq!(ready.status, 200);
        // No failure, no cause token: a ready answer has no body at all.
        assert_eq!(ready.body, "");
        let metrics = route("/metrics", &ctx).await;
        assert!(metrics
            .body
            .contains("ouroboros_proxy_connections_active 0"));
        ctx.shutting_down.store(true, Ordering::Relaxed);
        assert_eq!(route("/readyz", &ctx).await.body, "shutting down\n");
    }

    #[tokio::test]
    async fn refused_backend_is_503_with_cause() {
        let (_reserved, port) = refusing_port();
        let ctx = context(vec![BackendAddr {
            host: "127.0.0.1".into(),
            port,
        }]);
        let response = route("/readyz", &ctx).await;
        assert_eq!(response.status, 503);
        assert!(
            response
                .body
                .starts_with("backend unreachable (connection-refused): "),
            "{}",
            response.body
        );
        assert!(response.body.ends_with('\n'));
    }

    #[tokio::test]
    async fn both_ports_are_probed() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let up = listener.local_addr().unwrap().port();
        let (_reserved, down) = refusing_port();
        let ctx = context(vec![
            BackendAddr {
                host: "127.0.0.1".into(),
                port: up,
            },
            BackendAddr {
                host: "127.0.0.1".into(),
                port: down,
            },
        ]);
        assert_eq!(route("/readyz", &ctx).await.status, 503);
        let ctx = context(vec![BackendAddr {
            host: "127.0.0.1".into(),
            port: up,
        }]);
        assert_eq!(route("/readyz", &ctx).await.status, 200);
    }

    #[tokio::test]
    async fn backlog_only_listener_answers_within_timeout() {
        // A socket that listens but never accepts: the handshake completes from the backlog.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let mut ctx = context(vec![BackendAddr {
            host: "127.0.0.1".into(),
            port,
        }]);
        ctx.ready_timeout = Duration::from_millis(100);
        let started = std::time::Instant::now();
        let response = route("/readyz", &ctx).await;
        assert!(started.elapsed() < Duration::from_secs(1));
        assert!(matches!(response.status, 200 | 503));
    }

    #[tokio::test]
    async fn invalid_host_is_nxdomain() {
        let ctx = context(vec![BackendAddr {
            host: "ingress.invalid".into(),
            port: 80,
        }]);
        let response = route("/readyz", &ctx).await;
        assert_eq!(response.status, 503);
        assert!(
            response.body.contains("(dns-nxdomain)"),
            "{}",
            response.body
        );
        assert!(
            response.body.contains("ingress.invalid"),
            "{}",
            response.body
        );
    }
}
