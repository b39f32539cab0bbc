//! The Helm objects every template sees: `Release`, `Chart`, `Capabilities`, `Template`,
//! `Files` (and `Values`, which the render pipeline supplies).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use minijinja::value::{Enumerator, Object, ObjectRepr, Value};
use minijinja::{Error, ErrorKind, State};
use serde_json::Value as Json;

use crate::chart::ChartMetadata;
use crate::error::RenderError;

/// Release facts (`helm template` renders as a first install).
#[derive(Debug, Clone)]
pub struct ReleaseInfo {
    pub name: String,
    pub namespace: String,
    pub revision: u64,
    pub is_upgrade: bool,
}

impl ReleaseInfo {
    pub fn to_value(&self) -> Value {
        let mut m = BTreeMap::new();
        m.insert("Name", Value::from(self.name.clone()));
        m.insert("Namespace", Value::from(self.namespace.clone()));
        m.insert("Service", Value::from("Helm"));
        m.insert("IsInstall", Value::from(!self.is_upgrade));
        m.insert("IsUpgrade", Value::from(self.is_upgrade));
        m.insert("Revision", Value::from(self.revision));
        map_value(m)
    }
}

/// `Chart` as Helm exposes it: Chart.yaml keys with the first letter capitalised
/// (`apiVersion` → `APIVersion`), every documented field present (empty when unset).
pub fn chart_value(
    meta: &ChartMetadata,
    version: Option<&str>,
    app_version: Option<&str>,
) -> Value {
    let mut m: BTreeMap<String, Value> = BTreeMap::new();
    for key in [
        "Name",
        "Home",
        "Version",
        "Description",
        "Icon",
        "APIVersion",
        "Condition",
        "Tags",
        "AppVersion",
        "KubeVersion",
        "Type",
    ] {
        m.insert(key.to_string(), Value::from(""));
    }
    m.insert("Deprecated".into(), Value::from(false));
    m.insert(
        "Annotations".into(),
        map_value(BTreeMap::<String, Value>::new()),
    );
    for (key, value) in &meta.raw {
        let helm_key = match key.as_str() {
            "apiVersion" => "APIVersion".to_string(),
            other => {
                let mut chars = other.chars();
                match chars.next() {
                    Some(first) => first.to_uppercase().collect::<String>() + chars.as_str(),
                    None => continue,
                }
            }
        };
        m.insert(helm_key, Value::from(minijinja::value::Serde(value)));
    }
    m.insert("Name".into(), Value::from(meta.name.clone()));
    m.insert(
        "Version".into(),
        Value::from(version.unwrap_or(&meta.version).to_string()),
    );
    m.insert(
        "AppVersion".into(),
        Value::from(app_version.unwrap_or(&meta.app_version).to_string()),
    );
    map_value(m)
}

/// `Template` for one template file.
pub fn template_value(source_name: &str) -> Value {
    let base = source_name
        .rsplit_once("/templates/")
        .map(|(b, _)| format!("{b}/templates"))
        .unwrap_or_default();
    let mut m = BTreeMap::new();
    m.insert("Name", Value::from(source_name.to_string()));
    m.insert("BasePath", Value::from(base));
    map_value(m)
}

/// API versions Helm reports when no cluster is reachable (a representative built-in set).
const DEFAULT_API_VERSIONS: &[&str] = &[
    "v1",
    "admissionregistration.k8s.io/v1",
    "apiextensions.k8s.io/v1",
    "apiregistration.k8s.io/v1",
    "apps/v1",
    "authentication.k8s.io/v1",
    "authorization.k8s.io/v1",
    "autoscaling/v1",
    "autoscaling/v2",
    "batch/v1",
    "certificates.k8s.io/v1",
    "coordination.k8s.io/v1",
    "discovery.k8s.io/v1",
    "events.k8s.io/v1",
    "flowcontrol.apiserver.k8s.io/v1",
    "networking.k8s.io/v1",
    "node.k8s.io/v1",
    "policy/v1",
    "rbac.authorization.k8s.io/v1",
    "resource.k8s.io/v1",
    "scheduling.k8s.io/v1",
    "storage.k8s.io/v1",
];

