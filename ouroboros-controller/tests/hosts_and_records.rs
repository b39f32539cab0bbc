//! The real binary in `etc-hosts` and `external-dns` modes against the API stand-in.

mod support;

use std::time::Duration;

use serde_json::json;
use support::*;

const WAIT: Duration = Duration::from_secs(20);
const BASE_HOSTS: &str = "127.0.0.1 localhost\n::1 localhost ip6-localhost\n";

#[test]
fn etc_hosts_mode_edits_the_file_and_restores_it() {
    let env = Env::start();
    let hosts = env.dir.path().join("hosts");
    std::fs::write(&hosts, BASE_HOSTS).unwrap();
    let hosts_arg = format!("--etc-hosts={}", path_str(&hosts));
    let _ctl = env.controller(
        "h1",
        &["--mode=etc-hosts", &hosts_arg, "--proxy-ip=10.96.1.2"],
        &[],
    );
    let read = || std::fs::read_to_string(&hosts).unwrap_or_default();
    env.ingress("app", "web", &["foo.example.com", "bar.example.com"]);
    assert!(wait_for(WAIT, || read().contains("10.96.1.2 foo.example.com\n")));
    let text = read();
    assert!(text.starts_with(BASE_HOSTS));
    assert!(text.contains("10.96.1.2 bar.example.com\n10.96.1.2 foo.example.com\n"));
    env.delete_ingress("app", "web");
    assert!(wait_for(WAIT, || read() == BASE_HOSTS), "{}", read());
    let leftovers: Vec<_> = std::fs::read_dir(env.dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with(".ouroboros-hosts-")
        })
        .collect();
    assert!(leftovers.is_empty());
}

#[test]
fn etc_hosts_refuses_a_file_not_named_hosts() {
    let env = Env::start();
    let shadow = env.dir.path().join("shadow");
    std::fs::write(&shadow, "root:x:0:0\n").unwrap();
    let arg = format!("--etc-hosts={}", path_str(&shadow));
    let ctl = env.controller(
        "h2",
        &["--mode=etc-hosts", &arg, "--proxy-ip=10.96.1.2"],
        &[],
    );
    env.ingress("app", "web", &["foo.example.com"]);
    assert!(
        wait_for(WAIT, || ctl.log_text().contains("file name must be")),
        "{}",
        ctl.log_text()
    );
    assert_eq!(std::fs::read_to_string(&shadow).unwrap(), "root:x:0:0\n");
}

fn endpoints(env: &Env) -> Vec<serde_json::Value> {
    env.api
        .list_objects(
            "externaldns.k8s.io/v1alpha1",
            "DNSEndpoint",
            Some("records"),
        )
        .unwrap()
}

fn names(list: &[serde_json::Value]) -> Vec<String> {
    let mut n: Vec<String> = list
        .iter()
        .map(|o| o["metadata"]["name"].as_str().unwrap_or("").to_string())
        .collect();
    n.sort();
    n
}

