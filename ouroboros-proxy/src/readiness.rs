//! Process-wide backend readiness, so that probes log only when the answer changes: a
//! kubelet probing every few seconds must not flood the log with the same failure.

use std::sync::Mutex;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadinessState {
    NeverObserved,
    Healthy,
    Failing,
}

/// What a probe result changed, i.e. what to log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    Unchanged,
    /// First failing observation, or healthy → failing: one WARN.
    BecameFailing,
    /// failing → healthy: one INFO.
    Recovered,
}

#[derive(Debug)]
pub struct ReadinessTracker {
    state: Mutex<ReadinessState>,
}

impl Default for ReadinessTracker {
    fn default() -> Self {
        ReadinessTracker {
            state: Mutex::new(ReadinessState::NeverObserved),
        }
    }
}

impl ReadinessTracker {
    /// Records one probe result. The lock makes concurrent probes agree on a single
    /// transition, so a burst of failures yields exactly one WARN.
    pub fn observe(&self, healthy: bool) -> Transition {
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let next = if healthy {
            ReadinessState::Healthy
        } else {
            ReadinessState::Failing
        };
        let transition = match (*state, next) {
            (ReadinessState::Failing, ReadinessState::Healthy) => Transition::Recovered,
            (ReadinessState::NeverObserved | ReadinessState::Healthy, ReadinessState::Failing) => {
                Transition::BecameFailing
            }
            _ => Transition::Unchanged,
        };
        *state = next;
        transition
    }

    pub fn state(&self) -> ReadinessState {
        *self
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn first_healthy_is_silent() {
        let tracker = ReadinessTracker::default();
        assert_eq!(tracker.observe(true), Transition::Unchanged);
        assert_eq!(tracker.state(), ReadinessState::Healthy);
    }

    #[test]
    fn first_failing_warns_once() {
        let tracker = ReadinessTracker::default();
        assert_eq!(tracker.observe(false), Transition::BecameFailing);
        assert_eq!(tracker.observe(false), Transition::Unchanged);
        assert_eq!(tracker.observe(false), Transition::Unchanged);
    }

    #[test]
    fn fail_recover_fail() {
        let tracker = ReadinessTracker::default();
        assert_eq!(tracker.observe(true), Transition::Unchanged);
        assert_eq!(tracker.observe(false), Transition::BecameFailing);
        assert_eq!(tracker.observe(true), Transition::Recovered);
        assert_eq!(tracker.observe(true), Transition::Unchanged);
        assert_eq!(tracker.observe(false), Transition::BecameFailing);
    }

    #[test]
    fn concurrent_failures_agree_on_one_transition() {
        let tracker = Arc::new(ReadinessTracker::default());
        let handles: Vec<_> = (0..20)
            .map(|_| {
                let tracker = Arc::clone(&tracker);
                std::thread::spawn(move || tracker.observe(false))
            })
            .collect();
        let warnings = handles
            .into_iter()
            .map(|h| h.join().unwrap())
            .filter(|t| *t == Transition::BecameFailing)
            .count();
        assert_eq!(warnings, 1);
    }
}
