//! End to end: the rendered packages drive the real binaries through a working hairpin path.
//!
//! One scenario per mode. `packages/system/ouroboros` is rendered with the host values (its
//! defaults, mode `coredns`) and with the values `packages/apps/kubernetes` passes to the
//! tenant's ouroboros HelmRelease (mode `coredns-import`). The controller, proxy and cleanup
//! run as `ouroboros <args>` with the args and env of the rendered containers; the only
//! substitutions are listen addresses (loopback ports instead of the pod's `:8080`-style
//! addresses, including the controller's default `:8081` health address) and the API
//! endpoint (`--kubeconfig` pointing at the API stand-in, where a pod would use its
//! in-cluster config).
//!
//! Name resolution stays as rendered too. The proxy dials the composed
//! `<svc>.<ns>.svc.<domain>` name on the rendered target ports, and both binaries detect the
//! cluster domain from `/etc/resolv.conf`. Each process therefore runs in a private mount
//! namespace with a pod-style `resolv.conf` and an `/etc/hosts` entry for the ingress-nginx
//! Service name bind-mounted over the real files (see `support::pod`): no argument or
//! environment variable changes, and nothing outside the test's processes sees it. A real
//! nginx with `proxy_protocol` listeners on the rendered target ports stands in for
//! ingress-nginx on a loopback address of its own. This needs root (CI runs as root) and
//! nginx; without them the scenarios skip with a loud message.
//!
//! The controller's resync is the rendered 10 minutes, so every expectation here is driven by
//! watch events, as the issue requires.

mod support;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use cozy_engine::Rendered;
use ouroboros_controller::corefile::{check_snippet_syntax, check_syntax};
use serde_json::{json, Value};
use support::charts::{self, ContainerSpec};
use support::cluster::Cluster;
use support::corefile::{enclosing_server_block, expand_import, rewrite, without_block};
use support::nginx::{self, Nginx};
use support::pod::{PodRoot, Proc};
use support::{free_port, free_ports, http, skip, skip_without_tool, wait_for};

const WAIT: Duration = Duration::from_secs(30);
/// Where the API stand-in's objects of the DNS side live; also the coredns package's namespace.
const DNS_NAMESPACE: &str = "kube-system";
/// The application whose Ingress the scenarios create.
const APP_NAMESPACE: &str = "shop";
const APP_HOST: &str = "shop.tenant-a.example.com";
const SECOND_HOST: &str = "api.tenant-a.example.com";

// ---------------------------------------------------------------------------------------------
// What the packages render.

/// One rendered ouroboros release.
struct Release {
    label: &'static str,
    namespace: String,
    rendered: Rendered,
}

fn host_release() -> Release {
    let (name, namespace) = ("ouroboros", "cozy-ouroboros");
    Release {
        label: "host",
        namespace: namespace.into(),
        rendered: charts::render_package("system/ouroboros", name, namespace, vec![]),
    }
}

/// The tenant's ouroboros release exactly as packages/apps/kubernetes declares it: release
/// name, namespace and values are read from its rendered HelmRelease.
fn tenant_release() -> Release {
    let tenant_values = json!({
        "_namespace": {"etcd": "tenant-root"},
        "addons": {"ouroboros": {"enabled": true}, "ingressNginx": {"enabled": true}}
    });
    let tenant = charts::render_package(
        "apps/kubernetes",
        "tenant-a",
        "tenant-root",
        vec![charts::literal("tenant values", tenant_values)],
    );
    let helm_release = charts::object(&tenant, "HelmRelease", |n| n.ends_with("-ouroboros"));
    let field = |path: &str| {
        helm_release
            .pointer(path)
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("HelmRelease has no {path}: {helm_release}"))
            .to_string()
    };
    let (name, namespace) = (field("/spec/releaseName"), field("/spec/targetNamespace"));
    let values = charts::tenant_ouroboros_values(&tenant);
    let rendered = charts::render_package(
        "system/ouroboros",
        &name,
        &namespace,
        vec![charts::literal("HelmRelease spec.values", values)],
    );
    Release {
        label: "tenant",
        namespace,
        rendered,
    }
}

