//! Data-path behaviour of the in-process relay against small local backends.

mod support;

use std::io::{BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::time::{Duration, Instant};

use ouroboros_proxy::config::ProxyConfig;
use ouroboros_proxy::server::{Server, ServerError};
use support::*;

fn echo_proxy(splice: bool) -> (InProcessProxy, EchoBackend) {
    echo_proxy_via("127.0.0.1", splice)
}

/// The two ways a connection is relayed on Linux: with the backend given as an IP
/// address, the relay engine takes it from the accept on; with a name, it starts on the
/// async runtime (lookup, dial, header) and moves to the engine once kept alive.
const BACKEND_HOSTS: [&str; 2] = ["127.0.0.1", "localhost"];

fn echo_proxy_via(host: &str, splice: bool) -> (InProcessProxy, EchoBackend) {
    let backend = echo_backend();
    let mut config = base_config(host, backend.port, backend.port);
    config.splice = splice;
    (InProcessProxy::start(config), backend)
}

#[test]
fn loopback_echo_with_a_tcp4_header() {
    for (host, splice) in cases() {
        let (proxy, backend) = echo_proxy_via(host, splice);
        let mut stream = connect(proxy.http());
        let client_port = stream.local_addr().unwrap().port();
        stream.write_all(b"hello relay").unwrap();
        let mut echoed = [0u8; 11];
        stream.read_exact(&mut echoed).unwrap();
        assert_eq!(&echoed, b"hello relay");
        let header = backend.headers.recv_timeout(IO_TIMEOUT).unwrap();
        assert_eq!(
            header,
            format!(
                "PROXY TCP4 127.0.0.1 127.0.0.1 {client_port} {}\r\n",
                proxy.http().port()
            )
        );
    }
}

/// Writes 4 MiB of pseudo-random bytes to the echo backend through `stream` and then
/// half-closes, while reading the echo to its end; the echo must be the same bytes.
/// Returns how many bytes went each way.
fn echo_4_mib_then_half_close(stream: TcpStream, seed: u64, case: &str) -> u64 {
    let mut payload = vec![0u8; 4 * 1024 * 1024];
    PseudoRandom::new(seed).fill(&mut payload);
    let mut writer = stream.try_clone().unwrap();
    let to_send = payload.clone();
    let sender = std::thread::spawn(move || {
        writer.write_all(&to_send).unwrap();
        writer.shutdown(Shutdown::Write).unwrap();
    });
    let mut received = Vec::new();
    BufReader::new(stream).read_to_end(&mut received).unwrap();
    sender.join().unwrap();
    assert!(
        received == payload,
        "{case}: {} bytes back, differ",
        received.len()
    );
    payload.len() as u64
}

#[test]
fn payload_of_4_mib_survives_a_half_close() {
    for (host, splice) in cases() {
        let (proxy, _backend) = echo_proxy_via(host, splice);
        echo_4_mib_then_half_close(
            connect(proxy.http()),
            3,
            &format!("{host}, splice={splice}"),
        );
    }
}

/// Every backend host with splicing on and off.
fn cases() -> impl Iterator<Item = (&'static str, bool)> {
    BACKEND_HOSTS
        .into_iter()
        .flat_map(|host| [(host, true), (host, false)])
}

#[test]
fn refused_backend_closes_the_client_promptly_without_bytes() {
    let (_refusing, port) = refusing_port();
    let proxy = InProcessProxy::start(base_config("127.0.0.1", port, port));
    let mut stream = connect(proxy.http());
    stream.write_all(b"GET / HTTP/1.1\r\n\r\n").unwrap();
    let started = Instant::now();
    let mut buffer = [0u8; 16];
    let read = stream.read(&mut buffer).unwrap_or(0);
    assert_eq!(read, 0);
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "took {:?}",
        started.elapsed()
    );
    assert!(wait_until(Duration::from_secs(2), || {
        proxy
            .metrics
            .render()
            .contains("ouroboros_proxy_dial_failures_total{cause=\"connection-refused\"} 1")
    }));
}

