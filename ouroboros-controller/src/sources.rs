//! Hostname sources (spec §6.2–6.4): Ingress TLS hosts, Gateway listener hostnames, HTTPRoute
//! hostnames, and the ingress-class / gateway-class filters. Objects are reduced to the few
//! fields used here as soon as they arrive, which keeps the cache small.

use std::collections::HashSet;

use k8s_openapi::api::networking::v1::Ingress;
use serde_json::Value;

use crate::hostnames::HostSet;

const GATEWAY_GROUP: &str = "gateway.networking.k8s.io";
const GATEWAY_KIND: &str = "Gateway";

/// What the controller keeps of an Ingress.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IngressInfo {
    /// `spec.ingressClassName`.
    pub class: Option<String>,
    /// `spec.tls[].hosts[]`; `spec.rules[].host` is deliberately ignored.
    pub tls_hosts: Vec<String>,
}

impl IngressInfo {
    /// Reduces an Ingress.
    pub fn from_ingress(ingress: &Ingress) -> Self {
        let spec = ingress.spec.as_ref();
        Self {
            class: spec.and_then(|s| s.ingress_class_name.clone()),
            tls_hosts: spec
                .and_then(|s| s.tls.as_ref())
                .map(|tls| {
                    tls.iter()
                        .flat_map(|t| t.hosts.iter().flatten().cloned())
                        .collect()
                })
                .unwrap_or_default(),
        }
    }
}

/// What the controller keeps of a Gateway.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GatewayInfo {
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// `spec.gatewayClassName`.
    pub class: String,
    /// `spec.listeners[].hostname`, any protocol; listeners without one are skipped.
    pub listener_hosts: Vec<String>,
}

