//! `template --live-lookup` against the API stand-in: Helm's `lookup` semantics (an object,
//! an empty dict for a missing one, `items` for name "", cluster-scoped kinds ignoring the
//! namespace), `--cluster-state` answering before the cluster, nothing but GET requests on the
//! wire, and clear, bounded failures for an unreachable or silent server.
#![cfg(feature = "live-lookup")]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use kube_standin::BlockingStandIn;
use serde_json::json;

mod support;

const BIN: &str = env!("CARGO_BIN_EXE_cozy-render");

/// Every kind of lookup, each result printed on a line of its own.
const LOOKUPS: &str = r#"{% set present = lookup("v1", "ConfigMap", "apps", "present") %}
{% set missing = lookup("v1", "ConfigMap", "apps", "absent") %}
{% set listed = lookup("v1", "ConfigMap", "apps", "") %}
{% set everywhere = lookup("v1", "ConfigMap", "", "") %}
{% set ns = lookup("v1", "Namespace", "ignored", "apps") %}
apiVersion: v1
kind: ConfigMap
metadata:
  name: lookups
data:
  present: "{{ present.data.colour }}"
  presentKind: "{{ present.kind }}"
  missing: "{{ missing | tojson }}"
  listed: "{% for o in listed["items"] %}{{ o.metadata.name }}/{{ o.kind }} {% endfor %}"
  everywhere: "{{ everywhere["items"] | length }}"
  namespace: "{{ ns.metadata.name }}/{{ ns.kind }}"
"#;

fn scratch(name: &str) -> PathBuf {
    let dir = support::scratch("live-lookup", name);
    support::write_chart(
        &dir.join("chart"),
        "lookups",
        &[("templates/lookups.yaml", LOOKUPS)],
    );
    dir
}

fn seeded() -> BlockingStandIn {
    let server = BlockingStandIn::start().unwrap();
    for (ns, name, colour) in [
        ("apps", "present", "blue"),
        ("apps", "other", "green"),
        ("elsewhere", "far", "grey"),
    ] {
        server
            .apply_object(json!({"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": name, "namespace": ns}, "data": {"colour": colour}}))
            .unwrap();
    }
    server
        .apply_object(
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "apps"}}),
        )
        .unwrap();
    server.clear_request_log();
    server
}

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    took: Duration,
}

fn template(dir: &Path, kubeconfig: &Path, extra: &[&str]) -> Run {
    let start = Instant::now();
    let out = Command::new(BIN)
        .args(["template", "lookups"])
        .arg(dir.join("chart"))
        .args(["-n", "apps", "--live-lookup", "--kubeconfig"])
        .arg(kubeconfig)
        .args(extra)
        .env_remove("KUBECONFIG")
        .output()
        .unwrap();
    let run = Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        took: start.elapsed(),
    };
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    run
}

fn line<'a>(run: &'a Run, key: &str) -> &'a str {
    let prefix = format!("{key}: ");
    run.stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("no {key} in:\n{}\n{}", run.stdout, run.stderr))
}

fn sorted_words(text: &str) -> Vec<&str> {
    let mut words: Vec<&str> = text.trim_matches('"').split_whitespace().collect();
    words.sort();
    words
}

fn assert_only_gets(server: &BlockingStandIn) -> Vec<String> {
    let log = server.request_log();
    assert!(!log.is_empty(), "the cluster was never asked");
    let sent: Vec<String> = log
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert!(
        log.iter().all(|r| r.method == "GET"),
        "non-GET requests: {sent:#?}"
    );
    sent
}

