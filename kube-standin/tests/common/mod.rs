//! A deliberately plain HTTP/1.1 client over a TCP socket, so tests see exactly the status,
//! headers and bytes the server sends (no client library in between).
#![allow(dead_code)]

use serde_json::Value;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

pub struct RawResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl RawResponse {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {}", self.body))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

async fn send_head(
    addr: SocketAddr,
    method: &str,
    target: &str,
    content_type: Option<&str>,
    body: &str,
) -> BufReader<TcpStream> {
    send_head_with(addr, method, target, content_type, body, "").await
}

async fn send_head_with(
    addr: SocketAddr,
    method: &str,
    target: &str,
    content_type: Option<&str>,
    body: &str,
    extra_headers: &str,
) -> BufReader<TcpStream> {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let mut request = format!(
        "{method} {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n{extra_headers}",
        body.len()
    );
    if let Some(ct) = content_type {
        request.push_str(&format!("Content-Type: {ct}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream
        .write_all(request.as_bytes())
        .await
        .expect("write request");
    BufReader::new(stream)
}

async fn read_head(reader: &mut BufReader<TcpStream>) -> (u16, Vec<(String, String)>) {
    let mut status_line = String::new();
    reader
        .read_line(&mut status_line)
        .await
        .expect("status line");
    let status = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("bad status line {status_line:?}"));
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).await.expect("header line");
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            headers.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    (status, headers)
}

fn is_chunked(headers: &[(String, String)]) -> bool {
    headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"))
}

/// One request; reads the whole response.
pub async fn request(
    addr: SocketAddr,
    method: &str,
    target: &str,
    content_type: Option<&str>,
    body: &str,
) -> RawResponse {
    let mut reader = send_head(addr, method, target, content_type, body).await;
    let (status, headers) = read_head(&mut reader).await;
    let mut raw = Vec::new();
    reader.read_to_end(&mut raw).await.expect("body");
    let body = if is_chunked(&headers) {
        dechunk(&raw)
    } else {
        raw
    };
    RawResponse {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    }
}

/// A GET with an `Accept` header.
pub async fn request_with_accept(addr: SocketAddr, target: &str, accept: &str) -> RawResponse {
    let mut reader = send_head_with(
        addr,
        "GET",
        target,
        None,
        "",
        &format!("Accept: {accept}\r\n"),
    )
    .await;
    let (status, headers) = read_head(&mut reader).await;
    let mut raw = Vec::new();
    reader.read_to_end(&mut raw).await.expect("body");
    let body = if is_chunked(&headers) {
        dechunk(&raw)
    } else {
        raw
    };
    RawResponse {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    }
}

pub async fn get(addr: SocketAddr, target: &str) -> RawResponse {
    request(addr, "GET", target, None, "").await
}

fn dechunk(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut rest = raw;
    while let Some(pos) = rest.windows(2).position(|w| w == b"\r\n") {
        let size =
            usize::from_str_radix(std::str::from_utf8(&rest[..pos]).unwrap_or("0").trim(), 16)
                .unwrap_or(0);
        if size == 0 {
            break;
        }
        let start = pos + 2;
        let end = (start + size).min(rest.len());
        out.extend_from_slice(&rest[start..end]);
        rest = &rest[(end + 2).min(rest.len())..];
    }
    out
}

/// An open watch stream, read one event line at a time.
pub struct RawWatch {
    pub status: u16,
    reader: BufReader<TcpStream>,
    pending: Vec<u8>,
    chunked: bool,
    closed: bool,
}

impl RawWatch {
    pub async fn open(addr: SocketAddr, target: &str) -> RawWatch {
        let mut reader = send_head(addr, "GET", target, None, "").await;
        let (status, headers) = read_head(&mut reader).await;
        RawWatch {
            status,
            chunked: is_chunked(&headers),
            reader,
            pending: Vec::new(),
            closed: false,
        }
    }

    async fn fill(&mut self) -> bool {
        if self.chunked {
            let mut size_line = String::new();
            if self.reader.read_line(&mut size_line).await.unwrap_or(0) == 0 {
                return false;
            }
            let size = usize::from_str_radix(size_line.trim(), 16).unwrap_or(0);
            if size == 0 {
                return false;
            }
            let mut chunk = vec![0; size + 2];
            if self.reader.read_exact(&mut chunk).await.is_err() {
                return false;
            }
            self.pending.extend_from_slice(&chunk[..size]);
            true
        } else {
            let mut buf = [0u8; 4096];
            match self.reader.read(&mut buf).await {
                Ok(0) | Err(_) => false,
                Ok(n) => {
                    self.pending.extend_from_slice(&buf[..n]);
                    true
                }
            }
        }
    }

    /// The next event, None when the stream ended, Err(()) when nothing came within `wait`.
    pub async fn next(&mut self, wait: Duration) -> Result<Option<Value>, ()> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            if let Some(pos) = self.pending.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = self.pending.drain(..=pos).collect();
                return Ok(Some(
                    serde_json::from_slice(&line).expect("event line is JSON"),
                ));
            }
            if self.closed {
                return Ok(None);
            }
            match tokio::time::timeout_at(deadline, self.fill()).await {
                Err(_) => return Err(()),
                Ok(false) => self.closed = true,
                Ok(true) => {}
            }
        }
    }

    /// The next event that is not a BOOKMARK.
    pub async fn next_change(&mut self, wait: Duration) -> Result<Option<Value>, ()> {
        loop {
            match self.next(wait).await? {
                Some(e) if e["type"] == "BOOKMARK" => continue,
                other => return Ok(other),
            }
        }
    }
}