impl GatewayInfo {
    /// Reduces a Gateway given as JSON (`spec` is read; absent fields are tolerated).
    pub fn from_json(namespace: &str, name: &str, object: &Value) -> Self {
        let spec = &object["spec"];
        Self {
            namespace: namespace.to_string(),
            name: name.to_string(),
            class: spec["gatewayClassName"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            listener_hosts: spec["listeners"]
                .as_array()
                .map(|ls| {
                    ls.iter()
                        .filter_map(|l| l["hostname"].as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default(),
        }
    }
}

/// A route's reference to a parent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParentRef {
    /// `group`; empty means the Gateway API group.
    pub group: Option<String>,
    /// `kind`; empty means `Gateway`.
    pub kind: Option<String>,
    /// `namespace`; absent means the route's namespace.
    pub namespace: Option<String>,
    /// `name`.
    pub name: String,
}

/// What the controller keeps of an HTTPRoute.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RouteInfo {
    /// Namespace of the route.
    pub namespace: String,
    /// `spec.hostnames[]`.
    pub hostnames: Vec<String>,
    /// `spec.parentRefs[]`.
    pub parents: Vec<ParentRef>,
}

impl RouteInfo {
    /// Reduces an HTTPRoute given as JSON.
    pub fn from_json(namespace: &str, object: &Value) -> Self {
        let spec = &object["spec"];
        let text = |v: &Value| v.as_str().map(str::to_string);
        Self {
            namespace: namespace.to_string(),
            hostnames: spec["hostnames"]
                .as_array()
                .map(|hs| {
                    hs.iter()
                        .filter_map(|h| h.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default(),
            parents: spec["parentRefs"]
                .as_array()
                .map(|ps| {
                    ps.iter()
                        .map(|p| ParentRef {
                            group: text(&p["group"]),
                            kind: text(&p["kind"]),
                            namespace: text(&p["namespace"]),
                            name: p["name"].as_str().unwrap_or_default().to_string(),
                        })
                        .collect()
                })
                .unwrap_or_default(),
        }
    }
}

/// The class filters; an empty string means "no filter".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClassFilters {
    /// `--ingress-class`.
    pub ingress_class: String,
    /// `--gateway-class`.
    pub gateway_class: String,
}

impl ClassFilters {
    /// Whether an Ingress passes `--ingress-class` (an Ingress without a class only passes when
    /// there is no filter).
    pub fn selects_ingress(&self, ingress: &IngressInfo) -> bool {
        self.ingress_class.is_empty()
            || ingress.class.as_deref() == Some(self.ingress_class.as_str())
    }

    /// Whether a Gateway passes `--gateway-class`.
    pub fn selects_gateway(&self, gateway: &GatewayInfo) -> bool {
        self.gateway_class.is_empty() || gateway.class == self.gateway_class
    }

    /// Whether a route's hostnames count: always without a gateway-class filter, otherwise only
    /// when one of its parents is a Gateway for which `selected(namespace, name)` holds.
    pub fn selects_route(&self, route: &RouteInfo, selected: impl Fn(&str, &str) -> bool) -> bool {
        self.gateway_class.is_empty()
            || route
                .gateway_parents()
                .any(|(namespace, name)| selected(namespace, name))
    }
}

impl RouteInfo {
    /// `(namespace, name)` of every parent that is a Gateway (empty group and kind mean the
    /// Gateway API defaults; an empty namespace means the route's own).
    pub fn gateway_parents(&self) -> impl Iterator<Item = (&str, &str)> {
        self.parents.iter().filter_map(|p| {
            let group = p
                .group
                .as_deref()
                .filter(|g| !g.is_empty())
                .unwrap_or(GATEWAY_GROUP);
            let kind = p
                .kind
                .as_deref()
                .filter(|k| !k.is_empty())
                .unwrap_or(GATEWAY_KIND);
            let namespace = p
                .namespace
                .as_deref()
                .filter(|n| !n.is_empty())
                .unwrap_or(&self.namespace);
            (group == GATEWAY_GROUP && kind == GATEWAY_KIND).then_some((namespace, p.name.as_str()))
        })
    }
}

/// Filters, extracts and normalises the host set from all sources at once. The controller keeps
/// the same set incrementally (`runtime::cache`); this is the reference it is tested against.
pub fn collect_hosts<'a>(
    ingresses: impl IntoIterator<Item = &'a IngressInfo>,
    gateways: impl IntoIterator<Item = &'a GatewayInfo>,
    routes: impl IntoIterator<Item = &'a RouteInfo>,
    filters: &ClassFilters,
) -> HostSet {
    let mut raw: Vec<&str> = Vec::new();
    for ing in ingresses {
        if filters.selects_ingress(ing) {
            raw.extend(ing.tls_hosts.iter().map(String::as_str));
        }
    }
    let surviving: Vec<&GatewayInfo> = gateways
        .into_iter()
        .filter(|g| filters.selects_gateway(g))
        .collect();
    let survivor_keys: HashSet<(&str, &str)> = surviving
        .iter()
        .map(|g| (g.namespace.as_str(), g.name.as_str()))
        .collect();
    for gw in &surviving {
        raw.extend(gw.listener_hosts.iter().map(String::as_str));
    }
    for route in routes {
        if filters.selects_route(route, |ns, name| survivor_keys.contains(&(ns, name))) {
            raw.extend(route.hostnames.iter().map(String::as_str));
        }
    }
    HostSet::from_raw(raw)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ingress(value: Value) -> IngressInfo {
        IngressInfo::from_ingress(&serde_json::from_value(value).unwrap())
    }

    fn hosts(
        i: &[IngressInfo],
        g: &[GatewayInfo],
        r: &[RouteInfo],
        f: &ClassFilters,
    ) -> Vec<String> {
        collect_hosts(i, g, r, f).hosts
    }

    #[test]
    fn ingress_contributes_only_tls_hosts() {
        let with_tls = ingress(
            json!({"spec": {"tls": [{"hosts": ["A.example.com", "b.example.com"]}, {}],
            "rules": [{"host": "rule.example.com"}]}}),
        );
        let without = ingress(json!({"spec": {"rules": [{"host": "c.example.com"}]}}));
        let empty = ingress(json!({}));
        assert_eq!(
            hosts(
                &[with_tls, without, empty],
                &[],
                &[],
                &ClassFilters::default()
            ),
            ["a.example.com", "b.example.com"]
        );
    }

    #[test]
    fn gateway_listeners_and_routes() {
        let gw = GatewayInfo::from_json(
            "ns",
            "gw",
            &json!({"spec": {"gatewayClassName": "c", "listeners": [
            {"name": "http", "protocol": "HTTP", "hostname": "http.example.com"},
            {"name": "nohost", "protocol": "HTTPS"}]}}),
        );
        assert_eq!(gw.listener_hosts, ["http.example.com"]);
        let route = RouteInfo::from_json(
            "ns",
            &json!({"spec": {"hostnames": ["Route.example.com", "*.example.com"]}}),
        );
        let got = hosts(&[], &[gw], &[route], &ClassFilters::default());
        assert_eq!(got, ["http.example.com", "route.example.com"]);
        // Absent spec is tolerated.
        assert_eq!(RouteInfo::from_json("ns", &json!({})).hostnames.len(), 0);
    }

    #[test]
    fn mixed_case_duplicates_across_sources_collapse() {
        let i = ingress(json!({"spec": {"tls": [{"hosts": ["Foo.example.com"]}]}}));
        let g = GatewayInfo {
            namespace: "n".into(),
            name: "g".into(),
            class: String::new(),
            listener_hosts: vec!["FOO.example.com".into()],
        };
        let r = RouteInfo {
            namespace: "n".into(),
            hostnames: vec!["foo.EXAMPLE.com".into()],
            parents: vec![],
        };
        assert_eq!(
            hosts(&[i], &[g], &[r], &ClassFilters::default()),
            ["foo.example.com"]
        );
    }

    #[test]
    fn ingress_class_filter() {
        let a =
            ingress(json!({"spec": {"ingressClassName": "nginx", "tls": [{"hosts": ["a.com"]}]}}));
        let b =
            ingress(json!({"spec": {"ingressClassName": "other", "tls": [{"hosts": ["b.com"]}]}}));
        let none = ingress(
            json!({"metadata": {"annotations": {"kubernetes.io/ingress.class": "nginx"}}, "spec": {"tls": [{"hosts": ["c.com"]}]}}),
        );
        let all = [a, b, none];
        assert_eq!(
            hosts(&all, &[], &[], &ClassFilters::default()),
            ["a.com", "b.com", "c.com"]
        );
        let f = ClassFilters {
            ingress_class: "nginx".into(),
            gateway_class: String::new(),
        };
        assert_eq!(hosts(&all, &[], &[], &f), ["a.com"]);
    }

    fn gw(ns: &str, name: &str, class: &str, host: &str) -> GatewayInfo {
        GatewayInfo {
            namespace: ns.into(),
            name: name.into(),
            class: class.into(),
            listener_hosts: vec![host.into()],
        }
    }

    fn route(ns: &str, host: &str, parents: Vec<ParentRef>) -> RouteInfo {
        RouteInfo {
            namespace: ns.into(),
            hostnames: vec![host.into()],
            parents,
        }
    }

    fn parent(ns: Option<&str>, name: &str) -> ParentRef {
        ParentRef {
            namespace: ns.map(Into::into),
            name: name.into(),
            ..Default::default()
        }
    }

    #[test]
    fn gateway_class_filter_and_parent_refs() {
        let f = ClassFilters {
            ingress_class: String::new(),
            gateway_class: "keep".into(),
        };
        let gws = [
            gw("infra", "kept", "keep", "kept-gw.com"),
            gw("infra", "dropped", "other", "dropped-gw.com"),
        ];
        let routes = [
            route("infra", "implicit-ns.com", vec![parent(None, "kept")]),
            route(
                "app",
                "explicit-ns.com",
                vec![parent(Some("infra"), "kept")],
            ),
            route("app", "wrong-ns.com", vec![parent(None, "kept")]),
            route(
                "app",
                "dropped-parent.com",
                vec![parent(Some("infra"), "dropped")],
            ),
            route(
                "app",
                "multi.com",
                vec![
                    parent(Some("infra"), "dropped"),
                    parent(Some("infra"), "kept"),
                ],
            ),
            route(
                "infra",
                "service-parent.com",
                vec![ParentRef {
                    kind: Some("Service".into()),
                    ..parent(None, "kept")
                }],
            ),
            route(
                "infra",
                "core-group.com",
                vec![ParentRef {
                    group: Some(String::new()),
                    kind: Some("Service".into()),
                    ..parent(None, "kept")
                }],
            ),
            route(
                "infra",
                "explicit-kind.com",
                vec![ParentRef {
                    group: Some(GATEWAY_GROUP.into()),
                    kind: Some("Gateway".into()),
                    ..parent(None, "kept")
                }],
            ),
            route("infra", "unattached.com", vec![]),
        ];
        assert_eq!(
            hosts(&[], &gws, &routes, &f),
            [
                "explicit-kind.com",
                "explicit-ns.com",
                "implicit-ns.com",
                "kept-gw.com",
                "multi.com"
            ]
        );
        // No filter: every route passes, attached or not.
        let all = hosts(&[], &gws, &routes, &ClassFilters::default());
        assert!(
            all.contains(&"unattached.com".to_string())
                && all.contains(&"dropped-gw.com".to_string())
        );
        // Filter with no surviving gateway drops every route.
        let none = ClassFilters {
            ingress_class: String::new(),
            gateway_class: "absent".into(),
        };
        assert!(hosts(&[], &gws, &routes, &none).is_empty());
    }

    #[test]
    fn refused_hosts_are_reported() {
        let i = ingress(json!({"spec": {"tls": [{"hosts": ["ok.com", "bad host.com"]}]}}));
        let set = collect_hosts(&[i], &[], &[], &ClassFilters::default());
        assert_eq!(set.hosts, ["ok.com"]);
        assert_eq!(set.refused.len(), 1);
    }
}
