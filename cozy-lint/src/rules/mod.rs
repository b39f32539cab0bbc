//! The rules, each a module with a `check` function and a stable rule name.
//!
//! Per document: [`required`], [`names`], [`labels`], [`core_types`], [`schemas`].
//! Per render: [`duplicates`], and the platform rules [`controller_rbac`] (a),
//! [`proxy_target`] (b) and [`component_install`] (c), which use the packaging model of
//! [`package_sources`].

pub mod component_install;
pub mod controller_rbac;
pub mod core_types;
pub mod duplicates;
pub mod labels;
pub mod names;
pub mod package_sources;
pub mod proxy_target;
pub mod required;
pub mod schemas;

use serde_json::Value as Json;

use crate::{Finding, Manifest};
use package_sources::SourceIndex;
use proxy_target::{ComponentRenderer, NoComponents};
use schemas::SchemaSet;

/// Everything the rules need besides the documents.
pub struct LintContext<'a> {
    /// Namespace that namespaced objects without `metadata.namespace` land in.
    pub release_namespace: &'a str,
    /// The computed values of the render (the host rules read `publishing.ingressName`).
    pub values: &'a Json,
    pub schemas: &'a SchemaSet,
    /// PackageSources known besides the render's own (the platform's `sources/` files).
    pub extra_sources: &'a [Json],
    pub components: &'a dyn ComponentRenderer,
}

impl LintContext<'_> {
    /// A context with no schemas, sources or component charts.
    pub fn minimal(release_namespace: &str) -> LintContext<'_> {
        static EMPTY_VALUES: Json = Json::Null;
        static NO_SCHEMAS: std::sync::OnceLock<SchemaSet> = std::sync::OnceLock::new();
        LintContext {
            release_namespace,
            values: &EMPTY_VALUES,
            schemas: NO_SCHEMAS.get_or_init(SchemaSet::default),
            extra_sources: &[],
            components: &NoComponents,
        }
    }
}

/// Run every rule over the documents of one render.
pub fn lint_manifests(manifests: &[Manifest], ctx: &LintContext) -> Vec<Finding> {
    let mut out = Vec::new();
    for m in manifests {
        out.extend(required::check(m));
        out.extend(names::check(m));
        out.extend(labels::check(m));
        out.extend(core_types::check(m));
        out.extend(schemas::check(m, ctx.schemas));
    }
    out.extend(duplicates::check(manifests, ctx.release_namespace));
    let sources = SourceIndex::from_objects(
        manifests
            .iter()
            .map(|m| &m.value)
            .chain(ctx.extra_sources.iter()),
    );
    out.extend(controller_rbac::check(manifests, ctx.release_namespace));
    out.extend(proxy_target::check(
        manifests,
        ctx.values,
        ctx.release_namespace,
        &sources,
        ctx.components,
    ));
    out.extend(component_install::check(manifests, &sources));
    out
}
