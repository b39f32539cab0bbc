//! The relay as a separate process: exit codes, signals, logs, descriptor exhaustion.

mod support;

use std::fs::File;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use support::*;

const BINARY: &str = env!("CARGO_BIN_EXE_ouroboros-proxy");

struct ProxyProcess {
    child: Child,
    log: TempDir,
    http: SocketAddr,
    health: SocketAddr,
}

impl ProxyProcess {
    /// `nofile`: the (soft, hard) descriptor limits to start the relay under.
    fn spawn(extra: &[&str], nofile: Option<(u64, u64)>) -> ProxyProcess {
        let log = TempDir::new("log");
        let [http, health] = free_ports();
        let stderr = File::create(log.0.join("stderr")).unwrap();
        let mut command = Command::new(BINARY);
        command
            .arg(format!("--listen-http=127.0.0.1:{http}"))
            .arg("--listen-https=")
            .arg(format!("--listen-health=127.0.0.1:{health}"))
            .args(extra)
            .env_clear()
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr);
        if let Some((soft, hard)) = nofile {
            // SAFETY: setrlimit is async-signal-safe and touches only the child.
            unsafe {
                command.pre_exec(move || {
                    let value = libc::rlimit {
                        rlim_cur: soft as libc::rlim_t,
                        rlim_max: hard as libc::rlim_t,
                    };
                    if libc::setrlimit(libc::RLIMIT_NOFILE, &value) != 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    Ok(())
                });
            }
        }
        let mut child = command.spawn().unwrap();
        let health: SocketAddr = ([127, 0, 0, 1], health).into();
        let up = wait_until(IO_TIMEOUT, || {
            matches!(child.try_wait(), Ok(None)) && TcpStream::connect(health).is_ok()
        });
        let process = ProxyProcess {
            child,
            log,
            http: ([127, 0, 0, 1], http).into(),
            health,
        };
        assert!(up, "proxy did not start: {}", process.stderr());
        process
    }

    fn stderr(&self) -> String {
        std::fs::read_to_string(self.log.0.join("stderr")).unwrap_or_default()
    }

    fn signal(&self, signal: i32) {
        // SAFETY: signalling our own child by its id.
        unsafe { libc::kill(self.child.id() as i32, signal) };
    }

    /// SIGTERM, then the exit status must be 0 within 10 s; returns the whole log.
    fn terminate(&mut self) -> String {
        self.signal(libc::SIGTERM);
        assert_eq!(
            self.wait(Duration::from_secs(10)).and_then(|s| s.code()),
            Some(0),
            "{}",
            self.stderr()
        );
        self.stderr()
    }

    fn wait(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

impl Drop for ProxyProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn run_to_exit(args: &[&str], env: &[(&str, &str)]) -> (i32, String) {
    let output = Command::new(BINARY)
        .args(args)
        .env_clear()
        .envs(env.iter().copied())
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn startup_errors_exit_1_with_a_fatal_line() {
    let (code, stderr) = run_to_exit(&["--help"], &[]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("--listen-http string") && stderr.contains("OUROBOROS_PROXY_LISTEN_HTTP"),
        "{stderr}"
    );

    let (code, stderr) = run_to_exit(&["--bogus"], &[]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("fatal") && stderr.contains("-bogus"),
        "{stderr}"
    );

    let (code, stderr) = run_to_exit(
        &["--target-host=x"],
        &[
            ("OUROBOROS_PROXY_DIAL_TIMEOUT", "5sec"),
            ("OUROBOROS_PROXY_TARGET_HTTP_PORT", "eighty"),
        ],
    );
    assert_eq!(code, 1);
    assert!(
        stderr.contains("OUROBOROS_PROXY_DIAL_TIMEOUT") && stderr.contains("eighty"),
        "{stderr}"
    );

    let (code, stderr) = run_to_exit(&[], &[]);
    assert_eq!(code, 1);
    assert!(stderr.contains("service name is empty"), "{stderr}");

    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap().to_string();
    let (code, stderr) = run_to_exit(
        &[
            "--target-host=x",
            "--listen-https=",
            "--listen-health=",
            &format!("--listen-http={address}"),
        ],
        &[],
    );
    assert_eq!(code, 1);
    assert!(
        stderr.contains("fatal") && stderr.contains(&address),
        "{stderr}"
    );
}

/// A backend that reads the header and request, then sends `total` bytes slowly.
fn slow_backend(total: usize, chunk: usize, pause: Duration) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut stream = stream;
                let _ = read_header_line(&mut stream);
                let mut request = [0u8; 16];
                let _ = stream.read(&mut request);
                let mut sent = 0;
                while sent < total {
                    let n = chunk.min(total - sent);
                    if stream.write_all(&vec![b'z'; n]).is_err() {
                        return;
                    }
                    sent += n;
                    std::thread::sleep(pause);
                }
            });
        }
    });
    port
}

