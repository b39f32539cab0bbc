//! The host set (spec §6.5): normalisation, de-duplication, sorting, and refusal of names that
//! are not DNS names.
//!
//! Refusal is what keeps object fields from injecting configuration: every host ends up as a
//! token in a Corefile, a hosts file or an API object, so only `[a-z0-9_-]` labels separated by
//! dots get through. Wildcards and blanks are dropped silently (they are normal inputs that are
//! never published); anything else that fails is refused and counted.

use std::collections::BTreeSet;
use std::fmt;

/// Longest DNS name in presentation form, without the optional trailing dot.
const MAX_NAME_LEN: usize = 253;
/// Longest DNS label.
const MAX_LABEL_LEN: usize = 63;

/// Why a hostname was not published.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RefusalReason {
    /// A character outside `[a-z0-9._-]` (after lowercasing), for example whitespace, `{` or `#`.
    InvalidCharacter(char),
    /// Two dots in a row, or a leading dot.
    EmptyLabel,
    /// A label longer than 63 characters.
    LabelTooLong,
    /// A label that starts or ends with `-`.
    HyphenAtLabelEdge,
    /// More than 253 characters.
    NameTooLong,
}

impl RefusalReason {
    /// Stable short name, used as the `reason` label of the refused-hosts metric.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::InvalidCharacter(_) => "invalid_character",
            Self::EmptyLabel => "empty_label",
            Self::LabelTooLong => "label_too_long",
            Self::HyphenAtLabelEdge => "hyphen_at_label_edge",
            Self::NameTooLong => "name_too_long",
        }
    }
}

impl fmt::Display for RefusalReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidCharacter(c) => write!(f, "invalid character {c:?}"),
            Self::EmptyLabel => f.write_str("empty label"),
            Self::LabelTooLong => write!(f, "label longer than {MAX_LABEL_LEN} characters"),
            Self::HyphenAtLabelEdge => f.write_str("label starts or ends with '-'"),
            Self::NameTooLong => write!(f, "name longer than {MAX_NAME_LEN} characters"),
        }
    }
}

/// A hostname that was refused, with the raw text as found in the object.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct RefusedHost {
    /// The hostname as found (before trimming), so the operator can search for it.
    pub raw: String,
    /// Why it was refused.
    pub reason: RefusalReason,
}

/// The sorted, de-duplicated hostnames to publish, plus the refused ones.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostSet {
    /// Lowercase, valid, sorted byte-wise, unique.
    pub hosts: Vec<String>,
    /// Refused inputs, sorted, unique.
    pub refused: Vec<RefusedHost>,
}

impl HostSet {
    /// Normalises raw hostnames from any number of sources.
    pub fn from_raw<I, S>(raw: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut hosts = BTreeSet::new();
        let mut refused = BTreeSet::new();
        for item in raw {
            let item = item.as_ref();
            match classify(item) {
                Classified::Publish(host) => {
                    hosts.insert(host);
                }
                Classified::Drop => {}
                Classified::Refuse(reason) => {
                    refused.insert(RefusedHost {
                        raw: item.to_string(),
                        reason,
                    });
                }
            }
        }
        Self {
            hosts: hosts.into_iter().collect(),
            refused: refused.into_iter().collect(),
        }
    }

    /// True when there is nothing to publish.
    pub fn is_empty(&self) -> bool {
        self.hosts.is_empty()
    }
}

/// Normalises hosts and keeps only the publishable ones; the editors call this defensively so a
/// caller that skipped [`HostSet::from_raw`] still cannot inject text.
pub fn normalise<S: AsRef<str>>(raw: &[S]) -> Vec<String> {
    HostSet::from_raw(raw.iter().map(AsRef::as_ref)).hosts
}

/// True when `raw` is already what [`normalise`] would return: valid lowercase DNS names,
/// strictly ascending. Checking is cheaper than normalising again (no allocation, no sort), and
/// the desired set from the controller's own index always passes.
pub fn is_normalised<S: AsRef<str>>(raw: &[S]) -> bool {
    raw.windows(2).all(|w| w[0].as_ref() < w[1].as_ref())
        && raw.iter().all(|h| validate_dns_name(h.as_ref()).is_ok())
}

