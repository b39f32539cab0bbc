//! Validation in the order of spec §2.3; the first failure wins.

use std::net::IpAddr;

use ouroboros_common::cluster_domain::compose_service_fqdn;
use ouroboros_common::flags::{FlagError, KeyValues};
use ouroboros_common::SignedDuration;

use super::labels::{check_annotations, check_labels, is_dns_label};
use super::{
    ControllerConfig, ExternalDnsConfig, LeaderConfig, LogLevel, Mode, OutputKind,
    ZERO_RESYNC_FALLBACK,
};

/// Settings as parsed, before validation.
#[derive(Debug, Clone, Default)]
pub struct RawSettings {
    pub(super) mode: String,
    pub(super) kubeconfig: String,
    pub(super) gateway_api: bool,
    pub(super) resync: SignedDuration,
    pub(super) debounce: SignedDuration,
    pub(super) ingress_class: String,
    pub(super) gateway_class: String,
    pub(super) cluster_domain: String,
    pub(super) log_level: String,
    pub(super) coredns_namespace: String,
    pub(super) coredns_configmap: String,
    pub(super) coredns_key: String,
    pub(super) proxy_fqdn: String,
    pub(super) proxy_service_name: String,
    pub(super) proxy_service_namespace: String,
    pub(super) import_namespace: String,
    pub(super) import_configmap: String,
    pub(super) import_key: String,
    pub(super) etc_hosts: String,
    pub(super) proxy_ip: String,
    pub(super) edns_namespace: String,
    pub(super) edns_ttl: i64,
    pub(super) edns_proxy_ip: String,
    pub(super) edns_proxy_service: String,
    pub(super) edns_output: String,
    pub(super) edns_prefix: String,
    pub(super) edns_annotations: KeyValues,
    pub(super) edns_labels: KeyValues,
    pub(super) listen_health: String,
    pub(super) leader_elect: bool,
    pub(super) leader_namespace: String,
    pub(super) leader_lease: String,
    pub(super) leader_duration: SignedDuration,
}

/// Why the configuration was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// Command line or environment could not be parsed.
    #[error(transparent)]
    Flags(#[from] FlagError),
    /// A setting has an unusable value.
    #[error("{flag}: {message}")]
    Invalid {
        /// The flag concerned, as `--name`.
        flag: &'static str,
        /// What is wrong and what to do.
        message: String,
    },
    /// `--mode` names no mode.
    #[error("unknown mode {0:?} (want one of: coredns, coredns-import, etc-hosts, external-dns)")]
    UnknownMode(String),
}

fn invalid(flag: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        flag,
        message: message.into(),
    }
}

fn check_fqdn(flag_value: &str) -> Result<(), ConfigError> {
    if flag_value.is_empty() {
        return Err(invalid("--proxy-fqdn", "rewrite target is empty"));
    }
    if !flag_value.ends_with('.') {
        return Err(invalid(
            "--proxy-fqdn",
            format!("{flag_value:?} must end with a trailing dot (FQDN)"),
        ));
    }
    Ok(())
}

fn non_empty(flag: &'static str, value: &str) -> Result<(), ConfigError> {
    if value.is_empty() {
        Err(invalid(flag, "must not be empty"))
    } else {
        Ok(())
    }
}