/// A loopback backend listening with a backlog of 0, and the one connection that fills
/// its queue: while that connection waits unaccepted, the kernel drops further SYNs.
fn backend_with_a_full_queue() -> (socket2::Socket, u16, TcpStream) {
    let (backend, port) = refusing_port();
    backend.listen(0).unwrap();
    let address = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let queued = TcpStream::connect_timeout(&address, Duration::from_secs(2)).unwrap();
    (backend, port, queued)
}

#[test]
fn backend_that_never_answers_the_handshake_times_out_and_is_counted() {
    // A listener with a backlog of 0 holds one finished handshake and no more: with its
    // queue full the kernel drops every further SYN, so a connect neither succeeds nor
    // fails until the dial timeout.
    let (_backend, port, queued) = backend_with_a_full_queue();
    let address = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    assert!(
        TcpStream::connect_timeout(&address, Duration::from_millis(300)).is_err(),
        "the backend's queue is not full: this kernel answers further handshakes"
    );
    let mut config = base_config("127.0.0.1", port, port);
    config.dial_timeout = Duration::from_millis(400);
    let proxy = InProcessProxy::start(config);
    let mut stream = connect(proxy.http());
    stream.write_all(b"GET / HTTP/1.1\r\n\r\n").unwrap();
    let started = Instant::now();
    let read = stream.read(&mut [0u8; 16]).unwrap_or(0);
    let took = started.elapsed();
    assert_eq!(
        read, 0,
        "the client got bytes from a backend that never connected"
    );
    assert!(
        took >= Duration::from_millis(300) && took < Duration::from_secs(3),
        "closed after {took:?}, not at the 400 ms dial timeout"
    );
    assert!(wait_until(Duration::from_secs(2), || {
        proxy
            .metrics
            .render()
            .contains("ouroboros_proxy_dial_failures_total{cause=\"timeout\"} 1")
    }));
    drop(queued);
}

#[test]
fn backend_that_answers_the_handshake_late_gets_the_header_and_the_early_bytes() {
    // As above, the backend's full queue drops the relay's SYN; room is made a little
    // later, so the connect completes only on a retransmission (about a second in), long
    // after the client's request arrived.
    let (backend, port, queued) = backend_with_a_full_queue();
    let proxy = InProcessProxy::start(base_config("127.0.0.1", port, port));
    let mut client = connect(proxy.http());
    let started = Instant::now();
    client.write_all(b"early request").unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let (first, _) = backend.accept().unwrap();
    drop((first, queued));
    let (relayed, _) = backend.accept().unwrap();
    let mut relayed = TcpStream::from(relayed);
    relayed.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    let header = read_header_line(&mut relayed);
    assert!(
        header.starts_with("PROXY TCP4 127.0.0.1 127.0.0.1 "),
        "{header:?}"
    );
    let mut early = [0u8; 13];
    relayed.read_exact(&mut early).unwrap();
    assert_eq!(&early, b"early request");
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "the connect was not late: {:?}",
        started.elapsed()
    );
    relayed.write_all(b"answer").unwrap();
    let mut answer = [0u8; 6];
    client.read_exact(&mut answer).unwrap();
    assert_eq!(&answer, b"answer");
    assert!(!proxy
        .metrics
        .render()
        .contains("dial_failures_total{cause=\"timeout\"} 1"));
}

#[test]
fn backend_that_closes_after_the_header_gives_a_clean_eof() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut stream = stream;
            let _ = read_header_line(&mut stream);
        }
    });
    let proxy = InProcessProxy::start(base_config("127.0.0.1", port, port));
    let mut stream = connect(proxy.http());
    stream.write_all(b"anything").unwrap();
    let started = Instant::now();
    let mut all = Vec::new();
    let _ = stream.read_to_end(&mut all);
    assert!(all.is_empty());
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[test]
fn clients_that_reset_do_not_hurt_the_server() {
    let (proxy, _backend) = echo_proxy(true);
    for _ in 0..10 {
        let stream = connect(proxy.http());
        (&stream).write_all(b"partial").unwrap();
        socket2::SockRef::from(&stream)
            .set_linger(Some(Duration::ZERO))
            .unwrap();
        drop(stream);
    }
    let mut stream = connect(proxy.http());
    stream.write_all(b"still up").unwrap();
    let mut back = [0u8; 8];
    stream.read_exact(&mut back).unwrap();
    assert_eq!(&back, b"still up");
}