/// The relay's resident memory in KiB (`VmRSS`).
fn resident_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap()
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc/<pid>/status")
}

/// Clients that never read, behind backends that never stop writing: the relay holds at
/// most one read's worth (or one pipe) per direction and stops reading, so each backend's
/// writes stall at what the kernel's socket buffers take, and the relay's memory does not
/// follow what the backends offer.
#[test]
fn stalled_clients_stall_their_backends_without_growing_the_relay() {
    const CLIENTS: usize = 4;
    const OFFERED: usize = 96 << 20;
    const CHUNK: usize = 1 << 20;
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (pushed_tx, pushed) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten().take(CLIENTS) {
            let pushed_tx = pushed_tx.clone();
            std::thread::spawn(move || {
                let mut stream = stream;
                let _ = read_header_line(&mut stream);
                // A write that makes no progress for this long means the path is full.
                stream
                    .set_write_timeout(Some(Duration::from_millis(500)))
                    .unwrap();
                let chunk = vec![b'z'; CHUNK];
                let mut sent = 0;
                while sent < OFFERED {
                    match stream.write(&chunk) {
                        Ok(n) => sent += n,
                        Err(_) => break,
                    }
                }
                let _ = pushed_tx.send(sent);
                // Held open, so that the relay keeps its side of the stalled stream.
                std::thread::sleep(Duration::from_secs(30));
            });
        }
    });
    let proxy = ProxyProcess::spawn(
        &[
            "--target-host=127.0.0.1",
            &format!("--target-http-port={port}"),
        ],
        None,
    );
    let before = resident_kib(proxy.child.id());
    let clients: Vec<TcpStream> = (0..CLIENTS)
        .map(|_| {
            let mut client = connect(proxy.http);
            client.write_all(b"GET /big HTTP/1.1\r\n\r\n").unwrap();
            client
        })
        .collect();
    for _ in 0..CLIENTS {
        let sent = pushed
            .recv_timeout(Duration::from_secs(60))
            .expect("a backend never stalled");
        assert!(
            sent < 64 << 20,
            "a backend wrote {} MiB to a client that reads nothing: the relay kept reading",
            sent >> 20
        );
    }
    let grown = resident_kib(proxy.child.id()).saturating_sub(before);
    assert!(
        grown < 16 * 1024,
        "the relay grew by {grown} KiB holding {CLIENTS} stalled streams"
    );
    drop(clients);
}

#[test]
fn sigterm_drains_an_in_flight_slow_download() {
    let total = 1_200_000;
    let port = slow_backend(total, 100_000, Duration::from_millis(100));
    let mut proxy = ProxyProcess::spawn(
        &[
            "--target-host=127.0.0.1",
            &format!("--target-http-port={port}"),
            "--shutdown-grace=20s",
        ],
        None,
    );
    let mut client = connect(proxy.http);
    client.write_all(b"GET").unwrap();
    let mut buffer = vec![0u8; 64 * 1024];
    let mut received = client.read(&mut buffer).unwrap();
    assert!(received > 0);
    let signalled = Instant::now();
    proxy.signal(libc::SIGTERM);
    // A second signal changes nothing: no faster exit, no default-action death.
    std::thread::sleep(Duration::from_millis(200));
    proxy.signal(libc::SIGTERM);
    assert!(
        wait_until(Duration::from_secs(2), || TcpStream::connect(proxy.http)
            .is_err()),
        "listener still open during drain"
    );
    let readyz = http_get(proxy.health, "/readyz");
    assert_eq!(readyz.status, 503);
    loop {
        let n = client.read(&mut buffer).unwrap();
        if n == 0 {
            break;
        }
        received += n;
    }
    assert_eq!(received, total, "download cut short");
    // The client closes its side once the response is complete, as HTTP clients do.
    drop(client);
    let status = proxy
        .wait(Duration::from_secs(5))
        .expect("proxy did not exit after the drain");
    assert_eq!(status.code(), Some(0), "{}", proxy.stderr());
    assert!(
        signalled.elapsed() >= Duration::from_millis(900),
        "exited before the download finished"
    );
    assert!(
        !proxy.stderr().contains("shutdown grace expired"),
        "{}",
        proxy.stderr()
    );
}