/// What the coredns package renders: the Corefile ConfigMap and the import ConfigMap.
struct CorednsPackage {
    corefile_configmap: Value,
    corefile: String,
    custom_configmap: Value,
}

fn coredns_package() -> CorednsPackage {
    let rendered = charts::render_package("system/coredns", "coredns", DNS_NAMESPACE, vec![]);
    let corefile_configmap = rendered
        .documents
        .iter()
        .find(|d| d.kind() == "ConfigMap" && d.value.pointer("/data/Corefile").is_some())
        .map(|d| d.value.clone())
        .expect("the coredns package renders a ConfigMap with a Corefile");
    let corefile = corefile_configmap["data"]["Corefile"]
        .as_str()
        .expect("Corefile is text")
        .to_string();
    let custom_configmap =
        charts::object(&rendered, "ConfigMap", |n| n == "coredns-custom").clone();
    CorednsPackage {
        corefile_configmap,
        corefile,
        custom_configmap,
    }
}

/// The containers and objects of one release the scenario starts or seeds.
struct Workloads {
    controller: ContainerSpec,
    controller_deployment: Value,
    proxy: ContainerSpec,
    proxy_service: Value,
    cleanup: ContainerSpec,
}

impl Workloads {
    fn of(release: &Release) -> Workloads {
        let r = &release.rendered;
        let controller_deployment =
            charts::workload_with_container(r, "Deployment", "controller").clone();
        let proxy_deployment = charts::workload_with_container(r, "Deployment", "proxy");
        let cleanup_job = charts::workload_with_container(r, "Job", "cleanup");
        let hook = cleanup_job
            .pointer("/metadata/annotations/helm.sh~1hook")
            .and_then(Value::as_str);
        assert_eq!(
            hook,
            Some("pre-delete"),
            "the cleanup Job is the pre-delete hook"
        );
        let proxy_service = charts::object(r, "Service", |n| n.ends_with("proxy")).clone();
        Workloads {
            controller: ContainerSpec::of(&controller_deployment, "controller"),
            proxy: ContainerSpec::of(proxy_deployment, "proxy"),
            cleanup: ContainerSpec::of(cleanup_job, "cleanup"),
            controller_deployment,
            proxy_service,
        }
    }
}

/// Where the controller's rule goes, read from the rendered controller args.
#[derive(Debug, Clone)]
enum RuleTarget {
    /// The Corefile itself (`--mode=coredns`).
    Corefile {
        namespace: String,
        configmap: String,
        key: String,
    },
    /// One key of the import ConfigMap (`--mode=coredns-import`).
    Import {
        namespace: String,
        configmap: String,
        key: String,
    },
}

fn flag(spec: &ContainerSpec, name: &str) -> String {
    spec.flag(name)
        .unwrap_or_else(|| panic!("rendered args have no --{name}: {:?}", spec.args))
}

fn rule_target(controller: &ContainerSpec) -> RuleTarget {
    match flag(controller, "mode").as_str() {
        "coredns" => RuleTarget::Corefile {
            namespace: flag(controller, "coredns-namespace"),
            configmap: flag(controller, "coredns-configmap"),
            key: flag(controller, "coredns-key"),
        },
        "coredns-import" => RuleTarget::Import {
            namespace: flag(controller, "coredns-import-namespace"),
            configmap: flag(controller, "coredns-import-configmap"),
            key: flag(controller, "coredns-import-key"),
        },
        other => panic!("the scenario covers the CoreDNS modes, the chart rendered --mode={other}"),
    }
}