#[test]
fn shutdown_returns_quickly_and_refuses_new_connects() {
    let (mut proxy, _backend) = echo_proxy(true);
    let address = proxy.http();
    // Ten round trips first; afterwards nothing may be left behind.
    let baseline = open_fds();
    for i in 0..10u8 {
        let mut stream = connect(address);
        stream.write_all(&[i; 100]).unwrap();
        let mut back = [0u8; 100];
        stream.read_exact(&mut back).unwrap();
        assert_eq!(back, [i; 100]);
    }
    assert!(
        wait_until(Duration::from_secs(3), || proxy.metrics.active() == 0),
        "connections leaked"
    );
    let took = proxy.stop();
    assert!(took < Duration::from_secs(2), "shutdown took {took:?}");
    assert!(
        TcpStream::connect(address).is_err(),
        "listener still accepting"
    );
    assert!(
        wait_until(Duration::from_secs(3), || open_fds() <= baseline + 3),
        "fds {} > {baseline}",
        open_fds()
    );
}

#[test]
fn each_listener_forwards_to_its_own_backend_port() {
    let http_backend = echo_backend();
    let https_backend = echo_backend();
    let mut config = base_config("127.0.0.1", http_backend.port, https_backend.port);
    config.listen_https = Some("127.0.0.1:0".into());
    let proxy = InProcessProxy::start(config);
    for (address, backend) in [
        (proxy.http(), &http_backend),
        (proxy.https(), &https_backend),
    ] {
        let mut stream = connect(address);
        stream.write_all(b"x").unwrap();
        let mut back = [0u8; 1];
        stream.read_exact(&mut back).unwrap();
        let header = backend.headers.recv_timeout(IO_TIMEOUT).unwrap();
        assert!(
            header.starts_with("PROXY TCP4 127.0.0.1 127.0.0.1 "),
            "{header}"
        );
        assert!(
            header.ends_with(&format!(" {}\r\n", address.port())),
            "{header}"
        );
    }
}

#[test]
fn failed_bind_releases_the_ports_bound_before_it() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let http_port = free_port();
    let mut config: ProxyConfig = base_config("127.0.0.1", 80, 443);
    config.listen_http = Some(format!("127.0.0.1:{http_port}"));
    config.listen_https = Some(taken.local_addr().unwrap().to_string());
    let err = Server::bind(config).err().expect("bind must fail");
    assert!(matches!(err, ServerError::Bind { .. }), "{err}");
    TcpListener::bind(("127.0.0.1", http_port)).expect("HTTP port must be free again");
}

#[test]
fn idle_connections_are_closed_after_the_idle_timeout() {
    // After one exchange (on the async relay) and after a second one (on the engine).
    for handed_off in [false, true] {
        let backend = echo_backend();
        let mut config = base_config("127.0.0.1", backend.port, backend.port);
        config.idle_timeout = Some(Duration::from_millis(300));
        let proxy = InProcessProxy::start(config);
        let mut stream = if handed_off {
            kept_alive_client(&proxy)
        } else {
            let mut stream = connect(proxy.http());
            stream.write_all(b"x").unwrap();
            let mut back = [0u8; 1];
            stream.read_exact(&mut back).unwrap();
            stream
        };
        let started = Instant::now();
        let mut rest = Vec::new();
        let _ = stream.read_to_end(&mut rest);
        let waited = started.elapsed();
        assert!(
            waited >= Duration::from_millis(250) && waited < Duration::from_secs(3),
            "handed_off={handed_off}: {waited:?}"
        );
        assert!(rest.is_empty(), "handed_off={handed_off}");
        assert!(
            proxy
                .metrics
                .render()
                .contains("ouroboros_proxy_idle_timeouts_total 1"),
            "handed_off={handed_off}"
        );
    }
}

