//! Flags of `ouroboros cleanup` (environment twins `OUROBOROS_CLEANUP_*`).

use std::time::Duration;

use ouroboros_common::flags::{FlagError, FlagSet};
use ouroboros_common::SignedDuration;

use crate::externaldns::OutputKind;

/// Environment prefix of the cleanup flags.
pub const ENV_PREFIX: &str = "OUROBOROS_CLEANUP_";

/// What to clean.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CleanupMode {
    /// Remove the marker block from the Corefile.
    Coredns,
    /// Remove the snippet key from the import ConfigMap.
    CorednsImport,
    /// Delete the owned record objects.
    ExternalDns,
}

/// Validated cleanup settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CleanupConfig {
    /// Mode.
    pub mode: CleanupMode,
    /// Kubeconfig path; empty = in-cluster.
    pub kubeconfig: String,
    /// Log level text.
    pub log_level: crate::config::LogLevel,
    /// Controller Deployment to scale to 0 first; empty skips quiescing.
    pub controller_deployment: String,
    /// Its namespace.
    pub controller_namespace: String,
    /// How long to wait for the controller's pods to go.
    pub quiesce_timeout: Duration,
    /// Poll interval while quiescing and between retries.
    pub poll_interval: Duration,
    /// Attempts of the read-edit-replace cycle.
    pub attempts: u32,
    /// Corefile ConfigMap.
    pub coredns: (String, String, String),
    /// Import ConfigMap.
    pub coredns_import: (String, String, String),
    /// Records namespace.
    pub external_dns_namespace: String,
    /// Records kind.
    pub external_dns_output: OutputKind,
    /// Release whose records are removed.
    pub instance: String,
    /// How long to wait for deleted records to disappear.
    pub delete_timeout: Duration,
}

/// A usage error (exit 2).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CleanupUsageError {
    /// Flag syntax or environment.
    #[error(transparent)]
    Flags(#[from] FlagError),
    /// A missing or bad value.
    #[error("{flag}: {message}")]
    Invalid {
        /// The flag.
        flag: &'static str,
        /// What is wrong.
        message: String,
    },
}

/// Declares the flags (also used for `--help`).
pub fn declare() -> (
    FlagSet,
    impl Fn(&ouroboros_common::flags::ParsedFlags) -> Raw,
) {
    let mut s = FlagSet::new("cleanup", ENV_PREFIX);
    let mode = s.string(
        "mode",
        "",
        "what to clean: coredns, coredns-import or external-dns",
    );
    let kubeconfig = s.string(
        "kubeconfig",
        "",
        "path to a kubeconfig; empty = in-cluster config",
    );
    let log_level = s.string("log-level", "info", "debug, info, warn or error");
    let deploy = s.string(
        "controller-deployment",
        "",
        "controller Deployment to scale to 0 first; empty = skip",
    );
    let deploy_ns = s.string(
        "controller-namespace",
        "",
        "namespace of the controller Deployment",
    );
    let quiesce = s.duration(
        "quiesce-timeout",
        SignedDuration::from_secs(60),
        "how long to wait for the controller pods to stop",
    );
    let poll = s.duration(
        "poll-interval",
        SignedDuration::from_secs(1),
        "poll and retry interval",
    );
    let attempts = s.int("attempts", 5, "read-edit-replace attempts on conflict");
    let cd_ns = s.string(
        "coredns-namespace",
        "kube-system",
        "namespace of the CoreDNS ConfigMap",
    );
    let cd_cm = s.string("coredns-configmap", "coredns", "CoreDNS ConfigMap");
    let cd_key = s.string("coredns-key", "Corefile", "data key of the Corefile");
    let im_ns = s.string(
        "coredns-import-namespace",
        "kube-system",
        "namespace of the import ConfigMap",
    );
    let im_cm = s.string(
        "coredns-import-configmap",
        "coredns-custom",
        "import ConfigMap",
    );
    let im_key = s.string(
        "coredns-import-key",
        "ouroboros.override",
        "data key of the snippet",
    );
    let ed_ns = s.string("external-dns-namespace", "", "records namespace");
    let ed_out = s.string("external-dns-output", "crd", "crd or service");
    let instance = s.string(
        "instance",
        "",
        "release whose records are removed; empty = $OUROBOROS_INSTANCE",
    );
    let delete_timeout = s.duration(
        "delete-timeout",
        SignedDuration::from_secs(60),
        "how long to wait for deleted records to disappear",
    );
    let read = move |p: &ouroboros_common::flags::ParsedFlags| Raw {
        mode: p.get(mode),
        kubeconfig: p.get(kubeconfig),
        log_level: p.get(log_level),
        deploy: p.get(deploy),
        deploy_ns: p.get(deploy_ns),
        quiesce: p.get(quiesce),
        poll: p.get(poll),
        attempts: p.get(attempts),
        coredns: (p.get(cd_ns), p.get(cd_cm), p.get(cd_key)),
        import: (p.get(im_ns), p.get(im_cm), p.get(im_key)),
        ed_ns: p.get(ed_ns),
        ed_out: p.get(ed_out),
        instance: p.get(instance),
        delete_timeout: p.get(delete_timeout),
    };
    (s, read)
}

