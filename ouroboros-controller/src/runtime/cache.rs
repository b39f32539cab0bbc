//! The informer cache: every watched object reduced to the fields that produce hostnames.

use std::collections::HashMap;

use crate::hostnames::HostSet;
use crate::sources::{collect_hosts, ClassFilters, GatewayInfo, IngressInfo, RouteInfo};

/// Which informer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// networking.k8s.io/v1 Ingress.
    Ingress,
    /// gateway.networking.k8s.io/v1 Gateway.
    Gateway,
    /// gateway.networking.k8s.io/v1 HTTPRoute.
    HttpRoute,
}

impl Kind {
    /// The name used in logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ingress => "Ingress",
            Self::Gateway => "Gateway",
            Self::HttpRoute => "HTTPRoute",
        }
    }
}

/// A reduced object of any kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reduced {
    /// From an Ingress.
    Ingress(IngressInfo),
    /// From a Gateway.
    Gateway(GatewayInfo),
    /// From an HTTPRoute.
    Route(RouteInfo),
}

/// Objects by `namespace/name`, per kind, plus which kinds have completed a list.
#[derive(Debug, Default)]
pub struct SourceCache {
    ingresses: HashMap<String, IngressInfo>,
    gateways: HashMap<String, GatewayInfo>,
    routes: HashMap<String, RouteInfo>,
    synced: Vec<Kind>,
}

/// What an upsert did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upsert {
    /// New key.
    Added,
    /// Known key, different hostname-relevant fields.
    Updated,
    /// Known key, nothing relevant changed (status-only updates land here).
    Unchanged,
}

impl SourceCache {
    /// Inserts or replaces one object.
    pub fn upsert(&mut self, key: String, obj: Reduced) -> Upsert {
        match obj {
            Reduced::Ingress(v) => upsert_in(&mut self.ingresses, key, v),
            Reduced::Gateway(v) => upsert_in(&mut self.gateways, key, v),
            Reduced::Route(v) => upsert_in(&mut self.routes, key, v),
        }
    }

    /// Removes one object; true when it was present.
    pub fn remove(&mut self, kind: Kind, key: &str) -> bool {
        match kind {
            Kind::Ingress => self.ingresses.remove(key).is_some(),
            Kind::Gateway => self.gateways.remove(key).is_some(),
            Kind::HttpRoute => self.routes.remove(key).is_some(),
        }
    }

    /// Replaces everything of one kind after a complete list; returns whether the content
    /// differs from what was there, and marks the kind synced.
    pub fn replace(&mut self, kind: Kind, objects: Vec<(String, Reduced)>) -> bool {
        let changed = match kind {
            Kind::Ingress => replace_in(&mut self.ingresses, objects, |r| match r {
                Reduced::Ingress(v) => Some(v),
                _ => None,
            }),
            Kind::Gateway => replace_in(&mut self.gateways, objects, |r| match r {
                Reduced::Gateway(v) => Some(v),
                _ => None,
            }),
            Kind::HttpRoute => replace_in(&mut self.routes, objects, |r| match r {
                Reduced::Route(v) => Some(v),
                _ => None,
            }),
        };
        if !self.synced.contains(&kind) {
            self.synced.push(kind);
        }
        changed
    }

    /// Whether every kind in `kinds` has listed once.
    pub fn all_synced(&self, kinds: &[Kind]) -> bool {
        kinds.iter().all(|k| self.synced.contains(k))
    }

    /// Raw object counts (ingresses, gateways, routes), before filtering.
    pub fn counts(&self) -> (usize, usize, usize) {
        (self.ingresses.len(), self.gateways.len(), self.routes.len())
    }

    /// The host set under `filters`.
    pub fn host_set(&self, filters: &ClassFilters) -> HostSet {
        collect_hosts(
            self.ingresses.values(),
            self.gateways.values(),
            self.routes.values(),
            filters,
        )
    }
}

fn upsert_in<T: PartialEq>(map: &mut HashMap<String, T>, key: String, value: T) -> Upsert {
    match map.get(&key) {
        None => {
            map.insert(key, value);
            Upsert::Added
        }
        Some(old) if *old == value => Upsert::Unchanged,
        Some(_) => {
            map.insert(key, value);
            Upsert::Updated
        }
    }
}

fn replace_in<T: PartialEq>(
    map: &mut HashMap<String, T>,
    objects: Vec<(String, Reduced)>,
    take: impl Fn(Reduced) -> Option<T>,
) -> bool {
    let fresh: HashMap<String, T> = objects
        .into_iter()
        .filter_map(|(k, r)| take(r).map(|v| (k, v)))
        .collect();
    let changed = fresh.len() != map.len() || fresh.iter().any(|(k, v)| map.get(k) != Some(v));
    *map = fresh;
    changed
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ing(host: &str) -> Reduced {
        Reduced::Ingress(IngressInfo {
            class: None,
            tls_hosts: vec![host.into()],
        })
    }

    #[test]
    fn upsert_reports_relevant_changes_only() {
        let mut c = SourceCache::default();
        assert_eq!(c.upsert("ns/a".into(), ing("a.com")), Upsert::Added);
        assert_eq!(c.upsert("ns/a".into(), ing("a.com")), Upsert::Unchanged);
        assert_eq!(c.upsert("ns/a".into(), ing("b.com")), Upsert::Updated);
        assert_eq!(c.host_set(&ClassFilters::default()).hosts, ["b.com"]);
        assert!(c.remove(Kind::Ingress, "ns/a"));
        assert!(!c.remove(Kind::Ingress, "ns/a"));
    }

    #[test]
    fn replace_marks_synced_and_detects_change() {
        let mut c = SourceCache::default();
        assert!(!c.all_synced(&[Kind::Ingress]));
        assert!(c.replace(Kind::Ingress, vec![("ns/a".into(), ing("a.com"))]));
        assert!(c.all_synced(&[Kind::Ingress]));
        assert!(!c.all_synced(&[Kind::Ingress, Kind::Gateway]));
        assert!(!c.replace(Kind::Ingress, vec![("ns/a".into(), ing("a.com"))]));
        assert!(c.replace(Kind::Ingress, vec![]));
        assert_eq!(c.counts(), (0, 0, 0));
    }
}