/// The rewrite target the rendered controller args imply, with the domain a pod of the
/// cluster detects (`cluster.local`, see `support::pod`).
fn implied_proxy_fqdn(w: &Workloads, release: &Release) -> String {
    if let Some(fqdn) = w.controller.flag("proxy-fqdn") {
        return fqdn;
    }
    let (name, namespace) = (
        flag(&w.controller, "proxy-service-name"),
        flag(&w.controller, "proxy-service-namespace"),
    );
    assert_eq!(
        Some(name.as_str()),
        w.proxy_service["metadata"]["name"].as_str(),
        "the controller points at the rendered proxy Service"
    );
    assert_eq!(
        namespace, release.namespace,
        "the proxy Service lives in the release namespace"
    );
    format!("{name}.{namespace}.svc.cluster.local.")
}

/// The backend name the rendered proxy args compose, and its two ports.
fn proxy_backend(proxy: &ContainerSpec) -> (String, u16, u16) {
    let host = proxy.flag("target-host").unwrap_or_else(|| {
        format!(
            "{}.{}.svc.cluster.local",
            flag(proxy, "target-service-name"),
            flag(proxy, "target-service-namespace")
        )
    });
    let port = |name| {
        flag(proxy, name)
            .parse::<u16>()
            .unwrap_or_else(|e| panic!("--{name}: {e}"))
    };
    (host, port("target-http-port"), port("target-https-port"))
}

// ---------------------------------------------------------------------------------------------
// Checks on what the controller wrote.

/// The Corefile CoreDNS would load: the Corefile itself, with the import snippet expanded in
/// import mode. Fails when CoreDNS would reject the Corefile or the snippet.
fn effective_corefile(corefile: &str, import: Option<(&str, &str)>) -> Result<String, String> {
    check_syntax(corefile).map_err(|e| format!("Corefile: {e}\n{corefile}"))?;
    let Some((file_name, snippet)) = import else {
        return Ok(corefile.to_string());
    };
    check_snippet_syntax(snippet).map_err(|e| format!("snippet {file_name}: {e}\n{snippet}"))?;
    let (expanded, count) = expand_import(corefile, file_name, snippet);
    if count != 1 {
        return Err(format!(
            "{count} import lines of the Corefile match {file_name}, expected 1:\n{corefile}"
        ));
    }
    check_syntax(&expanded)
        .map_err(|e| format!("Corefile with {file_name} imported: {e}\n{expanded}"))?;
    Ok(expanded)
}

/// Asserts the rule for `host` sits directly inside the `.:53` server block.
fn assert_rule_in_root_zone(effective: &str, host: &str, fqdn: &str) {
    let rule = rewrite(host, fqdn);
    let place = enclosing_server_block(effective, &rule);
    assert_eq!(
        place,
        Some((".:53".to_string(), 1)),
        "rule {rule:?} not directly in the .:53 block:\n{effective}"
    );
}

// ---------------------------------------------------------------------------------------------
// The running system of one scenario.

struct Scenario {
    label: &'static str,
    dir: TempDir,
    cluster: Cluster,
    pod: PodRoot,
    nginx: Nginx,
    coredns: CorednsPackage,
    target: RuleTarget,
    fqdn: String,
}

/// Checks what the scenarios need; `None` after a loud message when the machine lacks it.
fn preconditions(test: &str) -> Option<()> {
    if nginx::binary().is_none() {
        skip_without_tool(test, "nginx is not installed (apt-get install nginx-light)");
        return None;
    }
    if let Err(why) = PodRoot::available() {
        skip(test, &why);
        return None;
    }
    Some(())
}

