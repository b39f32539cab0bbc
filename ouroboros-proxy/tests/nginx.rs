//! The relay in front of a real nginx that requires the PROXY protocol.

mod support;

use std::io::{BufReader, Read, Write};
use std::net::Shutdown;
use std::process::Command;

use ouroboros_proxy::header::ProxyVersion;
use sha2::{Digest, Sha256};
use support::*;

fn proxy_to(nginx: &Nginx, version: ProxyVersion, splice: bool) -> InProcessProxy {
    let mut config = base_config(
        "127.0.0.1",
        nginx.proxy_protocol_port,
        nginx.tls_port.unwrap_or(1),
    );
    config.proxy_version = version;
    config.splice = splice;
    if nginx.tls_port.is_some() {
        config.listen_https = Some("127.0.0.1:0".into());
    }
    InProcessProxy::start(config)
}

/// One `GET /echo` through `proxy`, asserting what nginx reports from the header it
/// received: the client's address and port, and the relay's own listen port.
fn assert_nginx_sees_the_client(proxy: &InProcessProxy) {
    let mut stream = connect(proxy.http());
    let client_port = stream.local_addr().unwrap().port();
    write!(
        stream,
        "GET /echo HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let response = read_response(&mut BufReader::new(stream));
    assert_eq!(response.status, 200);
    assert_eq!(response.body, b"ok\n");
    assert_eq!(response.header("X-PP-Addr"), Some("127.0.0.1"));
    assert_eq!(
        response.header("X-PP-Port"),
        Some(client_port.to_string().as_str())
    );
    // The destination is the relay's own listen port, not the backend's.
    assert_eq!(
        response.header("X-PP-Server-Port"),
        Some(proxy.http().port().to_string().as_str())
    );
}

#[test]
fn nginx_sees_the_real_client_address_and_port() {
    let Some(nginx) = Nginx::start("nginx_sees_the_real_client_address_and_port") else {
        return;
    };
    for splice in [true, false] {
        assert_nginx_sees_the_client(&proxy_to(&nginx, ProxyVersion::V1, splice));
    }
}

#[test]
fn bare_request_to_the_proxy_protocol_listener_fails() {
    let Some(nginx) = Nginx::start("bare_request_to_the_proxy_protocol_listener_fails") else {
        return;
    };
    let mut stream = connect(([127, 0, 0, 1], nginx.proxy_protocol_port).into());
    write!(
        stream,
        "GET /echo HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    assert!(
        !String::from_utf8_lossy(&answer).contains(" 200 "),
        "nginx accepted a request without a header"
    );
    // The plain listener of the same nginx serves the same request.
    assert_eq!(
        http_get(([127, 0, 0, 1], nginx.plain_port).into(), "/echo").status,
        200
    );
}

#[test]
fn keep_alive_carries_the_header_once() {
    let Some(nginx) = Nginx::start("keep_alive_carries_the_header_once") else {
        return;
    };
    let proxy = proxy_to(&nginx, ProxyVersion::V1, true);
    let stream = connect(proxy.http());
    let mut writer = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    let mut seen = Vec::new();
    for i in 1..=3 {
        write!(writer, "GET /echo HTTP/1.1\r\nHost: t\r\n\r\n").unwrap();
        let response = read_response(&mut reader);
        assert_eq!(response.status, 200, "request {i}");
        assert_eq!(
            response.header("X-Connection-Requests"),
            Some(i.to_string().as_str())
        );
        seen.push((
            response.header("X-Connection").unwrap().to_string(),
            response.header("X-PP-Port").unwrap().to_string(),
        ));
    }
    assert!(
        seen.windows(2).all(|w| w[0] == w[1]),
        "one backend connection, one header: {seen:?}"
    );
}

#[test]
fn client_half_close_still_gets_the_response() {
    let Some(nginx) = Nginx::start("client_half_close_still_gets_the_response") else {
        return;
    };
    let proxy = proxy_to(&nginx, ProxyVersion::V1, true);
    let mut stream = connect(proxy.http());
    write!(
        stream,
        "GET /files/hello.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    stream.shutdown(Shutdown::Write).unwrap();
    let response = read_response(&mut BufReader::new(stream));
    assert_eq!(response.status, 200);
    assert_eq!(response.body, b"hello\n");
}

#[test]
fn proxy_protocol_v2_is_accepted_by_nginx() {
    let Some(nginx) = Nginx::start("proxy_protocol_v2_is_accepted_by_nginx") else {
        return;
    };
    assert_nginx_sees_the_client(&proxy_to(&nginx, ProxyVersion::V2, true));
}

const BIG: u64 = 256 * 1024 * 1024;

#[test]
fn transfer_of_256_mib_keeps_its_sha256_both_ways() {
    let Some(nginx) = Nginx::start("transfer_of_256_mib_keeps_its_sha256_both_ways") else {
        return;
    };
    let proxy = proxy_to(&nginx, ProxyVersion::V1, true);
    let mut chunk = vec![0u8; 1024 * 1024];

    // Download: a file nginx serves.
    let mut source = PseudoRandom::new(7);
    let mut expected = Sha256::new();
    {
        let mut file = std::fs::File::create(nginx.www().join("files/big.bin")).unwrap();
        for _ in 0..BIG / chunk.len() as u64 {
            source.fill(&mut chunk);
            expected.update(&chunk);
            file.write_all(&chunk).unwrap();
        }
    }
    let expected = expected.finalize();
    let mut stream = connect(proxy.http());
    write!(
        stream,
        "GET /files/big.bin HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut got = Sha256::new();
    let mut received = 0u64;
    let response = read_response_with(&mut BufReader::with_capacity(1 << 20, stream), |bytes| {
        received += bytes.len() as u64;
        got.update(bytes);
    });
    assert_eq!(response.status, 200);
    assert_eq!(received, BIG);
    assert_eq!(got.finalize(), expected, "download corrupted");
    std::fs::remove_file(nginx.www().join("files/big.bin")).unwrap();

    // Upload: WebDAV PUT, then hash what nginx stored.
    let mut source = PseudoRandom::new(11);
    let mut sent = Sha256::new();
    let mut stream = connect(proxy.http());
    write!(stream, "PUT /files/up.bin HTTP/1.1\r\nHost: t\r\nContent-Length: {BIG}\r\nConnection: close\r\n\r\n").unwrap();
    for _ in 0..BIG / chunk.len() as u64 {
        source.fill(&mut chunk);
        sent.update(&chunk);
        stream.write_all(&chunk).unwrap();
    }
    let response = read_response(&mut BufReader::new(stream));
    assert!(
        matches!(response.status, 201 | 204),
        "PUT answered {}",
        response.status
    );
    let mut stored = Sha256::new();
    let mut file = std::fs::File::open(nginx.www().join("files/up.bin")).unwrap();
    let mut total = 0u64;
    loop {
        let n = file.read(&mut chunk).unwrap();
        if n == 0 {
            break;
        }
        total += n as u64;
        stored.update(&chunk[..n]);
    }
    assert_eq!(total, BIG);
    assert_eq!(stored.finalize(), sent.finalize(), "upload corrupted");
    std::fs::remove_file(nginx.www().join("files/up.bin")).unwrap();
    let rendered = proxy.metrics.render();
    for direction in ["client-to-backend", "backend-to-client"] {
        let series = format!("ouroboros_proxy_bytes_total{{direction=\"{direction}\"}} ");
        let bytes: u64 = rendered
            .lines()
            .find_map(|line| line.strip_prefix(series.as_str()))
            .and_then(|value| value.parse().ok())
            .unwrap_or(0);
        assert!(bytes >= BIG, "{direction}: {bytes} bytes counted");
    }
}

#[test]
fn tls_passes_through_untouched() {
    let Some(nginx) = Nginx::start("tls_passes_through_untouched") else {
        return;
    };
    let Some(_) = nginx.tls_port else {
        skip_without_tool("tls_passes_through_untouched", "openssl");
        return;
    };
    if !have_tool("curl") {
        skip_without_tool("tls_passes_through_untouched", "curl");
        return;
    }
    let proxy = proxy_to(&nginx, ProxyVersion::V1, true);
    let port = proxy.https().port();
    // Verifying against the throw-away certificate proves the handshake was nginx's own.
    let output = Command::new("curl")
        .args(["-sS", "--max-time", "20", "-D", "-", "--cacert"])
        .arg(nginx.dir.0.join("cert.pem"))
        .args(["--resolve", &format!("localhost:{port}:127.0.0.1")])
        .arg(format!("https://localhost:{port}/echo"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout).to_ascii_lowercase();
    assert!(
        output.status.success(),
        "curl failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(text.starts_with("http/1.1 200"), "{text}");
    assert!(text.contains("x-pp-addr: 127.0.0.1"), "{text}");
    assert!(
        text.contains(&format!("x-pp-server-port: {port}")),
        "{text}"
    );
    assert!(text.ends_with("ok\n"), "{text}");
}
