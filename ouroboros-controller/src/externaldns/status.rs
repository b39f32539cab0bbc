//! Surfacing DNSEndpoint status lag (spec §11.4 step 7): external-dns writes
//! `status.observedGeneration`; when it stays behind, records are not being published.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde_json::Value;

/// Objects younger than this are not judged yet.
pub const GRACE: Duration = Duration::from_secs(60);
/// The same drift is warned about at most once per this period.
pub const DEDUP: Duration = Duration::from_secs(300);

/// What the tracker needs to know about one DNSEndpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusObservation {
    /// Object name.
    pub name: String,
    /// `metadata.generation`.
    pub generation: i64,
    /// `status.observedGeneration`, if present (any JSON value; non-integers warn).
    pub observed_generation: Option<Value>,
    /// Time since `metadata.creationTimestamp`.
    pub age: Duration,
}

/// A lag worth a warning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatusWarning {
    /// No status at all: external-dns may not run or may lack status RBAC.
    Missing {
        /// Object name.
        name: String,
        /// `metadata.generation`.
        generation: i64,
    },
    /// Status behind the spec: external-dns unhealthy or its provider rejecting writes.
    Behind {
        /// Object name.
        name: String,
        /// `metadata.generation`.
        generation: i64,
        /// The observed value as text.
        observed: String,
    },
}

/// Remembers what was warned about, to deduplicate.
#[derive(Debug, Default)]
pub struct StatusTracker {
    warned: HashMap<String, (StatusWarning, Instant)>,
}

impl StatusTracker {
    /// Evaluates the current list; returns the warnings to log now.
    pub fn evaluate(&mut self, now: Instant, objects: &[StatusObservation]) -> Vec<StatusWarning> {
        self.warned
            .retain(|name, _| objects.iter().any(|o| &o.name == name));
        let mut out = Vec::new();
        for obj in objects {
            let warning = match &obj.observed_generation {
                Some(v) if v.as_i64().is_some_and(|g| g >= obj.generation) => None,
                _ if obj.age < GRACE => None,
                None => Some(StatusWarning::Missing {
                    name: obj.name.clone(),
                    generation: obj.generation,
                }),
                Some(v) => Some(StatusWarning::Behind {
                    name: obj.name.clone(),
                    generation: obj.generation,
                    observed: v.to_string(),
                }),
            };
            let Some(warning) = warning else {
                self.warned.remove(&obj.name);
                continue;
            };
            let fresh = match self.warned.get(&obj.name) {
                Some((previous, at)) => previous != &warning || now.duration_since(*at) >= DEDUP,
                None => true,
            };
            if fresh {
                self.warned.insert(obj.name.clone(), (warning.clone(), now));
                out.push(warning);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obs(name: &str, generation: i64, observed: Option<Value>, age_s: u64) -> StatusObservation {
        StatusObservation {
            name: name.into(),
            generation,
            observed_generation: observed,
            age: Duration::from_secs(age_s),
        }
    }

    #[test]
    fn converged_and_young_objects_are_silent() {
        let mut t = StatusTracker::default();
        let now = Instant::now();
        assert!(t
            .evaluate(
                now,
                &[obs("a", 2, Some(json!(2)), 999), obs("b", 2, None, 10)]
            )
            .is_empty());
    }

    #[test]
    fn drift_warns_once_per_window_and_entries_are_forgotten() {
        let mut t = StatusTracker::default();
        let now = Instant::now();
        let list = [
            obs("a", 3, Some(json!(2)), 999),
            obs("b", 1, None, 999),
            obs("c", 1, Some(json!("x")), 999),
        ];
        let w = t.evaluate(now, &list);
        assert_eq!(w.len(), 3);
        assert_eq!(
            w[1],
            StatusWarning::Missing {
                name: "b".into(),
                generation: 1
            }
        );
        assert!(t.evaluate(now + Duration::from_secs(60), &list).is_empty());
        assert_eq!(t.evaluate(now + DEDUP, &list).len(), 3);
        assert!(t.evaluate(now + DEDUP, &[]).is_empty());
        assert!(t.warned.is_empty());
        // A different drift on the same object warns immediately.
        t.evaluate(now, &[obs("a", 3, Some(json!(2)), 999)]);
        assert_eq!(
            t.evaluate(now, &[obs("a", 4, Some(json!(2)), 999)]).len(),
            1
        );
    }
}
