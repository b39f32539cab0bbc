//! Runs the real binary against the API stand-in.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use kube_standin::{BlockingStandIn, StandIn};
use serde_json::{json, Value};

pub const TARGET: &str = "ouroboros-proxy.ouroboros.svc.cluster.local.";

pub const KUBEADM_COREFILE: &str = ".:53 {
    errors
    health {
       lameduck 5s
    }
    ready
    kubernetes cluster.local in-addr.arpa ip6.arpa {
       pods insecure
       fallthrough in-addr.arpa ip6.arpa
       ttl 30
    }
    prometheus :9153
    forward . /etc/resolv.conf {
       max_concurrent 1000
    }
    cache 30
    loop
    reload
    loadbalance
}
";

/// A stand-in plus a scratch directory with its kubeconfig.
pub struct Env {
    pub api: BlockingStandIn,
    pub dir: tempfile::TempDir,
    pub kubeconfig: PathBuf,
}

impl Env {
    pub fn start() -> Env {
        let api = BlockingStandIn::start_with(StandIn::builder()).expect("start stand-in");
        let dir = tempfile::tempdir().expect("tempdir");
        let kubeconfig = dir.path().join("kubeconfig");
        api.write_kubeconfig(&kubeconfig).expect("kubeconfig");
        Env {
            api,
            dir,
            kubeconfig,
        }
    }

    pub fn apply(&self, object: Value) -> Value {
        self.api.apply_object(object).expect("apply")
    }

    pub fn configmap(&self, ns: &str, name: &str, data: Value) {
        self.apply(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": ns}, "data": data}));
    }

    pub fn configmap_data(&self, ns: &str, name: &str, key: &str) -> Option<String> {
        let cm = self
            .api
            .get_object("v1", "ConfigMap", ns, name)
            .expect("get")?;
        cm["data"][key].as_str().map(str::to_string)
    }

    pub fn ingress(&self, ns: &str, name: &str, hosts: &[&str]) {
        self.apply(json!({
            "apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
            "metadata": {"name": name, "namespace": ns},
            "spec": {"ingressClassName": "nginx", "tls": [{"hosts": hosts, "secretName": "tls"}],
                     "rules": [{"host": "rules-only.example.com"}]}
        }));
    }

    pub fn delete_ingress(&self, ns: &str, name: &str) {
        self.api
            .delete_object("networking.k8s.io/v1", "Ingress", ns, name)
            .expect("delete");
    }

    /// Starts `ouroboros-controller controller` with short timings; stderr goes to a file.
    pub fn controller(&self, name: &str, args: &[&str], env: &[(&str, &str)]) -> Proc {
        let log = self.dir.path().join(format!("{name}.log"));
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_ouroboros-controller"));
        cmd.arg("controller")
            .arg(format!("--kubeconfig={}", self.kubeconfig.display()))
            .args([
                "--resync=2s",
                "--debounce=10ms",
                "--listen-health=",
                "--log-level=debug",
            ])
            .args(args)
            .env_remove("OUROBOROS_INSTANCE")
            .env("HOSTNAME", name)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("log file"));
        Proc {
            child: Some(cmd.spawn().expect("spawn controller")),
            log,
        }
    }

    /// Runs `ouroboros-controller cleanup` to completion; returns (exit code, stderr).
    pub fn cleanup(&self, args: &[&str]) -> (i32, String) {
        let out = Command::new(env!("CARGO_BIN_EXE_ouroboros-controller"))
            .arg("cleanup")
            .arg(format!("--kubeconfig={}", self.kubeconfig.display()))
            .args([
                "--poll-interval=100ms",
                "--quiesce-timeout=3s",
                "--delete-timeout=3s",
            ])
            .args(args)
            .env_remove("OUROBOROS_INSTANCE")
            .stdin(Stdio::null())
            .output()
            .expect("run cleanup");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }
}

/// A running controller; killed on drop.
pub struct Proc {
    child: Option<Child>,
    pub log: PathBuf,
}

impl Proc {
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGTERM and wait; returns the exit code.
    pub fn terminate(&mut self) -> Option<i32> {
        let mut child = self.child.take()?;
        // The shell builtin is always there; a `kill` binary may not be.
        let _ = Command::new("sh")
            .arg("-c")
            .arg(format!("kill -TERM {}", child.id()))
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = child.try_wait() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
        None
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    pub fn exited(&mut self) -> Option<i32> {
        self.child
            .as_mut()
            .and_then(|c| c.try_wait().ok().flatten())
            .and_then(|s| s.code())
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Polls `check` until it holds or `timeout` passes.
pub fn wait_for(timeout: Duration, mut check: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if check() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
}

pub fn rewrite(host: &str) -> String {
    format!("rewrite name {host} {TARGET}")
}

pub fn free_port() -> u16 {
    let [port] = free_ports();
    port
}

/// `N` distinct ports that were free a moment ago. All are bound at once, so no two are
/// the same; separate [`free_port`] calls may hand out one port twice.
pub fn free_ports<const N: usize>() -> [u16; N] {
    let listeners: Vec<std::net::TcpListener> = (0..N)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0").unwrap())
        .collect();
    std::array::from_fn(|i| listeners[i].local_addr().unwrap().port())
}

/// GET a path on a local port; returns the body of a 200.
pub fn http_get(port: u16, path: &str) -> Option<String> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(s, "GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    let (head, body) = out.split_once("\r\n\r\n")?;
    head.starts_with("HTTP/1.1 200").then(|| body.to_string())
}

pub fn metric(text: &str, name: &str) -> Option<f64> {
    text.lines().find_map(|l| {
        l.strip_prefix(name)
            .and_then(|rest| rest.strip_prefix(' '))
            .and_then(|v| v.trim().parse().ok())
    })
}

pub fn path_str(p: &Path) -> String {
    p.display().to_string()
}
