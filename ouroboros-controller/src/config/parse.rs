//! Declares the controller's flags and turns arguments plus environment into raw settings.

use std::path::Path;

use ouroboros_common::flags::{Flag, FlagError, FlagSet, KeyValues, ParsedFlags};
use ouroboros_common::SignedDuration;

use super::validate::{validate, ConfigError, RawSettings};
use super::{ControllerConfig, ENV_PREFIX};

/// The declared flags, with handles to read them back.
pub struct ControllerFlags {
    /// The flag set (for usage text).
    pub set: FlagSet,
    mode: Flag<String>,
    kubeconfig: Flag<String>,
    gateway_api: Flag<bool>,
    resync: Flag<SignedDuration>,
    debounce: Flag<SignedDuration>,
    ingress_class: Flag<String>,
    gateway_class: Flag<String>,
    cluster_domain: Flag<String>,
    log_level: Flag<String>,
    coredns_namespace: Flag<String>,
    coredns_configmap: Flag<String>,
    coredns_key: Flag<String>,
    proxy_fqdn: Flag<String>,
    proxy_service_name: Flag<String>,
    proxy_service_namespace: Flag<String>,
    import_namespace: Flag<String>,
    import_configmap: Flag<String>,
    import_key: Flag<String>,
    etc_hosts: Flag<String>,
    proxy_ip: Flag<String>,
    edns_namespace: Flag<String>,
    edns_ttl: Flag<i64>,
    edns_proxy_ip: Flag<String>,
    edns_proxy_service: Flag<String>,
    edns_output: Flag<String>,
    edns_prefix: Flag<String>,
    edns_annotations: Flag<KeyValues>,
    edns_labels: Flag<KeyValues>,
    listen_health: Flag<String>,
    leader_elect: Flag<bool>,
    leader_namespace: Flag<String>,
    leader_lease: Flag<String>,
    leader_duration: Flag<SignedDuration>,
}

impl ControllerFlags {
    /// Declares every flag with its default and help text.
    pub fn declare() -> Self {
        let mut s = FlagSet::new("controller", ENV_PREFIX);
        let mode_help = format!("what to write: {}", super::Mode::ALL.join(", "));
        Self {
            mode: s.string("mode", "coredns", &mode_help),
            kubeconfig: s.string(
                "kubeconfig",
                "",
                "path to a kubeconfig; empty = in-cluster config",
            ),
            gateway_api: s.bool(
                "gateway-api",
                false,
                "also watch Gateway and HTTPRoute (gateway.networking.k8s.io/v1)",
            ),
            resync: s.duration(
                "resync",
                SignedDuration::from_secs(600),
                "full re-list and reconcile period; 0 = 30s",
            ),
            // 10 ms: the watch events of one burst (a Helm upgrade, `kubectl apply -f dir/`)
            // arrive a client round trip apart, a few ms; a longer window only adds latency,
            // because events that arrive while a write is in flight fold into the next write
            // anyway. At 10,000 hosts a change-to-write budget of 100 ms leaves room for it.
            debounce: s.duration(
                "debounce",
                SignedDuration::from_millis(10),
                "quiet period that coalesces event bursts",
            ),
            ingress_class: s.string(
                "ingress-class",
                "",
                "only Ingresses with this spec.ingressClassName; empty = all",
            ),
            gateway_class: s.string(
                "gateway-class",
                "",
                "only Gateways with this gatewayClassName (needs --gateway-api)",
            ),
            cluster_domain: s.string(
                "cluster-domain",
                "",
                "cluster DNS domain; empty = detect from /etc/resolv.conf",
            ),
            log_level: s.string("log-level", "info", "debug, info, warn or error"),
            coredns_namespace: s.string(
                "coredns-namespace",
                "kube-system",
                "namespace of the CoreDNS ConfigMap",
            ),
            coredns_configmap: s.string(
                "coredns-configmap",
                "coredns",
                "name of the CoreDNS ConfigMap",
            ),
            coredns_key: s.string("coredns-key", "Corefile", "data key holding the Corefile"),
            proxy_fqdn: s.string(
                "proxy-fqdn",
                "",
                "rewrite target with trailing dot; empty = compose from the proxy Service",
            ),
            proxy_service_name: s.string(
                "proxy-service-name",
                "ouroboros-proxy",
                "proxy Service name",
            ),
            proxy_service_namespace: s.string(
                "proxy-service-namespace",
                "",
                "proxy Service namespace",
            ),
            import_namespace: s.string(
                "coredns-import-namespace",
                "kube-system",
                "namespace of the import ConfigMap",
            ),
            import_configmap: s.string(
                "coredns-import-configmap",
                "coredns-custom",
                "name of the import ConfigMap",
            ),
            import_key: s.string(
                "coredns-import-key",
                "ouroboros.override",
                "data key of the snippet",
            ),
            etc_hosts: s.string(
                "etc-hosts",
                "/host/etc/hosts",
                "hosts file to edit (its name must be 'hosts')",
            ),
            proxy_ip: s.string(
                "proxy-ip",
                "",
                "IP written for every host in etc-hosts mode",
            ),
            edns_namespace: s.string(
                "external-dns-namespace",
                "",
                "records namespace; empty = pod namespace",
            ),
            edns_ttl: s.int(
                "external-dns-record-ttl",
                60,
                "record TTL in seconds (1-86400)",
            ),
            edns_proxy_ip: s.string(
                "external-dns-proxy-ip",
                "",
                "record target IP; empty = discover from the proxy Service",
            ),
            edns_proxy_service: s.string(
                "external-dns-proxy-service",
                "ouroboros-proxy",
                "proxy Service to discover IPs from",
            ),
            edns_output: s.string(
                "external-dns-output",
                "crd",
                "crd (DNSEndpoint) or service (annotated headless Service)",
            ),
            edns_prefix: s.string(
                "external-dns-annotation-prefix",
                "external-dns.alpha.kubernetes.io/",
                "annotation prefix for service output",
            ),
            edns_annotations: s.key_values(
                "external-dns-annotation",
                "extra record annotation key=value (repeatable)",
            ),
            edns_labels: s.key_values(
                "external-dns-label",
                "extra record label key=value (repeatable)",
            ),
            listen_health: s.string(
                "listen-health",
                ":8081",
                "address for /healthz, /readyz and /metrics; empty disables",
            ),
            leader_elect: s.bool(
                "leader-elect",
                true,
                "elect one writer through a coordination.k8s.io Lease (not in etc-hosts mode)",
            ),
            leader_namespace: s.string(
                "leader-election-namespace",
                "",
                "Lease namespace; empty = the pod's namespace",
            ),
            leader_lease: s.string(
                "leader-election-lease",
                "",
                "Lease name; empty = <instance>-ouroboros-controller",
            ),
            leader_duration: s.duration(
                "leader-election-lease-duration",
                SignedDuration::from_secs(15),
                "Lease validity without renewal",
            ),
            set: s,
        }
    }

