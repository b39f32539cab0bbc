//! The desired host set, maintained incrementally: each source (one object) contributes its
//! classified hostnames, and a reference count per hostname says how many sources publish it.
//!
//! Recomputing the set from every cached object on each watch event costs O(objects) per event
//! (10,000 Ingresses: every hostname trimmed, lowercased, validated and sorted again for a
//! one-host change). Here an event costs O(hosts of that object × log hosts), and the answer to
//! "did the set change?" comes for free, so events that do not change what is published do not
//! wake the reconcile loop at all.

use std::collections::{BTreeMap, HashMap};
use std::hash::Hash;

use crate::hostnames::{classify, Classified, HostSet, NormalisedHosts, RefusedHost};

/// What one source contributes, already classified (dropped names are not kept).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Contribution {
    published: Vec<String>,
    refused: Vec<RefusedHost>,
}

impl Contribution {
    fn classify<'a>(raw: impl IntoIterator<Item = &'a str>) -> Self {
        let mut c = Contribution::default();
        for item in raw {
            match classify(item) {
                Classified::Publish(host) => c.published.push(host),
                Classified::Drop => {}
                Classified::Refuse(reason) => c.refused.push(RefusedHost {
                    raw: item.to_string(),
                    reason,
                }),
            }
        }
        // One source naming a host twice counts once, like the set it feeds.
        c.published.sort_unstable();
        c.published.dedup();
        c.refused.sort_unstable();
        c.refused.dedup();
        c
    }

    fn is_empty(&self) -> bool {
        self.published.is_empty() && self.refused.is_empty()
    }
}

/// Reference-counted hostnames per source key `K` (for example kind plus `namespace/name`).
#[derive(Debug, Clone)]
pub struct HostIndex<K> {
    sources: HashMap<K, Contribution>,
    published: BTreeMap<String, u32>,
    refused: BTreeMap<RefusedHost, u32>,
}

impl<K> Default for HostIndex<K> {
    fn default() -> Self {
        Self {
            sources: HashMap::new(),
            published: BTreeMap::new(),
            refused: BTreeMap::new(),
        }
    }
}

impl<K: Hash + Eq> HostIndex<K> {
    /// Sets what `source` contributes (raw hostnames as found in the object); an empty list
    /// removes the source. Returns true when the published or refused set changed.
    pub fn set<'a>(&mut self, source: K, raw: impl IntoIterator<Item = &'a str>) -> bool {
        let next = Contribution::classify(raw);
        let previous = self.sources.remove(&source).unwrap_or_default();
        if previous == next {
            if !next.is_empty() {
                self.sources.insert(source, next);
            }
            return false;
        }
        // Add before releasing, and only the difference, so a name this source keeps is
        // never counted down to zero and back (which would report a change that is not one).
        let mut changed = false;
        for host in difference(&next.published, &previous.published) {
            changed |= acquire(&mut self.published, host);
        }
        for refused in difference(&next.refused, &previous.refused) {
            changed |= acquire(&mut self.refused, refused);
        }
        for host in difference(&previous.published, &next.published) {
            changed |= release(&mut self.published, host);
        }
        for refused in difference(&previous.refused, &next.refused) {
            changed |= release(&mut self.refused, refused);
        }
        if !next.is_empty() {
            self.sources.insert(source, next);
        }
        changed
    }

    /// Removes everything `source` contributed. Returns true when the sets changed.
    pub fn remove(&mut self, source: &K) -> bool {
        match self.sources.remove(source) {
            Some(previous) => self.withdraw(previous),
            None => false,
        }
    }

    /// Published hostnames: lowercase, valid, sorted byte-wise, unique.
    pub fn hosts(&self) -> impl ExactSizeIterator<Item = &str> {
        self.published.keys().map(String::as_str)
    }

    /// Number of published hostnames.
    pub fn len(&self) -> usize {
        self.published.len()
    }

    /// True when nothing is published.
    pub fn is_empty(&self) -> bool {
        self.published.is_empty()
    }

    /// The published hostnames, for the editors.
    pub fn published(&self) -> NormalisedHosts {
        NormalisedHosts::from_published(self.published.keys().cloned().collect())
    }

    /// The refused hostnames, sorted.
    pub fn refused(&self) -> Vec<RefusedHost> {
        self.refused.keys().cloned().collect()
    }

    /// The same value [`HostSet::from_raw`] gives for every contributing source's raw names.
    pub fn host_set(&self) -> HostSet {
        HostSet {
            hosts: self.published.keys().cloned().collect(),
            refused: self.refused.keys().cloned().collect(),
        }
    }

    fn withdraw(&mut self, c: Contribution) -> bool {
        let mut changed = false;
        for host in &c.published {
            changed |= release(&mut self.published, host);
        }
        for refused in &c.refused {
            changed |= release(&mut self.refused, refused);
        }
        changed
    }
}

