//! Shared test fixtures: an in-process relay, a real nginx, tiny backends and an HTTP
//! client small enough to see every byte.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ouroboros_proxy::config::ProxyConfig;
use ouroboros_proxy::cpu_policy::CpuPolicy;
use ouroboros_proxy::header::ProxyVersion;
use ouroboros_proxy::metrics::Metrics;
use ouroboros_proxy::server::{BoundAddrs, Server};

pub const IO_TIMEOUT: Duration = Duration::from_secs(20);

/// A port that was free a moment ago (the usual small race is acceptable in tests).
pub fn free_port() -> u16 {
    let [port] = free_ports();
    port
}

/// A loopback port that refuses connections for as long as the returned socket lives: it
/// is bound, so nothing else can take it, and not listening, so every connect is refused.
/// `listen` on the socket makes the port accept.
pub fn refusing_port() -> (socket2::Socket, u16) {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    socket
        .bind(&SocketAddr::from(([127, 0, 0, 1], 0)).into())
        .unwrap();
    let port = socket.local_addr().unwrap().as_socket().unwrap().port();
    (socket, port)
}

/// `N` distinct ports that were free a moment ago. All are bound at once, so no two are
/// the same; separate [`free_port`] calls may hand out one port twice.
pub fn free_ports<const N: usize>() -> [u16; N] {
    let listeners: Vec<TcpListener> = (0..N)
        .map(|_| TcpListener::bind("127.0.0.1:0").unwrap())
        .collect();
    std::array::from_fn(|i| listeners[i].local_addr().unwrap().port())
}

/// A unique scratch directory, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let path =
            std::env::temp_dir().join(format!("ouroboros-proxy-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn base_config(backend_host: &str, http_port: u16, https_port: u16) -> ProxyConfig {
    ProxyConfig {
        listen_http: Some("127.0.0.1:0".into()),
        listen_https: None,
        listen_health: Some("127.0.0.1:0".into()),
        backend_host: backend_host.into(),
        cluster_domain: "cluster.local".into(),
        target_http_port: http_port,
        target_https_port: https_port,
        dial_timeout: Duration::from_secs(5),
        ready_timeout: Duration::from_secs(2),
        shutdown_grace: Duration::from_secs(5),
        idle_timeout: Some(Duration::from_secs(3600)),
        max_connections: 10_000,
        proxy_version: ProxyVersion::V1,
        splice: true,
        worker_threads: 2,
        // Applied by the command line only; in-process relays keep the test's policy.
        cpu_policy: CpuPolicy::Normal,
        log_level: tracing::Level::INFO,
    }
}

/// The relay running on its own runtime thread.
pub struct InProcessProxy {
    pub addrs: BoundAddrs,
    pub metrics: Arc<Metrics>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<Result<(), String>>>,
}

impl InProcessProxy {
    pub fn start(config: ProxyConfig) -> InProcessProxy {
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (shutdown_tx, shutdown_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let server = Server::bind(config).map_err(|e| e.to_string())?;
                ready_tx
                    .send((server.local_addrs(), server.metrics()))
                    .unwrap();
                server
                    .run(async {
                        let _ = shutdown_rx.await;
                    })
                    .await
                    .map_err(|e| e.to_string())
            })
        });
        let (addrs, metrics) = ready_rx
            .recv_timeout(IO_TIMEOUT)
            .expect("proxy failed to bind");
        InProcessProxy {
            addrs,
            metrics,
            shutdown: Some(shutdown_tx),
            thread: Some(thread),
        }
    }

    pub fn http(&self) -> SocketAddr {
        self.addrs.http.expect("http listener")
    }

    pub fn https(&self) -> SocketAddr {
        self.addrs.https.expect("https listener")
    }

    pub fn health(&self) -> SocketAddr {
        self.addrs.health.expect("health listener")
    }

    /// Signals shutdown and waits for `run` to return; returns how long that took.
    pub fn stop(&mut self) -> Duration {
        let started = Instant::now();
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(thread) = self.thread.take() {
            thread.join().unwrap().unwrap();
        }
        started.elapsed()
    }
}

