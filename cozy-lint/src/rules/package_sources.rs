//! The cozystack packaging model the platform rules reason about: a `Package` selects a variant of
//! the `PackageSource` of the same name; each variant lists components (a chart path inside the
//! packages tree) and only components with an `install` block become Helm releases. Tenant
//! HelmReleases consume components as ExternalArtifacts named
//! `cozystack-<source name without "cozystack.">-<variant>-<component>`.

use serde_json::Value as Json;

use crate::Manifest;

/// One component of a PackageSource variant.
#[derive(Debug, Clone, PartialEq)]
pub struct Component {
    pub source: String,
    pub variant: String,
    pub name: String,
    /// Chart path relative to the packages tree (`system/ouroboros`).
    pub path: String,
    /// `(namespace, releaseName)` when the component is installed by the package controller.
    pub install: Option<(String, String)>,
}

impl Component {
    /// The ExternalArtifact name tenant HelmReleases use for this component.
    pub fn artifact_name(&self) -> String {
        format!(
            "cozystack-{}-{}-{}",
            self.source.trim_start_matches("cozystack."),
            self.variant,
            self.name
        )
    }
}

/// Every component of every PackageSource known to a lint run.
#[derive(Debug, Clone, Default)]
pub struct SourceIndex {
    pub components: Vec<Component>,
    sources: Vec<String>,
}

impl SourceIndex {
    /// Index the PackageSources among `objects` (render output and extra source files).
    pub fn from_objects<'a>(objects: impl IntoIterator<Item = &'a Json>) -> SourceIndex {
        let mut index = SourceIndex::default();
        for obj in objects {
            if obj.get("kind").and_then(Json::as_str) != Some("PackageSource") {
                continue;
            }
            let Some(source) = obj.pointer("/metadata/name").and_then(Json::as_str) else {
                continue;
            };
            if index.sources.iter().any(|s| s == source) {
                continue;
            }
            index.sources.push(source.to_string());
            for variant in obj
                .pointer("/spec/variants")
                .and_then(Json::as_array)
                .into_iter()
                .flatten()
            {
                let vname = variant
                    .get("name")
                    .and_then(Json::as_str)
                    .unwrap_or("default");
                for c in variant
                    .get("components")
                    .and_then(Json::as_array)
                    .into_iter()
                    .flatten()
                {
                    let Some(name) = c.get("name").and_then(Json::as_str) else {
                        continue;
                    };
                    let install = c.get("install").filter(|i| i.is_object()).map(|i| {
                        let s = |k: &str| i.get(k).and_then(Json::as_str).unwrap_or("").to_string();
                        (s("namespace"), s("releaseName"))
                    });
                    index.components.push(Component {
                        source: source.to_string(),
                        variant: vname.to_string(),
                        name: name.to_string(),
                        path: c
                            .get("path")
                            .and_then(Json::as_str)
                            .unwrap_or("")
                            .trim_matches('/')
                            .to_string(),
                        install,
                    });
                }
            }
        }
        index
    }

    pub fn has_source(&self, name: &str) -> bool {
        self.sources.iter().any(|s| s == name)
    }

    pub fn variant_exists(&self, source: &str, variant: &str) -> bool {
        self.components
            .iter()
            .any(|c| c.source == source && c.variant == variant)
    }

    pub fn component(&self, source: &str, variant: &str, name: &str) -> Option<&Component> {
        self.components
            .iter()
            .find(|c| c.source == source && c.variant == variant && c.name == name)
    }

    pub fn by_artifact(&self, artifact: &str) -> Option<&Component> {
        self.components
            .iter()
            .find(|c| c.artifact_name() == artifact)
    }
}

/// A Package of the render: name, variant and per-component values.
#[derive(Debug, Clone)]
pub struct PackageRef<'a> {
    pub manifest: &'a Manifest,
    pub name: &'a str,
    pub variant: &'a str,
    pub components: Vec<(&'a str, &'a Json)>,
}

pub fn packages(manifests: &[Manifest]) -> Vec<PackageRef<'_>> {
    manifests
        .iter()
        .filter(|m| m.kind() == "Package" && m.api_version().starts_with("cozystack.io/"))
        .map(|m| PackageRef {
            manifest: m,
            name: m.name(),
            variant: m
                .value
                .pointer("/spec/variant")
                .and_then(Json::as_str)
                .filter(|v| !v.is_empty())
                .unwrap_or("default"),
            components: m
                .value
                .pointer("/spec/components")
                .and_then(Json::as_object)
                .map(|c| c.iter().map(|(k, v)| (k.as_str(), v)).collect())
                .unwrap_or_default(),
        })
        .collect()
}

/// True for `null`, `{}`, `[]` and `""`: values that carry nothing.
pub fn is_blank(v: &Json) -> bool {
    match v {
        Json::Null => true,
        Json::Object(m) => m.is_empty(),
        Json::Array(a) => a.is_empty(),
        Json::String(s) => s.is_empty(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn indexes_components_with_and_without_install() {
        let src = json!({"kind": "PackageSource", "metadata": {"name": "cozystack.kubernetes-application"},
            "spec": {"variants": [{"name": "kubevirt", "components": [
                {"name": "kubernetes-ouroboros", "path": "system/ouroboros"},
                {"name": "x", "path": "/system/x/", "install": {"namespace": "n", "releaseName": "r"}}]}]}});
        let idx = SourceIndex::from_objects([&src]);
        let c = idx
            .by_artifact("cozystack-kubernetes-application-kubevirt-kubernetes-ouroboros")
            .unwrap();
        assert_eq!(c.path, "system/ouroboros");
        assert!(c.install.is_none());
        let x = idx
            .component("cozystack.kubernetes-application", "kubevirt", "x")
            .unwrap();
        assert_eq!(x.install, Some(("n".into(), "r".into())));
        assert_eq!(x.path, "system/x");
    }
}