/// Help text of the cleanup flags.
pub fn usage() -> String {
    declare().0.usage()
}

/// Raw flag values.
#[derive(Debug, Clone)]
pub struct Raw {
    mode: String,
    kubeconfig: String,
    log_level: String,
    deploy: String,
    deploy_ns: String,
    quiesce: SignedDuration,
    poll: SignedDuration,
    attempts: i64,
    coredns: (String, String, String),
    import: (String, String, String),
    ed_ns: String,
    ed_out: String,
    instance: String,
    delete_timeout: SignedDuration,
}

fn invalid(flag: &'static str, message: impl Into<String>) -> CleanupUsageError {
    CleanupUsageError::Invalid {
        flag,
        message: message.into(),
    }
}

/// Parses and validates the cleanup flags.
pub fn parse_cleanup_config(
    args: &[String],
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<CleanupConfig, CleanupUsageError> {
    let (set, read) = declare();
    let parsed = set.parse(args, env)?;
    if let Some(extra) = parsed.remaining().first() {
        return Err(FlagError::BadSyntax(format!("unexpected argument {extra:?}")).into());
    }
    let raw = read(&parsed);
    let mode = match raw.mode.as_str() {
        "coredns" => CleanupMode::Coredns,
        "coredns-import" => CleanupMode::CorednsImport,
        "external-dns" => CleanupMode::ExternalDns,
        "" => {
            return Err(invalid(
                "--mode",
                "is required: coredns, coredns-import or external-dns",
            ))
        }
        other => {
            return Err(invalid(
                "--mode",
                format!("unknown mode {other:?} (want coredns, coredns-import or external-dns)"),
            ))
        }
    };
    let log_level = crate::config::LogLevel::parse(&raw.log_level).ok_or_else(|| {
        invalid(
            "--log-level",
            format!("{:?} is not one of debug, info, warn, error", raw.log_level),
        )
    })?;
    if !raw.deploy.is_empty() && raw.deploy_ns.is_empty() {
        return Err(invalid(
            "--controller-namespace",
            "is required with --controller-deployment",
        ));
    }
    let duration = |flag, d: SignedDuration| {
        d.to_std()
            .ok_or_else(|| invalid(flag, "must not be negative"))
    };
    let attempts = u32::try_from(raw.attempts)
        .ok()
        .filter(|a| (1..=100).contains(a))
        .ok_or_else(|| invalid("--attempts", "must be 1..100"))?;
    let nonempty = |flag, v: &str| {
        if v.is_empty() {
            Err(invalid(flag, "must not be empty"))
        } else {
            Ok(())
        }
    };
    let instance = if raw.instance.is_empty() {
        env("OUROBOROS_INSTANCE").unwrap_or_default()
    } else {
        raw.instance
    };
    let output = match raw.ed_out.as_str() {
        "crd" | "" => OutputKind::Crd,
        "service" => OutputKind::Service,
        other => {
            return Err(invalid(
                "--external-dns-output",
                format!("{other:?}: want 'crd' or 'service'"),
            ))
        }
    };
    match mode {
        CleanupMode::Coredns => {
            nonempty("--coredns-namespace", &raw.coredns.0)?;
            nonempty("--coredns-configmap", &raw.coredns.1)?;
            nonempty("--coredns-key", &raw.coredns.2)?;
        }
        CleanupMode::CorednsImport => {
            nonempty("--coredns-import-namespace", &raw.import.0)?;
            nonempty("--coredns-import-configmap", &raw.import.1)?;
            nonempty("--coredns-import-key", &raw.import.2)?;
        }
        CleanupMode::ExternalDns => {
            nonempty("--external-dns-namespace", &raw.ed_ns)?;
            nonempty("--instance", &instance)?;
        }
    }
    Ok(CleanupConfig {
        mode,
        kubeconfig: raw.kubeconfig,
        log_level,
        controller_deployment: raw.deploy,
        controller_namespace: raw.deploy_ns,
        quiesce_timeout: duration("--quiesce-timeout", raw.quiesce)?,
        poll_interval: duration("--poll-interval", raw.poll)?,
        attempts,
        coredns: raw.coredns,
        coredns_import: raw.import,
        external_dns_namespace: raw.ed_ns,
        external_dns_output: output,
        instance,
        delete_timeout: duration("--delete-timeout", raw.delete_timeout)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str], env: &[(&str, &str)]) -> Result<CleanupConfig, CleanupUsageError> {
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        parse_cleanup_config(&args, &move |k| {
            env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
        })
    }

    #[test]
    fn coredns_defaults() {
        let c = parse(
            &[
                "--mode=coredns",
                "--controller-deployment=ouroboros",
                "--controller-namespace=cozy-ouroboros",
            ],
            &[],
        )
        .unwrap();
        assert_eq!(
            c.coredns,
            ("kube-system".into(), "coredns".into(), "Corefile".into())
        );
        assert_eq!(c.attempts, 5);
        assert_eq!(c.quiesce_timeout, Duration::from_secs(60));
    }

    #[test]
    fn usage_errors() {
        assert!(matches!(
            parse(&[], &[]),
            Err(CleanupUsageError::Invalid { flag: "--mode", .. })
        ));
        assert!(matches!(
            parse(&["--mode=bogus"], &[]),
            Err(CleanupUsageError::Invalid { flag: "--mode", .. })
        ));
        assert!(matches!(
            parse(&["--mode=coredns", "--controller-deployment=x"], &[]),
            Err(CleanupUsageError::Invalid {
                flag: "--controller-namespace",
                ..
            })
        ));
        assert!(matches!(
            parse(&["--mode=external-dns", "--instance=r"], &[]),
            Err(CleanupUsageError::Invalid {
                flag: "--external-dns-namespace",
                ..
            })
        ));
        assert!(matches!(
            parse(&["--mode=external-dns", "--external-dns-namespace=n"], &[]),
            Err(CleanupUsageError::Invalid {
                flag: "--instance",
                ..
            })
        ));
        assert!(matches!(
            parse(&["--mode=coredns", "--nope"], &[]),
            Err(CleanupUsageError::Flags(_))
        ));
    }

    #[test]
    fn instance_falls_back_to_release_env() {
        let c = parse(
            &[
                "--mode=external-dns",
                "--external-dns-namespace=n",
                "--external-dns-output=service",
            ],
            &[("OUROBOROS_INSTANCE", "rel")],
        )
        .unwrap();
        assert_eq!(c.instance, "rel");
        assert_eq!(c.external_dns_output, OutputKind::Service);
    }
}
