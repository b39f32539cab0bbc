//! Desired record objects: one DNSEndpoint per host and address family, or one annotated
//! headless Service per host (spec §11.2, 11.3, 11.5).

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde_json::{json, Value};

use super::names::{object_name, NameLimit};
use crate::hostnames::{classify, Classified};

/// Label every emitted object carries.
pub const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";
/// Value of [`MANAGED_BY_LABEL`].
pub const MANAGED_BY_VALUE: &str = "ouroboros";
/// Label naming the release that owns the object.
pub const INSTANCE_LABEL: &str = "ouroboros.lexfrei.tech/instance";
/// Annotation saying what produced the object.
pub const SOURCE_ANNOTATION: &str = "ouroboros.lexfrei.tech/source";
/// Value of [`SOURCE_ANNOTATION`].
pub const SOURCE_VALUE: &str = "controller";
/// Default record TTL, also used when the builder gets 0.
pub const DEFAULT_TTL: i64 = 60;

/// Which object kind carries the records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputKind {
    /// `externaldns.k8s.io/v1alpha1` DNSEndpoint.
    Crd,
    /// Annotated headless Service.
    Service,
}

/// Proxy addresses split by family, canonical and in input order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordTargets {
    /// IPv4 targets.
    pub v4: Vec<IpAddr>,
    /// IPv6 targets.
    pub v6: Vec<IpAddr>,
}

impl RecordTargets {
    /// Splits IPs by family; duplicates are dropped.
    pub fn from_ips(ips: &[IpAddr]) -> Self {
        let mut t = Self::default();
        for ip in ips {
            let list = if ip.is_ipv4() { &mut t.v4 } else { &mut t.v6 };
            if !list.contains(ip) {
                list.push(*ip);
            }
        }
        t
    }

    fn is_empty(&self) -> bool {
        self.v4.is_empty() && self.v6.is_empty()
    }
}

/// Everything the builder needs besides the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordOptions {
    /// Namespace the records live in.
    pub namespace: String,
    /// Release name for the instance label.
    pub instance: String,
    /// TTL in seconds; 0 means `DEFAULT_TTL`.
    pub ttl: i64,
    /// Output kind.
    pub output: OutputKind,
    /// Annotation prefix for Service output, ending in `/`.
    pub annotation_prefix: String,
    /// Operator annotations.
    pub annotations: BTreeMap<String, String>,
    /// Operator labels.
    pub labels: BTreeMap<String, String>,
}

/// A record object the controller wants to exist.
#[derive(Debug, Clone, PartialEq)]
pub struct DesiredRecord {
    /// Object name.
    pub name: String,
    /// The host it publishes.
    pub host: String,
    /// Labels, ownership included.
    pub labels: BTreeMap<String, String>,
    /// Annotations, source included.
    pub annotations: BTreeMap<String, String>,
    /// DNSEndpoint `spec` (crd output) or `None` (Service output; its spec is fixed).
    pub spec: Option<Value>,
}

impl DesiredRecord {
    /// The full object for a create request.
    pub fn to_object(&self, namespace: &str, output: OutputKind) -> Value {
        let metadata = json!({
            "name": self.name,
            "namespace": namespace,
            "labels": self.labels,
            "annotations": self.annotations,
        });
        match output {
            OutputKind::Crd => json!({
                "apiVersion": "externaldns.k8s.io/v1alpha1",
                "kind": "DNSEndpoint",
                "metadata": metadata,
                "spec": self.spec.clone().unwrap_or(Value::Null),
            }),
            OutputKind::Service => json!({
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": metadata,
                "spec": {"type": "ClusterIP", "clusterIP": "None"},
            }),
        }
    }
}

/// Why a host produced no record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BuildError {
    /// Not a publishable host (wildcard, blank, not a DNS name).
    #[error("host {0:?} is not a DNS name that can be published")]
    InvalidHost(String),
    /// No proxy address to point at.
    #[error("no targets")]
    NoTargets,
    /// An operator annotation or label uses a key the controller owns.
    #[error("reserved key {0:?} cannot be set by the operator")]
    ReservedKey(String),
    /// Service output without a usable prefix.
    #[error("annotation prefix {0:?} must be non-empty and end in '/'")]
    BadPrefix(String),
}

/// The label selector matching the objects this instance owns.
pub fn ownership_selector(instance: &str) -> String {
    format!("{MANAGED_BY_LABEL}={MANAGED_BY_VALUE},{INSTANCE_LABEL}={instance}")
}

