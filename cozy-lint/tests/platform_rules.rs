//! The platform's cross-package rules on the real packages, and on copies with the original
//! defects re-introduced:
//! - (b) `proxy-target-deployed`: the host Package gives the ouroboros component no proxy target,
//!   so the proxy dials the tenant layout's Service (packages.md E.1);
//! - (c) `component-values-installed`: the PROXY-protocol keys go to a component its
//!   PackageSource does not install (packages.md E.2);
//! - (a) `controller-rbac-scope`: coredns-import mode with a Role on the main CoreDNS ConfigMap.

use std::path::{Path, PathBuf};

use clap::Parser;
use cozy_lint::cli::{main_with, LintArgs};

#[derive(Parser)]
struct Cmd {
    #[command(flatten)]
    args: LintArgs,
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn lint(args: &[&str]) -> (i32, String, String) {
    let mut argv = vec!["lint"];
    argv.extend_from_slice(args);
    let cmd = Cmd::try_parse_from(argv).expect("arguments parse");
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = main_with(cmd.args, &mut out, &mut err);
    (
        code,
        String::from_utf8(out).unwrap(),
        String::from_utf8(err).unwrap(),
    )
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        if e.path().is_dir() {
            copy_dir(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

/// A temporary copy of `packages/` and `schemas/`.
fn copy_repo() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    copy_dir(&repo().join("packages"), &tmp.path().join("packages"));
    copy_dir(&repo().join("schemas"), &tmp.path().join("schemas"));
    tmp
}

fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(
        text.contains(from),
        "{} no longer contains the text this test edits:\n{from}",
        path.display()
    );
    std::fs::write(path, text.replacen(from, to, 1)).unwrap();
}

const HOST_ON: &[&str] = &[
    "--set",
    "bundles.system.enabled=true",
    "--set",
    "publishing.proxyProtocol=true",
    "-n",
    "cozy-system",
    "--release-name",
    "cozystack",
];

fn platform_args<'a>(chart: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec![chart];
    v.extend_from_slice(HOST_ON);
    v.extend_from_slice(extra);
    v
}

#[test]
fn real_platform_with_proxy_protocol_lints_clean() {
    let chart = repo().join("packages/core/platform").display().to_string();
    let (code, out, err) = lint(&platform_args(&chart, &[]));
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, err) = lint(&platform_args(
        &chart,
        &["--set", "publishing.ingressName=tenant-foo"],
    ));
    assert_eq!(code, 0, "{out}{err}");
}

#[test]
fn host_proxy_target_defect_fails_rule_b() {
    let tmp = copy_repo();
    let platform = tmp.path().join("packages/core/platform");
    // Defect 1: the host Package carries no values, so the wrapper's tenant fallback applies.
    edit(
        &platform.join("templates/bundles/system.yaml"),
        r#"{{ include(pkg, dict("name", "cozystack.ouroboros", "variant", "default", "root", dot,
    "components", dict("ouroboros", dict("values", ouroborosValues)))) }}"#,
        r#"{{ include("cozystack.platform.package.default", dict("name", "cozystack.ouroboros", "root", dot)) }}"#,
    );
    let chart = platform.display().to_string();
    let (code, out, err) = lint(&platform_args(&chart, &[]));
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("[proxy-target-deployed]"), "{out}");
    assert!(
        out.contains("dials Service ingress-nginx-controller in cozy-ingress-nginx, but this render deploys the ingress controller as Service root-ingress-controller in tenant-root"),
        "{out}"
    );
    assert!(!out.contains("[component-values-installed]"), "{out}");
}

#[test]
fn values_on_uninstalled_component_fail_rule_c() {
    let tmp = copy_repo();
    let platform = tmp.path().join("packages/core/platform");
    // Defect 2: the component receiving the PROXY-protocol keys has no install block.
    edit(
        &platform.join("sources/ingress-application.yaml"),
        "          path: system/ingress-nginx\n          install:\n            namespace: cozy-ingress-nginx\n            releaseName: ingress-nginx-system\n",
        "          path: system/ingress-nginx\n",
    );
    let chart = platform.display().to_string();
    let (code, out, err) = lint(&platform_args(&chart, &[]));
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("[component-values-installed]"), "{out}");
    assert!(out.contains("Package cozystack.ingress-application gives values to component ingress-system, but PackageSource cozystack.ingress-application (variant default) does not install it"), "{out}");
    // With the switch off nothing carries values, so nothing is dropped.
    let (code, out, _) = lint(&[&chart, "--set", "bundles.system.enabled=true"]);
    assert_eq!(code, 0, "{out}");
}

