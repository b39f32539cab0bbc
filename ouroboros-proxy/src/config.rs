//! Command-line and environment configuration of `ouroboros proxy`.
//!
//! Every flag has an environment twin `OUROBOROS_PROXY_<NAME>`; precedence is
//! default < environment < flag (see `ouroboros_common::flags`).

use std::path::Path;
use std::time::Duration;

use ouroboros_common::cluster_domain::{self, ComposeError};
use ouroboros_common::flags::{FlagError, FlagSet};
use ouroboros_common::SignedDuration;

use crate::cpu_policy::CpuPolicy;
use crate::header::ProxyVersion;

pub const ENV_PREFIX: &str = "OUROBOROS_PROXY_";

/// Bound on backend DNS + connect, and on writing the header.
pub const DEFAULT_DIAL_TIMEOUT: Duration = Duration::from_secs(5);
/// Bound on each `/readyz` backend dial; below the kubelet's default 1 s probe timeout
/// would be ideal, but the chart sets the probe timeout, and 2 s matches it.
pub const DEFAULT_READY_TIMEOUT: Duration = Duration::from_secs(2);
/// Drain bound on shutdown; matches the pod's default 30 s termination grace period.
pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(30);
/// Relayed connections idle this long in both directions are closed. An hour is above
/// every timeout ingress-nginx applies to proxied streams (60 s by default, commonly
/// raised to 3600 s for WebSockets), so the relay never cuts what the backend keeps, but
/// connections whose peers vanished silently still free their descriptors eventually.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(3600);
/// Concurrent relayed connections. Each costs up to six descriptors (two sockets, two
/// pipes) and at most two 64 KiB kernel buffers, so 10,000 fits a 65,536 descriptor
/// limit with room to spare and is far above what hairpin traffic needs; past it,
/// new connections are closed at once and counted instead of exhausting the process.
pub const DEFAULT_MAX_CONNECTIONS: i64 = 10_000;

/// One event loop per CPU the process may use (0). The loops are independent (no
/// cross-thread wake-ups inside a connection), so a second loop adds throughput without
/// adding CPU per request; the CPU count honours the container's CPU quota, so a pod
/// limited to less than one CPU (the chart's 200m) still runs a single loop.
pub const DEFAULT_WORKER_THREADS: i64 = 0;

