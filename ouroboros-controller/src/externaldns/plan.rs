//! Pure decisions of one external-dns reconcile: what to apply and prune (with the mass-delete
//! guard, spec §11.4 step 4) and what to do with each desired object given what exists.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::records::{
    DesiredRecord, OutputKind, INSTANCE_LABEL, MANAGED_BY_LABEL, MANAGED_BY_VALUE,
};

/// A record object as read from the API.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ObservedRecord {
    /// Object name.
    pub name: String,
    /// Labels.
    pub labels: BTreeMap<String, String>,
    /// Annotations.
    pub annotations: BTreeMap<String, String>,
    /// `spec` (compared for DNSEndpoints only).
    pub spec: Option<Value>,
    /// For the update precondition.
    pub resource_version: Option<String>,
}

impl ObservedRecord {
    /// Whether both ownership labels name this instance.
    pub fn is_owned_by(&self, instance: &str) -> bool {
        self.labels.get(MANAGED_BY_LABEL).map(String::as_str) == Some(MANAGED_BY_VALUE)
            && self.labels.get(INSTANCE_LABEL).map(String::as_str) == Some(instance)
    }
}

/// What one reconcile does.
#[derive(Debug, Clone, PartialEq)]
pub enum RecordPlan {
    /// Nothing desired, nothing owned.
    Noop,
    /// The host set is empty but records exist: keep them and warn (uninstall or restore a
    /// hostname); an empty set is far more often a broken source than a real intent.
    KeepOwnedOnEmptyHosts {
        /// Owned records kept.
        owned_count: usize,
    },
    /// Hosts exist but none produced a record: an error, and nothing is pruned.
    AllBuildsFailed {
        /// Hosts that failed.
        host_count: usize,
        /// Owned records kept.
        owned_count: usize,
    },
    /// Apply the desired objects, then delete the named owned objects.
    Apply {
        /// Objects to create or update.
        desired: Vec<DesiredRecord>,
        /// Owned objects no longer desired.
        prune: Vec<String>,
    },
}

/// Plans the reconcile. `owned` may contain foreign objects; they are filtered out here so
/// they can neither be pruned nor trip the guard.
pub fn plan_records(
    host_count: usize,
    desired: Vec<DesiredRecord>,
    owned: &[ObservedRecord],
    instance: &str,
) -> RecordPlan {
    let owned: Vec<&ObservedRecord> = owned.iter().filter(|o| o.is_owned_by(instance)).collect();
    if desired.is_empty() {
        return match (owned.is_empty(), host_count) {
            (true, _) => RecordPlan::Noop,
            (false, 0) => RecordPlan::KeepOwnedOnEmptyHosts {
                owned_count: owned.len(),
            },
            (false, n) => RecordPlan::AllBuildsFailed {
                host_count: n,
                owned_count: owned.len(),
            },
        };
    }
    let wanted: BTreeSet<&str> = desired.iter().map(|d| d.name.as_str()).collect();
    let prune = owned
        .iter()
        .filter(|o| !wanted.contains(o.name.as_str()))
        .map(|o| o.name.clone())
        .collect();
    RecordPlan::Apply { desired, prune }
}

/// What to do with one desired object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordAction {
    /// It does not exist.
    Create,
    /// It exists and matches.
    Unchanged,
    /// It exists, is ours, and differs; update with this resourceVersion.
    Update {
        /// Precondition for the write.
        resource_version: Option<String>,
    },
    /// An object of that name exists and is not ours: never taken over.
    RefuseForeign,
}