    fn raw(&self, p: &ParsedFlags) -> RawSettings {
        RawSettings {
            mode: p.get(self.mode),
            kubeconfig: p.get(self.kubeconfig),
            gateway_api: p.get(self.gateway_api),
            resync: p.get(self.resync),
            debounce: p.get(self.debounce),
            ingress_class: p.get(self.ingress_class),
            gateway_class: p.get(self.gateway_class),
            cluster_domain: p.get(self.cluster_domain),
            log_level: p.get(self.log_level),
            coredns_namespace: p.get(self.coredns_namespace),
            coredns_configmap: p.get(self.coredns_configmap),
            coredns_key: p.get(self.coredns_key),
            proxy_fqdn: p.get(self.proxy_fqdn),
            proxy_service_name: p.get(self.proxy_service_name),
            proxy_service_namespace: p.get(self.proxy_service_namespace),
            import_namespace: p.get(self.import_namespace),
            import_configmap: p.get(self.import_configmap),
            import_key: p.get(self.import_key),
            etc_hosts: p.get(self.etc_hosts),
            proxy_ip: p.get(self.proxy_ip),
            edns_namespace: p.get(self.edns_namespace),
            edns_ttl: p.get(self.edns_ttl),
            edns_proxy_ip: p.get(self.edns_proxy_ip),
            edns_proxy_service: p.get(self.edns_proxy_service),
            edns_output: p.get(self.edns_output),
            edns_prefix: p.get(self.edns_prefix),
            edns_annotations: p.get(self.edns_annotations),
            edns_labels: p.get(self.edns_labels),
            listen_health: p.get(self.listen_health),
            leader_elect: p.get(self.leader_elect),
            leader_namespace: p.get(self.leader_namespace),
            leader_lease: p.get(self.leader_lease),
            leader_duration: p.get(self.leader_duration),
        }
    }
}

/// Parses and validates: defaults < environment < flags, then cluster-domain detection from
/// `resolv_conf` when no domain was given, then validation (spec §2.3).
pub fn parse_controller_config(
    args: &[String],
    env: &dyn Fn(&str) -> Option<String>,
    resolv_conf: &Path,
) -> Result<ControllerConfig, ConfigError> {
    let flags = ControllerFlags::declare();
    let parsed = flags.set.parse(args, env)?;
    if let Some(extra) = parsed.remaining().first() {
        return Err(ConfigError::Flags(FlagError::BadSyntax(format!(
            "unexpected argument {extra:?}"
        ))));
    }
    let mut raw = flags.raw(&parsed);
    if raw.cluster_domain.is_empty() {
        raw.cluster_domain = ouroboros_common::cluster_domain::detect(resolv_conf);
    }
    validate(raw, env)
}
