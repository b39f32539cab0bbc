//! Two replicas with one writer, health/metrics, and `cleanup` against the API stand-in.

mod support;

use std::time::Duration;

use serde_json::json;
use support::*;

const WAIT: Duration = Duration::from_secs(25);

fn leader_args(port: u16) -> Vec<String> {
    vec![
        "--mode=coredns".into(),
        "--proxy-fqdn=ouroboros-proxy.ouroboros.svc.cluster.local.".into(),
        "--leader-election-namespace=ouroboros".into(),
        "--leader-election-lease-duration=5s".into(),
        format!("--listen-health=127.0.0.1:{port}"),
    ]
}

fn scrape(port: u16) -> String {
    http_get(port, "/metrics").unwrap_or_default()
}

#[test]
fn two_replicas_have_one_writer_and_fail_over() {
    let env = Env::start();
    env.configmap(
        "kube-system",
        "coredns",
        json!({"Corefile": KUBEADM_COREFILE}),
    );
    let [p1, p2] = free_ports();
    let a1 = leader_args(p1);
    let a2 = leader_args(p2);
    let mut r1 = env.controller(
        "r1",
        &a1.iter().map(String::as_str).collect::<Vec<_>>(),
        &[],
    );
    let mut r2 = env.controller(
        "r2",
        &a2.iter().map(String::as_str).collect::<Vec<_>>(),
        &[],
    );
    let leaders = || {
        [p1, p2]
            .iter()
            .filter(|p| metric(&scrape(**p), "ouroboros_controller_leader") == Some(1.0))
            .count()
    };
    assert!(
        wait_for(WAIT, || leaders() == 1),
        "no single leader\n{}\n{}",
        r1.log_text(),
        r2.log_text()
    );
    assert!(wait_for(WAIT, || http_get(p1, "/readyz").is_some()
        && http_get(p2, "/readyz").is_some()));
    assert!(http_get(p1, "/healthz").is_some());

    env.ingress("app", "web", &["one.example.com"]);
    let corefile = || {
        env.configmap_data("kube-system", "coredns", "Corefile")
            .unwrap_or_default()
    };
    assert!(wait_for(WAIT, || corefile().contains(&rewrite("one.example.com"))));
    std::thread::sleep(Duration::from_millis(500));
    let writes: Vec<f64> = [p1, p2]
        .iter()
        .map(|p| metric(&scrape(*p), "ouroboros_controller_writes_total").unwrap_or(-1.0))
        .collect();
    assert_eq!(
        writes.iter().filter(|w| **w > 0.0).count(),
        1,
        "exactly one replica wrote: {writes:?}"
    );
    let lease = env
        .api
        .get_object(
            "coordination.k8s.io/v1",
            "Lease",
            "ouroboros",
            "ouroboros-ouroboros-controller",
        )
        .unwrap()
        .expect("lease");
    let holder = lease["spec"]["holderIdentity"]
        .as_str()
        .unwrap_or("")
        .to_string();

    // Stop the leader; the standby takes over and keeps the target current.
    let (leader, standby_port) = if holder.starts_with("r1_") {
        (&mut r1, p2)
    } else {
        (&mut r2, p1)
    };
    assert_eq!(leader.terminate(), Some(0));
    assert!(
        wait_for(WAIT, || metric(
            &scrape(standby_port),
            "ouroboros_controller_leader"
        ) == Some(1.0)),
        "no failover"
    );
    env.ingress("app", "web2", &["two.example.com"]);
    assert!(wait_for(WAIT, || corefile().contains(&rewrite("two.example.com"))));
    check_hosts_metric(&scrape(standby_port));
}

fn check_hosts_metric(text: &str) {
    assert_eq!(
        metric(text, "ouroboros_controller_hosts"),
        Some(2.0),
        "{text}"
    );
    assert!(
        metric(text, "ouroboros_controller_last_success_timestamp_seconds").unwrap_or(0.0) > 1.0e9
    );
}

fn deployment(env: &Env) {
    env.apply(json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "ouroboros", "namespace": "ouroboros"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "c"}},
                 "template": {"metadata": {"labels": {"app": "c"}}, "spec": {"containers": [{"name": "c", "image": "x"}]}}}}));
}