#[test]
fn external_dns_crd_creates_prunes_and_never_touches_foreign_records() {
    let env = Env::start();
    env.apply(json!({"apiVersion": "externaldns.k8s.io/v1alpha1", "kind": "DNSEndpoint",
        "metadata": {"name": "someone-elses", "namespace": "records"},
        "spec": {"endpoints": [{"dnsName": "x.example.com", "recordType": "A", "targets": ["1.1.1.1"]}]}}));
    env.apply(json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "ouroboros-proxy", "namespace": "ouroboros"},
        "spec": {"clusterIP": "10.96.0.50", "clusterIPs": ["10.96.0.50", "fd00::7"], "ports": [{"port": 80}]}}));
    let ctl = env.controller(
        "e1",
        &[
            "--mode=external-dns",
            "--external-dns-namespace=records",
            "--external-dns-record-ttl=300",
        ],
        &[
            ("OUROBOROS_INSTANCE", "rel"),
            ("POD_NAMESPACE", "ouroboros"),
        ],
    );
    env.ingress("app", "a", &["a.example.com"]);
    env.ingress("app", "b", &["b.example.com"]);
    let want = [
        "ouroboros-a-example-com-v4",
        "ouroboros-a-example-com-v6",
        "ouroboros-b-example-com-v4",
        "ouroboros-b-example-com-v6",
        "someone-elses",
    ];
    assert!(
        wait_for(WAIT, || names(&endpoints(&env)) == want),
        "{:?}\n{}",
        names(&endpoints(&env)),
        ctl.log_text()
    );
    let a6 = endpoints(&env)
        .into_iter()
        .find(|o| o["metadata"]["name"] == "ouroboros-a-example-com-v6")
        .unwrap();
    assert_eq!(
        a6["spec"]["endpoints"][0],
        json!({"dnsName": "a.example.com", "recordType": "AAAA", "recordTTL": 300, "targets": ["fd00::7"]})
    );
    assert_eq!(
        a6["metadata"]["labels"]["ouroboros.lexfrei.tech/instance"],
        "rel"
    );
    assert!(ctl
        .log_text()
        .contains("external-dns reconciler ready (output=crd)"));

    env.delete_ingress("app", "b");
    let after = [
        "ouroboros-a-example-com-v4",
        "ouroboros-a-example-com-v6",
        "someone-elses",
    ];
    assert!(
        wait_for(WAIT, || names(&endpoints(&env)) == after),
        "{:?}",
        names(&endpoints(&env))
    );

    // Deleting the last host trips the mass-delete guard: records stay, a warning explains.
    env.delete_ingress("app", "a");
    assert!(
        wait_for(WAIT, || ctl
            .log_text()
            .contains("host set is empty but owned records exist")),
        "{}",
        ctl.log_text()
    );
    assert_eq!(names(&endpoints(&env)), after);
}

#[test]
fn external_dns_service_output_and_missing_instance() {
    let env = Env::start();
    let ctl = env.controller(
        "e2",
        &[
            "--mode=external-dns",
            "--external-dns-namespace=records",
            "--external-dns-output=service",
            "--external-dns-proxy-ip=10.96.0.9",
        ],
        &[
            ("OUROBOROS_INSTANCE", "rel"),
            ("POD_NAMESPACE", "ouroboros"),
        ],
    );
    env.ingress("app", "a", &["a.example.com"]);
    let svc = || {
        env.api
            .get_object("v1", "Service", "records", "ouroboros-a-example-com")
            .unwrap()
    };
    assert!(wait_for(WAIT, || svc().is_some()), "{}", ctl.log_text());
    let s = svc().unwrap();
    assert_eq!(
        s["metadata"]["annotations"]["external-dns.alpha.kubernetes.io/target"],
        "10.96.0.9"
    );
    assert_eq!(
        s["metadata"]["annotations"]["external-dns.alpha.kubernetes.io/hostname"],
        "a.example.com"
    );
    assert_eq!(s["spec"]["clusterIP"], "None");

    let mut no_instance = env.controller(
        "e3",
        &["--mode=external-dns", "--external-dns-proxy-ip=10.96.0.9"],
        &[("POD_NAMESPACE", "ouroboros")],
    );
    assert!(wait_for(WAIT, || no_instance.exited().is_some()));
    assert_eq!(no_instance.exited(), Some(1));
    assert!(
        no_instance.log_text().contains("OUROBOROS_INSTANCE"),
        "{}",
        no_instance.log_text()
    );
}

#[test]
fn external_dns_refuses_a_headless_proxy_service() {
    let env = Env::start();
    env.apply(json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "ouroboros-proxy", "namespace": "ouroboros"},
        "spec": {"clusterIP": "None", "ports": [{"port": 80}]}}));
    let mut ctl = env.controller(
        "e4",
        &["--mode=external-dns"],
        &[
            ("OUROBOROS_INSTANCE", "rel"),
            ("POD_NAMESPACE", "ouroboros"),
        ],
    );
    assert!(wait_for(WAIT, || ctl.exited().is_some()));
    assert_eq!(ctl.exited(), Some(1));
    let log = ctl.log_text();
    assert!(
        log.contains("ouroboros/ouroboros-proxy") && log.contains("headless"),
        "{log}"
    );
}