/// `Capabilities`: the Kubernetes version and API versions templates may test.
#[derive(Debug, Clone)]
pub struct Capabilities {
    pub version: String,
    pub major: String,
    pub minor: String,
    pub api_versions: Vec<String>,
}

impl Capabilities {
    /// Helm's defaults (`v1.35.0`), or `--kube-version` (kept as written, with a leading `v`).
    pub fn new(
        kube_version: Option<&str>,
        extra_api_versions: &[String],
    ) -> Result<Capabilities, RenderError> {
        let version = match kube_version {
            None => "v1.35.0".to_string(),
            Some(v) => {
                let v = v.trim();
                let bare = v.strip_prefix('v').unwrap_or(v);
                let parts: Vec<&str> = bare.split('.').collect();
                let numeric = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit());
                if parts.len() < 2
                    || parts.len() > 3
                    || !numeric(parts[0])
                    || !numeric(parts[1].split(['-', '+']).next().unwrap_or(""))
                {
                    return Err(RenderError::KubeVersion {
                        value: v.to_string(),
                    });
                }
                format!("v{bare}")
            }
        };
        let bare = version.trim_start_matches('v');
        let mut parts = bare.split('.');
        let major = parts.next().unwrap_or("1").to_string();
        let minor = parts
            .next()
            .unwrap_or("0")
            .split(['-', '+'])
            .next()
            .unwrap_or("0")
            .to_string();
        let mut api_versions: Vec<String> =
            DEFAULT_API_VERSIONS.iter().map(|s| s.to_string()).collect();
        for extra in extra_api_versions {
            for item in extra.split(',') {
                let item = item.trim();
                if !item.is_empty() && !api_versions.iter().any(|v| v == item) {
                    api_versions.push(item.to_string());
                }
            }
        }
        Ok(Capabilities {
            version,
            major,
            minor,
            api_versions,
        })
    }

    pub fn to_value(&self) -> Value {
        let mut m = BTreeMap::new();
        m.insert("KubeVersion", Value::from_object(KubeVersion(self.clone())));
        m.insert(
            "APIVersions",
            Value::from_object(ApiVersions(self.api_versions.clone())),
        );
        m.insert(
            "HelmVersion",
            map_value([("Version", Value::from("v4.1.4"))]),
        );
        map_value(m)
    }
}

#[derive(Debug)]
struct KubeVersion(Capabilities);

impl Object for KubeVersion {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        match key.as_str()? {
            "Version" | "GitVersion" => Some(Value::from(self.0.version.clone())),
            "Major" => Some(Value::from(self.0.major.clone())),
            "Minor" => Some(Value::from(self.0.minor.clone())),
            _ => None,
        }
    }
    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Str(&["Version", "Major", "Minor", "GitVersion"])
    }
    fn render(self: &Arc<Self>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.version)
    }
}

/// `Capabilities.APIVersions`: a list that also answers `.Has("group/version")`.
#[derive(Debug)]
struct ApiVersions(Vec<String>);

impl Object for ApiVersions {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Seq
    }
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        self.0.get(key.as_usize()?).map(|s| Value::from(s.clone()))
    }
    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Seq(self.0.len())
    }
    fn call_method(
        self: &Arc<Self>,
        _state: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        match method {
            "Has" => {
                let wanted = args.first().and_then(Value::as_str).ok_or_else(|| {
                    Error::new(
                        ErrorKind::MissingArgument,
                        "Has needs an API version string",
                    )
                })?;
                Ok(Value::from(self.0.iter().any(|v| v == wanted)))
            }
            _ => Err(Error::from(ErrorKind::UnknownMethod)),
        }
    }
}

/// `Files`: the chart's non-template files.
#[derive(Debug)]
pub struct Files(pub Arc<BTreeMap<String, Vec<u8>>>);

