//! `/healthz`, `/readyz` and `/metrics` over a minimal HTTP/1.1 responder.
//!
//! Three fixed GET endpoints do not justify an HTTP framework; requests are read up to a small
//! bound and answered with `Connection: close`.

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::metrics::Metrics;

const MAX_REQUEST: usize = 8192;
const READ_TIMEOUT: Duration = Duration::from_secs(5);

/// Normalises a Go-style listen address (`:8081` means all interfaces).
pub fn listen_address(addr: &str) -> String {
    if addr.starts_with(':') {
        format!("0.0.0.0{addr}")
    } else {
        addr.to_string()
    }
}

/// Binds the listener; the caller decides what a failure means.
pub async fn bind(addr: &str) -> std::io::Result<TcpListener> {
    TcpListener::bind(listen_address(addr)).await
}

/// Serves until the task is dropped.
pub async fn serve(listener: TcpListener, metrics: Arc<Metrics>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let metrics = metrics.clone();
        tokio::spawn(async move {
            let _ = tokio::time::timeout(READ_TIMEOUT, answer(stream, &metrics)).await;
        });
    }
}

/// Status line and body for a request path.
pub fn respond(
    method: &str,
    path: &str,
    metrics: &Metrics,
) -> (&'static str, String, &'static str) {
    const TEXT: &str = "text/plain; charset=utf-8";
    if method != "GET" && method != "HEAD" {
        return (
            "405 Method Not Allowed",
            "method not allowed\n".into(),
            TEXT,
        );
    }
    match path.split('?').next().unwrap_or("") {
        "/healthz" => ("200 OK", "ok\n".into(), TEXT),
        "/readyz" if metrics.is_synced() => ("200 OK", "ok\n".into(), TEXT),
        "/readyz" => (
            "503 Service Unavailable",
            "informers not synced\n".into(),
            TEXT,
        ),
        "/metrics" => (
            "200 OK",
            metrics.render(),
            "text/plain; version=0.0.4; charset=utf-8",
        ),
        _ => ("404 Not Found", "not found\n".into(), TEXT),
    }
}

async fn answer(mut stream: TcpStream, metrics: &Metrics) -> std::io::Result<()> {
    let mut buf = Vec::with_capacity(512);
    let mut chunk = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") && buf.len() < MAX_REQUEST {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let head = String::from_utf8_lossy(&buf);
    let mut parts = head.lines().next().unwrap_or("").split_whitespace();
    let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let (status, body, content_type) = respond(method, path, metrics);
    let body = if method == "HEAD" {
        String::new()
    } else {
        body
    };
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(response.as_bytes()).await?;
    stream.shutdown().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        let m = Metrics::default();
        assert_eq!(respond("GET", "/healthz", &m).0, "200 OK");
        assert_eq!(respond("GET", "/readyz", &m).0, "503 Service Unavailable");
        m.set_synced();
        assert_eq!(respond("GET", "/readyz", &m).0, "200 OK");
        assert!(respond("GET", "/metrics", &m)
            .1
            .contains("ouroboros_controller_hosts"));
        assert_eq!(respond("GET", "/nope", &m).0, "404 Not Found");
        assert_eq!(respond("POST", "/healthz", &m).0, "405 Method Not Allowed");
        assert_eq!(listen_address(":8081"), "0.0.0.0:8081");
        assert_eq!(listen_address("127.0.0.1:0"), "127.0.0.1:0");
    }

    #[tokio::test]
    async fn serves_over_tcp() {
        let listener = bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let metrics = Arc::new(Metrics::default());
        let server = tokio::spawn(serve(listener, metrics));
        let mut conn = TcpStream::connect(addr).await.unwrap();
        conn.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        let mut out = String::new();
        conn.read_to_string(&mut out).await.unwrap();
        assert!(out.starts_with("HTTP/1.1 200 OK\r\n"), "{out}");
        assert!(out.ends_with("\r\n\r\nok\n"));
        server.abort();
    }
}