#[test]
fn connections_over_the_limit_are_closed_and_counted() {
    let backend = echo_backend();
    let mut config = base_config("127.0.0.1", backend.port, backend.port);
    config.max_connections = 2;
    let proxy = InProcessProxy::start(config);
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut stream = connect(proxy.http());
        stream.write_all(b"x").unwrap();
        let mut back = [0u8; 1];
        stream.read_exact(&mut back).unwrap();
        held.push(stream);
    }
    let mut third = connect(proxy.http());
    let _ = third.write_all(b"x");
    let mut buffer = [0u8; 1];
    assert_eq!(third.read(&mut buffer).unwrap_or(0), 0);
    assert!(proxy
        .metrics
        .render()
        .contains("ouroboros_proxy_connections_rejected_total{reason=\"max-connections\"} 1"));
    drop(held);
    assert!(wait_until(Duration::from_secs(3), || proxy
        .metrics
        .active()
        == 0));
    let mut fourth = connect(proxy.http());
    fourth.write_all(b"y").unwrap();
    fourth.read_exact(&mut buffer).unwrap();
    assert_eq!(&buffer, b"y");
}

#[test]
fn a_slow_reader_does_not_stall_other_clients() {
    let (proxy, _backend) = echo_proxy(true);
    // This client writes and never reads its echo: every buffer on its path fills up and
    // its writes stop (bounded buffering), while other clients carry on.
    let slow = connect(proxy.http());
    let mut slow_writer = slow.try_clone().unwrap();
    slow_writer
        .set_write_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let chunk = vec![7u8; 1024 * 1024];
    let mut sent = 0;
    for _ in 0..256 {
        match slow_writer.write(&chunk) {
            Ok(n) => sent += n,
            Err(_) => break,
        }
    }
    assert!(
        sent < 256 * 1024 * 1024,
        "back-pressure never reached the slow client"
    );
    let started = Instant::now();
    for i in 0..20u8 {
        let mut stream = connect(proxy.http());
        stream.write_all(&[i; 512]).unwrap();
        let mut back = [0u8; 512];
        stream.read_exact(&mut back).unwrap();
        assert_eq!(back, [i; 512]);
    }
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "others stalled: {:?}",
        started.elapsed()
    );
    drop(slow);
}

#[test]
fn readiness_follows_the_backend() {
    let (backend, port) = refusing_port();
    let proxy = InProcessProxy::start(base_config("127.0.0.1", port, port));
    let response = http_get(proxy.health(), "/readyz");
    assert_eq!(response.status, 503);
    let body = String::from_utf8(response.body.clone()).unwrap();
    assert!(
        body.starts_with("backend unreachable (connection-refused): "),
        "{body}"
    );
    assert_eq!(
        response.header("Content-Type"),
        Some("text/plain; charset=utf-8")
    );
    assert_eq!(http_get(proxy.health(), "/healthz").status, 200);
    backend.listen(16).unwrap();
    assert_eq!(http_get(proxy.health(), "/readyz").status, 200);
    assert_eq!(http_get(proxy.health(), "/readyz/").status, 404);
    let metrics = http_get(proxy.health(), "/metrics");
    assert_eq!(metrics.status, 200);
    assert!(String::from_utf8(metrics.body)
        .unwrap()
        .contains("# TYPE ouroboros_proxy_connection_duration_seconds histogram"));
}

#[test]
fn unresolvable_backend_is_dns_nxdomain() {
    let proxy = InProcessProxy::start(base_config(
        "ingress-nginx-controller.ingress-nginx.invalid",
        80,
        443,
    ));
    let response = http_get(proxy.health(), "/readyz");
    assert_eq!(response.status, 503);
    let body = String::from_utf8(response.body).unwrap();
    assert!(
        body.contains("(dns-nxdomain)") && body.contains("ingress-nginx.invalid"),
        "{body}"
    );
    let mut stream = connect(proxy.http());
    let mut buffer = [0u8; 1];
    assert_eq!(stream.read(&mut buffer).unwrap_or(0), 0);
    assert!(wait_until(Duration::from_secs(2), || {
        proxy
            .metrics
            .render()
            .contains("ouroboros_proxy_dial_failures_total{cause=\"dns-nxdomain\"} 1")
    }));
}