impl Drop for InProcessProxy {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

pub fn connect(address: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect_timeout(&address, IO_TIMEOUT).unwrap();
    stream.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    stream.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
    stream
}

/// Reads one line ending in CRLF (at most 256 bytes) byte by byte, so nothing after it
/// is consumed.
pub fn read_header_line(stream: &mut TcpStream) -> String {
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    while !line.ends_with(b"\r\n") && line.len() < 256 {
        if stream.read(&mut byte).unwrap() == 0 {
            break;
        }
        line.push(byte[0]);
    }
    String::from_utf8_lossy(&line).into_owned()
}

/// A backend that reads the PROXY line, reports it, and echoes everything after it.
pub struct EchoBackend {
    pub port: u16,
    pub headers: std::sync::mpsc::Receiver<String>,
}

pub fn echo_backend() -> EchoBackend {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let tx = tx.clone();
            std::thread::spawn(move || {
                let line = read_header_line(&mut stream);
                let _ = tx.send(line);
                let mut writer = stream.try_clone().unwrap();
                let _ = std::io::copy(&mut stream, &mut writer);
                let _ = writer.shutdown(Shutdown::Write);
            });
        }
    });
    EchoBackend { port, headers: rx }
}

/// A parsed HTTP/1.1 response.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Reads a response head, then hands the body (by Content-Length, or to EOF) to `sink`.
pub fn read_response_with(reader: &mut impl BufRead, mut sink: impl FnMut(&[u8])) -> Response {
    let mut status_line = String::new();
    reader.read_line(&mut status_line).unwrap();
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            panic!("not an HTTP response: {status_line:?}");
        });
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            headers.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    let length: Option<u64> = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok());
    let mut buffer = vec![0u8; 256 * 1024];
    let mut remaining = length.unwrap_or(u64::MAX);
    while remaining > 0 {
        let want = remaining.min(buffer.len() as u64) as usize;
        let n = reader.read(&mut buffer[..want]).unwrap();
        if n == 0 {
            assert!(
                length.is_none(),
                "body ended early: {remaining} bytes missing"
            );
            break;
        }
        sink(&buffer[..n]);
        remaining -= n as u64;
    }
    Response {
        status,
        headers,
        body: Vec::new(),
    }
}

pub fn read_response(reader: &mut impl BufRead) -> Response {
    let mut body = Vec::new();
    let mut response = read_response_with(reader, |chunk| body.extend_from_slice(chunk));
    response.body = body;
    response
}

/// One `GET` with `Connection: close` on a fresh connection.
pub fn http_get(address: SocketAddr, path: &str) -> Response {
    let mut stream = connect(address);
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    read_response(&mut BufReader::new(stream))
}

/// A real nginx with a `proxy_protocol` listener, a plain one and (when `openssl` is on
/// PATH) an `ssl proxy_protocol` one, each echoing what it learnt in response headers.
pub struct Nginx {
    pub dir: TempDir,
    pub proxy_protocol_port: u16,
    pub plain_port: u16,
    pub tls_port: Option<u16>,
    child: Child,
}

pub fn nginx_binary() -> Option<PathBuf> {
    let candidates = [
        "/usr/sbin/nginx",
        "/usr/local/sbin/nginx",
        "/usr/bin/nginx",
        "/usr/local/bin/nginx",
    ];
    candidates.iter().map(PathBuf::from).find(|p| p.exists())
}

/// Skips a test whose tool is not installed, after a message that cannot be missed; with
/// `OUROBOROS_TESTS_REQUIRE_TOOLS=1` (set by `.ci/run`, which installs them) it fails it
/// instead, so that a CI run cannot pass by skipping the tests against real programs.
pub fn skip_without_tool(test: &str, tool: &str) {
    let why = format!(
        "{tool} is not installed (apt-get install {})",
        debian_package(tool)
    );
    if std::env::var_os("OUROBOROS_TESTS_REQUIRE_TOOLS").is_some_and(|v| v == "1") {
        panic!("{test}: {why}, and OUROBOROS_TESTS_REQUIRE_TOOLS=1 requires it");
    }
    eprintln!("\n!!!!!!!! SKIPPING {test}: {why} !!!!!!!!\n");
}

fn debian_package(tool: &str) -> &str {
    match tool {
        "nginx" => "nginx-light",
        other => other,
    }
}

