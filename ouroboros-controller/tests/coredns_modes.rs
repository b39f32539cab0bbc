//! The real binary in `coredns` and `coredns-import` modes against the API stand-in.

mod support;

use std::time::Duration;

use kube_standin::faults::{RequestMatch, Verb};
use ouroboros_controller::corefile::{check_snippet_syntax, check_syntax};
use serde_json::json;
use support::*;

const WAIT: Duration = Duration::from_secs(20);

fn coredns_args() -> Vec<&'static str> {
    vec![
        "--mode=coredns",
        "--proxy-fqdn=ouroboros-proxy.ouroboros.svc.cluster.local.",
        "--leader-elect=false",
    ]
}

#[test]
fn coredns_reflects_ingress_lifecycle_and_repairs_overwrites() {
    let env = Env::start();
    env.configmap(
        "kube-system",
        "coredns",
        json!({"Corefile": KUBEADM_COREFILE, "other": "kept"}),
    );
    let corefile = || {
        env.configmap_data("kube-system", "coredns", "Corefile")
            .unwrap_or_default()
    };
    let mut ctl = env.controller("c1", &coredns_args(), &[]);

    env.ingress(
        "app",
        "web",
        &[
            "Web.Example.com",
            "*.wild.example.com",
            "bad host.example.com",
        ],
    );
    assert!(
        wait_for(WAIT, || corefile().contains(&rewrite("web.example.com"))),
        "create not reflected:\n{}\n{}",
        corefile(),
        ctl.log_text()
    );
    let text = corefile();
    check_syntax(&text).expect("written Corefile parses");
    assert!(!text.contains("wild") && !text.contains("bad host") && !text.contains("rules-only"));
    assert_eq!(
        env.configmap_data("kube-system", "coredns", "other")
            .as_deref(),
        Some("kept")
    );

    env.ingress("app", "web", &["api.example.com"]);
    assert!(wait_for(WAIT, || corefile()
        .contains(&rewrite("api.example.com"))
        && !corefile().contains("web.example.com")));

    // An external re-render drops our block; no event reaches the controller, resync repairs it.
    env.configmap(
        "kube-system",
        "coredns",
        json!({"Corefile": KUBEADM_COREFILE, "other": "kept"}),
    );
    assert!(
        wait_for(WAIT, || corefile().contains(&rewrite("api.example.com"))),
        "overwrite not repaired"
    );

    env.delete_ingress("app", "web");
    assert!(
        wait_for(WAIT, || corefile() == KUBEADM_COREFILE),
        "delete not reflected:\n{}",
        corefile()
    );
    let log = ctl.log_text();
    assert!(
        log.contains("refusing hostname that is not a DNS name"),
        "{log}"
    );
    assert!(log.contains("informer cache synced"));
    assert_eq!(
        ctl.terminate(),
        Some(0),
        "clean shutdown exits 0:\n{}",
        ctl.log_text()
    );
}

#[test]
fn coredns_writes_only_when_content_differs() {
    let env = Env::start();
    env.configmap(
        "kube-system",
        "coredns",
        json!({"Corefile": KUBEADM_COREFILE}),
    );
    for i in 0..20 {
        env.ingress("app", &format!("ing-{i}"), &[&format!("h{i}.example.com")]);
    }
    let ctl = env.controller("c1", &coredns_args(), &[]);
    let corefile = || {
        env.configmap_data("kube-system", "coredns", "Corefile")
            .unwrap_or_default()
    };
    assert!(
        wait_for(WAIT, || corefile().contains(&rewrite("h19.example.com"))),
        "{}",
        ctl.log_text()
    );
    // Several resync periods pass with nothing to change: still exactly one write.
    std::thread::sleep(Duration::from_millis(4500));
    let puts = env
        .api
        .request_log()
        .iter()
        .filter(|r| r.verb == Some(Verb::Update) && r.path.contains("/configmaps/coredns"))
        .count();
    assert_eq!(puts, 1, "{}", ctl.log_text());
    let put = env
        .api
        .request_log()
        .into_iter()
        .find(|r| r.verb == Some(Verb::Update))
        .unwrap();
    assert!(
        put.body_json().unwrap()["metadata"]["resourceVersion"].is_string(),
        "write carries a resourceVersion precondition"
    );
}