#[test]
fn coredns_cleanup_removes_exactly_the_block_and_is_idempotent() {
    let env = Env::start();
    env.configmap(
        "kube-system",
        "coredns",
        json!({"Corefile": KUBEADM_COREFILE, "other": "kept"}),
    );
    deployment(&env);
    env.ingress("app", "web", &["a.example.com"]);
    let mut ctl = env.controller(
        "c",
        &[
            "--mode=coredns",
            "--proxy-fqdn=ouroboros-proxy.ouroboros.svc.cluster.local.",
            "--leader-elect=false",
        ],
        &[],
    );
    let corefile = || {
        env.configmap_data("kube-system", "coredns", "Corefile")
            .unwrap_or_default()
    };
    assert!(wait_for(WAIT, || corefile().contains(&rewrite("a.example.com"))));
    ctl.terminate();

    let args = [
        "--mode=coredns",
        "--controller-deployment=ouroboros",
        "--controller-namespace=ouroboros",
    ];
    let (code, err) = env.cleanup(&args);
    assert_eq!(code, 0, "{err}");
    assert_eq!(corefile(), KUBEADM_COREFILE);
    assert_eq!(
        env.configmap_data("kube-system", "coredns", "other")
            .as_deref(),
        Some("kept")
    );
    let d = env
        .api
        .get_object("apps/v1", "Deployment", "ouroboros", "ouroboros")
        .unwrap()
        .unwrap();
    assert_eq!(d["spec"]["replicas"], 0);

    let (code, err) = env.cleanup(&args);
    assert_eq!(code, 0, "second run: {err}");
    assert!(err.contains("nothing to clean"), "{err}");
    assert_eq!(corefile(), KUBEADM_COREFILE);

    // Missing ConfigMap: nothing to do.
    let (code, _) = env.cleanup(&["--mode=coredns", "--coredns-configmap=absent"]);
    assert_eq!(code, 0);
}

#[test]
fn coredns_cleanup_refuses_ambiguous_markers_and_reports_usage_errors() {
    let env = Env::start();
    let damaged = format!(
        ".:53 {{\n    # === BEGIN ouroboros (do not edit by hand) ===\n    {}\n}}\n",
        rewrite("a.example.com")
    );
    env.configmap("kube-system", "coredns", json!({"Corefile": damaged}));
    let (code, err) = env.cleanup(&["--mode=coredns"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("no END marker"), "{err}");
    assert_eq!(
        env.configmap_data("kube-system", "coredns", "Corefile")
            .as_deref(),
        Some(damaged.as_str())
    );

    let (code, err) = env.cleanup(&["--mode=nope"]);
    assert_eq!(code, 2, "{err}");
    let (code, _) = env.cleanup(&["--mode=coredns", "--no-such-flag"]);
    assert_eq!(code, 2);
}

#[test]
fn import_cleanup_removes_only_the_key() {
    let env = Env::start();
    env.configmap(
        "kube-system",
        "coredns-custom",
        json!({"ouroboros.override": rewrite("a.example.com") + "\n", "other.server": "x"}),
    );
    deployment(&env);
    let args = [
        "--mode=coredns-import",
        "--controller-deployment=ouroboros",
        "--controller-namespace=ouroboros",
    ];
    let (code, err) = env.cleanup(&args);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        env.configmap_data("kube-system", "coredns-custom", "ouroboros.override"),
        None
    );
    assert_eq!(
        env.configmap_data("kube-system", "coredns-custom", "other.server")
            .as_deref(),
        Some("x")
    );
    let patches: Vec<_> = env
        .api
        .request_log()
        .into_iter()
        .filter(|r| r.method == "PATCH" && r.path.contains("configmaps"))
        .collect();
    assert_eq!(patches.len(), 1);
    assert_eq!(
        patches[0].body_json().unwrap(),
        json!({"data": {"ouroboros.override": null}})
    );
    let (code, _) = env.cleanup(&args);
    assert_eq!(code, 0);
}

#[test]
fn external_dns_cleanup_deletes_only_owned_records() {
    let env = Env::start();
    let record = |name: &str, instance: Option<&str>| {
        let labels = match instance {
            Some(i) => {
                json!({"app.kubernetes.io/managed-by": "ouroboros", "ouroboros.lexfrei.tech/instance": i})
            }
            None => json!({}),
        };
        env.apply(json!({"apiVersion": "externaldns.k8s.io/v1alpha1", "kind": "DNSEndpoint",
            "metadata": {"name": name, "namespace": "records", "labels": labels},
            "spec": {"endpoints": [{"dnsName": "x.example.com", "recordType": "A", "targets": ["1.1.1.1"]}]}}));
    };
    record("ours-1", Some("rel"));
    record("ours-2", Some("rel"));
    record("other-release", Some("other"));
    record("foreign", None);
    let (code, err) = env.cleanup(&[
        "--mode=external-dns",
        "--external-dns-namespace=records",
        "--instance=rel",
    ]);
    assert_eq!(code, 0, "{err}");
    let left: Vec<String> = env
        .api
        .list_objects(
            "externaldns.k8s.io/v1alpha1",
            "DNSEndpoint",
            Some("records"),
        )
        .unwrap()
        .iter()
        .map(|o| o["metadata"]["name"].as_str().unwrap().to_string())
        .collect();
    let mut left = left;
    left.sort();
    assert_eq!(left, ["foreign", "other-release"]);
    let (code, err) = env.cleanup(&[
        "--mode=external-dns",
        "--external-dns-namespace=records",
        "--instance=rel",
    ]);
    assert_eq!(code, 0, "{err}");
}
