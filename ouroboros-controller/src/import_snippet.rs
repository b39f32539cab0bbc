//! The `coredns-import` snippet (spec §9): plugin lines for a ConfigMap key that the Corefile
//! `import`s, and the rule for how that key changes.

use crate::corefile::{rewrite_line, validate_target, TargetError};
use crate::hostnames::normalise;

/// Builds the snippet: one `rewrite name <host> <target>` line per host, each ending in `\n`;
/// empty for no hosts.
pub fn build_snippet<S: AsRef<str>>(hosts: &[S], target: &str) -> Result<String, TargetError> {
    validate_target(target)?;
    Ok(normalise(hosts)
        .iter()
        .map(|h| rewrite_line(h, target) + "\n")
        .collect())
}

/// How the data key has to change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyChange {
    /// Already as desired.
    Unchanged,
    /// Set the key to this value.
    Set(String),
    /// Remove the key (no hosts; an empty key would still be mounted as an empty file).
    Delete,
}

/// Decides the change from the desired snippet and the key's current value (`None` = absent).
pub fn decide_key_change(desired: &str, current: Option<&str>) -> KeyChange {
    match (desired.is_empty(), current) {
        (true, None) => KeyChange::Unchanged,
        (true, Some(_)) => KeyChange::Delete,
        (false, Some(existing)) if existing == desired => KeyChange::Unchanged,
        (false, _) => KeyChange::Set(desired.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: &str = "ouroboros-proxy.ouroboros.svc.cluster.local.";

    #[test]
    fn snippet_lines_are_normalised_and_newline_terminated() {
        let s = build_snippet(
            &[
                " B.example.com",
                "a.example.com",
                "a.example.com",
                "*.x.com",
                "a?.com",
                "",
            ],
            T,
        )
        .unwrap();
        assert_eq!(
            s,
            format!("rewrite name a.example.com {T}\nrewrite name b.example.com {T}\n")
        );
        assert!(crate::corefile::check_snippet_syntax(&s).is_ok());
        assert!(!s.contains(".:53"));
    }

    #[test]
    fn empty_hosts_give_empty_snippet_and_bad_target_errors() {
        assert_eq!(build_snippet(&[] as &[&str], T).unwrap(), "");
        assert_eq!(
            build_snippet(&["a.com"], "proxy"),
            Err(TargetError::NotFqdn("proxy".into()))
        );
        assert_eq!(build_snippet(&["a.com"], ""), Err(TargetError::Empty));
    }

    #[test]
    fn key_change_table() {
        assert_eq!(decide_key_change("", None), KeyChange::Unchanged);
        assert_eq!(decide_key_change("", Some("")), KeyChange::Delete);
        assert_eq!(decide_key_change("", Some("x\n")), KeyChange::Delete);
        assert_eq!(decide_key_change("x\n", Some("x\n")), KeyChange::Unchanged);
        assert_eq!(
            decide_key_change("x\n", Some("y\n")),
            KeyChange::Set("x\n".into())
        );
        assert_eq!(decide_key_change("x\n", None), KeyChange::Set("x\n".into()));
    }
}
