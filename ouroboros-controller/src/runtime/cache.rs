//! The informer cache: every watched object reduced to the fields that produce hostnames.

use std::collections::HashMap;

use crate::host_index::HostIndex;
use crate::hostnames::{HostSet, NormalisedHosts, RefusedHost};
use crate::sources::{ClassFilters, GatewayInfo, IngressInfo, RouteInfo};

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

/// Which object contributes hostnames to the index.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Source {
    Ingress(String),
    Gateway(String),
    Route(String),
}

/// Objects by `namespace/name`, per kind, which kinds have completed a list, and the desired
/// host set kept up to date with every change (so a watch event costs the changed object, not
/// the whole cache).
#[derive(Debug, Default)]
pub struct SourceCache {
    filters: ClassFilters,
    ingresses: HashMap<String, IngressInfo>,
    gateways: HashMap<String, GatewayInfo>,
    routes: HashMap<String, RouteInfo>,
    index: HostIndex<Source>,
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

/// What one change did to the cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Change {
    /// The object itself.
    pub object: Upsert,
    /// Whether the desired host set (published or refused) changed.
    pub hosts_changed: bool,
}

impl SourceCache {
    /// An empty cache applying `filters` to everything it stores.
    pub fn new(filters: ClassFilters) -> Self {
        Self {
            filters,
            ..Self::default()
        }
    }

    /// Inserts or replaces one object.
    pub fn upsert(&mut self, key: String, obj: Reduced) -> Change {
        let (object, kind) = match obj {
            Reduced::Ingress(v) => (upsert_in(&mut self.ingresses, &key, v), Kind::Ingress),
            Reduced::Gateway(v) => (upsert_in(&mut self.gateways, &key, v), Kind::Gateway),
            Reduced::Route(v) => (upsert_in(&mut self.routes, &key, v), Kind::HttpRoute),
        };
        let hosts_changed = object != Upsert::Unchanged && self.reindex(kind, &key);
        Change {
            object,
            hosts_changed,
        }
    }

    /// Removes one object; true when the desired host set changed.
    pub fn remove(&mut self, kind: Kind, key: &str) -> bool {
        let present = match kind {
            Kind::Ingress => self.ingresses.remove(key).is_some(),
            Kind::Gateway => self.gateways.remove(key).is_some(),
            Kind::HttpRoute => self.routes.remove(key).is_some(),
        };
        present && self.reindex(kind, key)
    }