impl Files {
    fn get(&self, path: &str) -> String {
        self.0
            .get(path.trim_start_matches("./"))
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .unwrap_or_default()
    }
}

impl Object for Files {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let key = key.as_str()?;
        self.0
            .get(key)
            .map(|b| Value::from(String::from_utf8_lossy(b).into_owned()))
    }
    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Values(self.0.keys().map(|k| Value::from(k.clone())).collect())
    }
    fn call_method(
        self: &Arc<Self>,
        _state: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        let arg = || -> Result<String, Error> {
            args.first()
                .and_then(Value::as_str)
                .map(str::to_string)
                .ok_or_else(|| {
                    Error::new(
                        ErrorKind::MissingArgument,
                        format!("Files.{method} needs a path"),
                    )
                })
        };
        match method {
            "Get" => Ok(Value::from(self.get(&arg()?))),
            "GetBytes" => Ok(Value::from(self.get(&arg()?))),
            "Lines" => Ok(Value::from(
                self.get(&arg()?)
                    .lines()
                    .map(str::to_string)
                    .collect::<Vec<_>>(),
            )),
            "Glob" => {
                let pattern = arg()?;
                let matched: BTreeMap<String, Value> = self
                    .0
                    .iter()
                    .filter(|(path, _)| glob_match(&pattern, path))
                    .map(|(path, bytes)| {
                        (
                            path.clone(),
                            Value::from(String::from_utf8_lossy(bytes).into_owned()),
                        )
                    })
                    .collect();
                Ok(map_value(matched))
            }
            _ => Err(Error::from(ErrorKind::UnknownMethod)),
        }
    }
}

/// Glob match with `/` as separator: `*` and `?` stay inside one segment, `**` crosses them.
pub fn glob_match(pattern: &str, path: &str) -> bool {
    fn go(p: &[u8], s: &[u8]) -> bool {
        match p.first() {
            None => s.is_empty(),
            Some(b'*') if p.get(1) == Some(&b'*') => {
                let rest = p[2..].strip_prefix(b"/").unwrap_or(&p[2..]);
                (0..=s.len()).any(|i| go(rest, &s[i..]))
            }
            Some(b'*') => (0..=s.len())
                .take_while(|i| *i == 0 || s[i - 1] != b'/')
                .any(|i| go(&p[1..], &s[i..])),
            Some(b'?') => !s.is_empty() && s[0] != b'/' && go(&p[1..], &s[1..]),
            Some(c) => s.first() == Some(c) && go(&p[1..], &s[1..]),
        }
    }
    go(pattern.as_bytes(), path.as_bytes())
}

/// A template map from key/value pairs (iterates in sorted key order).
pub fn map_value<K: Into<String>>(pairs: impl IntoIterator<Item = (K, Value)>) -> Value {
    Value::from_object(
        pairs
            .into_iter()
            .map(|(k, v)| (k.into(), v))
            .collect::<BTreeMap<String, Value>>(),
    )
}

/// Convert JSON data into a template value (maps iterate in sorted key order).
pub fn json_to_value(json: &Json) -> Value {
    Value::from(minijinja::value::Serde(json))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_segments() {
        assert!(glob_match("sources/*.yaml", "sources/a.yaml"));
        assert!(!glob_match("sources/*.yaml", "sources/sub/a.yaml"));
        assert!(glob_match("sources/**.yaml", "sources/sub/a.yaml"));
        assert!(glob_match("files/?.txt", "files/a.txt"));
        assert!(!glob_match("*.yaml", "a.yml"));
    }

    #[test]
    fn kube_version_forms() {
        let c = Capabilities::new(Some("1.30"), &[]).unwrap();
        assert_eq!(
            (c.version.as_str(), c.major.as_str(), c.minor.as_str()),
            ("v1.30", "1", "30")
        );
        let c = Capabilities::new(None, &["example.com/v1,apps/v1".into()]).unwrap();
        assert!(c.api_versions.contains(&"example.com/v1".to_string()));
        assert!(Capabilities::new(Some("banana"), &[]).is_err());
    }
}
