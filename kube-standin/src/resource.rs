//! The resource types the server knows: their names, scope and the apiserver behaviour that
//! differs between them (generation tracking, status/scale subresources, delete responses).

use crate::status::Subject;

/// Which naming rule `metadata.name` must satisfy on create.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameRule {
    /// RFC 1123 subdomain (most kinds).
    Subdomain,
    /// RFC 1123 label (namespaces).
    Label,
    /// RFC 1035 label (services).
    Dns1035Label,
}

/// One served resource, e.g. `apps/v1 deployments`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceType {
    /// API group; empty for the core group.
    pub group: String,
    pub version: String,
    /// Plural, lower case: the URL segment.
    pub plural: String,
    pub singular: String,
    pub kind: String,
    pub namespaced: bool,
    pub short_names: Vec<String>,
    /// Built into the apiserver (as opposed to a CRD). Built-in list items carry no
    /// kind/apiVersion and a delete answers with a `Status`; CRDs do the opposite.
    pub builtin: bool,
    /// Whether `metadata.generation` is set and bumped on spec changes.
    pub tracks_generation: bool,
    /// Whether `status` is a subresource (main-resource writes cannot change it).
    pub status_subresource: bool,
    /// Whether `/scale` is served (autoscaling/v1 Scale over `spec.replicas`).
    pub scale_subresource: bool,
    pub name_rule: NameRule,
}

impl ResourceType {
    /// `v1` for the core group, `group/version` otherwise.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// The key this resource's objects are stored under.
    pub fn key(&self) -> ResourceKey {
        ResourceKey {
            group: self.group.clone(),
            version: self.version.clone(),
            plural: self.plural.clone(),
        }
    }

    pub fn subject(&self) -> Subject<'_> {
        Subject {
            group: &self.group,
            resource: &self.plural,
        }
    }

    /// Verbs advertised in discovery.
    pub fn verbs(&self) -> Vec<&'static str> {
        vec![
            "create",
            "delete",
            "deletecollection",
            "get",
            "list",
            "patch",
            "update",
            "watch",
        ]
    }
}

/// Identifies a resource's object collection (group, version, plural).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ResourceKey {
    pub group: String,
    pub version: String,
    pub plural: String,
}

/// Everything the server serves. Built-ins come from [`ResourceRegistry::builtin`]; tests may
/// register more (a CRD) with [`ResourceRegistry::register`].
#[derive(Debug, Clone, Default)]
pub struct ResourceRegistry {
    types: Vec<ResourceType>,
}

/// Compact description used to build the built-in table.
struct Builtin {
    group: &'static str,
    version: &'static str,
    plural: &'static str,
    kind: &'static str,
    namespaced: bool,
    short: &'static [&'static str],
    builtin: bool,
    generation: bool,
    status: bool,
    scale: bool,
    name_rule: NameRule,
}

const fn core(
    plural: &'static str,
    kind: &'static str,
    namespaced: bool,
    short: &'static [&'static str],
) -> Builtin {
    Builtin {
        group: "",
        version: "v1",
        plural,
        kind,
        namespaced,
        short,
        builtin: true,
        generation: false,
        status: false,
        scale: false,
        name_rule: NameRule::Subdomain,
    }
}

const fn crd(
    group: &'static str,
    version: &'static str,
    plural: &'static str,
    kind: &'static str,
    short: &'static [&'static str],
) -> Builtin {
    Builtin {
        group,
        version,
        plural,
        kind,
        namespaced: true,
        short,
        builtin: false,
        generation: true,
        status: true,
        scale: false,
        name_rule: NameRule::Subdomain,
    }
}

const BUILTINS: &[Builtin] = &[
    core("configmaps", "ConfigMap", true, &["cm"]),
    core("secrets", "Secret", true, &[]),
    core("events", "Event", true, &["ev"]),
    Builtin {
        status: true,
        name_rule: NameRule::Label,
        ..core("namespaces", "Namespace", false, &["ns"])
    },
    Builtin {
        status: true,
        name_rule: NameRule::Dns1035Label,
        ..core("services", "Service", true, &["svc"])
    },
    Builtin {
        group: "networking.k8s.io",
        generation: true,
        status: true,
        ..core("ingresses", "Ingress", true, &["ing"])
    },
    Builtin {
        group: "networking.k8s.io",
        generation: true,
        ..core("ingressclasses", "IngressClass", false, &[])
    },
    Builtin {
        group: "apps",
        generation: true,
        status: true,
        scale: true,
        ..core("deployments", "Deployment", true, &["deploy"])
    },
    Builtin {
        group: "coordination.k8s.io",
        ..core("leases", "Lease", true, &[])
    },
    crd(
        "gateway.networking.k8s.io",
        "v1",
        "gateways",
        "Gateway",
        &["gtw"],
    ),
    crd(
        "gateway.networking.k8s.io",
        "v1",
        "httproutes",
        "HTTPRoute",
        &[],
    ),
    Builtin {
        namespaced: false,
        ..crd(
            "gateway.networking.k8s.io",
            "v1",
            "gatewayclasses",
            "GatewayClass",
            &["gc"],
        )
    },
    crd(
        "externaldns.k8s.io",
        "v1alpha1",
        "dnsendpoints",
        "DNSEndpoint",
        &[],
    ),
    Builtin {
        namespaced: false,
        ..crd(
            "cozystack.io",
            "v1alpha1",
            "packages",
            "Package",
            &["pkg", "pkgs"],
        )
    },
    crd(
        "helm.toolkit.fluxcd.io",
        "v2",
        "helmreleases",
        "HelmRelease",
        &["hr"],
    ),
];