/// The effective settings of one proxy process.
#[derive(Debug, Clone, PartialEq)]
pub struct ProxyConfig {
    /// `None` = listener disabled.
    pub listen_http: Option<String>,
    pub listen_https: Option<String>,
    pub listen_health: Option<String>,
    /// The backend host: explicit or composed, fixed for the life of the process.
    pub backend_host: String,
    pub cluster_domain: String,
    pub target_http_port: u16,
    pub target_https_port: u16,
    /// Negative configured values become zero: the bound has already expired.
    pub dial_timeout: Duration,
    pub ready_timeout: Duration,
    pub shutdown_grace: Duration,
    /// `None` = no idle timeout.
    pub idle_timeout: Option<Duration>,
    pub max_connections: usize,
    pub proxy_version: ProxyVersion,
    pub splice: bool,
    /// Runtime threads; 1 runs everything on one event-loop thread.
    pub worker_threads: usize,
    pub cpu_policy: CpuPolicy,
    pub log_level: tracing::Level,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{0}")]
    Flags(#[from] FlagError),
    #[error("backend host: {0}")]
    Backend(#[from] ComposeError),
    #[error("at least one of --listen-http and --listen-https must be set")]
    NoListener,
    #[error("--{flag}={value} is not a TCP port (1-65535)")]
    BadPort { flag: &'static str, value: i64 },
    #[error("--proxy-protocol-version={0} is not supported (use 1 or 2)")]
    BadProxyVersion(i64),
    #[error("--max-connections={0} must be at least 1")]
    BadMaxConnections(i64),
    #[error("--worker-threads={0} must not be negative")]
    BadWorkerThreads(i64),
    #[error("--cpu-policy={0:?} is not one of batch, normal")]
    BadCpuPolicy(String),
    #[error("--log-level={0:?} is not one of trace, debug, info, warn, error")]
    BadLogLevel(String),
}

/// The declared flags; also the source of `--help`.
pub struct ProxyFlags {
    pub set: FlagSet,
    listen_http: ouroboros_common::flags::Flag<String>,
    listen_https: ouroboros_common::flags::Flag<String>,
    listen_health: ouroboros_common::flags::Flag<String>,
    target_host: ouroboros_common::flags::Flag<String>,
    service_name: ouroboros_common::flags::Flag<String>,
    service_namespace: ouroboros_common::flags::Flag<String>,
    cluster_domain: ouroboros_common::flags::Flag<String>,
    http_port: ouroboros_common::flags::Flag<i64>,
    https_port: ouroboros_common::flags::Flag<i64>,
    dial_timeout: ouroboros_common::flags::Flag<SignedDuration>,
    ready_timeout: ouroboros_common::flags::Flag<SignedDuration>,
    shutdown_grace: ouroboros_common::flags::Flag<SignedDuration>,
    idle_timeout: ouroboros_common::flags::Flag<SignedDuration>,
    max_connections: ouroboros_common::flags::Flag<i64>,
    proxy_version: ouroboros_common::flags::Flag<i64>,
    splice: ouroboros_common::flags::Flag<bool>,
    worker_threads: ouroboros_common::flags::Flag<i64>,
    cpu_policy: ouroboros_common::flags::Flag<String>,
    log_level: ouroboros_common::flags::Flag<String>,
}

impl Default for ProxyFlags {
    fn default() -> Self {
        let mut set = FlagSet::new("ouroboros proxy", ENV_PREFIX);
        let d = SignedDuration::from;
        ProxyFlags {
            listen_http: set.string(
                "listen-http",
                ":8080",
                "listener relayed to the backend HTTP port (empty disables)",
            ),
            listen_https: set.string(
                "listen-https",
                ":8443",
                "listener relayed to the backend HTTPS port (empty disables)",
            ),
            listen_health: set.string(
                "listen-health",
                ":8081",
                "health and metrics listener (empty disables)",
            ),
            target_host: set.string(
                "target-host",
                "",
                "explicit backend host name or IP; wins over composition",
            ),
            service_name: set.string(
                "target-service-name",
                "",
                "backend Service name, composed with namespace and cluster domain",
            ),
            service_namespace: set.string(
                "target-service-namespace",
                "",
                "backend Service namespace",
            ),
            cluster_domain: set.string(
                "cluster-domain",
                "",
                "cluster DNS domain (empty: detect from /etc/resolv.conf)",
            ),
            http_port: set.int("target-http-port", 80, "backend port for the HTTP listener"),
            https_port: set.int(
                "target-https-port",
                443,
                "backend port for the HTTPS listener",
            ),
            dial_timeout: set.duration(
                "dial-timeout",
                d(DEFAULT_DIAL_TIMEOUT),
                "bound on backend lookup+connect and on the header write",
            ),
            ready_timeout: set.duration(
                "ready-timeout",
                d(DEFAULT_READY_TIMEOUT),
                "bound on the /readyz backend dial",
            ),
            shutdown_grace: set.duration(
                "shutdown-grace",
                d(DEFAULT_SHUTDOWN_GRACE),
                "how long in-flight connections may finish after SIGTERM",
            ),
            idle_timeout: set.duration(
                "idle-timeout",
                d(DEFAULT_IDLE_TIMEOUT),
                "close relayed connections idle this long (0 disables)",
            ),
            max_connections: set.int(
                "max-connections",
                DEFAULT_MAX_CONNECTIONS,
                "concurrent relayed connections; more are closed at once",
            ),
            proxy_version: set.int(
                "proxy-protocol-version",
                1,
                "PROXY header version sent to the backend: 1 (text) or 2 (binary)",
            ),
            worker_threads: set.int(
                "worker-threads",
                DEFAULT_WORKER_THREADS,
                "event-loop threads (0: one per CPU)",
            ),
            splice: set.bool(
                "splice",
                true,
                "relay with splice(2) on Linux (false: user-space copy)",
            ),
            cpu_policy: set.string(
                "cpu-policy",
                "batch",
                "relay threads' scheduling: batch (never preempt on wake-up) or normal",
            ),
            log_level: set.string("log-level", "info", "trace, debug, info, warn or error"),
            set,
        }
    }
}

impl ProxyFlags {
    /// Parses `args` over `env` and resolves the backend host. `resolv_conf` is read only
    /// when no cluster domain was given.
    pub fn parse(
        &self,
        args: &[String],
        env: impl Fn(&str) -> Option<String>,
        resolv_conf: &Path,
    ) -> Result<ProxyConfig, ConfigError> {
        let parsed = self.set.parse(args, env)?;
        let non_empty = |value: String| (!value.is_empty()).then_some(value);
        let listen_http = non_empty(parsed.get(self.listen_http));
        let listen_https = non_empty(parsed.get(self.listen_https));
        if listen_http.is_none() && listen_https.is_none() {
            return Err(ConfigError::NoListener);
        }
        let mut cluster_domain = parsed.get(self.cluster_domain);
        if cluster_domain.is_empty() {
            cluster_domain = cluster_domain::detect(resolv_conf);
        }
        let target_host = parsed.get(self.target_host);
        let backend_host = if target_host.is_empty() {
            cluster_domain::compose_service_host(
                &parsed.get(self.service_name),
                &parsed.get(self.service_namespace),
                &cluster_domain,
            )?
        } else {
            target_host
        };
        let port = |flag: &'static str, value: i64| {
            u16::try_from(value)
                .ok()
                .filter(|p| *p != 0)
                .ok_or(ConfigError::BadPort { flag, value })
        };
        let proxy_version = match parsed.get(self.proxy_version) {
            1 => ProxyVersion::V1,
            2 => ProxyVersion::V2,
            other => return Err(ConfigError::BadProxyVersion(other)),
        };
        let max_connections = parsed.get(self.max_connections);
        if max_connections < 1 {
            return Err(ConfigError::BadMaxConnections(max_connections));
        }
        let worker_threads = match parsed.get(self.worker_threads) {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n if n > 0 => usize::try_from(n).unwrap_or(usize::MAX),
            n => return Err(ConfigError::BadWorkerThreads(n)),
        };
        let cpu_policy_text = parsed.get(self.cpu_policy);
        let cpu_policy =
            CpuPolicy::parse(&cpu_policy_text).ok_or(ConfigError::BadCpuPolicy(cpu_policy_text))?;
        let log_level_text = parsed.get(self.log_level);
        let log_level = log_level_text
            .to_ascii_lowercase()
            .parse::<tracing::Level>()
            .map_err(|_| ConfigError::BadLogLevel(log_level_text.clone()))?;
        let idle = parsed.get(self.idle_timeout);
        Ok(ProxyConfig {
            listen_http,
            listen_https,
            listen_health: non_empty(parsed.get(self.listen_health)),
            backend_host,
            cluster_domain,
            target_http_port: port("target-http-port", parsed.get(self.http_port))?,
            target_https_port: port("target-https-port", parsed.get(self.https_port))?,
            dial_timeout: or_default(parsed.get(self.dial_timeout), DEFAULT_DIAL_TIMEOUT),
            ready_timeout: or_default(parsed.get(self.ready_timeout), DEFAULT_READY_TIMEOUT),
            shutdown_grace: or_default(parsed.get(self.shutdown_grace), DEFAULT_SHUTDOWN_GRACE),
            idle_timeout: (idle.as_nanos() > 0).then(|| idle.to_std_saturating()),
            max_connections: usize::try_from(max_connections).unwrap_or(usize::MAX),
            proxy_version,
            splice: parsed.get(self.splice),
            worker_threads,
            cpu_policy,
            log_level,
        })
    }
}

/// Zero means "use the default" (as the reference does); negative means "already
/// expired".
fn or_default(value: SignedDuration, default: Duration) -> Duration {
    if value.is_zero() {
        default
    } else {
        value.to_std_saturating()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    const NO_RESOLV: &str = "/nonexistent/resolv.conf";

    fn parse_with(args: &[&str], env: &[(&str, &str)]) -> Result<ProxyConfig, ConfigError> {
        let env: HashMap<String, String> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        ProxyFlags::default().parse(&args, |k| env.get(k).cloned(), Path::new(NO_RESOLV))
    }

    fn parse(args: &[&str]) -> Result<ProxyConfig, ConfigError> {
        parse_with(args, &[])
    }

    const SERVICE: [&str; 4] = [
        "--target-service-name",
        "ingress-nginx-controller",
        "--target-service-namespace",
        "ingress-nginx",
    ];

    #[test]
    fn defaults() {
        let config = parse(&SERVICE).unwrap();
        assert_eq!(config.listen_http.as_deref(), Some(":8080"));
        assert_eq!(config.listen_https.as_deref(), Some(":8443"));
        assert_eq!(config.listen_health.as_deref(), Some(":8081"));
        assert_eq!(config.target_http_port, 80);
        assert_eq!(config.target_https_port, 443);
        assert_eq!(config.dial_timeout, Duration::from_secs(5));
        assert_eq!(config.ready_timeout, Duration::from_secs(2));
        assert_eq!(config.shutdown_grace, Duration::from_secs(30));
        assert_eq!(config.idle_timeout, Some(Duration::from_secs(3600)));
        assert_eq!(config.max_connections, 10_000);
        assert_eq!(config.proxy_version, ProxyVersion::V1);
        assert_eq!(config.log_level, tracing::Level::INFO);
        assert_eq!(config.cpu_policy, CpuPolicy::Batch);
        // One event loop per usable CPU.
        assert_eq!(
            config.worker_threads,
            std::thread::available_parallelism().map_or(1, |n| n.get())
        );
        assert_eq!(config.cluster_domain, "cluster.local");
        assert_eq!(
            config.backend_host,
            "ingress-nginx-controller.ingress-nginx.svc.cluster.local"
        );
    }

    #[test]
    fn flags_override_defaults() {
        let config = parse(&[
            "--listen-http",
            ":9090",
            "--target-host",
            "custom.svc",
            "--target-http-port",
            "8081",
        ])
        .unwrap();
        assert_eq!(config.listen_http.as_deref(), Some(":9090"));
        assert_eq!(config.backend_host, "custom.svc");
        assert_eq!(config.target_http_port, 8081);
    }

    #[test]
    fn unknown_flag() {
        assert!(matches!(
            parse(&["--nope"]),
            Err(ConfigError::Flags(FlagError::Unknown(_)))
        ));
    }

    #[test]
    fn env_and_precedence() {
        let env = [
            ("OUROBOROS_PROXY_TARGET_HOST", "env.host"),
            ("OUROBOROS_PROXY_DIAL_TIMEOUT", "7s"),
        ];
        let config = parse_with(&[], &env).unwrap();
        assert_eq!(config.backend_host, "env.host");
        assert_eq!(config.dial_timeout, Duration::from_secs(7));
        let config = parse_with(&["--target-host=flag.host"], &env).unwrap();
        assert_eq!(config.backend_host, "flag.host");
    }

    #[test]
    fn explicit_host_wins_unchanged() {
        let config = parse(&["--target-host", "10.0.0.1", "--cluster-domain", "x.y."]).unwrap();
        assert_eq!(config.backend_host, "10.0.0.1");
        let mut args = SERVICE.to_vec();
        args.extend([
            "--target-host",
            "Odd.Name.",
            "--cluster-domain",
            "cozy.local",
        ]);
        assert_eq!(parse(&args).unwrap().backend_host, "Odd.Name.");
    }

    #[test]
    fn composition_and_trailing_dot() {
        let mut args = SERVICE.to_vec();
        args.extend(["--cluster-domain", "cozy.local."]);
        let config = parse(&args).unwrap();
        assert_eq!(
            config.backend_host,
            "ingress-nginx-controller.ingress-nginx.svc.cozy.local"
        );
        assert_eq!(config.cluster_domain, "cozy.local.");
    }

    #[test]
    fn composition_errors() {
        assert!(matches!(
            parse(&[]),
            Err(ConfigError::Backend(ComposeError::MissingServiceName))
        ));
        assert!(matches!(
            parse(&["--target-service-name", "x"]),
            Err(ConfigError::Backend(ComposeError::MissingServiceNamespace))
        ));
    }

    #[test]
    fn detection_from_resolv_conf() {
        let dir =
            std::env::temp_dir().join(format!("ouroboros-proxy-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("resolv.conf");
        std::fs::write(
            &file,
            "search ns.svc.cozy.local svc.cozy.local cozy.local\n",
        )
        .unwrap();
        let args: Vec<String> = SERVICE.iter().map(|s| s.to_string()).collect();
        let config = ProxyFlags::default().parse(&args, |_| None, &file).unwrap();
        assert_eq!(
            config.backend_host,
            "ingress-nginx-controller.ingress-nginx.svc.cozy.local"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn invalid_env_values_fail_startup() {
        let err = parse_with(
            &["--target-host=x"],
            &[("OUROBOROS_PROXY_DIAL_TIMEOUT", "5sec")],
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("OUROBOROS_PROXY_DIAL_TIMEOUT"),
            "{err}"
        );
        let err = parse_with(
            &["--target-host=x"],
            &[("OUROBOROS_PROXY_TARGET_HTTP_PORT", "eighty")],
        )
        .unwrap_err();
        assert!(err.to_string().contains("eighty"), "{err}");
    }

    #[test]
    fn listeners() {
        assert!(matches!(
            parse(&["--target-host=x", "--listen-http=", "--listen-https="]),
            Err(ConfigError::NoListener)
        ));
        let config = parse(&["--target-host=x", "--listen-http=", "--listen-health="]).unwrap();
        assert_eq!(config.listen_http, None);
        assert_eq!(config.listen_health, None);
        // The environment cannot blank a listener: empty env means unset.
        let config = parse_with(
            &["--target-host=x"],
            &[("OUROBOROS_PROXY_LISTEN_HEALTH", "")],
        )
        .unwrap();
        assert_eq!(config.listen_health.as_deref(), Some(":8081"));
    }

    #[test]
    fn durations_zero_and_negative() {
        let config = parse(&[
            "--target-host=x",
            "--dial-timeout=0",
            "--shutdown-grace=-1s",
            "--idle-timeout=0",
        ])
        .unwrap();
        assert_eq!(config.dial_timeout, DEFAULT_DIAL_TIMEOUT);
        assert_eq!(config.shutdown_grace, Duration::ZERO);
        assert_eq!(config.idle_timeout, None);
    }

    #[test]
    fn validation() {
        assert!(matches!(
            parse(&["--target-host=x", "--target-http-port=70000"]),
            Err(ConfigError::BadPort { .. })
        ));
        assert!(matches!(
            parse(&["--target-host=x", "--target-https-port=0"]),
            Err(ConfigError::BadPort { .. })
        ));
        assert!(matches!(
            parse(&["--target-host=x", "--proxy-protocol-version=3"]),
            Err(ConfigError::BadProxyVersion(3))
        ));
        assert_eq!(
            parse(&["--target-host=x", "--proxy-protocol-version=2"])
                .unwrap()
                .proxy_version,
            ProxyVersion::V2
        );
        assert!(matches!(
            parse(&["--target-host=x", "--max-connections=0"]),
            Err(ConfigError::BadMaxConnections(0))
        ));
        assert!(matches!(
            parse(&["--target-host=x", "--log-level=verbose"]),
            Err(ConfigError::BadLogLevel(_))
        ));
        let error = parse(&["--target-host=x", "--cpu-policy=fifo"]).unwrap_err();
        assert!(matches!(error, ConfigError::BadCpuPolicy(_)), "{error}");
        assert!(error.to_string().contains("\"fifo\""), "{error}");
        assert_eq!(
            parse_with(
                &["--target-host=x"],
                &[("OUROBOROS_PROXY_CPU_POLICY", "normal")]
            )
            .unwrap()
            .cpu_policy,
            CpuPolicy::Normal
        );
        assert_eq!(
            parse(&["--target-host=x", "--log-level=WARN"])
                .unwrap()
                .log_level,
            tracing::Level::WARN
        );
        assert!(
            parse(&["--target-host=x", "--target-http-port=0x50"])
                .unwrap()
                .target_http_port
                == 80
        );
    }

    #[test]
    fn usage_mentions_env_twins() {
        let usage = ProxyFlags::default().set.usage();
        assert!(usage.contains("OUROBOROS_PROXY_LISTEN_HTTP"));
        assert!(usage.contains("--proxy-protocol-version int"));
    }
}