/// Validates raw settings; `env` supplies `OUROBOROS_INSTANCE`, `POD_NAME` and `HOSTNAME`.
pub fn validate(
    raw: RawSettings,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<ControllerConfig, ConfigError> {
    // 1. Common checks.
    if !raw.gateway_class.is_empty() && !raw.gateway_api {
        return Err(invalid(
            "--gateway-class",
            "is set but --gateway-api is false; the filter would do nothing",
        ));
    }
    let log_level = LogLevel::parse(&raw.log_level).ok_or_else(|| {
        invalid(
            "--log-level",
            format!("{:?} is not one of debug, info, warn, error", raw.log_level),
        )
    })?;
    let mode = Mode::parse(&raw.mode);

    // 2. Rewrite target, CoreDNS modes only.
    let mut proxy_fqdn = raw.proxy_fqdn.clone();
    if matches!(mode, Some(Mode::Coredns | Mode::CorednsImport)) && proxy_fqdn.is_empty() {
        proxy_fqdn = compose_service_fqdn(
            &raw.proxy_service_name,
            &raw.proxy_service_namespace,
            &raw.cluster_domain,
        )
        .map_err(|e| {
            invalid(
                "--proxy-fqdn",
                format!("cannot compose the rewrite target: {e}"),
            )
        })?;
    }

    // 3. Per-mode checks; 4. unknown mode.
    let external_dns = external_dns_settings(&raw);
    match mode {
        Some(Mode::Coredns) => {
            check_fqdn(&proxy_fqdn)?;
            non_empty("--coredns-namespace", &raw.coredns_namespace)?;
            non_empty("--coredns-configmap", &raw.coredns_configmap)?;
            non_empty("--coredns-key", &raw.coredns_key)?;
        }
        Some(Mode::CorednsImport) => {
            check_fqdn(&proxy_fqdn)?;
            non_empty("--coredns-import-namespace", &raw.import_namespace)?;
            non_empty("--coredns-import-configmap", &raw.import_configmap)?;
            non_empty("--coredns-import-key", &raw.import_key)?;
        }
        Some(Mode::EtcHosts) => {
            non_empty("--etc-hosts", &raw.etc_hosts)?;
            non_empty("--proxy-ip", &raw.proxy_ip)?;
        }
        Some(Mode::ExternalDns) => validate_external_dns(&raw)?,
        None => return Err(ConfigError::UnknownMode(raw.mode)),
    }
    let mode = mode.ok_or_else(|| ConfigError::UnknownMode(raw.mode.clone()))?;

    let resync = raw
        .resync
        .to_std()
        .ok_or_else(|| invalid("--resync", "must not be negative"))?;
    let resync = if resync.is_zero() {
        ZERO_RESYNC_FALLBACK
    } else {
        resync
    };
    let debounce = raw
        .debounce
        .to_std()
        .ok_or_else(|| invalid("--debounce", "must not be negative"))?;
    let lease_duration = raw
        .leader_duration
        .to_std()
        .filter(|d| d.as_millis() >= 1000)
        .ok_or_else(|| invalid("--leader-election-lease-duration", "must be at least 1s"))?;
    let instance = env("OUROBOROS_INSTANCE")
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "ouroboros".into());
    let host = env("POD_NAME")
        .or_else(|| env("HOSTNAME"))
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "controller".into());

    Ok(ControllerConfig {
        mode,
        kubeconfig: raw.kubeconfig,
        gateway_api: raw.gateway_api,
        resync,
        debounce,
        ingress_class: raw.ingress_class,
        gateway_class: raw.gateway_class,
        cluster_domain: raw.cluster_domain,
        log_level,
        coredns_namespace: raw.coredns_namespace,
        coredns_configmap: raw.coredns_configmap,
        coredns_key: raw.coredns_key,
        proxy_fqdn,
        import_namespace: raw.import_namespace,
        import_configmap: raw.import_configmap,
        import_key: raw.import_key,
        etc_hosts: raw.etc_hosts,
        proxy_ip: raw.proxy_ip,
        external_dns,
        listen_health: raw.listen_health,
        leader: LeaderConfig {
            enabled: raw.leader_elect && mode.needs_leader(),
            namespace: raw.leader_namespace,
            lease_name: if raw.leader_lease.is_empty() {
                format!("{instance}-ouroboros-controller")
            } else {
                raw.leader_lease
            },
            lease_duration,
            identity: format!("{host}_{}", std::process::id()),
        },
    })
}

fn external_dns_settings(raw: &RawSettings) -> ExternalDnsConfig {
    ExternalDnsConfig {
        namespace: raw.edns_namespace.clone(),
        ttl: raw.edns_ttl,
        proxy_ip: raw.edns_proxy_ip.clone(),
        proxy_service: raw.edns_proxy_service.clone(),
        output: if raw.edns_output == "service" {
            OutputKind::Service
        } else {
            OutputKind::Crd
        },
        annotation_prefix: raw.edns_prefix.clone(),
        annotations: raw.edns_annotations.clone(),
        labels: raw.edns_labels.clone(),
    }
}