impl ResourceRegistry {
    /// The resources the controller, the renderer's lookup and their tests use.
    pub fn builtin() -> Self {
        let types = BUILTINS
            .iter()
            .map(|b| ResourceType {
                group: b.group.into(),
                version: b.version.into(),
                plural: b.plural.into(),
                singular: b.kind.to_ascii_lowercase(),
                kind: b.kind.into(),
                namespaced: b.namespaced,
                short_names: b.short.iter().map(|s| s.to_string()).collect(),
                builtin: b.builtin,
                tracks_generation: b.generation,
                status_subresource: b.status,
                scale_subresource: b.scale,
                name_rule: b.name_rule,
            })
            .collect();
        ResourceRegistry { types }
    }

    /// Adds (or replaces, by group/version/plural) a resource type.
    pub fn register(&mut self, resource: ResourceType) {
        self.types.retain(|t| t.key() != resource.key());
        self.types.push(resource);
    }

    pub fn types(&self) -> &[ResourceType] {
        &self.types
    }

    pub fn find(&self, group: &str, version: &str, plural: &str) -> Option<&ResourceType> {
        self.types
            .iter()
            .find(|t| t.group == group && t.version == version && t.plural == plural)
    }

    /// Looks a type up by an object's `apiVersion` and `kind`.
    pub fn find_kind(&self, api_version: &str, kind: &str) -> Option<&ResourceType> {
        self.types
            .iter()
            .find(|t| t.api_version() == api_version && t.kind == kind)
    }

    /// Whether any resource is served under this group/version (core: group "").
    pub fn serves_group_version(&self, group: &str, version: &str) -> bool {
        self.types
            .iter()
            .any(|t| t.group == group && t.version == version)
    }

    /// Groups in first-registered order, each with its versions.
    pub fn groups(&self) -> Vec<(String, Vec<String>)> {
        let mut groups: Vec<(String, Vec<String>)> = Vec::new();
        for t in &self.types {
            match groups.iter_mut().find(|(g, _)| *g == t.group) {
                Some((_, versions)) if !versions.contains(&t.version) => {
                    versions.push(t.version.clone())
                }
                Some(_) => {}
                None => groups.push((t.group.clone(), vec![t.version.clone()])),
            }
        }
        groups
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_registry_serves_what_the_controller_uses() {
        let registry = ResourceRegistry::builtin();
        let deploy = registry
            .find("apps", "v1", "deployments")
            .expect("deployments");
        assert!(deploy.scale_subresource && deploy.namespaced && deploy.builtin);
        assert_eq!(
            registry
                .find_kind("networking.k8s.io/v1", "Ingress")
                .map(|t| t.plural.as_str()),
            Some("ingresses")
        );
        assert_eq!(
            registry
                .find_kind("v1", "ConfigMap")
                .map(|t| t.api_version()),
            Some("v1".to_string())
        );
        assert!(!registry.find("", "v1", "namespaces").unwrap().namespaced);
        assert!(
            !registry
                .find("externaldns.k8s.io", "v1alpha1", "dnsendpoints")
                .unwrap()
                .builtin
        );
        assert!(registry.find("apps", "v1", "replicasets").is_none());
    }

    #[test]
    fn groups_list_core_first_and_each_group_once() {
        let groups = ResourceRegistry::builtin().groups();
        assert_eq!(groups[0], ("".to_string(), vec!["v1".to_string()]));
        let gateway = groups
            .iter()
            .filter(|(g, _)| g == "gateway.networking.k8s.io")
            .count();
        assert_eq!(gateway, 1);
    }

    #[test]
    fn register_replaces_by_key() {
        let mut registry = ResourceRegistry::builtin();
        let mut cm = registry.find("", "v1", "configmaps").unwrap().clone();
        cm.short_names = vec!["x".into()];
        let before = registry.types().len();
        registry.register(cm);
        assert_eq!(registry.types().len(), before);
        assert_eq!(
            registry.find("", "v1", "configmaps").unwrap().short_names,
            vec!["x".to_string()]
        );
    }
}