#[test]
fn sigterm_closes_what_outlives_the_grace() {
    let backend = echo_backend();
    let mut proxy = ProxyProcess::spawn(
        &[
            "--target-host=127.0.0.1",
            &format!("--target-http-port={}", backend.port),
            "--shutdown-grace=300ms",
        ],
        None,
    );
    let mut idle = connect(proxy.http);
    idle.write_all(b"x").unwrap();
    let mut back = [0u8; 1];
    idle.read_exact(&mut back).unwrap();
    proxy.signal(libc::SIGTERM);
    let status = proxy
        .wait(Duration::from_secs(5))
        .expect("proxy did not exit");
    assert_eq!(status.code(), Some(0));
    assert_eq!(
        idle.read(&mut back).unwrap_or(0),
        0,
        "idle connection left open"
    );
    assert!(
        proxy
            .stderr()
            .contains("shutdown grace expired with active connections"),
        "{}",
        proxy.stderr()
    );
}

#[test]
fn readiness_logs_once_per_transition() {
    let (backend, port) = refusing_port();
    let mut proxy = ProxyProcess::spawn(
        &[
            "--target-host=127.0.0.1",
            &format!("--target-http-port={port}"),
        ],
        None,
    );
    for _ in 0..3 {
        assert_eq!(http_get(proxy.health, "/readyz").status, 503);
    }
    let health = proxy.health;
    let probes: Vec<_> = (0..20)
        .map(|_| std::thread::spawn(move || http_get(health, "/readyz").status))
        .collect();
    assert!(probes.into_iter().all(|p| p.join().unwrap() == 503));
    backend.listen(16).unwrap();
    assert_eq!(http_get(proxy.health, "/readyz").status, 200);
    assert_eq!(http_get(proxy.health, "/readyz").status, 200);
    drop(backend);
    let stderr = proxy.terminate();
    let warnings: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("backend readiness check failed"))
        .collect();
    assert_eq!(warnings.len(), 1, "{stderr}");
    assert!(
        warnings[0].contains("cause=connection-refused") && warnings[0].contains("WARN"),
        "{stderr}"
    );
    assert_eq!(
        stderr
            .lines()
            .filter(|l| l.contains("backend readiness recovered"))
            .count(),
        1,
        "{stderr}"
    );
}

#[test]
fn healthy_first_probes_log_nothing_about_readiness() {
    // One listener serves as both backend ports; the probes only connect.
    let backend = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = backend.local_addr().unwrap().port();
    let mut proxy = ProxyProcess::spawn(
        &[
            "--target-host=127.0.0.1",
            &format!("--target-http-port={port}"),
            &format!("--target-https-port={port}"),
        ],
        None,
    );
    for _ in 0..3 {
        assert_eq!(http_get(proxy.health, "/readyz").status, 200);
    }
    let stderr = proxy.terminate();
    assert!(stderr.contains("proxy stopped"), "{stderr}");
    assert!(!stderr.contains("readiness"), "{stderr}");
}

#[test]
fn log_level_warn_keeps_the_warnings_and_drops_the_rest() {
    let (_refusing, port) = refusing_port();
    let mut proxy = ProxyProcess::spawn(
        &[
            "--target-host=127.0.0.1",
            &format!("--target-http-port={port}"),
            "--log-level=warn",
        ],
        None,
    );
    assert_eq!(http_get(proxy.health, "/readyz").status, 503);
    let stderr = proxy.terminate();
    assert!(
        stderr.contains("WARN") && stderr.contains("backend readiness check failed"),
        "{stderr}"
    );
    assert!(!stderr.contains("INFO"), "{stderr}");
}

#[test]
fn unresolvable_backend_warns_once_with_the_host() {
    let proxy = ProxyProcess::spawn(&["--target-host=ingress.example.invalid"], None);
    for _ in 0..3 {
        let response = http_get(proxy.health, "/readyz");
        assert_eq!(response.status, 503);
        assert!(String::from_utf8_lossy(&response.body).contains("(dns-nxdomain)"));
    }
    let stderr = proxy.stderr();
    let warnings: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("backend readiness check failed"))
        .collect();
    assert_eq!(warnings.len(), 1, "{stderr}");
    assert!(
        warnings[0].contains("cause=dns-nxdomain")
            && warnings[0].contains("ingress.example.invalid"),
        "{stderr}"
    );
}

/// This process's hard descriptor limit.
fn hard_descriptor_limit() -> u64 {
    ouroboros_proxy::descriptor_limit::current().unwrap().hard
}

/// The soft and hard "Max open files" of a process, from `/proc/<pid>/limits`.
fn open_file_limits(pid: u32) -> (String, String) {
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).unwrap();
    let line = limits
        .lines()
        .find(|line| line.starts_with("Max open files"))
        .unwrap_or_else(|| panic!("no open-file limit in {limits}"));
    let fields: Vec<&str> = line.split_whitespace().collect();
    (fields[3].to_string(), fields[4].to_string())
}