#[test]
fn lookups_are_answered_by_the_cluster_with_gets_only() {
    let server = seeded();
    let dir = scratch("plain");
    let kubeconfig = dir.join("kubeconfig");
    server.write_kubeconfig(&kubeconfig).unwrap();

    let run = template(&dir, &kubeconfig, &[]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(line(&run, "present"), "\"blue\"");
    assert_eq!(line(&run, "presentKind"), "\"ConfigMap\"");
    assert_eq!(line(&run, "missing"), "\"{}\"");
    assert_eq!(
        sorted_words(line(&run, "listed")),
        vec!["other/ConfigMap", "present/ConfigMap"]
    );
    assert_eq!(line(&run, "everywhere"), "\"3\"");
    assert_eq!(line(&run, "namespace"), "\"apps/Namespace\"");

    let sent = assert_only_gets(&server);
    for expected in [
        "GET /api/v1/namespaces/apps/configmaps/present",
        "GET /api/v1/namespaces/apps/configmaps/absent",
        "GET /api/v1/namespaces/apps/configmaps",
        "GET /api/v1/configmaps",
        "GET /api/v1/namespaces/apps",
    ] {
        assert!(
            sent.iter().any(|s| s == expected),
            "{expected} not in {sent:#?}"
        );
    }
}

#[test]
fn cluster_state_answers_first_and_the_cluster_the_rest_with_gets_only() {
    let server = seeded();
    let dir = scratch("layered");
    let kubeconfig = dir.join("kubeconfig");
    server.write_kubeconfig(&kubeconfig).unwrap();
    let state = dir.join("state.yaml");
    std::fs::write(
        &state,
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: present, namespace: apps}\ndata: {colour: red}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: pinned, namespace: apps}\n",
    )
    .unwrap();

    let run = template(
        &dir,
        &kubeconfig,
        &["--cluster-state", state.to_str().unwrap()],
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(line(&run, "present"), "\"red\"", "the file's object wins");
    assert_eq!(line(&run, "missing"), "\"{}\"");
    assert_eq!(
        sorted_words(line(&run, "listed")),
        vec!["other/ConfigMap", "pinned/ConfigMap", "present/ConfigMap"]
    );
    assert_eq!(line(&run, "everywhere"), "\"4\"");
    assert_eq!(line(&run, "namespace"), "\"apps/Namespace\"");

    let sent = assert_only_gets(&server);
    assert!(
        !sent.iter().any(|s| s.ends_with("/configmaps/present")),
        "an object the file holds was fetched: {sent:#?}"
    );
    assert!(sent.iter().any(|s| s.ends_with("/configmaps/absent")));
}

#[test]
fn an_unreachable_cluster_is_named_and_fails_fast() {
    let dir = scratch("unreachable");
    // A port that was just free: nothing listens there any more.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let kubeconfig = dir.join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        kube_standin::kubeconfig::render(&url, "apps", "t"),
    )
    .unwrap();

    let run = template(&dir, &kubeconfig, &["--lookup-timeout", "5s"]);
    assert_eq!(run.code, Some(2), "{}", run.stdout);
    assert!(run.stderr.contains(&url), "{}", run.stderr);
    assert!(run.stderr.contains("unreachable"), "{}", run.stderr);
    assert!(run.took < Duration::from_secs(5), "took {:?}", run.took);
    assert!(run.stdout.is_empty(), "{}", run.stdout);
}

#[test]
fn a_server_that_never_answers_is_cut_off_at_the_timeout() {
    let dir = scratch("silent");
    // Connections complete in the kernel's backlog, but nobody ever reads or answers.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", silent.local_addr().unwrap());
    let kubeconfig = dir.join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        kube_standin::kubeconfig::render(&url, "apps", "t"),
    )
    .unwrap();

    let run = template(&dir, &kubeconfig, &["--lookup-timeout", "1s"]);
    assert_eq!(run.code, Some(2), "{}", run.stdout);
    assert!(run.stderr.contains(&url), "{}", run.stderr);
    assert!(run.stderr.contains("1s"), "{}", run.stderr);
    assert!(
        run.took >= Duration::from_secs(1) && run.took < Duration::from_secs(8),
        "took {:?}",
        run.took
    );
    drop(silent);
}

#[test]
fn bad_lookup_flags_are_refused_by_name() {
    let dir = scratch("flags");
    let missing = dir.join("no-such-kubeconfig");
    let run = template(&dir, &missing, &[]);
    assert_eq!(run.code, Some(2));
    assert!(run.stderr.contains("no-such-kubeconfig"), "{}", run.stderr);

    let kubeconfig = dir.join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        kube_standin::kubeconfig::render("http://127.0.0.1:1", "apps", "t"),
    )
    .unwrap();
    let run = template(&dir, &kubeconfig, &["--lookup-timeout", "soon"]);
    assert_eq!(run.code, Some(2));
    assert!(run.stderr.contains("--lookup-timeout"), "{}", run.stderr);
    assert!(run.stderr.contains("\"soon\""), "{}", run.stderr);

    let run = template(&dir, &kubeconfig, &["--kube-context", "nope"]);
    assert_eq!(run.code, Some(2));
    assert!(run.stderr.contains("nope"), "{}", run.stderr);
}

#[test]
fn without_live_lookup_the_kubeconfig_flags_are_refused() {
    let out = Command::new(BIN)
        .args(["template", "x", "--kubeconfig", "k"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--live-lookup"));
}