fn validate_external_dns(raw: &RawSettings) -> Result<(), ConfigError> {
    const PREFIX: &str = "--external-dns-annotation-prefix";
    match raw.edns_output.as_str() {
        "crd" | "" => {
            if !raw.edns_prefix.is_empty() && !raw.edns_prefix.ends_with('/') {
                return Err(invalid(
                    PREFIX,
                    format!("{:?} must end in '/'", raw.edns_prefix),
                ));
            }
        }
        "service" => {
            if raw.edns_prefix.is_empty() || !raw.edns_prefix.ends_with('/') {
                return Err(invalid(
                    PREFIX,
                    format!(
                        "{:?} must be non-empty and end in '/' for service output",
                        raw.edns_prefix
                    ),
                ));
            }
        }
        other => {
            return Err(invalid(
                "--external-dns-output",
                format!("{other:?}: want 'crd' or 'service'"),
            ))
        }
    }
    if raw.edns_proxy_ip.is_empty() && raw.edns_proxy_service.is_empty() {
        return Err(invalid(
            "--external-dns-proxy-service",
            "set it or --external-dns-proxy-ip; both are empty",
        ));
    }
    if !raw.edns_proxy_ip.is_empty() && raw.edns_proxy_ip.parse::<IpAddr>().is_err() {
        return Err(invalid(
            "--external-dns-proxy-ip",
            format!("{:?} is not an IPv4 or IPv6 address", raw.edns_proxy_ip),
        ));
    }
    if !(1..=86400).contains(&raw.edns_ttl) {
        return Err(invalid(
            "--external-dns-record-ttl",
            format!("{} is outside 1..86400", raw.edns_ttl),
        ));
    }
    if !raw.edns_namespace.is_empty() && !is_dns_label(&raw.edns_namespace) {
        return Err(invalid(
            "--external-dns-namespace",
            format!(
                "{:?} must be at most 63 characters of [a-z0-9]([-a-z0-9]*[a-z0-9])?",
                raw.edns_namespace
            ),
        ));
    }
    check_annotations(raw.edns_annotations.keys())
        .map_err(|m| invalid("--external-dns-annotation", m))?;
    check_labels(raw.edns_labels.keys()).map_err(|m| invalid("--external-dns-label", m))?;
    Ok(())
}

/// True when an explicit rewrite target does not sit under the cluster domain (spec §3).
pub fn proxy_fqdn_mismatch(cluster_domain: &str, proxy_fqdn: &str) -> bool {
    let domain = cluster_domain.strip_suffix('.').unwrap_or(cluster_domain);
    !domain.is_empty()
        && !proxy_fqdn.is_empty()
        && !proxy_fqdn.ends_with(&format!(".svc.{domain}."))
}

#[cfg(test)]
mod tests {
    use super::super::parse_controller_config;
    use super::*;
    use std::collections::HashMap;
    use std::path::Path;

    const FQDN: &str = "--proxy-fqdn=ouroboros-proxy.ouroboros.svc.cluster.local.";

    fn parse_env(args: &[&str], env: &[(&str, &str)]) -> Result<ControllerConfig, ConfigError> {
        let env: HashMap<String, String> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        parse_controller_config(
            &args,
            &move |k| env.get(k).cloned(),
            Path::new("/nonexistent/resolv.conf"),
        )
    }

    fn parse(args: &[&str]) -> Result<ControllerConfig, ConfigError> {
        parse_env(args, &[])
    }

