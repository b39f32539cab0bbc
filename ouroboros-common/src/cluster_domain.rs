//! Cluster DNS domain detection and Service name composition.
//!
//! Kubelet writes a pod's `resolv.conf` with a search list such as
//! `default.svc.cluster.local svc.cluster.local cluster.local`. The cluster domain is the
//! entry that the other entries are `svc.` children of; scoring on that relation (rather
//! than taking the last entry) keeps node-inherited search domains from being mistaken
//! for the cluster domain, whichever side of the kubelet entries they appear on.

use std::path::Path;

/// The domain used when nothing better can be detected; the Kubernetes default.
pub const FALLBACK_CLUSTER_DOMAIN: &str = "cluster.local";

/// Where the resolver configuration lives when no path is given.
pub const RESOLV_CONF_PATH: &str = "/etc/resolv.conf";

/// A Service name could not be composed because one input was empty.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ComposeError {
    #[error("service name is empty: set the target service name (or an explicit host)")]
    MissingServiceName,
    #[error("service namespace is empty: the chart must set the service namespace (or an explicit host)")]
    MissingServiceNamespace,
    #[error("cluster domain is empty: set the cluster domain explicitly")]
    MissingClusterDomain,
}

/// Reads `path` (or [`RESOLV_CONF_PATH`] when `path` is empty) and detects the cluster
/// domain from it. A missing or unreadable file yields [`FALLBACK_CLUSTER_DOMAIN`]:
/// detection is a convenience and must never stop a binary from starting.
pub fn detect(path: &Path) -> String {
    let path = if path.as_os_str().is_empty() {
        Path::new(RESOLV_CONF_PATH)
    } else {
        path
    };
    match std::fs::read(path) {
        Ok(bytes) => detect_from_resolv_conf(&String::from_utf8_lossy(&bytes)),
        Err(_) => FALLBACK_CLUSTER_DOMAIN.to_string(),
    }
}

/// Detects the cluster domain from the text of a `resolv.conf`.
///
/// The first `search` line that names a candidate with a score of at least one decides;
/// otherwise the result is [`FALLBACK_CLUSTER_DOMAIN`]. The result never ends in a dot.
pub fn detect_from_resolv_conf(text: &str) -> String {
    text.lines()
        .filter_map(search_entries)
        .find_map(|entries| best_candidate(&entries))
        .unwrap_or_else(|| FALLBACK_CLUSTER_DOMAIN.to_string())
}

/// The entries of a `search` line (one trailing dot removed from each, empty ones
/// dropped), or `None` for any other kind of line.
fn search_entries(line: &str) -> Option<Vec<&str>> {
    let rest = line.trim().strip_prefix("search")?;
    if !rest.starts_with([' ', '\t']) {
        return None;
    }
    let entries: Vec<&str> = rest
        .split_whitespace()
        .map(strip_one_trailing_dot)
        .filter(|entry| !entry.is_empty())
        .collect();
    (!entries.is_empty()).then_some(entries)
}

/// The highest-scoring candidate of one search line; ties go to the shorter name, then to
/// the one listed first. A best score of zero means the line is not conclusive.
fn best_candidate(entries: &[&str]) -> Option<String> {
    let mut best: Option<(&str, usize)> = None;
    for &candidate in entries.iter().filter(|entry| is_candidate(entry)) {
        let score = score(candidate, entries);
        let better = match best {
            None => true,
            Some((name, best_score)) => {
                score > best_score || (score == best_score && candidate.len() < name.len())
            }
        };
        if better {
            best = Some((candidate, score));
        }
    }
    best.filter(|&(_, score)| score > 0)
        .map(|(name, _)| name.to_string())
}

fn is_candidate(entry: &str) -> bool {
    !entry.starts_with("svc.") && !entry.contains(".svc.")
}

/// How many other entries are `svc.<candidate>` or end in `.svc.<candidate>`.
fn score(candidate: &str, entries: &[&str]) -> usize {
    let exact = format!("svc.{candidate}");
    let suffix = format!(".svc.{candidate}");
    entries
        .iter()
        .filter(|&&entry| entry != candidate && (entry == exact || entry.ends_with(&suffix)))
        .count()
}