pub fn have_tool(name: &str) -> bool {
    Command::new(name)
        .arg("version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

fn wait_for_port(port: u16, child: &mut Child) {
    let deadline = Instant::now() + IO_TIMEOUT;
    while Instant::now() < deadline {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("nginx exited early: {status}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("nginx did not listen on {port}");
}

impl Nginx {
    /// Starts nginx, or returns `None` after a loud message when nginx is not installed.
    pub fn start(test: &str) -> Option<Nginx> {
        Nginx::start_with(test, 4096)
    }

    /// As [`Nginx::start`], with room for `worker_connections` concurrent connections.
    pub fn start_with(test: &str, worker_connections: usize) -> Option<Nginx> {
        let Some(binary) = nginx_binary() else {
            skip_without_tool(test, "nginx");
            return None;
        };
        let dir = TempDir::new("nginx");
        let root = &dir.0;
        std::fs::create_dir_all(root.join("www/files")).unwrap();
        std::fs::write(root.join("www/files/hello.txt"), b"hello\n").unwrap();
        let tls = have_tool("openssl");
        if tls {
            generate_certificate(root);
        }
        let [pp, plain, tls_candidate] = free_ports();
        let tls_port = tls.then_some(tls_candidate);
        // SAFETY: geteuid has no preconditions.
        let user = if unsafe { libc::geteuid() } == 0 {
            "user root root;"
        } else {
            ""
        };
        let headers = "add_header X-PP-Addr $proxy_protocol_addr always;\n\
                       add_header X-PP-Port $proxy_protocol_port always;\n\
                       add_header X-PP-Server-Port $proxy_protocol_server_port always;\n\
                       add_header X-Remote-Addr $remote_addr always;\n\
                       add_header X-Connection $connection always;\n\
                       add_header X-Connection-Requests $connection_requests always;";
        let locations = "location = /echo { return 200 \"ok\\n\"; }\n\
                         location /files/ { dav_methods PUT; create_full_put_path on; }\n\
                         location /slow/ { alias WWW/files/; limit_rate 512k; }";
        let locations = locations.replace("WWW", &root.join("www").display().to_string());
        let tls_server = match tls_port {
            Some(port) => format!(
                "server {{ listen 127.0.0.1:{port} ssl proxy_protocol; ssl_certificate {r}/cert.pem; ssl_certificate_key {r}/key.pem; root {r}/www; {headers} {locations} }}",
                r = root.display()
            ),
            None => String::new(),
        };
        let config = format!(
            "daemon off;\nmaster_process on;\nworker_processes 1;\n{user}\npid {r}/nginx.pid;\nerror_log stderr crit;\n\
             worker_rlimit_nofile {rlimit};\nevents {{ worker_connections {worker_connections}; }}\n\
             http {{\n access_log off;\n client_max_body_size 0;\n keepalive_requests 1000;\n\
             client_body_temp_path {r}/tmp_body; proxy_temp_path {r}/tmp_proxy; fastcgi_temp_path {r}/tmp_fastcgi;\n\
             uwsgi_temp_path {r}/tmp_uwsgi; scgi_temp_path {r}/tmp_scgi;\n\
             server {{ listen 127.0.0.1:{pp} proxy_protocol; root {r}/www; {headers} {locations} }}\n\
             server {{ listen 127.0.0.1:{plain}; root {r}/www; {headers} {locations} }}\n\
             {tls_server}\n}}\n",
            r = root.display(),
            rlimit = worker_connections + 64,
        );
        std::fs::write(root.join("nginx.conf"), config).unwrap();
        let mut child = Command::new(binary)
            .arg("-p")
            .arg(root)
            .arg("-c")
            .arg(root.join("nginx.conf"))
            .arg("-e")
            .arg("stderr")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .expect("spawn nginx");
        wait_for_port(pp, &mut child);
        wait_for_port(plain, &mut child);
        if let Some(port) = tls_port {
            wait_for_port(port, &mut child);
        }
        Some(Nginx {
            dir,
            proxy_protocol_port: pp,
            plain_port: plain,
            tls_port,
            child,
        })
    }

    pub fn www(&self) -> PathBuf {
        self.dir.0.join("www")
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // SAFETY: signalling our own child by its id.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGQUIT) };
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A throw-away self-signed certificate and key for `localhost` in `dir`; an installed
/// openssl that fails is an error.
fn generate_certificate(dir: &Path) {
    let output = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
        ])
        .args(["-addext", "subjectAltName=DNS:localhost"])
        .arg("-keyout")
        .arg(dir.join("key.pem"))
        .arg("-out")
        .arg(dir.join("cert.pem"))
        .output()
        .expect("run openssl");
    assert!(
        output.status.success(),
        "openssl could not make a throw-away certificate in {}: {}",
        dir.display(),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Deterministic pseudo-random bytes (xorshift), fast enough for hundreds of MiB.
pub struct PseudoRandom(u64);

impl PseudoRandom {
    pub fn new(seed: u64) -> Self {
        PseudoRandom(seed | 1)
    }

    pub fn fill(&mut self, buffer: &mut [u8]) {
        for chunk in buffer.chunks_mut(8) {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            chunk.copy_from_slice(&self.0.to_le_bytes()[..chunk.len()]);
        }
    }
}

/// Open descriptors of this process.
pub fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .map(|d| d.count())
        .unwrap_or(0)
}

pub fn wait_until(timeout: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if condition() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    condition()
}