#[test]
fn coredns_survives_a_conflict_storm() {
    let env = Env::start();
    env.configmap(
        "kube-system",
        "coredns",
        json!({"Corefile": KUBEADM_COREFILE}),
    );
    let ctl = env.controller("c1", &coredns_args(), &[]);
    assert!(wait_for(WAIT, || ctl
        .log_text()
        .contains("informer cache synced")));
    env.api
        .conflict_next(RequestMatch::resource("configmaps").verb(Verb::Update), 12);
    env.ingress("app", "a", &["a.example.com"]);
    env.ingress("app", "b", &["b.example.com"]);
    let corefile = || {
        env.configmap_data("kube-system", "coredns", "Corefile")
            .unwrap_or_default()
    };
    assert!(
        wait_for(WAIT, || corefile().contains(&rewrite("a.example.com"))
            && corefile().contains(&rewrite("b.example.com"))),
        "edit lost:\n{}\n{}",
        corefile(),
        ctl.log_text()
    );
    let conflicts = env
        .api
        .request_log()
        .iter()
        .filter(|r| r.status == 409)
        .count();
    assert!(conflicts >= 12, "only {conflicts} conflicts seen");
    assert_eq!(corefile().matches("BEGIN ouroboros").count(), 1);
}

#[test]
fn silent_watch_is_recovered_by_resync() {
    let env = Env::start();
    env.configmap(
        "kube-system",
        "coredns",
        json!({"Corefile": KUBEADM_COREFILE}),
    );
    let ctl = env.controller("c1", &coredns_args(), &[]);
    assert!(
        wait_for(WAIT, || env
            .api
            .open_watches(RequestMatch::resource("ingresses"))
            > 0),
        "{}",
        ctl.log_text()
    );
    env.api
        .silence_all_watches(RequestMatch::resource("ingresses"));
    env.ingress("app", "quiet", &["quiet.example.com"]);
    let corefile = || {
        env.configmap_data("kube-system", "coredns", "Corefile")
            .unwrap_or_default()
    };
    assert!(
        wait_for(WAIT, || corefile().contains(&rewrite("quiet.example.com"))),
        "{}",
        ctl.log_text()
    );
}

#[test]
fn import_mode_writes_snippet_and_degrades_forbidden_probes_to_debug() {
    let env = Env::start();
    env.configmap(
        "kube-system",
        "coredns-custom",
        json!({"unrelated.server": "example.org:53 {\n}\n"}),
    );
    env.configmap(
        "kube-system",
        "coredns",
        json!({"Corefile": KUBEADM_COREFILE}),
    );
    env.configmap(
        "kube-system",
        "node-local-dns",
        json!({"Corefile": ".:53 {\n}\n"}),
    );
    env.api
        .forbid(RequestMatch::resource("configmaps").name("coredns"));
    env.api
        .forbid(RequestMatch::resource("configmaps").name("node-local-dns"));
    let ctl = env.controller(
        "i1",
        &[
            "--mode=coredns-import",
            "--proxy-service-namespace=ouroboros",
            "--cluster-domain=cluster.local",
            "--leader-elect=false",
        ],
        &[],
    );
    let snippet = || env.configmap_data("kube-system", "coredns-custom", "ouroboros.override");
    env.ingress("app", "web", &["b.example.com", "A.example.com"]);
    let want = format!(
        "{}\n{}\n",
        rewrite("a.example.com"),
        rewrite("b.example.com")
    );
    assert!(
        wait_for(WAIT, || snippet().as_deref() == Some(want.as_str())),
        "{:?}\n{}",
        snippet(),
        ctl.log_text()
    );
    check_snippet_syntax(&snippet().unwrap()).unwrap();
    assert_eq!(
        env.configmap_data("kube-system", "coredns", "Corefile")
            .as_deref(),
        Some(KUBEADM_COREFILE)
    );

    env.delete_ingress("app", "web");
    assert!(
        wait_for(WAIT, || snippet().is_none()),
        "key not removed: {:?}",
        snippet()
    );
    assert!(env
        .configmap_data("kube-system", "coredns-custom", "unrelated.server")
        .is_some());

    let log = ctl.log_text();
    assert!(
        log.contains("level=DEBUG msg=\"CoreDNS reload-plugin probe denied by RBAC"),
        "{log}"
    );
    assert!(
        log.contains("level=DEBUG msg=\"node-local-dns detection probe failed\""),
        "{log}"
    );
    assert!(
        !log.contains("level=WARN msg=\"node-local-dns detected"),
        "{log}"
    );
    assert!(!log.contains("level=ERROR"), "{log}");
}