/// Decides the action for one desired object.
pub fn decide_record_action(
    desired: &DesiredRecord,
    observed: Option<&ObservedRecord>,
    instance: &str,
    output: OutputKind,
) -> RecordAction {
    let Some(observed) = observed else {
        return RecordAction::Create;
    };
    if !observed.is_owned_by(instance) {
        return RecordAction::RefuseForeign;
    }
    let same_meta =
        observed.labels == desired.labels && observed.annotations == desired.annotations;
    let same_spec = match output {
        OutputKind::Crd => observed.spec == desired.spec,
        OutputKind::Service => true,
    };
    if same_meta && same_spec {
        RecordAction::Unchanged
    } else {
        RecordAction::Update {
            resource_version: observed.resource_version.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::externaldns::records::{build_records, RecordOptions, RecordTargets};

    fn opts() -> RecordOptions {
        RecordOptions {
            namespace: "r".into(),
            instance: "rel".into(),
            ttl: 60,
            output: OutputKind::Crd,
            annotation_prefix: "external-dns.alpha.kubernetes.io/".into(),
            annotations: BTreeMap::new(),
            labels: BTreeMap::new(),
        }
    }

    fn desired(host: &str) -> DesiredRecord {
        let t = RecordTargets::from_ips(&["10.0.0.1".parse().unwrap()]);
        build_records(host, &t, &opts()).unwrap().remove(0)
    }

    fn observed_from(d: &DesiredRecord) -> ObservedRecord {
        ObservedRecord {
            name: d.name.clone(),
            labels: d.labels.clone(),
            annotations: d.annotations.clone(),
            spec: d.spec.clone(),
            resource_version: Some("7".into()),
        }
    }

    fn foreign(name: &str) -> ObservedRecord {
        ObservedRecord {
            name: name.into(),
            ..Default::default()
        }
    }

    #[test]
    fn guard_cases() {
        let owned = observed_from(&desired("a.com"));
        assert_eq!(plan_records(0, vec![], &[], "rel"), RecordPlan::Noop);
        assert_eq!(
            plan_records(0, vec![], &[foreign("x")], "rel"),
            RecordPlan::Noop
        );
        assert_eq!(
            plan_records(0, vec![], std::slice::from_ref(&owned), "rel"),
            RecordPlan::KeepOwnedOnEmptyHosts { owned_count: 1 }
        );
        assert_eq!(
            plan_records(3, vec![], std::slice::from_ref(&owned), "rel"),
            RecordPlan::AllBuildsFailed {
                host_count: 3,
                owned_count: 1
            }
        );
        assert_eq!(plan_records(3, vec![], &[], "rel"), RecordPlan::Noop);
        // Another instance's records are foreign.
        assert_eq!(plan_records(0, vec![], &[owned], "other"), RecordPlan::Noop);
    }

    #[test]
    fn prune_only_owned_and_undesired() {
        let keep = desired("a.com");
        let gone = observed_from(&desired("b.com"));
        let plan = plan_records(
            1,
            vec![keep.clone()],
            &[observed_from(&keep), gone, foreign("ouroboros-c-com")],
            "rel",
        );
        assert_eq!(
            plan,
            RecordPlan::Apply {
                desired: vec![keep],
                prune: vec!["ouroboros-b-com".into()]
            }
        );
    }

    #[test]
    fn actions() {
        let d = desired("a.com");
        assert_eq!(
            decide_record_action(&d, None, "rel", OutputKind::Crd),
            RecordAction::Create
        );
        let same = observed_from(&d);
        assert_eq!(
            decide_record_action(&d, Some(&same), "rel", OutputKind::Crd),
            RecordAction::Unchanged
        );
        let mut drift = same.clone();
        drift.spec = Some(serde_json::json!({"endpoints": []}));
        assert_eq!(
            decide_record_action(&d, Some(&drift), "rel", OutputKind::Crd),
            RecordAction::Update {
                resource_version: Some("7".into())
            }
        );
        // Service output ignores the spec.
        assert_eq!(
            decide_record_action(&d, Some(&drift), "rel", OutputKind::Service),
            RecordAction::Unchanged
        );
        let mut label_drift = same.clone();
        label_drift.annotations.insert("x".into(), "y".into());
        assert!(matches!(
            decide_record_action(&d, Some(&label_drift), "rel", OutputKind::Service),
            RecordAction::Update { .. }
        ));
        assert_eq!(
            decide_record_action(&d, Some(&foreign(&d.name)), "rel", OutputKind::Crd),
            RecordAction::RefuseForeign
        );
        assert_eq!(
            decide_record_action(&d, Some(&same), "other", OutputKind::Crd),
            RecordAction::RefuseForeign
        );
    }
}
