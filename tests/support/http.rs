//! One raw HTTP/1.1 exchange, so the test sees exactly what came back (or that nothing did).

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

#[derive(Debug)]
pub struct Exchange {
    /// The client's own address: what the PROXY header must carry.
    pub client: SocketAddr,
    /// Everything the server sent before closing.
    pub raw: String,
}

impl Exchange {
    pub fn status(&self) -> Option<u16> {
        self.raw
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        let head = self.raw.split("\r\n\r\n").next()?;
        head.lines().skip(1).find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }
}

/// Sends `GET path` with `Host: host` to `addr` and reads until the server closes.
pub fn get(addr: SocketAddr, host: &str, path: &str) -> std::io::Result<Exchange> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let client = stream.local_addr()?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    if let Err(e) = stream.write_all(request.as_bytes()) {
        // A server that closes before reading (a proxy whose backend refused) answered nothing.
        return match e.kind() {
            ErrorKind::BrokenPipe | ErrorKind::ConnectionReset => Ok(Exchange {
                client,
                raw: String::new(),
            }),
            _ => Err(e),
        };
    }
    let mut raw = Vec::new();
    // A reset after a partial answer still leaves what was read.
    let _ = stream.read_to_end(&mut raw);
    Ok(Exchange {
        client,
        raw: String::from_utf8_lossy(&raw).into_owned(),
    })
}
