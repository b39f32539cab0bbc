//! Running a binary the way its pod would see the world, without changing its arguments.
//!
//! A pod resolves Service names through its own `/etc/resolv.conf` (kubelet's search list,
//! from which both binaries detect the cluster domain) and cluster DNS. Here each process gets
//! a private mount namespace (`unshare --mount`) in which a pod-style `resolv.conf` and an
//! `/etc/hosts` that maps the ingress-nginx Service name to nginx's loopback address are
//! bind-mounted over the real files. Arguments and environment stay exactly as rendered;
//! the rest of the machine is untouched. Creating a mount namespace needs root (CI runs
//! as root); [`PodRoot::available`] says whether this machine allows it.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The files a pod sees at /etc/hosts and /etc/resolv.conf.
pub struct PodRoot {
    pub hosts: PathBuf,
    pub resolv_conf: PathBuf,
}

/// Binds the two files, then runs the rest of the command line in place of the shell.
const ENTER: &str =
    r#"mount --bind "$1" /etc/hosts && mount --bind "$2" /etc/resolv.conf && shift 2 && exec "$@""#;

impl PodRoot {
    /// Writes the files into `dir`: kubelet's search list for a pod in `namespace` of a
    /// cluster with domain `cluster.local`, and `hosts` lines (`ip name`).
    pub fn new(dir: &Path, namespace: &str, hosts: &[(&str, &str)]) -> PodRoot {
        let hosts_path = dir.join("hosts");
        let mut text = String::from("127.0.0.1\tlocalhost\n");
        for (ip, name) in hosts {
            text.push_str(&format!("{ip}\t{name}\n"));
        }
        std::fs::write(&hosts_path, text).expect("write hosts");
        let resolv_conf = dir.join("resolv.conf");
        // No ndots option: the composed names have enough dots to be tried as given first,
        // so they are answered from the hosts file without asking any nameserver.
        std::fs::write(&resolv_conf, format!("search {namespace}.svc.cluster.local svc.cluster.local cluster.local\nnameserver 127.0.0.1\n")).expect("write resolv.conf");
        PodRoot {
            hosts: hosts_path,
            resolv_conf,
        }
    }

    /// Whether this process may create a private mount namespace and bind files in it.
    pub fn available() -> Result<(), String> {
        let out = Command::new("unshare")
            .args(["--mount", "--propagation", "private", "--", "sh", "-c", "mount --bind /etc/hosts /etc/hosts && mount --bind /etc/resolv.conf /etc/resolv.conf"])
            .output()
            .map_err(|e| format!("cannot run unshare (util-linux): {e}"))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "cannot bind-mount in a private mount namespace (needs root): {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ))
        }
    }

    /// `ouroboros <args>` with exactly `env` (plus PATH and the pod's HOSTNAME).
    pub fn command(&self, pod_name: &str, args: &[String], env: &[(String, String)]) -> Command {
        let mut cmd = Command::new("unshare");
        cmd.args([
            "--mount",
            "--propagation",
            "private",
            "--",
            "sh",
            "-c",
            ENTER,
            "sh",
        ])
        .arg(&self.hosts)
        .arg(&self.resolv_conf)
        .arg(env!("CARGO_BIN_EXE_ouroboros"))
        .args(args)
        .env_clear()
        .env(
            "PATH",
            std::env::var_os("PATH").unwrap_or_else(|| "/usr/sbin:/usr/bin:/sbin:/bin".into()),
        )
        .env("HOSTNAME", pod_name)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null());
        cmd
    }

    /// Starts a long-running process; stdout and stderr go to `<dir>/<pod_name>.log`.
    pub fn spawn(
        &self,
        dir: &Path,
        pod_name: &str,
        args: &[String],
        env: &[(String, String)],
    ) -> Proc {
        let log = dir.join(format!("{pod_name}.log"));
        let file = std::fs::File::create(&log).expect("log file");
        let child = self
            .command(pod_name, args, env)
            .stdout(file.try_clone().expect("log file"))
            .stderr(file)
            .spawn()
            .expect("spawn unshare");
        Proc {
            child: Some(child),
            log,
            name: pod_name.into(),
        }
    }

    /// Runs a process to completion (a Job's pod).
    pub fn run(&self, pod_name: &str, args: &[String], env: &[(String, String)]) -> Output {
        self.command(pod_name, args, env)
            .output()
            .expect("run unshare")
    }
}

/// A running process; killed on drop.
pub struct Proc {
    child: Option<Child>,
    pub log: PathBuf,
    pub name: String,
}

impl Proc {
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The exit code once the process has ended (`Some(-1)` for a signal).
    pub fn exited(&mut self) -> Option<i32> {
        let child = self.child.as_mut()?;
        child
            .try_wait()
            .ok()
            .flatten()
            .map(|s| s.code().unwrap_or(-1))
    }

    /// Waits up to `timeout` for the process to end by itself.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<i32> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Some(code) = self.exited() {
                return Some(code);
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        None
    }

    /// SIGTERM, as the kubelet stops a container, then wait (SIGKILL after 10 s).
    pub fn terminate(&mut self) -> Option<i32> {
        let child = self.child.as_mut()?;
        // `unshare` execs the shell, which execs the binary: the child id is the binary's.
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(child.id().to_string())
            .status();
        let code = self.wait_exit(Duration::from_secs(10));
        if code.is_none() {
            if let Some(mut child) = self.child.take() {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
        code
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
