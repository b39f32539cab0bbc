//! Key checks for operator-supplied record annotations and labels (spec §2.3 step 3e–f).

const MAX_ENTRIES: usize = 32;
const RESERVED_ANNOTATIONS: [&str; 2] = [
    "ouroboros.lexfrei.tech/source",
    "external-dns.alpha.kubernetes.io/target",
];
const RESERVED_LABELS: [&str; 2] = [
    "app.kubernetes.io/managed-by",
    "ouroboros.lexfrei.tech/instance",
];

/// Checks annotation keys; the error text names the key.
pub fn check_annotations<'a>(
    keys: impl ExactSizeIterator<Item = &'a String>,
) -> Result<(), String> {
    if keys.len() > MAX_ENTRIES {
        return Err(format!(
            "at most {MAX_ENTRIES} annotations are allowed, got {}",
            keys.len()
        ));
    }
    for key in keys {
        let mut chars = key.chars();
        let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphanumeric());
        let rest_ok =
            chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '/' | '_' | '-'));
        if !first_ok || !rest_ok {
            return Err(format!(
                "annotation key {key:?} must match [a-zA-Z0-9][a-zA-Z0-9./_-]*"
            ));
        }
        if RESERVED_ANNOTATIONS.contains(&key.as_str()) {
            return Err(format!(
                "annotation key {key:?} is reserved for the controller"
            ));
        }
    }
    Ok(())
}

/// Checks label keys: `[prefix/]name`, name a qualified name, prefix a lowercase DNS subdomain.
pub fn check_labels<'a>(keys: impl ExactSizeIterator<Item = &'a String>) -> Result<(), String> {
    if keys.len() > MAX_ENTRIES {
        return Err(format!(
            "at most {MAX_ENTRIES} labels are allowed, got {}",
            keys.len()
        ));
    }
    for key in keys {
        let (prefix, name) = match key.split_once('/') {
            Some((p, n)) => (Some(p), n),
            None => (None, key.as_str()),
        };
        if !is_label_name(name) {
            return Err(format!(
                "label key {key:?}: name part must be 1-63 characters matching [a-zA-Z0-9]([a-zA-Z0-9._-]*[a-zA-Z0-9])?"
            ));
        }
        if let Some(prefix) = prefix {
            if prefix.is_empty() || prefix.len() > 253 || !is_dns_subdomain(prefix) {
                return Err(format!("label key {key:?}: prefix must be a lowercase DNS subdomain of 1-253 characters"));
            }
        }
        if RESERVED_LABELS.contains(&key.as_str()) {
            return Err(format!("label key {key:?} is reserved for the controller"));
        }
    }
    Ok(())
}

fn is_label_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    let edge = |b: &u8| b.is_ascii_alphanumeric();
    !name.is_empty()
        && name.len() <= 63
        && bytes.first().is_some_and(edge)
        && bytes.last().is_some_and(edge)
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// RFC 1123 label pattern `[a-z0-9]([-a-z0-9]*[a-z0-9])?`, at most 63 characters.
pub fn is_dns_label(s: &str) -> bool {
    let b = s.as_bytes();
    let edge = |c: &u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    !s.is_empty()
        && s.len() <= 63
        && b.first().is_some_and(edge)
        && b.last().is_some_and(edge)
        && b.iter().all(|c| edge(c) || *c == b'-')
}

fn is_dns_subdomain(s: &str) -> bool {
    s.split('.').all(is_dns_label)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(keys: &[&str]) -> Result<(), String> {
        let owned: Vec<String> = keys.iter().map(|s| s.to_string()).collect();
        check_labels(owned.iter())
    }

    #[test]
    fn label_keys() {
        assert!(labels(&["company.io/x", "a.b.c/team", "presence-marker"]).is_ok());
        for bad in [
            "/foo",
            "Company.io/foo",
            "under_score.io/foo",
            "_bad",
            "app.kubernetes.io/managed-by",
            "ouroboros.lexfrei.tech/instance",
        ] {
            assert!(labels(&[bad]).is_err(), "{bad}");
        }
        assert!(labels(&[&"a".repeat(64)]).is_err());
        assert!(labels(&[&format!("{}/x", "a".repeat(254))]).is_err());
        let many: Vec<String> = (0..33).map(|i| format!("k{i}")).collect();
        assert!(check_labels(many.iter()).is_err());
    }

    #[test]
    fn annotation_keys() {
        let ok = ["provider.io/weight".to_string(), "A_b-c".to_string()];
        assert!(check_annotations(ok.iter()).is_ok());
        for bad in [
            "key with space",
            "-lead",
            "ouroboros.lexfrei.tech/source",
            "external-dns.alpha.kubernetes.io/target",
        ] {
            let v = [bad.to_string()];
            assert!(check_annotations(v.iter()).is_err(), "{bad}");
        }
    }

    #[test]
    fn dns_labels() {
        assert!(is_dns_label("tenant-a"));
        assert!(!is_dns_label("BadNamespace"));
        assert!(!is_dns_label(&"a".repeat(64)));
        assert!(!is_dns_label("-a"));
    }
}