impl Scenario {
    /// Seeds the stand-in and starts nginx; `None` (after a loud message) when nginx cannot
    /// bind the rendered target ports on this machine.
    fn prepare(test: &str, release: &Release, w: &Workloads, slot: u8) -> Option<Scenario> {
        let dir = TempDir::new(&format!("{}-{}", release.label, slot));
        let cluster = Cluster::start(&dir.0, &release.namespace);
        let coredns = coredns_package();
        let target = rule_target(&w.controller);
        match &target {
            RuleTarget::Corefile {
                namespace,
                configmap,
                key,
            } => {
                assert_eq!(
                    key, "Corefile",
                    "the controller edits the key the coredns package renders"
                );
                cluster.install(
                    &coredns.corefile_configmap,
                    namespace,
                    Some(configmap.as_str()),
                );
                cluster.install(&coredns.custom_configmap, DNS_NAMESPACE, None);
            }
            RuleTarget::Import {
                namespace,
                configmap,
                key,
            } => {
                let custom = &coredns.custom_configmap["metadata"];
                assert_eq!(
                    (namespace.as_str(), configmap.as_str()),
                    (custom["namespace"].as_str().unwrap_or(DNS_NAMESPACE), custom["name"].as_str().unwrap_or("")),
                    "the tenant's controller writes the import ConfigMap the coredns package mounts"
                );
                assert!(
                    expand_import(&coredns.corefile, key, "").1 == 1,
                    "the coredns Corefile imports {key}:\n{}",
                    coredns.corefile
                );
                cluster.install(&coredns.corefile_configmap, DNS_NAMESPACE, None);
                cluster.install(&coredns.custom_configmap, DNS_NAMESPACE, None);
            }
        }
        cluster.install(&w.proxy_service, &release.namespace, None);
        cluster.install_running_deployment(&w.controller_deployment, &release.namespace);

        let (backend, http_port, https_port) = proxy_backend(&w.proxy);
        let ip = nginx::loopback_for(slot);
        let ip_text = ip.to_string();
        let pod = PodRoot::new(
            &dir.0,
            &release.namespace,
            &[(ip_text.as_str(), backend.as_str())],
        );
        let nginx = match Nginx::start(&dir.0, ip, &[http_port, https_port]) {
            Ok(nginx) => nginx,
            Err(why) if why.contains("Address already in use") => {
                skip(
                    test,
                    &format!("nginx cannot listen on {ip}:{http_port}/{https_port}: {why}"),
                );
                return None;
            }
            Err(why) => panic!("start nginx: {why}"),
        };
        let fqdn = implied_proxy_fqdn(w, release);
        Some(Scenario {
            label: release.label,
            dir,
            cluster,
            pod,
            nginx,
            coredns,
            target,
            fqdn,
        })
    }

    /// The controller args with the API endpoint and the health address substituted.
    fn controller_args(&self, spec: &ContainerSpec, health_port: u16) -> Vec<String> {
        let mut spec = spec.clone();
        spec.set_flag("kubeconfig", &self.cluster.kubeconfig.display().to_string());
        spec.set_flag("listen-health", &format!("127.0.0.1:{health_port}"));
        spec.args
    }

    fn start_controller(&self, spec: &ContainerSpec, health_port: u16) -> Proc {
        self.pod.spawn(
            &self.dir.0,
            &format!("{}-controller", self.label),
            &self.controller_args(spec, health_port),
            &spec.env,
        )
    }

    /// Starts the proxy with its three listen addresses on loopback ports.
    fn start_proxy(&self, spec: &ContainerSpec) -> (Proc, ProxyPorts) {
        let [http, https, health] = free_ports();
        let ports = ProxyPorts {
            http,
            https,
            health,
        };
        let mut spec = spec.clone();
        for (name, port) in [
            ("listen-http", ports.http),
            ("listen-https", ports.https),
            ("listen-health", ports.health),
        ] {
            assert!(
                spec.flag(name).is_some(),
                "the rendered proxy args set --{name}"
            );
            spec.set_flag(name, &format!("127.0.0.1:{port}"));
        }
        (
            self.pod.spawn(
                &self.dir.0,
                &format!("{}-proxy", self.label),
                &spec.args,
                &spec.env,
            ),
            ports,
        )
    }