/// Items of sorted, de-duplicated `a` that are not in sorted, de-duplicated `b`.
fn difference<'a, T: Ord>(a: &'a [T], b: &'a [T]) -> impl Iterator<Item = &'a T> {
    a.iter().filter(move |x| b.binary_search(x).is_err())
}

/// Adds one reference; true when it is the first one.
fn acquire<T: Ord + Clone>(counts: &mut BTreeMap<T, u32>, key: &T) -> bool {
    match counts.get_mut(key) {
        Some(n) => {
            *n += 1;
            false
        }
        None => {
            counts.insert(key.clone(), 1);
            true
        }
    }
}

/// Drops one reference; true when it was the last one.
fn release<T: Ord>(counts: &mut BTreeMap<T, u32>, key: &T) -> bool {
    match counts.get_mut(key) {
        Some(n) if *n > 1 => {
            *n -= 1;
            false
        }
        Some(_) => {
            counts.remove(key);
            true
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hostnames::normalise;
    use proptest::prelude::*;

    #[test]
    fn shared_hosts_stay_until_the_last_source_goes() {
        let mut index = HostIndex::default();
        assert!(index.set("a", ["X.example.com", "y.example.com"]));
        assert!(!index.set("b", ["x.example.com"]), "x already published");
        assert_eq!(
            index.hosts().collect::<Vec<_>>(),
            ["x.example.com", "y.example.com"]
        );
        assert!(index.remove(&"a"), "y goes away");
        assert_eq!(index.hosts().collect::<Vec<_>>(), ["x.example.com"]);
        assert!(!index.remove(&"a"));
        assert!(index.remove(&"b"));
        assert!(index.is_empty());
    }

    #[test]
    fn same_contribution_again_is_no_change() {
        let mut index = HostIndex::default();
        assert!(index.set("a", ["a.com", "A.com", " a.com"]));
        assert!(!index.set("a", ["a.com"]));
        assert!(
            !index.set("a", ["a.com", "*.wild.com", ""]),
            "dropped names do not count"
        );
        assert_eq!(index.len(), 1);
        assert!(index.set("a", []));
        assert!(index.is_empty());
    }

    #[test]
    fn refused_hosts_are_tracked_and_counted_as_changes() {
        let mut index = HostIndex::default();
        assert!(index.set("a", ["bad host", "ok.com"]));
        assert!(index.set("b", ["a{b.com"]));
        let set = index.host_set();
        assert_eq!(set.hosts, ["ok.com"]);
        assert_eq!(
            set.refused
                .iter()
                .map(|r| r.raw.as_str())
                .collect::<Vec<_>>(),
            ["a{b.com", "bad host"]
        );
        assert!(index.remove(&"b"));
        assert_eq!(index.host_set().refused.len(), 1);
        assert_eq!(index.refused(), index.host_set().refused);
        assert_eq!(index.published().as_slice(), index.host_set().hosts);
    }

    fn ops() -> impl Strategy<Value = Vec<(u8, Vec<String>)>> {
        let host = prop_oneof![
            "[a-d]\\.example\\.com",
            "[A-D]\\.EXAMPLE\\.com",
            Just("bad host".to_string()),
            Just("*.wild.com".to_string()),
        ];
        prop::collection::vec((0u8..6, prop::collection::vec(host, 0..4)), 0..40)
    }

    proptest! {
        /// After any sequence of per-source updates, the index equals a full recomputation
        /// over the latest contribution of every source.
        #[test]
        fn incremental_equals_full_recompute(ops in ops()) {
            let mut index = HostIndex::default();
            let mut latest: BTreeMap<u8, Vec<String>> = BTreeMap::new();
            for (source, hosts) in ops {
                let full_before = HostSet::from_raw(latest.values().flatten());
                let changed = index.set(source, hosts.iter().map(String::as_str));
                latest.insert(source, hosts);
                let full = HostSet::from_raw(latest.values().flatten());
                prop_assert_eq!(index.host_set(), full.clone());
                let published = index.published();
                prop_assert_eq!(published.as_slice(), normalise(&full.hosts));
                prop_assert_eq!(changed, full != full_before);
            }
        }
    }
}