/// Hostnames in the form [`normalise`] returns: valid lowercase DNS names, sorted byte-wise,
/// unique. Built only by normalising (or by the host index, which classifies every name it
/// stores), so the editors need not check them again: at 10,000 hosts that check was a large
/// part of every reconcile.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NormalisedHosts(Vec<String>);

impl NormalisedHosts {
    /// Normalises `raw` (cheaply when it already is).
    pub fn new<S: AsRef<str>>(raw: &[S]) -> Self {
        if is_normalised(raw) {
            Self(raw.iter().map(|h| h.as_ref().to_string()).collect())
        } else {
            Self(normalise(raw))
        }
    }

    /// For names that went through [`classify`] and were published, in ascending order
    /// without duplicates (the keys of a `BTreeMap` filled that way).
    /// (No re-check here, not even a debug assertion: skipping it is the point; the host index's
    /// property tests compare its output with [`normalise`].)
    pub(crate) fn from_published(sorted_unique: Vec<String>) -> Self {
        Self(sorted_unique)
    }

    /// The names.
    pub fn as_slice(&self) -> &[String] {
        &self.0
    }
}

impl std::ops::Deref for NormalisedHosts {
    type Target = [String];

    fn deref(&self) -> &[String] {
        &self.0
    }
}

/// What happens to one raw hostname.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Classified {
    /// Published under this normalised name.
    Publish(String),
    /// Silently dropped: blank, or a wildcard (`*`, `?`).
    Drop,
    /// Refused: not a DNS name.
    Refuse(RefusalReason),
}

/// Classifies one raw hostname: trim, lowercase, drop blanks and wildcards, validate.
pub fn classify(raw: &str) -> Classified {
    let host = raw.trim().to_lowercase();
    if host.is_empty() || host.contains('*') || host.contains('?') {
        return Classified::Drop;
    }
    match validate_dns_name(&host) {
        Ok(()) => Classified::Publish(host),
        Err(reason) => Classified::Refuse(reason),
    }
}

/// Checks that `name` (already lowercase) is a DNS name made of `[a-z0-9_-]` labels.
/// One trailing dot (an absolute name) is accepted and kept.
pub fn validate_dns_name(name: &str) -> Result<(), RefusalReason> {
    // Bytes, not chars: every allowed character is ASCII, so the first disallowed byte starts
    // the first disallowed character (this runs for every host on every reconcile).
    if let Some(at) = name.bytes().position(|b| !is_name_byte(b)) {
        let bad = name[at..].chars().next().unwrap_or('\u{fffd}');
        return Err(RefusalReason::InvalidCharacter(bad));
    }
    let relative = name.strip_suffix('.').unwrap_or(name);
    if relative.len() > MAX_NAME_LEN {
        return Err(RefusalReason::NameTooLong);
    }
    for label in relative.split('.') {
        if label.is_empty() {
            return Err(RefusalReason::EmptyLabel);
        }
        if label.len() > MAX_LABEL_LEN {
            return Err(RefusalReason::LabelTooLong);
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(RefusalReason::HyphenAtLabelEdge);
        }
    }
    Ok(())
}