    fn err_flag(args: &[&str]) -> &'static str {
        match parse(args) {
            Err(ConfigError::Invalid { flag, .. }) => flag,
            other => panic!("expected invalid, got {other:?}"),
        }
    }

    #[test]
    fn defaults_with_only_proxy_fqdn() {
        let c = parse(&[FQDN]).unwrap();
        assert_eq!(c.mode, Mode::Coredns);
        assert_eq!(c.coredns_namespace, "kube-system");
        assert_eq!(c.log_level, LogLevel::Info);
        assert_eq!(
            (
                c.import_namespace.as_str(),
                c.import_configmap.as_str(),
                c.import_key.as_str()
            ),
            ("kube-system", "coredns-custom", "ouroboros.override")
        );
        assert_eq!(c.resync, std::time::Duration::from_secs(600));
        assert_eq!(c.listen_health, ":8081");
        assert!(c.leader.enabled);
    }

    #[test]
    fn no_flags_fails_for_missing_service_namespace() {
        let e = parse(&[]).unwrap_err().to_string();
        assert!(e.contains("namespace"), "{e}");
    }

    #[test]
    fn etc_hosts_requires_proxy_ip() {
        assert_eq!(err_flag(&["--mode", "etc-hosts"]), "--proxy-ip");
        let c = parse(&[
            "--mode",
            "etc-hosts",
            "--etc-hosts",
            "/tmp/hosts",
            "--proxy-ip",
            "10.96.1.2",
        ])
        .unwrap();
        assert!(!c.leader.enabled, "etc-hosts never elects");
    }

    #[test]
    fn log_level_and_mode() {
        assert_eq!(
            parse(&[FQDN, "--log-level", "DEBUG"]).unwrap().log_level,
            LogLevel::Debug
        );
        assert_eq!(err_flag(&[FQDN, "--log-level", "verbose"]), "--log-level");
        assert_eq!(
            parse(&["--mode", "bogus"]),
            Err(ConfigError::UnknownMode("bogus".into()))
        );
        let usage = super::super::ControllerFlags::declare().set.usage();
        for m in Mode::ALL {
            assert!(usage.contains(m), "{m} missing from usage");
        }
    }

    #[test]
    fn cluster_domain_precedence() {
        let args = ["--proxy-service-namespace=ns"];
        assert_eq!(parse(&args).unwrap().cluster_domain, "cluster.local");
        let env = [("OUROBOROS_CONTROLLER_CLUSTER_DOMAIN", "env.local")];
        assert_eq!(parse_env(&args, &env).unwrap().cluster_domain, "env.local");
        assert_eq!(
            parse_env(
                &[
                    "--proxy-service-namespace=ns",
                    "--cluster-domain=flag.local"
                ],
                &env
            )
            .unwrap()
            .cluster_domain,
            "flag.local"
        );
    }

    #[test]
    fn rewrite_target_composition() {
        let explicit = parse(&["--proxy-fqdn=x.y.svc.z.", "--proxy-service-namespace=ns"]).unwrap();
        assert_eq!(explicit.proxy_fqdn, "x.y.svc.z.");
        let c = parse(&[
            "--proxy-service-namespace=cozy-ouroboros",
            "--cluster-domain=cozy.local.",
        ])
        .unwrap();
        assert_eq!(
            c.proxy_fqdn,
            "ouroboros-proxy.cozy-ouroboros.svc.cozy.local."
        );
        let c = parse(&[
            "--proxy-service-namespace=cozy-ouroboros",
            "--cluster-domain=cozy.local",
        ])
        .unwrap();
        assert_eq!(
            c.proxy_fqdn,
            "ouroboros-proxy.cozy-ouroboros.svc.cozy.local."
        );
        assert_eq!(
            err_flag(&["--proxy-service-name=", "--proxy-service-namespace=ns"]),
            "--proxy-fqdn"
        );
        assert_eq!(err_flag(&["--proxy-fqdn=no.dot"]), "--proxy-fqdn");
        assert_eq!(
            err_flag(&["--mode=coredns-import", "--proxy-fqdn=no.dot"]),
            "--proxy-fqdn"
        );
        assert_eq!(
            err_flag(&["--mode=coredns-import", FQDN, "--coredns-import-configmap="]),
            "--coredns-import-configmap"
        );
    }

    #[test]
    fn gateway_class_needs_gateway_api() {
        assert_eq!(err_flag(&[FQDN, "--gateway-class=x"]), "--gateway-class");
        let env = [
            ("OUROBOROS_CONTROLLER_GATEWAY_API", "true"),
            ("OUROBOROS_CONTROLLER_GATEWAY_CLASS", "x"),
        ];
        assert!(parse_env(&[FQDN], &env).is_ok());
    }

    #[test]
    fn invalid_env_fails_fast_even_with_flag() {
        let e = parse_env(
            &[FQDN, "--gateway-api"],
            &[("OUROBOROS_CONTROLLER_GATEWAY_API", "tru")],
        );
        assert!(matches!(
            e,
            Err(ConfigError::Flags(FlagError::InvalidEnv(_)))
        ));
        let e = parse_env(
            &[FQDN],
            &[(
                "OUROBOROS_CONTROLLER_EXTERNAL_DNS_RECORD_TTL",
                "not-a-number",
            )],
        );
        assert!(matches!(
            e,
            Err(ConfigError::Flags(FlagError::InvalidEnv(_)))
        ));
    }

    const EDNS: &str = "--mode=external-dns";

    #[test]
    fn external_dns_output_and_prefix() {
        assert_eq!(parse(&[EDNS]).unwrap().external_dns.output, OutputKind::Crd);
        let c = parse(&[
            EDNS,
            "--external-dns-output=service",
            "--external-dns-annotation-prefix=internal-dns/",
        ])
        .unwrap();
        assert_eq!(c.external_dns.output, OutputKind::Service);
        assert_eq!(
            err_flag(&[
                EDNS,
                "--external-dns-output=service",
                "--external-dns-annotation-prefix="
            ]),
            "--external-dns-annotation-prefix"
        );
        assert_eq!(
            err_flag(&[EDNS, "--external-dns-annotation-prefix=nodash"]),
            "--external-dns-annotation-prefix"
        );
        assert_eq!(
            err_flag(&[
                EDNS,
                "--external-dns-output=service",
                "--external-dns-annotation-prefix=nodash"
            ]),
            "--external-dns-annotation-prefix"
        );
        assert_eq!(
            err_flag(&[EDNS, "--external-dns-output=bogus"]),
            "--external-dns-output"
        );
    }

    #[test]
    fn external_dns_targets_ttl_namespace() {
        assert_eq!(
            err_flag(&[EDNS, "--external-dns-proxy-service="]),
            "--external-dns-proxy-service"
        );
        assert_eq!(
            err_flag(&[EDNS, "--external-dns-proxy-ip=10.42.0.999"]),
            "--external-dns-proxy-ip"
        );
        assert!(parse(&[
            EDNS,
            "--external-dns-proxy-service=",
            "--external-dns-proxy-ip=fd00::1"
        ])
        .is_ok());
        for ttl in ["0", "-1", "86401"] {
            assert_eq!(
                err_flag(&[EDNS, &format!("--external-dns-record-ttl={ttl}")]),
                "--external-dns-record-ttl"
            );
        }
        assert_eq!(
            parse_env(
                &[EDNS],
                &[("OUROBOROS_CONTROLLER_EXTERNAL_DNS_RECORD_TTL", "300")]
            )
            .unwrap()
            .external_dns
            .ttl,
            300
        );
        assert_eq!(parse(&[EDNS]).unwrap().external_dns.ttl, 60);
        assert_eq!(
            err_flag(&[EDNS, "--external-dns-namespace=BadNamespace"]),
            "--external-dns-namespace"
        );
        assert_eq!(
            err_flag(&[
                EDNS,
                &format!("--external-dns-namespace={}", "a".repeat(64))
            ]),
            "--external-dns-namespace"
        );
    }

    #[test]
    fn external_dns_maps() {
        let c = parse(&[
            EDNS,
            "--external-dns-annotation=a=1",
            "--external-dns-annotation",
            "a=2",
            "--external-dns-label=presence-marker=",
        ])
        .unwrap();
        assert_eq!(c.external_dns.annotations["a"], "2");
        assert_eq!(c.external_dns.labels["presence-marker"], "");
        assert!(matches!(
            parse(&[EDNS, "--external-dns-annotation=no-equals-sign"]),
            Err(ConfigError::Flags(_))
        ));
        assert_eq!(
            err_flag(&[EDNS, "--external-dns-annotation=key with space=1"]),
            "--external-dns-annotation"
        );
        assert_eq!(
            err_flag(&[
                EDNS,
                "--external-dns-annotation=ouroboros.lexfrei.tech/source=x"
            ]),
            "--external-dns-annotation"
        );
        assert_eq!(
            err_flag(&[EDNS, "--external-dns-label=app.kubernetes.io/managed-by=x"]),
            "--external-dns-label"
        );
    }

    #[test]
    fn resync_zero_and_unknown_flag() {
        assert_eq!(
            parse(&[FQDN, "--resync=0"]).unwrap().resync,
            ZERO_RESYNC_FALLBACK
        );
        assert_eq!(err_flag(&[FQDN, "--resync=-1s"]), "--resync");
        assert!(matches!(
            parse(&[FQDN, "--nope"]),
            Err(ConfigError::Flags(FlagError::Unknown(_)))
        ));
        assert!(matches!(
            parse(&[FQDN, "stray"]),
            Err(ConfigError::Flags(_))
        ));
    }

    #[test]
    fn mismatch_warning_rule() {
        assert!(proxy_fqdn_mismatch(
            "cozy.local",
            "ouroboros-proxy.tenant.svc.cluster.local."
        ));
        assert!(proxy_fqdn_mismatch("cluster.local", "p.ns.svc.cozy.local."));
        assert!(!proxy_fqdn_mismatch(
            "cluster.local",
            "p.ns.svc.cluster.local."
        ));
        assert!(!proxy_fqdn_mismatch(
            "cluster.local.",
            "p.ns.svc.cluster.local."
        ));
        assert!(!proxy_fqdn_mismatch("", "p.ns.svc.cluster.local."));
        assert!(!proxy_fqdn_mismatch("cluster.local", ""));
    }
}