/// A backend that answers and closes at once, while its client keeps its own side open:
/// the answer's last bytes and the FIN reach the client (the relay holds the tail back
/// only until its own half-close, never until the client closes).
#[test]
fn last_bytes_and_eof_from_a_closing_backend_arrive_at_once() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let backend = std::thread::spawn(move || {
        for _ in 0..2 {
            let (mut stream, _) = listener.accept().unwrap();
            let _header = read_header_line(&mut stream);
            let mut request = [0u8; 4];
            stream.read_exact(&mut request).unwrap();
            stream.write_all(b"reply and goodbye").unwrap();
            stream.shutdown(Shutdown::Both).unwrap();
        }
    });
    for splice in [true, false] {
        let mut config = base_config("127.0.0.1", port, port);
        config.splice = splice;
        let proxy = InProcessProxy::start(config);
        let mut stream = connect(proxy.http());
        stream.write_all(b"ping").unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(2)))
            .unwrap();
        let mut reply = Vec::new();
        stream
            .read_to_end(&mut reply)
            .expect("reply and EOF while the client side stays open");
        assert_eq!(reply, b"reply and goodbye", "splice={splice}");
    }
    backend.join().unwrap();
}

/// A client whose connection exchanged twice with the echo backend: the second message
/// after an answer moves the connection to the relay engine.
fn kept_alive_client(proxy: &InProcessProxy) -> TcpStream {
    let mut stream = connect(proxy.http());
    for message in [b"first", b"again"] {
        stream.write_all(message).unwrap();
        let mut echoed = [0u8; 5];
        stream.read_exact(&mut echoed).unwrap();
        assert_eq!(&echoed, message);
    }
    stream
}

fn bytes_relayed(proxy: &InProcessProxy, direction: &str) -> u64 {
    let series = format!("ouroboros_proxy_bytes_total{{direction=\"{direction}\"}} ");
    let text = proxy.metrics.render();
    let line = text.lines().find(|line| line.starts_with(&series)).unwrap();
    line[series.len()..].parse().unwrap()
}

#[test]
fn kept_alive_connection_relays_4_mib_and_a_half_close_after_the_hand_off() {
    for (host, splice) in cases() {
        let (proxy, _backend) = echo_proxy_via(host, splice);
        let stream = kept_alive_client(&proxy);
        let echoed = echo_4_mib_then_half_close(stream, 11, &format!("{host}, splice={splice}"));
        // Plus the two five-byte messages before the hand-off.
        let expected = echoed + 10;
        for direction in ["client-to-backend", "backend-to-client"] {
            assert!(
                wait_until(IO_TIMEOUT, || bytes_relayed(&proxy, direction) == expected),
                "{host}, splice={splice}: {direction} counted {} bytes, expected {expected}",
                bytes_relayed(&proxy, direction)
            );
        }
    }
}

#[test]
fn kept_alive_connection_gets_the_backend_half_close_after_the_hand_off() {
    for host in BACKEND_HOSTS {
        backend_half_close_reaches_a_kept_alive_client(host);
    }
}

fn backend_half_close_reaches_a_kept_alive_client(host: &str) {
    let backend = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = backend.local_addr().unwrap().port();
    let proxy = InProcessProxy::start(base_config(host, port, port));
    let server = std::thread::spawn(move || {
        let (mut stream, _) = backend.accept().unwrap();
        read_header_line(&mut stream);
        let mut message = [0u8; 5];
        for _ in 0..2 {
            stream.read_exact(&mut message).unwrap();
            stream.write_all(&message).unwrap();
        }
        // The engine relays this last answer and the FIN behind it.
        stream.write_all(b"bye").unwrap();
        stream.shutdown(Shutdown::Write).unwrap();
        let mut rest = Vec::new();
        stream.read_to_end(&mut rest).unwrap();
        rest
    });
    let mut stream = kept_alive_client(&proxy);
    let mut tail = Vec::new();
    stream.read_to_end(&mut tail).unwrap();
    assert_eq!(tail, b"bye");
    // The client's direction still works after the backend's half-close.
    stream.write_all(b"last words").unwrap();
    stream.shutdown(Shutdown::Write).unwrap();
    assert_eq!(server.join().unwrap(), b"last words");
}
