//! Rule `component-values-installed`: every Package component that carries values is one its
//! PackageSource installs.
//!
//! The package controller builds a Helm release only for components with an `install` block;
//! values given to any other component are dropped without a word, so a platform switch that
//! writes them there is a no-op in production.

use super::package_sources::{is_blank, packages, SourceIndex};
use crate::{Finding, Manifest};

pub const RULE: &str = "component-values-installed";

pub fn check(manifests: &[Manifest], sources: &SourceIndex) -> Vec<Finding> {
    let mut out = Vec::new();
    for pkg in packages(manifests) {
        if !sources.has_source(pkg.name) {
            continue;
        }
        for (component, spec) in &pkg.components {
            let Some(values) = spec.get("values") else {
                continue;
            };
            if is_blank(values) {
                continue;
            }
            let path = format!("spec.components.{component}.values");
            let msg = match sources.component(pkg.name, pkg.variant, component) {
                Some(c) if c.install.is_some() => continue,
                Some(c) => format!(
                    "Package {} gives values to component {component}, but PackageSource {} (variant {}) does not install it (no install block for {}): the package controller builds no release from it and drops the values silently",
                    pkg.name, pkg.name, pkg.variant, c.path
                ),
                None if !sources.variant_exists(pkg.name, pkg.variant) => format!(
                    "Package {} selects variant {}, which PackageSource {} does not define; the values of component {component} go nowhere",
                    pkg.name, pkg.variant, pkg.name
                ),
                None => format!(
                    "Package {} gives values to component {component}, which variant {} of PackageSource {} does not list; the values are dropped silently",
                    pkg.name, pkg.variant, pkg.name
                ),
            };
            out.push(Finding::new(RULE, pkg.manifest, msg).at(path));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn source(install: bool) -> serde_json::Value {
        let mut c = json!({"name": "ingress-system", "path": "system/ingress-nginx"});
        if install {
            c["install"] =
                json!({"namespace": "cozy-ingress-nginx", "releaseName": "ingress-nginx-system"});
        }
        json!({"apiVersion": "cozystack.io/v1alpha1", "kind": "PackageSource", "metadata": {"name": "cozystack.ingress-application"},
            "spec": {"variants": [{"name": "default", "components": [c]}]}})
    }

    fn package(values: serde_json::Value) -> Manifest {
        Manifest::new(
            "platform/templates/bundles/system.yaml",
            json!({"apiVersion": "cozystack.io/v1alpha1", "kind": "Package",
            "metadata": {"name": "cozystack.ingress-application"},
            "spec": {"variant": "default", "components": {"ingress-system": {"values": values}}}}),
        )
    }

    #[test]
    fn values_on_component_without_install_fail() {
        let s = source(false);
        let f = check(
            &[package(
                json!({"ingress-nginx": {"controller": {"config": {"use-proxy-protocol": "true"}}}}),
            )],
            &SourceIndex::from_objects([&s]),
        );
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].rule, RULE);
        assert!(
            f[0].message.contains("does not install it"),
            "{}",
            f[0].message
        );
        assert_eq!(
            f[0].path.as_deref(),
            Some("spec.components.ingress-system.values")
        );
    }

    #[test]
    fn installed_component_or_blank_values_pass() {
        let s = source(true);
        assert!(check(
            &[package(json!({"a": 1}))],
            &SourceIndex::from_objects([&s])
        )
        .is_empty());
        let s = source(false);
        assert!(check(&[package(json!({}))], &SourceIndex::from_objects([&s])).is_empty());
    }

    #[test]
    fn unknown_component_and_unknown_source() {
        let s = source(true);
        let m = Manifest::new(
            "s",
            json!({"kind": "Package", "apiVersion": "cozystack.io/v1alpha1", "metadata": {"name": "cozystack.ingress-application"},
            "spec": {"components": {"ingres-system": {"values": {"a": 1}}}}}),
        );
        assert!(
            check(std::slice::from_ref(&m), &SourceIndex::from_objects([&s]))[0]
                .message
                .contains("does not list")
        );
        assert!(check(&[m], &SourceIndex::default()).is_empty());
    }
}