#[test]
fn both_original_defects_together() {
    let tmp = copy_repo();
    let platform = tmp.path().join("packages/core/platform");
    edit(
        &platform.join("templates/bundles/system.yaml"),
        r#""components", dict("ouroboros", dict("values", ouroborosValues))"#,
        r#""components", dict()"#,
    );
    edit(&platform.join("sources/ingress-application.yaml"), "          install:\n            namespace: cozy-ingress-nginx\n            releaseName: ingress-nginx-system\n", "");
    let (code, out, _) = lint(&platform_args(
        &platform.display().to_string(),
        &["-o", "json"],
    ));
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let mut rules: Vec<&str> = v["cases"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    rules.sort();
    assert_eq!(
        rules,
        vec!["component-values-installed", "proxy-target-deployed"],
        "{v:#}"
    );
}

#[test]
fn tenant_proxy_target_is_checked_against_tenant_ingress() {
    let chart = repo()
        .join("packages/apps/kubernetes")
        .display()
        .to_string();
    let on = [
        "--set",
        "addons.ouroboros.enabled=true",
        "--set",
        "addons.ingressNginx.enabled=true",
        "--set",
        "_namespace.etcd=tenant-root",
    ];
    let mut args = vec![chart.as_str()];
    args.extend_from_slice(&on);
    let (code, out, err) = lint(&args);
    assert_eq!(code, 0, "{out}{err}");
    args.extend_from_slice(&[
        "--set",
        "addons.ouroboros.valuesOverride.ouroboros.proxy.target.namespace=ingress-nginx",
    ]);
    let (code, out, _) = lint(&args);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("dials Service ingress-nginx-controller in ingress-nginx, but this render deploys the ingress controller as Service ingress-nginx-controller in cozy-ingress-nginx"), "{out}");
}

#[test]
fn import_mode_rbac_on_main_corefile_fails_rule_a() {
    let chart = repo()
        .join("packages/system/ouroboros")
        .display()
        .to_string();
    for mode in ["coredns", "coredns-import", "external-dns"] {
        let set = format!("ouroboros.controller.mode={mode}");
        let (code, out, err) = lint(&[
            &chart,
            "--set",
            &set,
            "-n",
            "cozy-ouroboros",
            "--release-name",
            "ouroboros",
        ]);
        assert_eq!(code, 0, "{mode}: {out}{err}");
    }
    let tmp = copy_repo();
    let chart = tmp.path().join("packages/system/ouroboros");
    let role = chart.join("charts/ouroboros/templates/role-coredns-import.yaml");
    let text = std::fs::read_to_string(&role).unwrap();
    let broken = text.replace(
        "Values.controller.corednsImport.configmap",
        "Values.controller.coredns.configmap",
    );
    assert_ne!(
        text, broken,
        "role-coredns-import.yaml no longer names the import ConfigMap this way"
    );
    std::fs::write(&role, broken).unwrap();
    let chart = chart.display().to_string();
    let (code, out, _) = lint(&[
        &chart,
        "--set",
        "ouroboros.controller.mode=coredns-import",
        "-n",
        "cozy-ouroboros",
        "--release-name",
        "ouroboros",
    ]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("[controller-rbac-scope]"), "{out}");
    assert!(out.contains("in coredns-import mode the controller must not be able to touch the main CoreDNS ConfigMap kube-system/coredns"), "{out}");
}

#[test]
fn every_package_lints_clean_with_defaults() {
    for pkg in [
        "system/ouroboros",
        "system/coredns",
        "apps/kubernetes",
        "core/platform",
    ] {
        let chart = repo().join("packages").join(pkg).display().to_string();
        let (code, out, err) = lint(&[&chart]);
        assert_eq!(code, 0, "{pkg}: {out}{err}");
    }
}

#[test]
fn every_package_value_set_lints_without_findings() {
    let charts: Vec<String> = [
        "system/ouroboros",
        "system/coredns",
        "apps/kubernetes",
        "core/platform",
    ]
    .iter()
    .map(|p| repo().join("packages").join(p).display().to_string())
    .collect();
    let matrix = repo().join("snapshots/values").display().to_string();
    let mut args: Vec<&str> = charts.iter().map(String::as_str).collect();
    args.extend_from_slice(&["--matrix", &matrix, "-o", "json"]);
    let (code, out, err) = lint(&args);
    let v: serde_json::Value =
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}{err}"));
    // Known problems of the packages, found by this lint (each reported upstream): the case name,
    // the rule, and a piece of the message.
    let known = [
        // A 63-character fullname plus "-proxy" is not a valid Service name (A.3 does not cut
        // the suffixed names).
        (
            "long-fullname",
            "object-name",
            "-proxy\" must be no more than 63 characters",
        ),
        // The tenant passes gatewayApi.enabled "t" through unchanged; the ouroboros chart's
        // values schema refuses it, so the HelmRelease would fail to install.
        (
            "gateway-passthrough-t",
            "component-values-valid",
            "gatewayApi.enabled: \"t\" is not of type \"boolean\"",
        ),
    ];
    let mut unexpected = Vec::new();
    for case in v["cases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["outcome"] == "findings")
    {
        for f in case["findings"].as_array().unwrap() {
            let is_known = known.iter().any(|(c, r, m)| {
                case["case"] == *c
                    && f["rule"] == *r
                    && f["message"].as_str().unwrap_or("").contains(m)
            });
            if !is_known {
                unexpected.push(format!("{} [{}]: {}", case["chart"], case["case"], f));
            }
        }
    }
    assert!(unexpected.is_empty(), "{unexpected:#?}");
    assert!(
        v["summary"]["cases"].as_u64().unwrap() >= 40,
        "{:#}",
        v["summary"]
    );
    assert_eq!(
        v["summary"]["withFindings"],
        known.len(),
        "{:#}",
        v["summary"]
    );
    assert_eq!(code, 1);
}