/// Builds the record objects for one host.
pub fn build_records(
    host: &str,
    targets: &RecordTargets,
    opts: &RecordOptions,
) -> Result<Vec<DesiredRecord>, BuildError> {
    let host = match classify(host) {
        Classified::Publish(h) => h,
        _ => return Err(BuildError::InvalidHost(host.to_string())),
    };
    if targets.is_empty() {
        return Err(BuildError::NoTargets);
    }
    for key in [SOURCE_ANNOTATION, "external-dns.alpha.kubernetes.io/target"] {
        if opts.annotations.contains_key(key) {
            return Err(BuildError::ReservedKey(key.to_string()));
        }
    }
    let mut labels = opts.labels.clone();
    labels.insert(MANAGED_BY_LABEL.into(), MANAGED_BY_VALUE.into());
    labels.insert(INSTANCE_LABEL.into(), opts.instance.clone());
    let mut annotations = opts.annotations.clone();
    annotations.insert(SOURCE_ANNOTATION.into(), SOURCE_VALUE.into());
    let ttl = if opts.ttl == 0 { DEFAULT_TTL } else { opts.ttl };
    let dns_name = host.strip_suffix('.').unwrap_or(&host).to_string();

    match opts.output {
        OutputKind::Crd => {
            let families: Vec<(&str, &str, &Vec<IpAddr>)> =
                match (targets.v4.is_empty(), targets.v6.is_empty()) {
                    (false, true) => vec![("", "A", &targets.v4)],
                    (true, false) => vec![("", "AAAA", &targets.v6)],
                    _ => vec![("-v4", "A", &targets.v4), ("-v6", "AAAA", &targets.v6)],
                };
            Ok(families
                .into_iter()
                .map(|(suffix, record_type, ips)| DesiredRecord {
                    name: object_name(&host, suffix, NameLimit::Subdomain),
                    host: host.clone(),
                    labels: labels.clone(),
                    annotations: annotations.clone(),
                    spec: Some(json!({"endpoints": [{
                        "dnsName": dns_name,
                        "recordType": record_type,
                        "recordTTL": ttl,
                        "targets": ips.iter().map(ToString::to_string).collect::<Vec<_>>(),
                    }]})),
                })
                .collect())
        }
        OutputKind::Service => {
            let prefix = &opts.annotation_prefix;
            if prefix.is_empty() || !prefix.ends_with('/') {
                return Err(BuildError::BadPrefix(prefix.clone()));
            }
            let target_key = format!("{prefix}target");
            if opts.annotations.contains_key(&target_key) {
                return Err(BuildError::ReservedKey(target_key));
            }
            let all: Vec<String> = targets
                .v4
                .iter()
                .chain(&targets.v6)
                .map(ToString::to_string)
                .collect();
            annotations.insert(format!("{prefix}hostname"), dns_name);
            annotations.insert(target_key, all.join(","));
            if ttl > 0 {
                annotations.insert(format!("{prefix}ttl"), ttl.to_string());
            }
            Ok(vec![DesiredRecord {
                name: object_name(&host, "", NameLimit::Label),
                host,
                labels,
                annotations,
                spec: None,
            }])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(output: OutputKind) -> RecordOptions {
        RecordOptions {
            namespace: "records".into(),
            instance: "ouroboros".into(),
            ttl: 60,
            output,
            annotation_prefix: "external-dns.alpha.kubernetes.io/".into(),
            annotations: BTreeMap::new(),
            labels: BTreeMap::new(),
        }
    }

    fn ips(list: &[&str]) -> RecordTargets {
        RecordTargets::from_ips(&list.iter().map(|s| s.parse().unwrap()).collect::<Vec<_>>())
    }

    #[test]
    fn single_stack_v4_and_v6() {
        let v4 = build_records(
            "foo.example.com",
            &ips(&["10.96.0.50"]),
            &opts(OutputKind::Crd),
        )
        .unwrap();
        assert_eq!(v4.len(), 1);
        assert_eq!(v4[0].name, "ouroboros-foo-example-com");
        assert_eq!(
            v4[0].spec,
            Some(
                json!({"endpoints": [{"dnsName": "foo.example.com", "recordType": "A", "recordTTL": 60, "targets": ["10.96.0.50"]}]})
            )
        );
        let v6 = build_records(
            "foo.example.com",
            &ips(&["fd00:0:0:0:0:0:0:7"]),
            &opts(OutputKind::Crd),
        )
        .unwrap();
        assert_eq!(
            v6[0].spec.as_ref().unwrap()["endpoints"][0]["recordType"],
            "AAAA"
        );
        assert_eq!(
            v6[0].spec.as_ref().unwrap()["endpoints"][0]["targets"][0],
            "fd00::7"
        );
    }

    #[test]
    fn dual_stack_gives_two_named_objects() {
        let r = build_records(
            "foo.example.com",
            &ips(&["fd00::7", "10.0.0.1"]),
            &opts(OutputKind::Crd),
        )
        .unwrap();
        let names: Vec<_> = r.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "ouroboros-foo-example-com-v4",
                "ouroboros-foo-example-com-v6"
            ]
        );
    }

    #[test]
    fn ttl_zero_defaults_and_ownership_wins() {
        let mut o = opts(OutputKind::Crd);
        o.ttl = 0;
        o.labels.insert(MANAGED_BY_LABEL.into(), "helm".into());
        o.labels.insert("team".into(), "net".into());
        o.annotations.insert("provider/x".into(), "y".into());
        let r = &build_records("Foo.Example.com", &ips(&["10.0.0.1"]), &o).unwrap()[0];
        assert_eq!(r.spec.as_ref().unwrap()["endpoints"][0]["recordTTL"], 60);
        assert_eq!(r.labels[MANAGED_BY_LABEL], "ouroboros");
        assert_eq!(r.labels[INSTANCE_LABEL], "ouroboros");
        assert_eq!(r.labels["team"], "net");
        assert_eq!(r.annotations["provider/x"], "y");
        assert_eq!(r.annotations[SOURCE_ANNOTATION], "controller");
        o.ttl = 300;
        let r = &build_records("a.com", &ips(&["10.0.0.1"]), &o).unwrap()[0];
        assert_eq!(r.spec.as_ref().unwrap()["endpoints"][0]["recordTTL"], 300);
    }

    #[test]
    fn rejected_inputs() {
        let o = opts(OutputKind::Crd);
        let t = ips(&["10.0.0.1"]);
        for bad in ["*.example.com", "", "a b.com", "a\u{7}.com"] {
            assert_eq!(
                build_records(bad, &t, &o),
                Err(BuildError::InvalidHost(bad.into()))
            );
        }
        assert_eq!(
            build_records("a.com", &RecordTargets::default(), &o),
            Err(BuildError::NoTargets)
        );
        let mut reserved = o.clone();
        reserved
            .annotations
            .insert(SOURCE_ANNOTATION.into(), "x".into());
        assert!(matches!(
            build_records("a.com", &t, &reserved),
            Err(BuildError::ReservedKey(_))
        ));
    }

    #[test]
    fn service_output_annotations() {
        let mut o = opts(OutputKind::Service);
        let r = &build_records("a.com", &ips(&["fd00::1", "10.0.0.1"]), &o).unwrap()[0];
        assert_eq!(r.name, "ouroboros-a-com");
        assert_eq!(
            r.annotations["external-dns.alpha.kubernetes.io/target"],
            "10.0.0.1,fd00::1"
        );
        assert_eq!(
            r.annotations["external-dns.alpha.kubernetes.io/hostname"],
            "a.com"
        );
        assert_eq!(r.annotations["external-dns.alpha.kubernetes.io/ttl"], "60");
        o.annotation_prefix = "internal-dns/".into();
        o.ttl = 300;
        let r = &build_records("a.com", &ips(&["10.0.0.1"]), &o).unwrap()[0];
        assert_eq!(r.annotations["internal-dns/ttl"], "300");
        assert_eq!(r.annotations["internal-dns/target"], "10.0.0.1");
        let obj = r.to_object("records", OutputKind::Service);
        assert_eq!(
            obj["spec"],
            json!({"type": "ClusterIP", "clusterIP": "None"})
        );
        o.annotation_prefix = "nope".into();
        assert_eq!(
            build_records("a.com", &ips(&["10.0.0.1"]), &o),
            Err(BuildError::BadPrefix("nope".into()))
        );
        o.annotation_prefix = String::new();
        assert!(build_records("a.com", &ips(&["10.0.0.1"]), &o).is_err());
    }

    #[test]
    fn selector_text() {
        assert_eq!(
            ownership_selector("rel"),
            "app.kubernetes.io/managed-by=ouroboros,ouroboros.lexfrei.tech/instance=rel"
        );
    }
}
