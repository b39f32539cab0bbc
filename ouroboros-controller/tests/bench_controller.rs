//! `make bench-controller`: the controller against 10,000 Ingresses in the API stand-in.
//! Ignored by default; `make bench-controller` runs it with `--ignored --nocapture`.

mod support;

use std::time::{Duration, Instant};

use kube_standin::faults::Verb;
use serde_json::json;
use support::*;

/// Overridable with `BENCH_INGRESSES` / `BENCH_CHANGES` for quick runs.
fn setting(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}
const POLL_PERIOD: Duration = Duration::from_secs(15);

fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

#[test]
#[ignore = "benchmark: make bench-controller"]
fn bench_ten_thousand_ingresses() {
    let ingresses = setting("BENCH_INGRESSES", 10_000);
    let changes = setting("BENCH_CHANGES", 200);
    let env = Env::start();
    env.configmap(
        "kube-system",
        "coredns",
        json!({"Corefile": KUBEADM_COREFILE}),
    );
    for i in 0..ingresses {
        env.ingress(
            &format!("ns-{}", i % 100),
            &format!("ing-{i}"),
            &[&format!("host-{i}.example.com")],
        );
    }
    env.api.clear_request_log();
    let corefile = || {
        env.configmap_data("kube-system", "coredns", "Corefile")
            .unwrap_or_default()
    };
    let last_host = rewrite(&format!("host-{}.example.com", ingresses - 1));
    let start = Instant::now();
    let ctl = env.controller(
        "bench",
        &[
            "--mode=coredns",
            "--proxy-fqdn=ouroboros-proxy.ouroboros.svc.cluster.local.",
            "--leader-elect=false",
            "--resync=10m",
            &format!(
                "--log-level={}",
                std::env::var("BENCH_LOG_LEVEL").unwrap_or_else(|_| "info".into())
            ),
        ],
        &[],
    );
    let Some(first_seen) = wait_for_rewrite(&env, &last_host, Duration::from_secs(120)) else {
        panic!("no complete write\n{}", ctl.log_text());
    };
    let first_write = first_seen - start;
    std::thread::sleep(Duration::from_secs(1));
    let initial_writes = env
        .api
        .request_log()
        .iter()
        .filter(|r| r.verb == Some(Verb::Update))
        .count();
    assert_eq!(corefile().matches("rewrite name").count(), ingresses);

    let ctl_cpu_before = cpu_time(ctl.pid());
    let api_cpu_before = cpu_time(Some(std::process::id()));
    let mut latencies = Vec::with_capacity(changes);
    for i in 0..changes {
        let host = format!("changed-{i}.example.com");
        let want = rewrite(&host);
        let t = Instant::now();
        env.ingress("ns-0", &format!("ing-{i}"), &[&host]);
        let seen = wait_for_rewrite(&env, &want, Duration::from_secs(30))
            .unwrap_or_else(|| panic!("{want} never written\n{}", ctl.log_text()));
        latencies.push(seen - t);
    }
    let per_change = |before: Option<Duration>, after: Option<Duration>| {
        after
            .zip(before)
            .map(|(a, b)| (a.saturating_sub(b)) / changes.max(1) as u32)
    };
    let ctl_cpu = per_change(ctl_cpu_before, cpu_time(ctl.pid()));
    let api_cpu = per_change(api_cpu_before, cpu_time(Some(std::process::id())));
    latencies.sort();
    let p = |q: f64| latencies[((latencies.len() as f64 * q).ceil() as usize).saturating_sub(1)];
    let rss = ctl_rss(&ctl);
    println!("ingresses                    {ingresses}");
    println!("time to first complete write {first_write:?}");
    println!("writes during initial sync   {initial_writes}");
    println!("change-to-write p50          {:?}", p(0.50));
    println!("change-to-write p99          {:?}", p(0.99));
    println!(
        "change-to-write max          {:?}",
        latencies[latencies.len() - 1]
    );
    // CPU time does not depend on how loaded the machine is; the latencies above do.
    println!("controller CPU per change    {ctl_cpu:?}");
    println!("stand-in+harness CPU/change  {api_cpu:?}");
    println!(
        "peak RSS                     {} MiB",
        rss.map(|k| k / 1024).unwrap_or(0)
    );
    println!("15 s polling design (anchor): mean {:?}, p99 {:?} latency, one full list of {ingresses} per poll",
        POLL_PERIOD / 2, POLL_PERIOD.mul_f64(0.99));
    if let Ok(path) = std::env::var("BENCH_CONTROLLER_LOG") {
        std::fs::write(&path, ctl.log_text()).expect("write BENCH_CONTROLLER_LOG");
    }
}

/// Waits until the Corefile holds `want` and returns when that version was first read.
///
/// The ConfigMap is read every 2 ms, but its 700 KB text is searched only when the
/// resourceVersion moved: searching on every poll made the harness itself one of the busiest
/// processes on a 2-core machine, inflating the latency it measures.
fn wait_for_rewrite(env: &Env, want: &str, timeout: Duration) -> Option<Instant> {
    let deadline = Instant::now() + timeout;
    let mut searched_rv = String::new();
    while Instant::now() < deadline {
        let cm = env
            .api
            .get_object("v1", "ConfigMap", "kube-system", "coredns")
            .expect("get configmap");
        let read_at = Instant::now();
        if let Some(cm) = cm {
            let rv = cm["metadata"]["resourceVersion"].as_str().unwrap_or("");
            if rv != searched_rv {
                searched_rv = rv.to_string();
                if cm["data"]["Corefile"]
                    .as_str()
                    .is_some_and(|c| c.contains(want))
                {
                    return Some(read_at);
                }
            }
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    None
}

/// User plus system CPU time of a process so far (`/proc/<pid>/stat` fields 14 and 15).
fn cpu_time(pid: Option<u32>) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{}/stat", pid?)).ok()?;
    // The command name (field 2) may contain spaces; the fields after it do not.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // USER_HZ is 100 on Linux.
    Some(Duration::from_millis(ticks * 10))
}

fn ctl_rss(ctl: &Proc) -> Option<u64> {
    ctl.pid().and_then(peak_rss_kib)
}