fn strip_one_trailing_dot(name: &str) -> &str {
    name.strip_suffix('.').unwrap_or(name)
}

/// `<name>.<namespace>.svc.<domain>`, a name relative to the resolver (no trailing dot),
/// as a dialer wants it. One trailing dot is stripped from `domain` first.
pub fn compose_service_host(
    name: &str,
    namespace: &str,
    domain: &str,
) -> Result<String, ComposeError> {
    if name.is_empty() {
        return Err(ComposeError::MissingServiceName);
    }
    if namespace.is_empty() {
        return Err(ComposeError::MissingServiceNamespace);
    }
    let domain = strip_one_trailing_dot(domain);
    if domain.is_empty() {
        return Err(ComposeError::MissingClusterDomain);
    }
    Ok(format!("{name}.{namespace}.svc.{domain}"))
}

/// `<name>.<namespace>.svc.<domain>.`, the fully qualified form with exactly one trailing
/// dot, as DNS rewrite rules want it.
pub fn compose_service_fqdn(
    name: &str,
    namespace: &str,
    domain: &str,
) -> Result<String, ComposeError> {
    compose_service_host(name, namespace, domain).map(|host| host + ".")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detect_search(entries: &str) -> String {
        detect_from_resolv_conf(&format!(
            "nameserver 10.96.0.10\nsearch {entries}\noptions ndots:5\n"
        ))
    }

    #[test]
    fn canonical_kubelet_list() {
        assert_eq!(
            detect_search("default.svc.cluster.local svc.cluster.local cluster.local"),
            "cluster.local"
        );
    }

    #[test]
    fn custom_domain() {
        assert_eq!(
            detect_search("default.svc.cozy.local svc.cozy.local cozy.local"),
            "cozy.local"
        );
    }

    #[test]
    fn trailing_dots_are_dropped() {
        assert_eq!(
            detect_search("default.svc.cluster.local. svc.cluster.local. cluster.local."),
            "cluster.local"
        );
    }

    #[test]
    fn extra_entry_first() {
        assert_eq!(
            detect_search("example.com default.svc.cluster.local svc.cluster.local cluster.local"),
            "cluster.local"
        );
    }

    #[test]
    fn extra_entries_after() {
        assert_eq!(
            detect_search("default.svc.cluster.local svc.cluster.local cluster.local example.com internal.corp"),
            "cluster.local"
        );
    }

    #[test]
    fn parent_zone_does_not_score() {
        assert_eq!(
            detect_search(
                "default.svc.k8s.example.org svc.k8s.example.org k8s.example.org example.org"
            ),
            "k8s.example.org"
        );
    }

    #[test]
    fn multi_label_domain() {
        assert_eq!(
            detect_search("default.svc.k8s.example.com svc.k8s.example.com k8s.example.com"),
            "k8s.example.com"
        );
    }

    #[test]
    fn ambiguous_single_entries_fall_back() {
        assert_eq!(detect_search("example.com"), FALLBACK_CLUSTER_DOMAIN);
        assert_eq!(detect_search("localdomain"), FALLBACK_CLUSTER_DOMAIN);
    }

    #[test]
    fn non_search_files_fall_back() {
        assert_eq!(
            detect_from_resolv_conf("nameserver 1.1.1.1\nnameserver 8.8.8.8\n"),
            "cluster.local"
        );
        assert_eq!(detect_from_resolv_conf(""), "cluster.local");
        assert_eq!(
            detect_from_resolv_conf("domain cluster.local\n"),
            "cluster.local"
        );
        assert_eq!(
            detect_from_resolv_conf("domain cozy.local\n"),
            "cluster.local"
        );
    }

    #[test]
    fn tabs_comments_and_blank_lines() {
        let text = "# generated\n\n  ; another comment\nsearch\tdefault.svc.k8s.example.org\tsvc.k8s.example.org \t k8s.example.org\n\n";
        assert_eq!(detect_from_resolv_conf(text), "k8s.example.org");
    }

    #[test]
    fn keyword_needs_a_separator() {
        assert_eq!(
            detect_from_resolv_conf("searchdefault.svc.x.y svc.x.y x.y\n"),
            "cluster.local"
        );
        assert_eq!(detect_from_resolv_conf("search\n"), "cluster.local");
    }

    #[test]
    fn first_conclusive_line_decides() {
        let text = "search example.com\nsearch default.svc.cozy.local svc.cozy.local cozy.local\nsearch svc.other.local other.local\n";
        assert_eq!(detect_from_resolv_conf(text), "cozy.local");
    }

    #[test]
    fn ties_go_to_the_shorter_then_the_first() {
        // Both "b.c" and "a.b.c" score 1; the shorter wins.
        assert_eq!(detect_search("svc.a.b.c a.b.c svc.b.c b.c"), "b.c");
        // Equal score and length: the first listed wins.
        assert_eq!(detect_search("svc.aa.x svc.bb.x aa.x bb.x"), "aa.x");
        assert_eq!(detect_search("svc.bb.x svc.aa.x bb.x aa.x"), "bb.x");
    }

    #[test]
    fn higher_score_beats_shorter() {
        assert_eq!(
            detect_search("x.y default.svc.long.domain svc.long.domain long.domain svc.x.y"),
            "long.domain"
        );
    }

    #[test]
    fn missing_file_falls_back() {
        assert_eq!(
            detect(Path::new("/nonexistent/ouroboros/resolv.conf")),
            "cluster.local"
        );
    }

    #[test]
    fn reads_a_real_file() {
        let dir =
            std::env::temp_dir().join(format!("ouroboros-common-resolv-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("resolv.conf");
        std::fs::write(
            &file,
            "search default.svc.cozy.local svc.cozy.local cozy.local\n",
        )
        .unwrap();
        assert_eq!(detect(&file), "cozy.local");
        // A directory cannot be read as a file: same fallback as unreadable.
        assert_eq!(detect(&dir), "cluster.local");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn empty_path_reads_the_system_file() {
        assert!(!detect(Path::new("")).is_empty());
    }

    #[test]
    fn compose_host() {
        assert_eq!(
            compose_service_host("ingress-nginx-controller", "ingress-nginx", "cluster.local")
                .unwrap(),
            "ingress-nginx-controller.ingress-nginx.svc.cluster.local"
        );
        assert_eq!(
            compose_service_host("a", "b", "cozy.local.").unwrap(),
            "a.b.svc.cozy.local"
        );
    }

    #[test]
    fn compose_fqdn_has_exactly_one_dot() {
        assert_eq!(
            compose_service_fqdn("ouroboros-proxy", "cozy-ouroboros", "cozy.local.").unwrap(),
            "ouroboros-proxy.cozy-ouroboros.svc.cozy.local."
        );
        assert_eq!(compose_service_fqdn("a", "b", "c").unwrap(), "a.b.svc.c.");
    }

    #[test]
    fn compose_errors_name_the_missing_input() {
        assert_eq!(
            compose_service_host("", "ns", "d"),
            Err(ComposeError::MissingServiceName)
        );
        assert_eq!(
            compose_service_host("n", "", "d"),
            Err(ComposeError::MissingServiceNamespace)
        );
        assert_eq!(
            compose_service_host("n", "ns", ""),
            Err(ComposeError::MissingClusterDomain)
        );
        assert_eq!(
            compose_service_fqdn("n", "ns", "."),
            Err(ComposeError::MissingClusterDomain)
        );
        assert!(ComposeError::MissingServiceNamespace
            .to_string()
            .contains("namespace"));
        assert!(ComposeError::MissingServiceName
            .to_string()
            .contains("service name"));
        assert!(ComposeError::MissingClusterDomain
            .to_string()
            .contains("cluster domain"));
    }
}
