//! Pure reconcile decisions for the ConfigMap modes: (desired hosts, observed ConfigMap) →
//! write this data under the observed resourceVersion, or no change and why.

use std::collections::BTreeMap;

use crate::corefile::{apply_block_tracked, has_reload_plugin, CorefileEditError, EditedCorefile};
use crate::hostnames::NormalisedHosts;
use crate::import_snippet::{build_snippet, decide_key_change, KeyChange};

/// The parts of a ConfigMap a decision needs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObservedConfigMap {
    /// `namespace/name`, for messages.
    pub id: String,
    /// `data` (absent = empty).
    pub data: BTreeMap<String, String>,
    /// `metadata.resourceVersion`, the write precondition.
    pub resource_version: Option<String>,
}

/// Why nothing is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoChangeReason {
    /// The target already holds the desired content.
    UpToDate,
    /// No hosts and nothing of ours present.
    NothingToRemove,
}

/// What to do with the ConfigMap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigMapAction {
    /// Replace `data` with this, conditional on `resource_version`.
    Write {
        /// The complete new `data`; other keys are carried over unchanged.
        data: BTreeMap<String, String>,
        /// The observed version the write is conditional on.
        resource_version: Option<String>,
        /// For the per-write warning (spec §8.5 step 4): false when the written Corefile lacks
        /// `reload`. Always true for the import mode, which cannot see the Corefile.
        has_reload: bool,
    },
    /// Leave it alone.
    NoChange(NoChangeReason),
}

/// A decision that cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecideError {
    /// The data key is missing (coredns mode only: the Corefile must exist).
    #[error("configmap {id} has no {key:?} key")]
    MissingKey {
        /// `namespace/name`.
        id: String,
        /// The key.
        key: String,
    },
    /// The Corefile could not be edited.
    #[error("configmap {id} key {key:?}: {source}")]
    Corefile {
        /// `namespace/name`.
        id: String,
        /// The key.
        key: String,
        /// The editor error.
        source: CorefileEditError,
    },
    /// The rewrite target is unusable.
    #[error(transparent)]
    Target(#[from] crate::corefile::TargetError),
}

/// coredns mode: the marker block in `key`.
pub fn decide_corefile(
    hosts: &[String],
    target: &str,
    observed: &ObservedConfigMap,
    key: &str,
) -> Result<ConfigMapAction, DecideError> {
    decide_corefile_remembering(&NormalisedHosts::new(hosts), target, observed, key, None)
        .map(|(action, _)| action)
}

/// [`decide_corefile`], given the Corefile this controller produced last time. When the
/// observed text is byte-for-byte that one (the usual case: nobody else edits it), only the
/// owned block is re-rendered; otherwise the whole text is read as usual. Also returns what to
/// remember for next time.
pub fn decide_corefile_remembering(
    hosts: &NormalisedHosts,
    target: &str,
    observed: &ObservedConfigMap,
    key: &str,
    remembered: Option<&EditedCorefile>,
) -> Result<(ConfigMapAction, Option<EditedCorefile>), DecideError> {
    let corefile = observed
        .data
        .get(key)
        .ok_or_else(|| DecideError::MissingKey {
            id: observed.id.clone(),
            key: key.to_string(),
        })?;
    let edited = match remembered.filter(|r| r.text() == corefile) {
        Some(previous) => previous.reapply(hosts, target),
        None => apply_block_tracked(corefile, hosts.as_slice(), target),
    };
    let (edit, layout) = edited.map_err(|source| DecideError::Corefile {
        id: observed.id.clone(),
        key: key.to_string(),
        source,
    })?;
    if !edit.changed {
        let reason = if hosts.is_empty() {
            NoChangeReason::NothingToRemove
        } else {
            NoChangeReason::UpToDate
        };
        let remember = layout.map(|l| EditedCorefile::new(edit.text, l));
        return Ok((ConfigMapAction::NoChange(reason), remember));
    }
    let has_reload = has_reload_plugin(&edit.text);
    let mut data = observed.data.clone();
    data.insert(key.to_string(), edit.text.clone());
    let remember = layout.map(|l| EditedCorefile::new(edit.text, l));
    let action = ConfigMapAction::Write {
        data,
        resource_version: observed.resource_version.clone(),
        has_reload,
    };
    Ok((action, remember))
}