#[test]
fn the_soft_descriptor_limit_rises_to_the_hard_one_at_startup() {
    // Started like systemd starts services by default: a low soft limit under a high
    // hard one (here at most 4096, to stay within what this process may pass on).
    let hard = hard_descriptor_limit().min(4096);
    assert!(
        hard >= 512,
        "hard descriptor limit {hard} too low for this test"
    );
    let mut proxy = ProxyProcess::spawn(
        &["--target-host=127.0.0.1", "--max-connections=100"],
        Some((128, hard)),
    );
    let hard_text = hard.to_string();
    assert_eq!(
        open_file_limits(proxy.child.id()),
        (hard_text.clone(), hard_text)
    );
    let stderr = proxy.terminate();
    assert!(
        stderr.contains(&format!("max_open_files={hard}")),
        "{stderr}"
    );
    assert!(!stderr.contains("descriptor limit is below"), "{stderr}");
}

#[test]
fn a_descriptor_limit_too_low_for_max_connections_is_named_at_startup() {
    let mut proxy = ProxyProcess::spawn(
        &["--target-host=127.0.0.1", "--max-connections=1000"],
        Some((300, 300)),
    );
    let stderr = proxy.terminate();
    let warning = stderr
        .lines()
        .find(|line| line.contains("descriptor limit is below"))
        .unwrap_or_else(|| panic!("no descriptor-limit warning: {stderr}"));
    assert!(warning.contains("WARN"), "{warning}");
    for field in ["limit=300", "needed=2064", "max_connections=1000"] {
        assert!(warning.contains(field), "{field} missing: {warning}");
    }
}

#[test]
fn running_out_of_descriptors_does_not_kill_the_process() {
    let backend = echo_backend();
    let proxy = ProxyProcess::spawn(
        &[
            "--target-host=127.0.0.1",
            &format!("--target-http-port={}", backend.port),
        ],
        Some((40, 40)),
    );
    // Far more connections than 40 descriptors allow (each costs the relay two or more).
    let mut clients = Vec::new();
    for _ in 0..60 {
        if let Ok(stream) = TcpStream::connect_timeout(&proxy.http, Duration::from_secs(2)) {
            let _ = (&stream).write_all(b"x");
            clients.push(stream);
        }
    }
    assert!(
        wait_until(Duration::from_secs(5), || proxy
            .stderr()
            .contains("backing off")),
        "descriptors never ran out: {}",
        proxy.stderr()
    );
    drop(clients);
    // Once descriptors are free again the relay serves as before.
    let served = wait_until(Duration::from_secs(10), || {
        let Ok(mut stream) = TcpStream::connect_timeout(&proxy.http, Duration::from_secs(2)) else {
            return false;
        };
        let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
        let mut back = [0u8; 4];
        stream.write_all(b"ping").is_ok()
            && stream.read_exact(&mut back).is_ok()
            && &back == b"ping"
    });
    assert!(served, "relay did not recover: {}", proxy.stderr());
    let mut proxy = proxy;
    assert!(proxy.child.try_wait().unwrap().is_none(), "process died");
    assert_eq!(http_get(proxy.health, "/healthz").status, 200);
}

/// Scheduling policy of every thread of `pid`, from `/proc/<pid>/task/<tid>/stat`
/// (field 41).
#[cfg(target_os = "linux")]
fn thread_policies(pid: u32) -> Vec<i32> {
    let mut policies = Vec::new();
    for task in std::fs::read_dir(format!("/proc/{pid}/task")).unwrap() {
        let stat = std::fs::read_to_string(task.unwrap().path().join("stat")).unwrap();
        // The command name may hold spaces: fields are counted after its ")".
        let after_name = &stat[stat.rfind(')').unwrap() + 2..];
        let policy = after_name.split(' ').nth(41 - 3).unwrap();
        policies.push(policy.parse().unwrap());
    }
    policies
}

#[cfg(target_os = "linux")]
#[test]
fn every_relay_thread_runs_under_the_cpu_policy() {
    let target = TcpListener::bind("127.0.0.1:0").unwrap();
    let target_port = target.local_addr().unwrap().port().to_string();
    let port_flag = format!("--target-http-port={target_port}");
    for (name, expected) in [("batch", libc::SCHED_BATCH), ("normal", libc::SCHED_OTHER)] {
        let flag = format!("--cpu-policy={name}");
        let proxy = ProxyProcess::spawn(
            &[
                &flag,
                "--target-host=127.0.0.1",
                &port_flag,
                "--worker-threads=3",
            ],
            None,
        );
        let policies = thread_policies(proxy.child.id());
        assert!(policies.len() >= 3, "{flag}: {policies:?}");
        assert!(
            policies.iter().all(|&p| p == expected),
            "{flag}: thread policies {policies:?}, want {expected}\n{}",
            proxy.stderr()
        );
        // The startup line names the policy in force.
        let logged = format!("cpu_policy={name}");
        assert!(proxy.stderr().contains(&logged), "{}", proxy.stderr());
    }
}