    /// Replaces everything of one kind after a complete list, marks the kind synced, and
    /// returns whether the desired host set changed.
    pub fn replace(&mut self, kind: Kind, objects: Vec<(String, Reduced)>) -> bool {
        let touched = match kind {
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
        // Several objects change at once (a host may move from one to another), so compare
        // the whole set; a re-list is O(objects) anyway.
        let before = (!touched.is_empty()).then(|| self.index.host_set());
        for key in &touched {
            self.reindex_one(kind, key);
        }
        if kind == Kind::Gateway && !touched.is_empty() {
            self.reindex_routes();
        }
        if !self.synced.contains(&kind) {
            self.synced.push(kind);
        }
        before.is_some_and(|before| before != self.index.host_set())
    }

    /// Whether every kind in `kinds` has listed once.
    pub fn all_synced(&self, kinds: &[Kind]) -> bool {
        kinds.iter().all(|k| self.synced.contains(k))
    }

    /// Raw object counts (ingresses, gateways, routes), before filtering.
    pub fn counts(&self) -> (usize, usize, usize) {
        (self.ingresses.len(), self.gateways.len(), self.routes.len())
    }

    /// The desired host set under the cache's filters.
    pub fn host_set(&self) -> HostSet {
        self.index.host_set()
    }

    /// The hostnames to publish and the refused ones, as the reconcile loop uses them.
    pub fn desired(&self) -> (NormalisedHosts, Vec<RefusedHost>) {
        (self.index.published(), self.index.refused())
    }

    /// Brings the index in line with the stored object `key` of `kind` (or its absence).
    fn reindex(&mut self, kind: Kind, key: &str) -> bool {
        let changed = self.reindex_one(kind, key);
        // A Gateway's class decides whether routes attached to it count.
        if kind == Kind::Gateway {
            changed | self.reindex_routes()
        } else {
            changed
        }
    }

    fn reindex_one(&mut self, kind: Kind, key: &str) -> bool {
        let filters = &self.filters;
        match kind {
            Kind::Ingress => {
                let source = Source::Ingress(key.to_string());
                match self
                    .ingresses
                    .get(key)
                    .filter(|i| filters.selects_ingress(i))
                {
                    Some(ing) => self
                        .index
                        .set(source, ing.tls_hosts.iter().map(String::as_str)),
                    None => self.index.remove(&source),
                }
            }
            Kind::Gateway => {
                let source = Source::Gateway(key.to_string());
                match self
                    .gateways
                    .get(key)
                    .filter(|g| filters.selects_gateway(g))
                {
                    Some(gw) => self
                        .index
                        .set(source, gw.listener_hosts.iter().map(String::as_str)),
                    None => self.index.remove(&source),
                }
            }
            Kind::HttpRoute => {
                let source = Source::Route(key.to_string());
                let gateways = &self.gateways;
                let selected = |namespace: &str, name: &str| {
                    gateways
                        .get(&format!("{namespace}/{name}"))
                        .is_some_and(|g| filters.selects_gateway(g))
                };
                match self
                    .routes
                    .get(key)
                    .filter(|r| filters.selects_route(r, selected))
                {
                    Some(route) => self
                        .index
                        .set(source, route.hostnames.iter().map(String::as_str)),
                    None => self.index.remove(&source),
                }
            }
        }
    }

    /// Re-evaluates every route; only needed when a Gateway changed under a gateway-class
    /// filter (without one, a route's hosts never depend on Gateways).
    fn reindex_routes(&mut self) -> bool {
        if self.filters.gateway_class.is_empty() {
            return false;
        }
        let keys: Vec<String> = self.routes.keys().cloned().collect();
        let mut changed = false;
        for key in keys {
            changed |= self.reindex_one(Kind::HttpRoute, &key);
        }
        changed
    }
}

fn upsert_in<T: PartialEq>(map: &mut HashMap<String, T>, key: &str, value: T) -> Upsert {
    match map.get(key) {
        None => {
            map.insert(key.to_string(), value);
            Upsert::Added
        }
        Some(old) if *old == value => Upsert::Unchanged,
        Some(_) => {
            map.insert(key.to_string(), value);
            Upsert::Updated
        }
    }
}

/// Replaces the map's content; returns the keys that were added, changed or removed.
fn replace_in<T: PartialEq>(
    map: &mut HashMap<String, T>,
    objects: Vec<(String, Reduced)>,
    take: impl Fn(Reduced) -> Option<T>,
) -> Vec<String> {
    let mut fresh: HashMap<String, T> = objects
        .into_iter()
        .filter_map(|(k, r)| take(r).map(|v| (k, v)))
        .collect();
    let mut touched: Vec<String> = map
        .keys()
        .filter(|k| !fresh.contains_key(*k))
        .cloned()
        .collect();
    touched.extend(
        fresh
            .iter()
            .filter(|(k, v)| map.get(*k) != Some(*v))
            .map(|(k, _)| k.clone()),
    );
    std::mem::swap(map, &mut fresh);
    touched
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::{collect_hosts, ParentRef};
    use proptest::prelude::*;

    fn ing(host: &str) -> Reduced {
        Reduced::Ingress(IngressInfo {
            class: None,
            tls_hosts: vec![host.into()],
        })
    }

    fn reference(c: &SourceCache) -> HostSet {
        collect_hosts(
            c.ingresses.values(),
            c.gateways.values(),
            c.routes.values(),
            &c.filters,
        )
    }

    #[test]
    fn upsert_reports_relevant_changes_only() {
        let mut c = SourceCache::default();
        let change = |object, hosts_changed| Change {
            object,
            hosts_changed,
        };
        assert_eq!(
            c.upsert("ns/a".into(), ing("a.com")),
            change(Upsert::Added, true)
        );
        assert_eq!(
            c.upsert("ns/a".into(), ing("a.com")),
            change(Upsert::Unchanged, false)
        );
        assert_eq!(
            c.upsert("ns/a".into(), ing("b.com")),
            change(Upsert::Updated, true)
        );
        assert_eq!(
            c.upsert("ns/b".into(), ing("B.com")),
            change(Upsert::Added, false),
            "b.com is already published"
        );
        assert_eq!(c.host_set().hosts, ["b.com"]);
        assert!(
            !c.remove(Kind::Ingress, "ns/a"),
            "ns/b still publishes b.com"
        );
        assert!(c.remove(Kind::Ingress, "ns/b"));
        assert!(!c.remove(Kind::Ingress, "ns/b"));
        assert!(c.host_set().hosts.is_empty());
    }

    #[test]
    fn replace_marks_synced_and_detects_change() {
        let mut c = SourceCache::default();
        assert!(!c.all_synced(&[Kind::Ingress]));
        assert!(c.replace(Kind::Ingress, vec![("ns/a".into(), ing("a.com"))]));
        assert!(c.all_synced(&[Kind::Ingress]));
        assert!(!c.all_synced(&[Kind::Ingress, Kind::Gateway]));
        assert!(!c.replace(Kind::Ingress, vec![("ns/a".into(), ing("a.com"))]));
        assert!(
            !c.replace(Kind::Ingress, vec![("ns/b".into(), ing("a.com"))],),
            "same host from another object"
        );
        assert!(c.replace(Kind::Ingress, vec![]));
        assert_eq!(c.counts(), (0, 0, 0));
        assert!(c.host_set().hosts.is_empty());
    }

    #[test]
    fn ingress_class_filter_applies_to_the_index() {
        let mut c = SourceCache::new(ClassFilters {
            ingress_class: "nginx".into(),
            gateway_class: String::new(),
        });
        let classed = |class: &str, host: &str| {
            Reduced::Ingress(IngressInfo {
                class: Some(class.into()),
                tls_hosts: vec![host.into()],
            })
        };
        assert!(
            !c.upsert("ns/a".into(), classed("other", "a.com"))
                .hosts_changed
        );
        assert!(
            c.upsert("ns/a".into(), classed("nginx", "a.com"))
                .hosts_changed
        );
        assert!(
            c.upsert("ns/a".into(), classed("other", "a.com"))
                .hosts_changed
        );
        assert!(c.host_set().hosts.is_empty());
    }

    #[test]
    fn gateway_class_change_attaches_and_detaches_routes() {
        let mut c = SourceCache::new(ClassFilters {
            ingress_class: String::new(),
            gateway_class: "keep".into(),
        });
        let gateway = |class: &str| {
            Reduced::Gateway(GatewayInfo {
                namespace: "infra".into(),
                name: "gw".into(),
                class: class.into(),
                listener_hosts: vec![],
            })
        };
        let route = Reduced::Route(RouteInfo {
            namespace: "app".into(),
            hostnames: vec!["r.com".into()],
            parents: vec![ParentRef {
                namespace: Some("infra".into()),
                name: "gw".into(),
                ..Default::default()
            }],
        });
        assert!(
            !c.upsert("app/r".into(), route).hosts_changed,
            "no gateway yet"
        );
        assert!(c.upsert("infra/gw".into(), gateway("keep")).hosts_changed);
        assert_eq!(c.host_set().hosts, ["r.com"]);
        assert!(c.upsert("infra/gw".into(), gateway("other")).hosts_changed);
        assert!(c.host_set().hosts.is_empty());
        assert!(c.replace(Kind::Gateway, vec![("infra/gw".into(), gateway("keep"))]));
        assert_eq!(c.host_set().hosts, ["r.com"]);
        assert!(c.remove(Kind::Gateway, "infra/gw"));
        assert!(c.host_set().hosts.is_empty());
    }

    /// One cache operation over a small universe of keys, hosts and classes.
    #[derive(Debug, Clone)]
    enum Op {
        Upsert(String, Reduced),
        Remove(Kind, String),
        Replace(Kind, Vec<(String, Reduced)>),
    }

    fn reduced() -> impl Strategy<Value = (String, Reduced)> {
        let host = prop_oneof![
            "[a-c]\\.example\\.com",
            "[A-C]\\.example\\.com",
            Just("bad host".to_string()),
        ];
        let hosts = prop::collection::vec(host, 0..3);
        let class = prop_oneof![Just("keep".to_string()), Just("other".to_string())];
        let name = prop_oneof![Just("x".to_string()), Just("y".to_string())];
        let ns = prop_oneof![Just("n1".to_string()), Just("n2".to_string())];
        prop_oneof![
            (
                ns.clone(),
                name.clone(),
                prop::option::of(class.clone()),
                hosts.clone()
            )
                .prop_map(|(ns, name, class, tls_hosts)| (
                    format!("{ns}/{name}"),
                    Reduced::Ingress(IngressInfo { class, tls_hosts })
                )),
            (ns.clone(), name.clone(), class, hosts.clone()).prop_map(
                |(namespace, name, class, listener_hosts)| (
                    format!("{namespace}/{name}"),
                    Reduced::Gateway(GatewayInfo {
                        namespace,
                        name,
                        class,
                        listener_hosts
                    })
                )
            ),
            (ns.clone(), name.clone(), hosts, prop::option::of(ns), name).prop_map(
                |(namespace, route_name, hostnames, parent_ns, parent)| (
                    format!("{namespace}/{route_name}"),
                    Reduced::Route(RouteInfo {
                        namespace,
                        hostnames,
                        parents: vec![ParentRef {
                            namespace: parent_ns,
                            name: parent,
                            ..Default::default()
                        }],
                    })
                )
            ),
        ]
    }

    fn kind_of(r: &Reduced) -> Kind {
        match r {
            Reduced::Ingress(_) => Kind::Ingress,
            Reduced::Gateway(_) => Kind::Gateway,
            Reduced::Route(_) => Kind::HttpRoute,
        }
    }

    fn op() -> impl Strategy<Value = Op> {
        let kind = prop_oneof![
            Just(Kind::Ingress),
            Just(Kind::Gateway),
            Just(Kind::HttpRoute)
        ];
        prop_oneof![
            4 => reduced().prop_map(|(k, r)| Op::Upsert(k, r)),
            1 => (kind.clone(), "n[12]/[xy]").prop_map(|(kind, key)| Op::Remove(kind, key)),
            1 => (kind, prop::collection::vec(reduced(), 0..4)).prop_map(|(kind, objects)| {
                Op::Replace(
                    kind,
                    objects.into_iter().filter(|(_, r)| kind_of(r) == kind).collect(),
                )
            }),
        ]
    }

    proptest! {
        /// Under any filters and any sequence of changes the incremental set equals a full
        /// recomputation, and "changed" is reported exactly when the set changed.
        #[test]
        fn incremental_cache_matches_full_recompute(
            ingress_class in prop_oneof![Just(String::new()), Just("keep".to_string())],
            gateway_class in prop_oneof![Just(String::new()), Just("keep".to_string())],
            ops in prop::collection::vec(op(), 0..30),
        ) {
            let mut c = SourceCache::new(ClassFilters { ingress_class, gateway_class });
            for op in ops {
                let before = reference(&c);
                let changed = match op.clone() {
                    Op::Upsert(key, obj) => c.upsert(key, obj).hosts_changed,
                    Op::Remove(kind, key) => c.remove(kind, &key),
                    Op::Replace(kind, objects) => c.replace(kind, objects),
                };
                let after = reference(&c);
                prop_assert_eq!(c.host_set(), after.clone(), "after {:?}", op);
                prop_assert_eq!(changed, before != after, "after {:?}", op);
            }
        }
    }
}