#[test]
fn missing_configmap_is_retried_until_it_appears() {
    let env = Env::start();
    env.ingress("app", "web", &["late.example.com"]);
    let ctl = env.controller("c1", &coredns_args(), &[]);
    assert!(
        wait_for(WAIT, || ctl.log_text().contains("reconcile failed")),
        "{}",
        ctl.log_text()
    );
    env.configmap(
        "kube-system",
        "coredns",
        json!({"Corefile": KUBEADM_COREFILE}),
    );
    let corefile = || {
        env.configmap_data("kube-system", "coredns", "Corefile")
            .unwrap_or_default()
    };
    assert!(
        wait_for(WAIT, || corefile().contains(&rewrite("late.example.com"))),
        "{}",
        ctl.log_text()
    );
}

#[test]
fn invalid_configuration_exits_1_with_a_fatal_line() {
    let env = Env::start();
    let mut ctl = env.controller("bad", &["--mode=bogus"], &[]);
    assert!(wait_for(WAIT, || ctl.exited().is_some()));
    assert_eq!(ctl.exited(), Some(1));
    let log = ctl.log_text();
    assert!(
        log.contains("level=ERROR msg=fatal") && log.contains("unknown mode"),
        "{log}"
    );
}

#[test]
fn gateway_api_sources_and_class_filter() {
    let env = Env::start();
    env.configmap(
        "kube-system",
        "coredns",
        json!({"Corefile": KUBEADM_COREFILE}),
    );
    let mut args = coredns_args();
    args.extend(["--gateway-api", "--gateway-class=public"]);
    let ctl = env.controller("g1", &args, &[]);
    assert!(
        wait_for(WAIT, || ctl.log_text().contains("informer cache synced")),
        "{}",
        ctl.log_text()
    );
    let gateway = |name: &str, class: &str, host: &str| {
        env.apply(
            json!({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway",
            "metadata": {"name": name, "namespace": "infra"},
            "spec": {"gatewayClassName": class, "listeners": [
                {"name": "http", "protocol": "HTTP", "port": 80, "hostname": host},
                {"name": "any", "protocol": "HTTPS", "port": 443}]}}),
        );
    };
    gateway("public", "public", "gw.example.com");
    gateway("private", "internal", "private-gw.example.com");
    let route = |name: &str, parent: &str, host: &str| {
        env.apply(
            json!({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
            "metadata": {"name": name, "namespace": "app"},
            "spec": {"parentRefs": [{"name": parent, "namespace": "infra"}], "hostnames": [host]}}),
        );
    };
    route("kept", "public", "Route.Example.com");
    route("dropped", "private", "private-route.example.com");
    let corefile = || {
        env.configmap_data("kube-system", "coredns", "Corefile")
            .unwrap_or_default()
    };
    assert!(
        wait_for(WAIT, || corefile().contains(&rewrite("gw.example.com"))
            && corefile().contains(&rewrite("route.example.com"))),
        "{}\n{}",
        corefile(),
        ctl.log_text()
    );
    std::thread::sleep(Duration::from_millis(300));
    let text = corefile();
    assert!(!text.contains("private"), "{text}");
    assert_eq!(text.matches("rewrite name").count(), 2);
}

#[test]
fn help_exits_zero_and_lists_modes() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ouroboros-controller"))
        .args(["controller", "--help"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stderr);
    for mode in ["coredns", "coredns-import", "etc-hosts", "external-dns"] {
        assert!(text.contains(mode), "{text}");
    }
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ouroboros-controller"))
        .args(["cleanup", "--help"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn startup_probes_warn_about_node_local_dns_and_missing_reload() {
    let env = Env::start();
    let no_reload = ".:53 {\n    errors\n    forward . /etc/resolv.conf\n}\n";
    env.configmap("kube-system", "coredns", json!({"Corefile": no_reload}));
    env.configmap(
        "kube-system",
        "node-local-dns",
        json!({"Corefile": ".:53 {\n}\n"}),
    );
    let ctl = env.controller("p1", &coredns_args(), &[]);
    env.ingress("app", "web", &["a.example.com"]);
    let corefile = || {
        env.configmap_data("kube-system", "coredns", "Corefile")
            .unwrap_or_default()
    };
    assert!(
        wait_for(WAIT, || corefile().contains(&rewrite("a.example.com"))),
        "{}",
        ctl.log_text()
    );
    let log = ctl.log_text();
    assert!(
        log.contains("level=WARN msg=\"node-local-dns detected"),
        "{log}"
    );
    assert!(
        log.contains("nodeLocalDNSConfigMap=kube-system/node-local-dns"),
        "{log}"
    );
    // Once at startup and once for the write.
    assert!(
        log.matches("level=WARN msg=\"CoreDNS Corefile lacks the 'reload' plugin")
            .count()
            >= 2,
        "{log}"
    );
}
