//! Controller configuration (spec §2): flags with `OUROBOROS_CONTROLLER_*` environment twins,
//! cluster-domain detection, and validation in the documented order.

mod labels;
mod parse;
mod validate;

pub use parse::{parse_controller_config, ControllerFlags};
pub use validate::{proxy_fqdn_mismatch, validate, ConfigError, RawSettings};

use std::collections::BTreeMap;
use std::time::Duration;

/// Prefix of every environment twin.
pub const ENV_PREFIX: &str = "OUROBOROS_CONTROLLER_";
/// A resync of 0 means this.
pub const ZERO_RESYNC_FALLBACK: Duration = Duration::from_secs(30);

/// Where the records go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Marker block in the main Corefile.
    Coredns,
    /// Snippet under a key of an imported ConfigMap.
    CorednsImport,
    /// Marker block in a hosts file.
    EtcHosts,
    /// DNSEndpoint objects or annotated Services for external-dns.
    ExternalDns,
}

impl Mode {
    /// Every mode, as spelled on the command line.
    pub const ALL: [&'static str; 4] = ["coredns", "coredns-import", "etc-hosts", "external-dns"];

    /// Parses a mode name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "coredns" => Some(Self::Coredns),
            "coredns-import" => Some(Self::CorednsImport),
            "etc-hosts" => Some(Self::EtcHosts),
            "external-dns" => Some(Self::ExternalDns),
            _ => None,
        }
    }

    /// The command-line spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Coredns => "coredns",
            Self::CorednsImport => "coredns-import",
            Self::EtcHosts => "etc-hosts",
            Self::ExternalDns => "external-dns",
        }
    }

    /// Whether several replicas would write the same target, so a Lease must pick one.
    pub fn needs_leader(self) -> bool {
        !matches!(self, Self::EtcHosts)
    }
}

/// Log verbosity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    /// Everything.
    Debug,
    /// Default.
    Info,
    /// Warnings and errors.
    Warn,
    /// Errors only.
    Error,
}

impl LogLevel {
    /// Parses `debug|info|warn|error`, case-insensitively.
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "debug" => Some(Self::Debug),
            "info" => Some(Self::Info),
            "warn" => Some(Self::Warn),
            "error" => Some(Self::Error),
            _ => None,
        }
    }
}

/// external-dns output kind as configured.
pub use crate::externaldns::OutputKind;

/// The validated configuration of one controller process.
#[derive(Debug, Clone, PartialEq)]
pub struct ControllerConfig {
    /// Target kind.
    pub mode: Mode,
    /// Kubeconfig path; empty = in-cluster.
    pub kubeconfig: String,
    /// Watch Gateway and HTTPRoute too.
    pub gateway_api: bool,
    /// Full re-list and reconcile period.
    pub resync: Duration,
    /// Quiet period that coalesces event bursts before a reconcile.
    pub debounce: Duration,
    /// `--ingress-class`, empty = all.
    pub ingress_class: String,
    /// `--gateway-class`, empty = all.
    pub gateway_class: String,
    /// Effective cluster domain (explicit or detected).
    pub cluster_domain: String,
    /// Parsed once.
    pub log_level: LogLevel,
    /// Main CoreDNS ConfigMap (coredns mode; reload probe in both CoreDNS modes).
    pub coredns_namespace: String,
    /// Name of the main CoreDNS ConfigMap.
    pub coredns_configmap: String,
    /// Data key holding the Corefile.
    pub coredns_key: String,
    /// Effective rewrite target (CoreDNS modes), or the explicit `--proxy-fqdn` otherwise.
    pub proxy_fqdn: String,
    /// Import ConfigMap namespace.
    pub import_namespace: String,
    /// Import ConfigMap name.
    pub import_configmap: String,
    /// Import data key.
    pub import_key: String,
    /// Hosts file path.
    pub etc_hosts: String,
    /// Proxy IP for hosts-file lines (checked at every reconcile).
    pub proxy_ip: String,
    /// external-dns settings.
    pub external_dns: ExternalDnsConfig,
    /// Health/metrics listen address; empty disables.
    pub listen_health: String,
    /// Leader election.
    pub leader: LeaderConfig,
}

/// Settings of the external-dns mode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalDnsConfig {
    /// Records namespace; empty = pod namespace.
    pub namespace: String,
    /// TTL, 1..=86400.
    pub ttl: i64,
    /// Explicit proxy IP; empty = discover from the Service.
    pub proxy_ip: String,
    /// Proxy Service name for discovery.
    pub proxy_service: String,
    /// Output kind.
    pub output: OutputKind,
    /// Annotation prefix for Service output.
    pub annotation_prefix: String,
    /// Operator annotations.
    pub annotations: BTreeMap<String, String>,
    /// Operator labels.
    pub labels: BTreeMap<String, String>,
}

/// Lease-based leader election settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaderConfig {
    /// Whether to elect at all (always off in etc-hosts mode, where every node writes its own file).
    pub enabled: bool,
    /// Lease namespace; empty = the client's default namespace (the pod's namespace in-cluster).
    pub namespace: String,
    /// Lease name.
    pub lease_name: String,
    /// How long a lease is valid without renewal.
    pub lease_duration: Duration,
    /// This replica's identity.
    pub identity: String,
}
