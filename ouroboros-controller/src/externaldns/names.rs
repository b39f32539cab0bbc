//! Object names for records: `ouroboros-<host with . and _ as ->[suffix]`, shortened with a
//! hash of the full host when too long, so hosts that differ only in the tail never collide.

use sha2::{Digest, Sha256};

const PREFIX: &str = "ouroboros-";
const HASH_LEN: usize = 8;

/// The longest name the object kind accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameLimit {
    /// DNS-1123 subdomain (DNSEndpoint): 253.
    Subdomain,
    /// DNS-1035 label (Service): 63.
    Label,
}

impl NameLimit {
    fn max(self) -> usize {
        match self {
            Self::Subdomain => 253,
            Self::Label => 63,
        }
    }
}

/// Builds the object name for `host` (already validated, lowercase) and a family suffix
/// (`""`, `-v4`, `-v6`). A trailing dot on the host is ignored.
pub fn object_name(host: &str, suffix: &str, limit: NameLimit) -> String {
    let host = host.strip_suffix('.').unwrap_or(host);
    let sanitised: String = host
        .chars()
        .map(|c| if c == '.' || c == '_' { '-' } else { c })
        .collect();
    let sanitised = sanitised.trim_matches('-');
    let full = format!("{PREFIX}{sanitised}{suffix}");
    if full.len() <= limit.max() {
        return full;
    }
    let digest = Sha256::digest(format!("{host}{suffix}").as_bytes());
    let hash: String = digest
        .iter()
        .take(HASH_LEN / 2)
        .map(|b| format!("{b:02x}"))
        .collect();
    let keep = limit.max() - PREFIX.len() - 1 - HASH_LEN - suffix.len();
    let head = sanitised[..keep.min(sanitised.len())].trim_end_matches('-');
    format!("{PREFIX}{head}-{hash}{suffix}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_names() {
        assert_eq!(
            object_name("foo.example.com", "", NameLimit::Subdomain),
            "ouroboros-foo-example-com"
        );
        assert_eq!(
            object_name("_acme.example.com", "-v4", NameLimit::Subdomain),
            "ouroboros-acme-example-com-v4"
        );
        assert_eq!(
            object_name("foo.example.com.", "", NameLimit::Subdomain),
            "ouroboros-foo-example-com"
        );
    }

    #[test]
    fn long_hosts_are_shortened_without_collisions() {
        let base = vec!["abcdefghij"; 25].join(".");
        let a = format!("{base}.aaaaa.com");
        let b = format!("{base}.bbbbb.com");
        assert!(a.len() > 270);
        let na = object_name(&a, "-v6", NameLimit::Subdomain);
        let nb = object_name(&b, "-v6", NameLimit::Subdomain);
        assert!(
            na.len() <= 253 && nb.len() <= 253,
            "{} {}",
            na.len(),
            nb.len()
        );
        assert_ne!(na, nb);
        assert!(na.starts_with("ouroboros-") && na.ends_with("-v6"));
        assert!(na
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'));
        let label = object_name(&a, "", NameLimit::Label);
        assert!(label.len() <= 63);
        assert_ne!(label, object_name(&b, "", NameLimit::Label));
    }
}
