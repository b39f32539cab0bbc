//! Rendering the packages with cozy-engine and reading what a pod would be started with.

use std::path::{Path, PathBuf};

use cozy_engine::{render, Chart, RenderOptions, Rendered, ValueLayer};
use serde_json::{Map, Value};

/// The workspace root (this package's manifest directory).
pub fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Renders `packages/<package>` as `helm template <release> -n <namespace>` would.
pub fn render_package(
    package: &str,
    release: &str,
    namespace: &str,
    values: Vec<ValueLayer>,
) -> Rendered {
    let dir = workspace().join("packages").join(package);
    let chart = Chart::load(&dir).unwrap_or_else(|e| panic!("load chart {}: {e}", dir.display()));
    let opts = RenderOptions {
        release_name: release.into(),
        namespace: namespace.into(),
        values,
        base_dir: dir.clone(),
        ..Default::default()
    };
    render(&chart, &opts).unwrap_or_else(|e| panic!("render {}: {e:#}", dir.display()))
}

/// A map of values as a render layer; `origin` names it in error messages.
pub fn literal(origin: &str, values: Value) -> ValueLayer {
    match values {
        Value::Object(values) => ValueLayer::Literal {
            origin: origin.into(),
            values,
        },
        other => panic!("{origin}: values must be a map, got {other}"),
    }
}

/// The one document of `kind` named `name`.
pub fn object<'a>(rendered: &'a Rendered, kind: &str, name: impl Fn(&str) -> bool) -> &'a Value {
    let found: Vec<&Value> = rendered
        .documents
        .iter()
        .filter(|d| d.kind() == kind && name(d.name()))
        .map(|d| &d.value)
        .collect();
    match found.as_slice() {
        [one] => one,
        other => panic!(
            "expected one rendered {kind} matching, found {}:\n{}",
            other.len(),
            rendered.to_yaml_stream()
        ),
    }
}

/// The workload (Deployment or Job) whose pod template has a container called `container`.
pub fn workload_with_container<'a>(
    rendered: &'a Rendered,
    kind: &str,
    container: &str,
) -> &'a Value {
    let found: Vec<&Value> = rendered
        .documents
        .iter()
        .filter(|d| d.kind() == kind)
        .map(|d| &d.value)
        .filter(|v| containers(v).iter().any(|c| c["name"] == container))
        .collect();
    match found.as_slice() {
        [one] => one,
        other => panic!(
            "expected one rendered {kind} with a container {container:?}, found {}",
            other.len()
        ),
    }
}

fn containers(workload: &Value) -> Vec<Value> {
    workload
        .pointer("/spec/template/spec/containers")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

/// The command line and environment of one rendered container.
#[derive(Debug, Clone)]
pub struct ContainerSpec {
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
}

impl ContainerSpec {
    pub fn of(workload: &Value, container: &str) -> ContainerSpec {
        let c = containers(workload)
            .into_iter()
            .find(|c| c["name"] == container)
            .unwrap_or_else(|| panic!("no container {container:?} in {workload}"));
        assert!(c.get("command").is_none(), "container {container:?} overrides the image entrypoint; the scenario runs `ouroboros <args>`");
        let args = c["args"]
            .as_array()
            .unwrap_or_else(|| panic!("container {container:?} has no args"))
            .iter()
            .map(scalar_text)
            .collect();
        let env = c["env"]
            .as_array()
            .map(|vars| {
                vars.iter()
                    .map(|v| {
                        let name = v["name"]
                            .as_str()
                            .unwrap_or_else(|| panic!("env entry without a name: {v}"));
                        let value = v.get("value").map(scalar_text).unwrap_or_else(|| {
                            panic!(
                                "env {name} is not a plain value (valueFrom is not emulated): {v}"
                            )
                        });
                        (name.to_string(), value)
                    })
                    .collect()
            })
            .unwrap_or_default();
        ContainerSpec { args, env }
    }

    /// The value of `--name=value` (or `--name value`), if given.
    pub fn flag(&self, name: &str) -> Option<String> {
        let eq = format!("--{name}=");
        let bare = format!("--{name}");
        self.args.iter().enumerate().find_map(|(i, a)| {
            a.strip_prefix(&eq)
                .map(str::to_string)
                .or_else(|| (a == &bare).then(|| self.args.get(i + 1).cloned().unwrap_or_default()))
        })
    }

    /// Replaces the value of `--name` where it is given (both spellings), or appends
    /// `--name=value` when the rendered args leave it at its default.
    pub fn set_flag(&mut self, name: &str, value: &str) {
        let eq = format!("--{name}=");
        let bare = format!("--{name}");
        if let Some(i) = self.args.iter().position(|a| a.starts_with(&eq)) {
            self.args[i] = format!("{eq}{value}");
        } else if let Some(i) = self.args.iter().position(|a| a == &bare) {
            self.args[i + 1] = value.to_string();
        } else {
            self.args.push(format!("{eq}{value}"));
        }
    }
}

fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `spec.values` of the tenant's ouroboros HelmRelease: what packages/apps/kubernetes passes.
pub fn tenant_ouroboros_values(tenant: &Rendered) -> Value {
    let release = object(tenant, "HelmRelease", |n| n.ends_with("-ouroboros"));
    let values = release
        .pointer("/spec/values")
        .cloned()
        .unwrap_or_else(|| panic!("ouroboros HelmRelease has no spec.values: {release}"));
    assert!(values.is_object(), "spec.values is not a map: {values}");
    values
}

/// Relative path helper for messages.
pub fn shown(p: &Path) -> String {
    p.strip_prefix(workspace())
        .unwrap_or(p)
        .display()
        .to_string()
}

pub type Values = Map<String, Value>;
