//! A real nginx with `proxy_protocol` listeners, standing in for ingress-nginx.
//!
//! It listens on the Service ports the proxy's rendered args dial (`--target-http-port`,
//! `--target-https-port`), on a loopback address of its own so that scenarios running at the
//! same time, and anything else on the machine, keep their ports. Every response echoes what
//! nginx read from the PROXY header.

use std::net::{Ipv4Addr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Nginx {
    pub ip: Ipv4Addr,
    dir: PathBuf,
    child: Child,
}

/// Where Debian's nginx-light (and other layouts) install the binary.
pub fn binary() -> Option<PathBuf> {
    [
        "/usr/sbin/nginx",
        "/usr/local/sbin/nginx",
        "/usr/bin/nginx",
        "/usr/local/bin/nginx",
    ]
    .iter()
    .map(PathBuf::from)
    .find(|p| p.exists())
}

/// A loopback address for scenario `slot` of this test process.
pub fn loopback_for(slot: u8) -> Ipv4Addr {
    let pid = std::process::id();
    Ipv4Addr::new(127, 100 + slot, (pid >> 8) as u8, (pid % 250) as u8 + 2)
}

impl Nginx {
    /// Starts nginx on `ip` with `proxy_protocol` listeners on `ports`; `Err` carries nginx's
    /// own words when it cannot start (for example a port already taken).
    pub fn start(dir: &Path, ip: Ipv4Addr, ports: &[u16]) -> Result<Nginx, String> {
        let binary = binary().ok_or("nginx is not installed (apt-get install nginx-light)")?;
        let root = dir.join("nginx");
        std::fs::create_dir_all(&root).map_err(|e| e.to_string())?;
        let listeners: String = ports
            .iter()
            .map(|p| format!("listen {ip}:{p} proxy_protocol; "))
            .collect();
        // Workers of a root master would run as nobody and could not use the temp dirs.
        let user = if is_root() { "user root root;" } else { "" };
        let config = format!(
            "daemon off;\nmaster_process on;\nworker_processes 1;\n{user}\npid {r}/nginx.pid;\nerror_log stderr error;\n\
             events {{ worker_connections 256; }}\n\
             http {{\n access_log off;\n\
             client_body_temp_path {r}/tmp_body; proxy_temp_path {r}/tmp_proxy; fastcgi_temp_path {r}/tmp_fastcgi;\n\
             uwsgi_temp_path {r}/tmp_uwsgi; scgi_temp_path {r}/tmp_scgi;\n\
             server {{ {listeners}\n\
               add_header X-PP-Addr $proxy_protocol_addr always;\n\
               add_header X-PP-Port $proxy_protocol_port always;\n\
               add_header X-PP-Server-Port $proxy_protocol_server_port always;\n\
               add_header X-Remote-Addr $remote_addr always;\n\
               location / {{ return 200 \"ingress-nginx stand-in: $host\\n\"; }}\n\
             }}\n}}\n",
            r = root.display(),
        );
        std::fs::write(root.join("nginx.conf"), config).map_err(|e| e.to_string())?;
        let log = root.join("stderr.log");
        let mut child = Command::new(binary)
            .arg("-p")
            .arg(&root)
            .arg("-c")
            .arg(root.join("nginx.conf"))
            .arg("-e")
            .arg("stderr")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).map_err(|e| e.to_string())?)
            .spawn()
            .map_err(|e| format!("spawn nginx: {e}"))?;
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if ports.iter().all(|&p| TcpStream::connect((ip, p)).is_ok()) {
                return Ok(Nginx {
                    ip,
                    dir: root,
                    child,
                });
            }
            if let Ok(Some(status)) = child.try_wait() {
                return Err(format!(
                    "nginx exited ({status}): {}",
                    std::fs::read_to_string(&log).unwrap_or_default().trim()
                ));
            }
            if Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "nginx did not listen on {ip}:{ports:?} within 10 s"
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(self.dir.join("stderr.log")).unwrap_or_default()
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg("-QUIT")
            .arg(self.child.id().to_string())
            .status();
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

pub fn is_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self")
        .map(|m| m.uid() == 0)
        .unwrap_or(false)
}
