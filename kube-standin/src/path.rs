//! Request paths, parsed into what they address. Pure: no registry lookups here.

/// What a URL path addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// `/api`
    CoreVersions,
    /// `/apis`
    GroupList,
    /// `/apis/<group>`
    Group(String),
    /// `/api/v1` or `/apis/<group>/<version>`
    ResourceList {
        group: String,
        version: String,
    },
    Version,
    /// `/healthz`, `/readyz`, `/livez`
    Health,
    /// `/_standin/<rest>`: the test control surface.
    Control(String),
    Resource(ResourcePath),
    NotFound,
}

/// `/api[s]/.../[namespaces/<ns>/]<resource>[/<name>[/<subresource>]]`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourcePath {
    pub group: String,
    pub version: String,
    pub resource: String,
    /// Set when the path went through `namespaces/<ns>/`.
    pub namespace: Option<String>,
    pub name: Option<String>,
    pub subresource: Option<String>,
}

fn resource_route(group: &str, version: &str, rest: &[&str]) -> Route {
    let (namespace, rest) = match rest {
        // `namespaces/<name>/status|finalize` is a subresource of a Namespace, not a collection.
        ["namespaces", _, "status" | "finalize"] => (None, rest),
        ["namespaces", ns, tail @ ..] if !tail.is_empty() => (Some(ns.to_string()), tail),
        _ => (None, rest),
    };
    let build = |resource: &str, name: Option<&str>, sub: Option<&str>| {
        Route::Resource(ResourcePath {
            group: group.into(),
            version: version.into(),
            resource: resource.into(),
            namespace: namespace.clone(),
            name: name.map(str::to_string),
            subresource: sub.map(str::to_string),
        })
    };
    match rest {
        [resource] => build(resource, None, None),
        [resource, name] => build(resource, Some(name), None),
        [resource, name, sub] => build(resource, Some(name), Some(sub)),
        _ => Route::NotFound,
    }
}

/// Parses a request path (without query string).
pub fn parse(path: &str) -> Route {
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    match segments.as_slice() {
        ["api"] => Route::CoreVersions,
        ["apis"] => Route::GroupList,
        ["version"] => Route::Version,
        ["healthz" | "readyz" | "livez", ..] => Route::Health,
        ["_standin", rest @ ..] => Route::Control(rest.join("/")),
        ["api", version] => Route::ResourceList {
            group: String::new(),
            version: version.to_string(),
        },
        ["api", version, rest @ ..] => resource_route("", version, rest),
        ["apis", group] => Route::Group(group.to_string()),
        ["apis", group, version] => Route::ResourceList {
            group: group.to_string(),
            version: version.to_string(),
        },
        ["apis", group, version, rest @ ..] => resource_route(group, version, rest),
        _ => Route::NotFound,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn res(
        group: &str,
        resource: &str,
        ns: Option<&str>,
        name: Option<&str>,
        sub: Option<&str>,
    ) -> Route {
        Route::Resource(ResourcePath {
            group: group.into(),
            version: if group.is_empty() || group == "apps" || group == "networking.k8s.io" {
                "v1".into()
            } else {
                "v1alpha1".into()
            },
            resource: resource.into(),
            namespace: ns.map(str::to_string),
            name: name.map(str::to_string),
            subresource: sub.map(str::to_string),
        })
    }

    #[test]
    fn discovery_paths() {
        assert_eq!(parse("/api"), Route::CoreVersions);
        assert_eq!(parse("/apis"), Route::GroupList);
        assert_eq!(parse("/apis/apps"), Route::Group("apps".into()));
        assert_eq!(
            parse("/api/v1"),
            Route::ResourceList {
                group: "".into(),
                version: "v1".into()
            }
        );
        assert_eq!(
            parse("/apis/apps/v1/"),
            Route::ResourceList {
                group: "apps".into(),
                version: "v1".into()
            }
        );
        assert_eq!(parse("/version"), Route::Version);
        assert_eq!(parse("/healthz"), Route::Health);
        assert_eq!(
            parse("/_standin/requests"),
            Route::Control("requests".into())
        );
    }

    #[test]
    fn resource_paths() {
        assert_eq!(
            parse("/api/v1/configmaps"),
            res("", "configmaps", None, None, None)
        );
        assert_eq!(
            parse("/api/v1/namespaces/kube-system/configmaps/coredns"),
            res("", "configmaps", Some("kube-system"), Some("coredns"), None)
        );
        assert_eq!(
            parse("/api/v1/namespaces"),
            res("", "namespaces", None, None, None)
        );
        assert_eq!(
            parse("/api/v1/namespaces/default"),
            res("", "namespaces", None, Some("default"), None)
        );
        assert_eq!(
            parse("/api/v1/namespaces/default/status"),
            res("", "namespaces", None, Some("default"), Some("status"))
        );
        assert_eq!(
            parse("/apis/apps/v1/namespaces/x/deployments/c/scale"),
            res("apps", "deployments", Some("x"), Some("c"), Some("scale"))
        );
        assert_eq!(
            parse("/apis/networking.k8s.io/v1/ingresses"),
            res("networking.k8s.io", "ingresses", None, None, None)
        );
        assert_eq!(
            parse("/apis/a/v1/namespaces/x/r/n/s/extra"),
            Route::NotFound
        );
        assert_eq!(parse("/other"), Route::NotFound);
    }
}