    /// The rule text CoreDNS would load now (checked for syntax), and the snippet in import mode.
    fn effective(&self) -> Result<String, String> {
        match &self.target {
            RuleTarget::Corefile {
                namespace,
                configmap,
                key,
            } => {
                let text = self
                    .cluster
                    .configmap_key(namespace, configmap, key)
                    .ok_or("Corefile missing")?;
                effective_corefile(&text, None)
            }
            RuleTarget::Import {
                namespace,
                configmap,
                key,
            } => {
                let corefile = self
                    .cluster
                    .configmap_key(DNS_NAMESPACE, self.corefile_name(), "Corefile")
                    .ok_or("Corefile missing")?;
                let snippet = self
                    .cluster
                    .configmap_key(namespace, configmap, key)
                    .unwrap_or_default();
                effective_corefile(&corefile, Some((key.as_str(), snippet.as_str())))
            }
        }
    }

    fn corefile_name(&self) -> &str {
        self.coredns.corefile_configmap["metadata"]["name"]
            .as_str()
            .unwrap_or("coredns")
    }

    /// The Corefile as stored now.
    fn stored_corefile(&self) -> String {
        let (namespace, name) = match &self.target {
            RuleTarget::Corefile {
                namespace,
                configmap,
                ..
            } => (namespace.as_str(), configmap.as_str()),
            RuleTarget::Import { .. } => (DNS_NAMESPACE, self.corefile_name()),
        };
        self.cluster
            .configmap_key(namespace, name, "Corefile")
            .unwrap_or_default()
    }

    fn has_rule(&self, host: &str) -> bool {
        self.effective()
            .is_ok_and(|text| text.contains(&rewrite(host, &self.fqdn)))
    }

    /// Re-applies what the coredns package renders, as an upgrade of the DNS release would:
    /// anything the controller wrote into those objects is gone afterwards.
    fn rewrite_dns_externally(&self) {
        match &self.target {
            RuleTarget::Corefile {
                namespace,
                configmap,
                ..
            } => {
                self.cluster.install(
                    &self.coredns.corefile_configmap,
                    namespace,
                    Some(configmap.as_str()),
                );
            }
            RuleTarget::Import { .. } => {
                self.cluster
                    .install(&self.coredns.corefile_configmap, DNS_NAMESPACE, None);
                self.cluster
                    .install(&self.coredns.custom_configmap, DNS_NAMESPACE, None);
            }
        }
    }

