//! Shared pieces of the end-to-end scenarios: what the packages render, the processes they
//! configure, and the cluster around them.
#![allow(dead_code)]

pub mod charts; // render the packages; pick containers, args, env and objects out of them
pub mod cluster; // the API stand-in seeded with what the charts expect
pub mod corefile; // where a rewrite rule sits in a Corefile; import expansion
pub mod http; // one raw HTTP/1.1 exchange and its headers
pub mod nginx; // a real nginx with proxy_protocol listeners standing in for ingress-nginx
pub mod pod; // run a binary the way its pod would: private /etc/hosts and /etc/resolv.conf

use std::time::{Duration, Instant};

/// Polls `check` until it holds or `timeout` passes.
pub fn wait_for(timeout: Duration, mut check: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if check() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
}

/// A loopback port nobody listens on right now.
pub fn free_port() -> u16 {
    let [port] = free_ports();
    port
}

/// `N` distinct ports that were free a moment ago. All are bound at once, so no two are
/// the same; separate [`free_port`] calls may hand out one port twice.
pub fn free_ports<const N: usize>() -> [u16; N] {
    let listeners: Vec<std::net::TcpListener> = (0..N)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0").unwrap())
        .collect();
    std::array::from_fn(|i| listeners[i].local_addr().unwrap().port())
}

/// Prints a message that cannot be missed in the test output and tells the caller to skip.
pub fn skip(test: &str, why: &str) {
    eprintln!("\n!!!!!!!! SKIPPING {test}: {why} !!!!!!!!\n");
}

/// As [`skip`] for a program the test runs; with `OUROBOROS_TESTS_REQUIRE_TOOLS=1` (set by
/// `.ci/run`, which installs them) a missing one fails the test instead.
pub fn skip_without_tool(test: &str, why: &str) {
    if std::env::var_os("OUROBOROS_TESTS_REQUIRE_TOOLS").is_some_and(|v| v == "1") {
        panic!("{test}: {why}, and OUROBOROS_TESTS_REQUIRE_TOOLS=1 requires it");
    }
    skip(test, why);
}
