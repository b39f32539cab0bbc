//! The synchronous wrapper and the `kube-standin serve` binary.

use kube_standin::BlockingStandIn;
use serde_json::json;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};

fn http_get(base_url: &str, path: &str) -> (u16, String) {
    let addr = base_url.trim_start_matches("http://");
    let mut stream = TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response.split_whitespace().nth(1).unwrap().parse().unwrap();
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

#[test]
fn blocking_wrapper_serves_without_an_async_test() {
    let server = BlockingStandIn::start().unwrap();
    server
        .apply_object(
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "tenant"}}),
        )
        .unwrap();
    let (status, body) = http_get(&server.base_url(), "/api/v1/namespaces/tenant");
    assert_eq!(status, 200);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&body).unwrap()["metadata"]["name"],
        "tenant"
    );
    let log = server.request_log();
    assert_eq!(log.len(), 1);
    assert!(log.iter().all(|r| r.is_read_only()));
    assert!(server
        .kubeconfig_yaml()
        .contains(&format!("server: {}", server.base_url())));
}

#[test]
fn binary_seeds_writes_a_kubeconfig_and_serves() {
    let dir = tempfile::tempdir().unwrap();
    let seed = dir.path().join("seed.yaml");
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(&seed, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: coredns\n  namespace: kube-system\ndata:\n  Corefile: |\n    .:53 {}\n").unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_kube-standin"))
        .args(["serve", "--port", "0", "--kubeconfig-out"])
        .arg(&kubeconfig)
        .arg("--seed")
        .arg(&seed)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_string();
    let (status, body) = http_get(&url, "/api/v1/namespaces/kube-system/configmaps/coredns");
    let written = std::fs::read_to_string(&kubeconfig).unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(status, 200);
    assert!(body.contains(".:53 {}"), "{body}");
    assert!(written.contains(&format!("server: {url}")));
}

#[test]
fn binary_reports_a_bad_seed_file_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let seed = dir.path().join("bad.yaml");
    std::fs::write(
        &seed,
        "apiVersion: v1\nkind: ConfigMap\n---\n- not a mapping\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_kube-standin"))
        .args(["serve", "--seed"])
        .arg(&seed)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("bad.yaml: YAML document 2: expected a mapping"),
        "{stderr}"
    );
}