    /// Runs the pre-delete hook's command line to completion while playing the kubelet: when
    /// the cleanup scales the controller Deployment to zero, the controller process is stopped.
    fn run_cleanup(
        &self,
        spec: &ContainerSpec,
        controller: &mut Proc,
        release: &Release,
        deployment_name: &str,
    ) -> (i32, String) {
        let mut spec = spec.clone();
        spec.set_flag("kubeconfig", &self.cluster.kubeconfig.display().to_string());
        let mut cleanup = self.pod.spawn(
            &self.dir.0,
            &format!("{}-cleanup", self.label),
            &spec.args,
            &spec.env,
        );
        let deployment = self
            .cluster
            .get("apps/v1", "Deployment", &release.namespace, deployment_name)
            .expect("controller Deployment seeded");
        assert!(
            deployment["spec"]["replicas"].as_i64() != Some(0),
            "the controller runs before the cleanup"
        );
        let mut controller_stopped = false;
        // The hook Job's activeDeadlineSeconds bounds it in a cluster; here a minute and a half.
        let deadline = std::time::Instant::now() + Duration::from_secs(90);
        let code = loop {
            assert!(
                std::time::Instant::now() < deadline,
                "cleanup still running after 90 s:\n{}",
                cleanup.log_text()
            );
            if !controller_stopped {
                let replicas = self
                    .cluster
                    .get("apps/v1", "Deployment", &release.namespace, deployment_name)
                    .and_then(|d| d["spec"]["replicas"].as_i64());
                if replicas == Some(0) {
                    let code = controller.terminate();
                    assert_eq!(
                        code,
                        Some(0),
                        "the controller stops cleanly when its pod goes:\n{}",
                        controller.log_text()
                    );
                    controller_stopped = true;
                }
            }
            if let Some(code) = cleanup.exited() {
                break code;
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        assert!(
            controller_stopped,
            "the cleanup finished without scaling the controller to zero:\n{}",
            cleanup.log_text()
        );
        (code, cleanup.log_text())
    }
}

struct ProxyPorts {
    http: u16,
    https: u16,
    health: u16,
}

fn loopback(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

/// A scratch directory removed when the scenario ends.
struct TempDir(PathBuf);

impl TempDir {
    fn new(label: &str) -> TempDir {
        let dir =
            std::env::temp_dir().join(format!("ouroboros-e2e-{}-{label}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create scratch directory");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

// ---------------------------------------------------------------------------------------------
// The scenarios.

fn hairpin_scenario(test: &str, release: Release, slot: u8) {
    if preconditions(test).is_none() {
        return;
    }
    let w = Workloads::of(&release);
    let Some(s) = Scenario::prepare(test, &release, &w, slot) else {
        return;
    };
    let logs = |c: &Proc, p: &Proc| {
        format!(
            "--- controller\n{}\n--- proxy\n{}\n--- nginx\n{}",
            c.log_text(),
            p.log_text(),
            s.nginx.log_text()
        )
    };

    // The rendered Corefile itself is one CoreDNS accepts, import directive included.
    effective_corefile(&s.coredns.corefile, None).expect("the coredns package's Corefile parses");

    let mut controller = s.start_controller(&w.controller, free_port());
    let (mut proxy, ports) = s.start_proxy(&w.proxy);

    // The proxy is ready once it reaches both backend ports through the composed name.
    let ready = wait_for(WAIT, || {
        http::get(loopback(ports.health), "proxy", "/readyz").is_ok_and(|r| r.status() == Some(200))
    });
    assert!(ready, "proxy never ready:\n{}", logs(&controller, &proxy));

    // 4. An Ingress with a TLS host ⇒ the rule, in the right place, pointing at the proxy.
    s.cluster
        .create_ingress(APP_NAMESPACE, "storefront", APP_HOST);
    assert!(
        wait_for(WAIT, || s.has_rule(APP_HOST)),
        "rule for {APP_HOST} never appeared: {:?}\n{}",
        s.effective(),
        logs(&controller, &proxy)
    );
    let effective = s
        .effective()
        .expect("CoreDNS accepts what the controller wrote");
    assert_rule_in_root_zone(&effective, APP_HOST, &s.fqdn);
    match &s.target {
        RuleTarget::Corefile { .. } => {
            let stored = s.stored_corefile();
            assert_eq!(
                stored.matches(support::corefile::BEGIN).count(),
                1,
                "one owned block:\n{stored}"
            );
            assert_eq!(
                without_block(&stored),
                s.coredns.corefile,
                "only the owned block was added to the Corefile"
            );
        }
        RuleTarget::Import {
            namespace,
            configmap,
            key,
        } => {
            let snippet = s.cluster.configmap_key(namespace, configmap, key);
            assert_eq!(
                snippet,
                Some(format!("{}\n", rewrite(APP_HOST, &s.fqdn))),
                "the import key holds exactly the rule"
            );
            assert_eq!(
                s.stored_corefile(),
                s.coredns.corefile,
                "import mode never touches the Corefile"
            );
        }
    }

    // A request through the proxy reaches nginx, which reads the real client from the header.
    let answer = http::get(loopback(ports.http), APP_HOST, "/").expect("connect to the proxy");
    assert_eq!(
        answer.status(),
        Some(200),
        "through the proxy: {answer:?}\n{}",
        logs(&controller, &proxy)
    );
    assert!(
        answer
            .raw
            .contains(&format!("ingress-nginx stand-in: {APP_HOST}")),
        "{answer:?}"
    );
    assert_eq!(
        answer.header("X-PP-Addr"),
        Some(answer.client.ip().to_string().as_str()),
        "{answer:?}"
    );
    assert_eq!(
        answer.header("X-PP-Port"),
        Some(answer.client.port().to_string().as_str()),
        "client port from the PROXY header: {answer:?}"
    );
    assert_eq!(
        answer.header("X-PP-Server-Port"),
        Some(ports.http.to_string().as_str()),
        "the proxy's own listener as destination: {answer:?}"
    );

    // 5. Delete ⇒ the rule goes (the Corefile is back to what was rendered).
    s.cluster.delete_ingress(APP_NAMESPACE, "storefront");
    assert!(
        wait_for(WAIT, || !s.has_rule(APP_HOST) && s.effective().is_ok()),
        "rule stayed after delete: {:?}",
        s.effective()
    );
    assert_eq!(
        s.stored_corefile(),
        s.coredns.corefile,
        "the Corefile is back to the rendered text"
    );

    // The DNS release is re-applied from its chart, then the Ingress comes back ⇒ the rule
    // comes back in the freshly written objects.
    s.rewrite_dns_externally();
    s.cluster
        .create_ingress(APP_NAMESPACE, "storefront", APP_HOST);
    assert!(
        wait_for(WAIT, || s.has_rule(APP_HOST)),
        "rule did not come back: {:?}\n{}",
        s.effective(),
        logs(&controller, &proxy)
    );

    // Re-applied again while the Ingress exists: the rule is gone from the objects; the next
    // change of the watched Ingresses restores it next to the new host.
    s.rewrite_dns_externally();
    assert!(
        !s.has_rule(APP_HOST),
        "the external rewrite dropped the rule"
    );
    s.cluster.create_ingress(APP_NAMESPACE, "api", SECOND_HOST);
    assert!(
        wait_for(WAIT, || s.has_rule(APP_HOST) && s.has_rule(SECOND_HOST)),
        "rules not restored: {:?}\n{}",
        s.effective(),
        logs(&controller, &proxy)
    );
    let effective = s
        .effective()
        .expect("CoreDNS accepts what the controller wrote");
    assert_rule_in_root_zone(&effective, SECOND_HOST, &s.fqdn);
    assert_eq!(effective.matches("rewrite name").count(), 2, "{effective}");

    // Uninstall: the pre-delete hook's command line ⇒ nothing of ours remains.
    let (code, cleanup_log) = s.run_cleanup(
        &w.cleanup,
        &mut controller,
        &release,
        w.controller_deployment["metadata"]["name"]
            .as_str()
            .unwrap_or(""),
    );
    assert_eq!(code, 0, "cleanup failed:\n{cleanup_log}");
    assert_eq!(
        s.cluster.ouroboros_traces(),
        Vec::<String>::new(),
        "left behind after cleanup:\n{cleanup_log}"
    );
    assert_eq!(
        s.stored_corefile(),
        s.coredns.corefile,
        "the Corefile is byte-identical to the rendered one"
    );
    if let RuleTarget::Import {
        namespace,
        configmap,
        key,
    } = &s.target
    {
        assert!(
            s.cluster.configmap_key(namespace, configmap, key).is_none(),
            "import key left behind"
        );
        assert!(
            s.cluster
                .get("v1", "ConfigMap", namespace, configmap)
                .is_some(),
            "the import ConfigMap itself belongs to the coredns package and stays"
        );
    }
    effective_corefile(&s.stored_corefile(), None).expect("the Corefile still parses");
    assert_eq!(
        proxy.terminate(),
        Some(0),
        "proxy shutdown:\n{}",
        proxy.log_text()
    );
}

#[test]
fn host_coredns_mode_hairpin_end_to_end() {
    hairpin_scenario("host_coredns_mode_hairpin_end_to_end", host_release(), 0);
}

#[test]
fn tenant_coredns_import_mode_hairpin_end_to_end() {
    hairpin_scenario(
        "tenant_coredns_import_mode_hairpin_end_to_end",
        tenant_release(),
        1,
    );
}

/// One deliberate mutation per binary: each breaks the scenario in the way it should.
#[test]
fn a_broken_rendered_arg_breaks_the_path() {
    let test = "a_broken_rendered_arg_breaks_the_path";
    if preconditions(test).is_none() {
        return;
    }
    let release = tenant_release();
    let w = Workloads::of(&release);
    let Some(s) = Scenario::prepare(test, &release, &w, 2) else {
        return;
    };

    // Controller: a mode it does not know ⇒ it exits non-zero naming the value.
    let mut controller_spec = w.controller.clone();
    controller_spec.set_flag("mode", "corednz");
    let mut controller = s.start_controller(&controller_spec, free_port());
    let code = controller.wait_exit(WAIT);
    let log = controller.log_text();
    assert!(
        matches!(code, Some(c) if c != 0),
        "controller with --mode=corednz exited with {code:?}:\n{log}"
    );
    assert!(
        log.contains("corednz"),
        "the error names the bad value:\n{log}"
    );

    // Proxy: a backend port nothing listens on ⇒ it starts, but no request reaches nginx and
    // it reports itself not ready.
    let mut proxy_spec = w.proxy.clone();
    proxy_spec.set_flag("target-http-port", "1");
    let (proxy, ports) = s.start_proxy(&proxy_spec);
    assert!(
        wait_for(WAIT, || http::get(
            loopback(ports.health),
            "proxy",
            "/readyz"
        )
        .is_ok_and(|r| r.status() == Some(503))),
        "a proxy with --target-http-port=1 must report not ready:\n{}",
        proxy.log_text()
    );
    let answer = http::get(loopback(ports.http), APP_HOST, "/").expect("the proxy still accepts");
    assert_eq!(
        answer.status(),
        None,
        "no answer may come from nginx: {answer:?}"
    );
    assert!(!answer.raw.contains("ingress-nginx stand-in"), "{answer:?}");
    assert!(
        wait_for(WAIT, || proxy.log_text().contains("backend dial failed")),
        "the dial failure is logged:\n{}",
        proxy.log_text()
    );

    // The unmutated proxy of the same render does reach nginx: the mutation made the difference.
    let (good, good_ports) = s.start_proxy(&w.proxy);
    assert!(
        wait_for(WAIT, || http::get(loopback(good_ports.http), APP_HOST, "/")
            .is_ok_and(|r| r.status() == Some(200))),
        "unmutated proxy did not reach nginx; last answer {:?}; its log:\n{}",
        http::get(loopback(good_ports.http), APP_HOST, "/"),
        good.log_text()
    );
}

/// The syntax check the scenarios apply rejects what CoreDNS would reject, so a broken
/// snippet or Corefile fails them.
#[test]
fn the_corefile_check_rejects_what_coredns_would() {
    let coredns = coredns_package();
    let rule = rewrite(
        APP_HOST,
        "ouroboros-proxy.cozy-ouroboros.svc.cluster.local.",
    );
    let good = format!("{rule}\n");
    let effective = effective_corefile(
        &coredns.corefile,
        Some(("ouroboros.override", good.as_str())),
    )
    .expect("a valid snippet is accepted");
    assert_rule_in_root_zone(
        &effective,
        APP_HOST,
        "ouroboros-proxy.cozy-ouroboros.svc.cluster.local.",
    );
    for bad in [
        format!("{rule} {{\n"),
        format!("}}\n{rule}\n"),
        format!("rewrite name \"{APP_HOST} x.\n"),
    ] {
        assert!(
            effective_corefile(
                &coredns.corefile,
                Some(("ouroboros.override", bad.as_str()))
            )
            .is_err(),
            "accepted a snippet CoreDNS rejects: {bad:?}"
        );
    }
    let (_, matched) = expand_import(&coredns.corefile, "other.server", &good);
    assert_eq!(matched, 0, "the import glob only takes *.override files");
    let broken = coredns.corefile.replacen('}', "", 1);
    assert!(
        effective_corefile(&broken, None).is_err(),
        "accepted a Corefile with an unbalanced block"
    );
}