fn is_name_byte(b: u8) -> bool {
    matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_lowercases_dedups_and_sorts_across_sources() {
        let set = HostSet::from_raw([
            "Foo.example.com",
            " FOO.example.com ",
            "bar.example.com",
            "foo.example.com",
        ]);
        assert_eq!(set.hosts, vec!["bar.example.com", "foo.example.com"]);
        assert!(set.refused.is_empty());
    }

    #[test]
    fn wildcards_and_blanks_are_dropped_not_refused() {
        let set = HostSet::from_raw(["*.example.com", "a?.example.com", "", "   ", "\t"]);
        assert!(set.hosts.is_empty());
        assert!(set.refused.is_empty());
    }

    #[test]
    fn sorting_is_bytewise() {
        let set = HostSet::from_raw([
            "b.example.com",
            "a-b.example.com",
            "a.example.com",
            "a0.example.com",
        ]);
        assert_eq!(
            set.hosts,
            vec![
                "a-b.example.com",
                "a.example.com",
                "a0.example.com",
                "b.example.com"
            ]
        );
    }

    #[test]
    fn trailing_dot_is_kept() {
        let set = HostSet::from_raw(["foo.example.com."]);
        assert_eq!(set.hosts, vec!["foo.example.com."]);
    }

    #[test]
    fn corefile_syntax_cannot_be_injected() {
        for raw in [
            "evil.com {\n}",
            "a.com\nrewrite name x y",
            "a.com # comment",
            "a.com}",
            "a\"b.com",
            "a;b.com",
            "a b.com",
            "a\u{0}b.com",
            "ünïcode.com",
        ] {
            let set = HostSet::from_raw([raw]);
            assert!(set.hosts.is_empty(), "{raw:?} was published");
            assert_eq!(set.refused.len(), 1, "{raw:?} not refused");
            assert!(matches!(
                set.refused[0].reason,
                RefusalReason::InvalidCharacter(_)
            ));
            assert_eq!(set.refused[0].raw, raw);
        }
    }

    #[test]
    fn structural_refusals_name_their_reason() {
        assert_eq!(
            classify("a..b.com"),
            Classified::Refuse(RefusalReason::EmptyLabel)
        );
        assert_eq!(
            classify(".a.com"),
            Classified::Refuse(RefusalReason::EmptyLabel)
        );
        assert_eq!(
            classify("a.com.."),
            Classified::Refuse(RefusalReason::EmptyLabel)
        );
        assert_eq!(
            classify("-a.com"),
            Classified::Refuse(RefusalReason::HyphenAtLabelEdge)
        );
        assert_eq!(
            classify("a-.com"),
            Classified::Refuse(RefusalReason::HyphenAtLabelEdge)
        );
        let long_label = format!("{}.com", "a".repeat(64));
        assert_eq!(
            classify(&long_label),
            Classified::Refuse(RefusalReason::LabelTooLong)
        );
        let ok_label = format!("{}.com", "a".repeat(63));
        assert_eq!(classify(&ok_label), Classified::Publish(ok_label.clone()));
        let long_name = vec!["abcdefghi"; 26].join(".");
        assert_eq!(long_name.len(), 259);
        assert_eq!(
            classify(&long_name),
            Classified::Refuse(RefusalReason::NameTooLong)
        );
    }

    #[test]
    fn underscore_and_digits_are_allowed() {
        assert_eq!(
            classify("_acme.1-2.example.com"),
            Classified::Publish("_acme.1-2.example.com".into())
        );
    }

    #[test]
    fn refused_hosts_are_deduplicated_and_reasons_have_stable_names() {
        let set = HostSet::from_raw(["a b", "a b", "x..y"]);
        assert_eq!(set.refused.len(), 2);
        assert_eq!(set.refused[0].reason.as_str(), "invalid_character");
        assert_eq!(set.refused[1].reason.as_str(), "empty_label");
        assert_eq!(set.refused[0].reason.to_string(), "invalid character ' '");
    }

    #[test]
    fn already_normalised_input_is_recognised() {
        assert!(is_normalised::<&str>(&[]));
        assert!(is_normalised(&["a.com", "b.com", "b.com."]));
        for not in [
            &["b.com", "a.com"][..],
            &["a.com", "a.com"],
            &["A.com"],
            &[" a.com"],
            &[""],
            &["*.a.com"],
            &["a b"],
        ] {
            assert!(!is_normalised(not), "{not:?}");
            assert_ne!(normalise(not), not, "{not:?}");
        }
    }

    #[test]
    fn normalised_hosts_normalise_on_construction() {
        let hosts = NormalisedHosts::new(&["B.com", "*.x", "a b", "a.com", "a.com"]);
        assert_eq!(hosts.as_slice(), ["a.com", "b.com"]);
        let again = NormalisedHosts::new(hosts.as_slice());
        assert_eq!(again, hosts);
    }

    #[test]
    fn normalise_helper_keeps_only_publishable() {
        assert_eq!(
            normalise(&["B.com", "*.x", "a b", "a.com"]),
            vec!["a.com", "b.com"]
        );
    }
}