/// coredns-import mode: the snippet under `key`.
pub fn decide_import(
    hosts: &[String],
    target: &str,
    observed: &ObservedConfigMap,
    key: &str,
) -> Result<ConfigMapAction, DecideError> {
    let snippet = build_snippet(hosts, target)?;
    let mut data = observed.data.clone();
    match decide_key_change(&snippet, observed.data.get(key).map(String::as_str)) {
        KeyChange::Unchanged if snippet.is_empty() => {
            return Ok(ConfigMapAction::NoChange(NoChangeReason::NothingToRemove))
        }
        KeyChange::Unchanged => return Ok(ConfigMapAction::NoChange(NoChangeReason::UpToDate)),
        KeyChange::Delete => {
            data.remove(key);
        }
        KeyChange::Set(value) => {
            data.insert(key.to_string(), value);
        }
    }
    Ok(ConfigMapAction::Write {
        data,
        resource_version: observed.resource_version.clone(),
        has_reload: true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: &str = "p.ns.svc.cluster.local.";

    fn cm(pairs: &[(&str, &str)]) -> ObservedConfigMap {
        ObservedConfigMap {
            id: "kube-system/coredns".into(),
            data: pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            resource_version: Some("42".into()),
        }
    }

    fn hosts(h: &[&str]) -> Vec<String> {
        h.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn corefile_write_then_no_change() {
        let observed = cm(&[("Corefile", ".:53 {\n    reload\n}\n"), ("other", "keep")]);
        let ConfigMapAction::Write {
            data,
            resource_version,
            has_reload,
        } = decide_corefile(&hosts(&["a.com"]), T, &observed, "Corefile").unwrap()
        else {
            panic!("expected write")
        };
        assert_eq!(resource_version.as_deref(), Some("42"));
        assert!(has_reload);
        assert_eq!(data["other"], "keep");
        let second = ObservedConfigMap { data, ..observed };
        assert_eq!(
            decide_corefile(&hosts(&["a.com"]), T, &second, "Corefile").unwrap(),
            ConfigMapAction::NoChange(NoChangeReason::UpToDate)
        );
    }

    #[test]
    fn remembered_corefile_is_used_only_when_the_text_matches() {
        let observed = cm(&[("Corefile", ".:53 {\n    reload\n}\n")]);
        let normalised = |h: &[&str]| NormalisedHosts::new(h);
        let (first, remembered) =
            decide_corefile_remembering(&normalised(&["a.com"]), T, &observed, "Corefile", None)
                .unwrap();
        let remembered = remembered.expect("block written");
        let ConfigMapAction::Write { data, .. } = first else {
            panic!("expected write")
        };
        assert_eq!(remembered.text(), data["Corefile"]);
        let current = ObservedConfigMap { data, ..observed };
        let with = |observed: &ObservedConfigMap, h: &[&str]| {
            decide_corefile_remembering(&normalised(h), T, observed, "Corefile", Some(&remembered))
                .unwrap()
        };
        let (second, _) = with(&current, &["a.com", "b.com"]);
        assert_eq!(
            second,
            decide_corefile(&hosts(&["a.com", "b.com"]), T, &current, "Corefile").unwrap()
        );
        assert_eq!(
            with(&current, &["a.com"]).0,
            ConfigMapAction::NoChange(NoChangeReason::UpToDate)
        );
        // Someone else rewrote the Corefile: the remembered layout must not be applied to it.
        let overwritten = cm(&[("Corefile", ".:53 {\n    errors\n    reload\n}\n")]);
        let (repaired, _) = with(&overwritten, &["a.com"]);
        assert_eq!(
            repaired,
            decide_corefile(&hosts(&["a.com"]), T, &overwritten, "Corefile").unwrap()
        );
        assert!(matches!(repaired, ConfigMapAction::Write { .. }));
    }

    #[test]
    fn corefile_missing_key_and_reload_flag() {
        let e = decide_corefile(&hosts(&["a.com"]), T, &cm(&[]), "Corefile").unwrap_err();
        assert_eq!(
            e.to_string(),
            "configmap kube-system/coredns has no \"Corefile\" key"
        );
        let no_reload = cm(&[("Corefile", ".:53 {\n    errors\n}\n")]);
        assert!(matches!(
            decide_corefile(&hosts(&["a.com"]), T, &no_reload, "Corefile").unwrap(),
            ConfigMapAction::Write {
                has_reload: false,
                ..
            }
        ));
        assert_eq!(
            decide_corefile(&[], T, &no_reload, "Corefile").unwrap(),
            ConfigMapAction::NoChange(NoChangeReason::NothingToRemove)
        );
        assert!(matches!(
            decide_corefile(&hosts(&["a.com"]), T, &cm(&[("Corefile", "")]), "Corefile"),
            Err(DecideError::Corefile { .. })
        ));
    }

    #[test]
    fn import_rules() {
        let empty = cm(&[("other", "x")]);
        assert_eq!(
            decide_import(&[], T, &empty, "k").unwrap(),
            ConfigMapAction::NoChange(NoChangeReason::NothingToRemove)
        );
        let ConfigMapAction::Write { data, .. } =
            decide_import(&hosts(&["a.com"]), T, &empty, "k").unwrap()
        else {
            panic!()
        };
        assert_eq!(data["k"], format!("rewrite name a.com {T}\n"));
        assert_eq!(data["other"], "x");
        let present = ObservedConfigMap {
            data: data.clone(),
            ..empty.clone()
        };
        assert_eq!(
            decide_import(&hosts(&["a.com"]), T, &present, "k").unwrap(),
            ConfigMapAction::NoChange(NoChangeReason::UpToDate)
        );
        let ConfigMapAction::Write { data, .. } = decide_import(&[], T, &present, "k").unwrap()
        else {
            panic!()
        };
        assert!(!data.contains_key("k") && data["other"] == "x");
        let empty_key = cm(&[("k", "")]);
        assert!(matches!(
            decide_import(&[], T, &empty_key, "k").unwrap(),
            ConfigMapAction::Write { .. }
        ));
        assert!(decide_import(&hosts(&["a.com"]), "nodot", &empty, "k").is_err());
    }
}
