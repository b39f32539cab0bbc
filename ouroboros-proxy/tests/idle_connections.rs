//! Ten thousand concurrent idle connections through the relay process, then all closed:
//! nothing may leak. The relay runs as its own process (two descriptors per connection)
//! with nginx as the backend, so each process stays within its descriptor limit.

mod support;

use std::net::{SocketAddr, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::*;

const BINARY: &str = env!("CARGO_BIN_EXE_ouroboros-proxy");
const WANTED: usize = 10_000;
/// Descriptors the relay process needs besides its connections (runtime, listeners,
/// stdio, resolver threads).
const RELAY_OVERHEAD_FDS: usize = 64;

/// Raises this process's soft RLIMIT_NOFILE as far as allowed towards `target` (children
/// inherit it); returns (soft, hard).
#[allow(clippy::unnecessary_cast)] // rlim_t is not u64 on every platform
fn raise_nofile(target: u64) -> (u64, u64) {
    // SAFETY: plain getrlimit/setrlimit calls on local structs.
    unsafe {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit);
        let hard = (target as libc::rlim_t).max(limit.rlim_max);
        if libc::setrlimit(
            libc::RLIMIT_NOFILE,
            &libc::rlimit {
                rlim_cur: target as libc::rlim_t,
                rlim_max: hard,
            },
        ) != 0
        {
            // Raising the hard limit needs CAP_SYS_RESOURCE; take what the hard limit allows.
            libc::setrlimit(
                libc::RLIMIT_NOFILE,
                &libc::rlimit {
                    rlim_cur: limit.rlim_max,
                    rlim_max: limit.rlim_max,
                },
            );
        }
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit);
        (limit.rlim_cur as u64, limit.rlim_max as u64)
    }
}

/// Kills the relay if the test fails half-way, so no process outlives the test.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn fds_of(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|d| d.count())
        .unwrap_or(0)
}

#[test]
fn ten_thousand_idle_connections_leave_no_leaked_descriptors() {
    let (soft, hard) = raise_nofile((2 * WANTED + RELAY_OVERHEAD_FDS) as u64);
    let count = WANTED.min((soft as usize).saturating_sub(RELAY_OVERHEAD_FDS) / 2);
    if count < WANTED {
        eprintln!(
            "\n!!!!!!!! descriptor hard limit {hard} (raising it needs CAP_SYS_RESOURCE) allows the relay only {count} of {WANTED} connections; testing with {count} !!!!!!!!\n"
        );
    }
    assert!(
        count >= 1_000,
        "descriptor limit {soft} too low for a meaningful test"
    );
    let Some(nginx) = Nginx::start_with("ten_thousand_idle_connections", count + 100) else {
        return;
    };

    let [http, health] = free_ports();
    let log = TempDir::new("idle-log");
    let child = Command::new(BINARY)
        .arg(format!("--listen-http=127.0.0.1:{http}"))
        .arg("--listen-https=")
        .arg(format!("--listen-health=127.0.0.1:{health}"))
        .arg("--target-host=127.0.0.1")
        .arg(format!("--target-http-port={}", nginx.proxy_protocol_port))
        .arg(format!("--max-connections={}", count + 100))
        // A loaded machine can overflow nginx's accept queue; a backend connect then
        // waits for a SYN retransmission (1 s, 3 s), which must not end it mid-test.
        .arg("--dial-timeout=60s")
        .env_clear()
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log.0.join("stderr")).unwrap())
        .spawn()
        .unwrap();
    let mut child = KillOnDrop(child);
    let health: SocketAddr = ([127, 0, 0, 1], health).into();
    assert!(
        wait_until(IO_TIMEOUT, || TcpStream::connect(health).is_ok()),
        "relay did not start"
    );
    let pid = child.0.id();
    let baseline = fds_of(pid);

    let started = Instant::now();
    let mut clients = Vec::with_capacity(count);
    for _ in 0..count {
        clients.push(TcpStream::connect(("127.0.0.1", http)).unwrap());
    }
    let active = |text: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix("ouroboros_proxy_connections_active "))
            .and_then(|v| v.parse::<usize>().ok())
            .unwrap_or(0)
    };
    let metrics = || String::from_utf8(http_get(health, "/metrics").body).unwrap_or_default();
    assert!(
        wait_until(Duration::from_secs(60), || active(&metrics()) == count),
        "only {} of {count} relayed; log: {}",
        active(&metrics()),
        std::fs::read_to_string(log.0.join("stderr")).unwrap_or_default()
    );
    eprintln!(
        "{count} idle connections relayed in {:?}",
        started.elapsed()
    );
    // Two either way: the baseline may still have counted the start-up probe's socket.
    assert!(
        fds_of(pid) + 2 >= baseline + 2 * count,
        "{} descriptors open, {baseline} before {count} connections",
        fds_of(pid)
    );

    drop(clients);
    assert!(
        wait_until(Duration::from_secs(60), || active(&metrics()) == 0),
        "connections left active"
    );
    assert!(
        wait_until(Duration::from_secs(30), || fds_of(pid) <= baseline + 2),
        "descriptors leaked: {} open, {baseline} before",
        fds_of(pid)
    );
    assert!(child.0.try_wait().unwrap().is_none(), "relay died");
    assert!(metrics().contains(&format!(
        "ouroboros_proxy_connections_accepted_total {count}"
    )));
    // SAFETY: signalling our own child by its id.
    unsafe { libc::kill(pid as i32, libc::SIGTERM) };
    assert_eq!(child.0.wait().unwrap().code(), Some(0));
}
