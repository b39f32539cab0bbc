//! The suite file format (helm-unittest's documented keys) as plain data, and its parser.
//!
//! Parsing is strict about types (a `documentIndex` that is not an integer is an error naming the
//! test and key) and, with `--strict`, about unknown keys too; without it unknown keys are ignored
//! like helm-unittest does.

use std::path::{Path as FsPath, PathBuf};

use serde_json::{Map, Value as Json};

use crate::assertion::{parse_assertion, Assertion};
use crate::error::SuiteError;
use crate::path::Path;
use crate::yaml_in;

/// `documentSelector`.
#[derive(Debug, Clone, PartialEq)]
pub struct DocumentSelector {
    pub path: Path,
    pub value: Json,
    pub match_many: bool,
    pub skip_empty_templates: bool,
}

/// `release:`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReleaseSettings {
    pub name: Option<String>,
    pub namespace: Option<String>,
    pub revision: Option<u64>,
    pub upgrade: Option<bool>,
}

/// `chart:` overrides.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChartOverride {
    pub version: Option<String>,
    pub app_version: Option<String>,
}

/// `capabilities:`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CapabilitiesSettings {
    pub major_version: Option<String>,
    pub minor_version: Option<String>,
    pub api_versions: Option<Vec<String>>,
}

/// Everything that changes what a render produces; suite-level and test-level settings are
/// merged into one of these per test (test wins, `values`/`set` accumulate).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RenderSettings {
    /// Values files, already resolved against the suite file's directory.
    pub values: Vec<PathBuf>,
    /// `set:` entries in file order (suite first, then test).
    pub set: Vec<(Path, Json)>,
    pub release: ReleaseSettings,
    pub chart: ChartOverride,
    pub capabilities: CapabilitiesSettings,
    /// `kubernetesProvider.objects` (what `lookup` sees).
    pub cluster_objects: Option<Vec<Json>>,
}

impl RenderSettings {
    /// Settings of a test layered over its suite's.
    pub fn layered(suite: &RenderSettings, test: &RenderSettings) -> RenderSettings {
        let mut out = suite.clone();
        out.values.extend(test.values.iter().cloned());
        out.set.extend(test.set.iter().cloned());
        let r = &test.release;
        if r.name.is_some() {
            out.release.name = r.name.clone();
        }
        if r.namespace.is_some() {
            out.release.namespace = r.namespace.clone();
        }
        if r.revision.is_some() {
            out.release.revision = r.revision;
        }
        if r.upgrade.is_some() {
            out.release.upgrade = r.upgrade;
        }
        if test.chart.version.is_some() {
            out.chart.version = test.chart.version.clone();
        }
        if test.chart.app_version.is_some() {
            out.chart.app_version = test.chart.app_version.clone();
        }
        let c = &test.capabilities;
        if c.major_version.is_some() {
            out.capabilities.major_version = c.major_version.clone();
        }
        if c.minor_version.is_some() {
            out.capabilities.minor_version = c.minor_version.clone();
        }
        if c.api_versions.is_some() {
            out.capabilities.api_versions = c.api_versions.clone();
        }
        if test.cluster_objects.is_some() {
            out.cluster_objects = test.cluster_objects.clone();
        }
        out
    }
}

/// One `tests[]` entry.
#[derive(Debug, Clone, PartialEq)]
pub struct TestCase {
    pub it: String,
    /// `template` / `templates` of the test.
    pub templates: Vec<String>,
    pub document_index: Option<i64>,
    pub document_selector: Option<DocumentSelector>,
    pub settings: RenderSettings,
    pub asserts: Vec<Assertion>,
    pub skip: Option<String>,
    /// `postRenderer` is not supported; the test is skipped with this explanation.
    pub unsupported: Option<String>,
}

/// One suite file.
#[derive(Debug, Clone, PartialEq)]
pub struct Suite {
    pub file: PathBuf,
    /// `suite:` or, when absent, the file name.
    pub name: String,
    pub templates: Vec<String>,
    pub exclude_templates: Vec<String>,
    pub settings: RenderSettings,
    pub tests: Vec<TestCase>,
    pub skip: Option<String>,
    pub unsupported: Option<String>,
}

const SUITE_KEYS: &[&str] = &[
    "suite",
    "templates",
    "excludeTemplates",
    "values",
    "set",
    "release",
    "capabilities",
    "chart",
    "kubernetesProvider",
    "tests",
    "skip",
    "postRenderer",
];
const TEST_KEYS: &[&str] = &[
    "it",
    "template",
    "templates",
    "documentIndex",
    "documentSelector",
    "values",
    "set",
    "release",
    "capabilities",
    "chart",
    "kubernetesProvider",
    "asserts",
    "skip",
    "postRenderer",
];

/// Read and parse a suite file.
pub fn load_suite(file: &FsPath, strict: bool) -> Result<Suite, SuiteError> {
    let text =
        std::fs::read_to_string(file).map_err(|e| SuiteError::new(file, "", e.to_string()))?;
    parse_suite(&text, file, strict)
}

/// Parse suite text; `file` names the suite in errors and anchors relative `values` paths.
pub fn parse_suite(text: &str, file: &FsPath, strict: bool) -> Result<Suite, SuiteError> {
    let doc = yaml_in::parse_document(text)
        .map_err(|e| SuiteError::new(file, "", format!("not valid YAML: {e}")))?;
    let ctx = Ctx { file, strict };
    let root = ctx.object(&doc, "")?;
    ctx.check_keys(root, SUITE_KEYS, "")?;
    let dir = file.parent().unwrap_or(FsPath::new("."));
    let name = match root.get("suite") {
        Some(v) => ctx.string(v, "suite")?,
        None => file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
    };
    let templates = ctx.string_list(root.get("templates"), "templates")?;
    let exclude_templates = ctx.string_list(root.get("excludeTemplates"), "excludeTemplates")?;
    let settings = ctx.settings(root, dir, "")?;
    let skip = ctx.skip(root.get("skip"), "skip")?;
    let unsupported = root
        .get("postRenderer")
        .map(|_| "postRenderer is not supported by cozy-render test".to_string());
    let tests_value = root
        .get("tests")
        .ok_or_else(|| SuiteError::new(file, "", "missing `tests` (a list of test jobs)"))?;
    let tests_list = tests_value.as_array().ok_or_else(|| {
        SuiteError::new(
            file,
            "tests",
            format!("expected a list, got {}", kind_of(tests_value)),
        )
    })?;
    let mut tests = Vec::new();
    for (i, t) in tests_list.iter().enumerate() {
        tests.push(ctx.test(t, dir, &format!("tests[{i}]"))?);
    }
    Ok(Suite {
        file: file.to_path_buf(),
        name,
        templates,
        exclude_templates,
        settings,
        tests,
        skip,
        unsupported,
    })
}

/// Human name of a JSON value's type, for error messages.
pub fn kind_of(v: &Json) -> &'static str {
    match v {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "a list",
        Json::Object(_) => "a map",
    }
}

/// Parsing context: the file (for messages) and strictness.
pub(crate) struct Ctx<'a> {
    pub file: &'a FsPath,
    pub strict: bool,
}

impl<'a> Ctx<'a> {
    pub fn err(&self, location: &str, reason: impl Into<String>) -> SuiteError {
        SuiteError::new(self.file, location, reason)
    }

    pub fn object<'v>(
        &self,
        v: &'v Json,
        location: &str,
    ) -> Result<&'v Map<String, Json>, SuiteError> {
        v.as_object()
            .ok_or_else(|| self.err(location, format!("expected a map, got {}", kind_of(v))))
    }

    pub fn check_keys(
        &self,
        map: &Map<String, Json>,
        known: &[&str],
        location: &str,
    ) -> Result<(), SuiteError> {
        if !self.strict {
            return Ok(());
        }
        for key in map.keys() {
            if !known.contains(&key.as_str()) {
                return Err(self.err(
                    location,
                    format!("unknown key `{key}` (known: {})", known.join(", ")),
                ));
            }
        }
        Ok(())
    }

    pub fn string(&self, v: &Json, location: &str) -> Result<String, SuiteError> {
        match v {
            Json::String(s) => Ok(s.clone()),
            Json::Number(n) => Ok(n.to_string()),
            Json::Bool(b) => Ok(b.to_string()),
            other => Err(self.err(
                location,
                format!("expected a string, got {}", kind_of(other)),
            )),
        }
    }

    pub fn opt_string(
        &self,
        v: Option<&Json>,
        location: &str,
    ) -> Result<Option<String>, SuiteError> {
        match v {
            None | Some(Json::Null) => Ok(None),
            Some(v) => self.string(v, location).map(Some),
        }
    }

    pub fn bool(&self, v: Option<&Json>, location: &str) -> Result<bool, SuiteError> {
        match v {
            None | Some(Json::Null) => Ok(false),
            Some(Json::Bool(b)) => Ok(*b),
            Some(other) => Err(self.err(
                location,
                format!("expected true or false, got {}", kind_of(other)),
            )),
        }
    }

    pub fn int(&self, v: Option<&Json>, location: &str) -> Result<Option<i64>, SuiteError> {
        match v {
            None | Some(Json::Null) => Ok(None),
            Some(Json::Number(n)) if n.as_i64().is_some() => Ok(n.as_i64()),
            Some(Json::String(s)) if s.trim().parse::<i64>().is_ok() => Ok(s.trim().parse().ok()),
            Some(other) => Err(self.err(
                location,
                format!("expected an integer, got {}", kind_of(other)),
            )),
        }
    }

    pub fn string_list(&self, v: Option<&Json>, location: &str) -> Result<Vec<String>, SuiteError> {
        match v {
            None | Some(Json::Null) => Ok(Vec::new()),
            Some(Json::String(s)) => Ok(vec![s.clone()]),
            Some(Json::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, item)| self.string(item, &format!("{location}[{i}]")))
                .collect(),
            Some(other) => Err(self.err(
                location,
                format!("expected a list of strings, got {}", kind_of(other)),
            )),
        }
    }

    pub fn path(&self, v: Option<&Json>, location: &str) -> Result<Path, SuiteError> {
        let text = match v {
            Some(v) => self.string(v, location)?,
            None => return Err(self.err(location, "missing")),
        };
        Path::parse(&text).map_err(|e| self.err(location, e.to_string()))
    }

    fn skip(&self, v: Option<&Json>, location: &str) -> Result<Option<String>, SuiteError> {
        match v {
            None | Some(Json::Null) => Ok(None),
            Some(v) => {
                let map = self.object(v, location)?;
                let reason = self.opt_string(map.get("reason"), &format!("{location}.reason"))?;
                let min = self.opt_string(
                    map.get("minimumVersion"),
                    &format!("{location}.minimumVersion"),
                )?;
                match (reason, min) {
                    (Some(r), _) => Ok(Some(r)),
                    // A minimum plugin version says nothing about this runner: run the suite.
                    (None, Some(_)) => Ok(None),
                    (None, None) => Ok(Some("skipped".into())),
                }
            }
        }
    }

    pub fn selector(
        &self,
        v: Option<&Json>,
        location: &str,
    ) -> Result<Option<DocumentSelector>, SuiteError> {
        let Some(v) = v else { return Ok(None) };
        if v.is_null() {
            return Ok(None);
        }
        let map = self.object(v, location)?;
        self.check_keys(
            map,
            &["path", "value", "matchMany", "skipEmptyTemplates"],
            location,
        )?;
        let path = self.path(map.get("path"), &format!("{location}.path"))?;
        let value = map
            .get("value")
            .cloned()
            .ok_or_else(|| self.err(location, "missing `value`"))?;
        Ok(Some(DocumentSelector {
            path,
            value,
            match_many: self.bool(map.get("matchMany"), &format!("{location}.matchMany"))?,
            skip_empty_templates: self.bool(
                map.get("skipEmptyTemplates"),
                &format!("{location}.skipEmptyTemplates"),
            )?,
        }))
    }

    fn settings(
        &self,
        map: &Map<String, Json>,
        dir: &FsPath,
        prefix: &str,
    ) -> Result<RenderSettings, SuiteError> {
        let at = |k: &str| {
            if prefix.is_empty() {
                k.to_string()
            } else {
                format!("{prefix}.{k}")
            }
        };
        let mut s = RenderSettings::default();
        for v in self.string_list(map.get("values"), &at("values"))? {
            let p = PathBuf::from(&v);
            s.values.push(if p.is_absolute() { p } else { dir.join(p) });
        }
        if let Some(set) = map.get("set") {
            if !set.is_null() {
                for (key, value) in self.object(set, &at("set"))? {
                    let path = Path::parse(key).map_err(|e| self.err(&at("set"), e.to_string()))?;
                    s.set.push((path, value.clone()));
                }
            }
        }
        if let Some(r) = map.get("release").filter(|v| !v.is_null()) {
            let r = self.object(r, &at("release"))?;
            self.check_keys(
                r,
                &["name", "namespace", "revision", "upgrade"],
                &at("release"),
            )?;
            s.release.name = self
                .opt_string(r.get("name"), &at("release.name"))?
                .filter(|n| !n.is_empty());
            s.release.namespace = self
                .opt_string(r.get("namespace"), &at("release.namespace"))?
                .filter(|n| !n.is_empty());
            s.release.revision = match self.int(r.get("revision"), &at("release.revision"))? {
                Some(n) if n < 0 => {
                    return Err(self.err(&at("release.revision"), "must not be negative"))
                }
                other => other.map(|n| n as u64),
            };
            s.release.upgrade = match r.get("upgrade") {
                None | Some(Json::Null) => None,
                v => Some(self.bool(v, &at("release.upgrade"))?),
            };
        }
        if let Some(c) = map.get("chart").filter(|v| !v.is_null()) {
            let c = self.object(c, &at("chart"))?;
            self.check_keys(c, &["version", "appVersion"], &at("chart"))?;
            s.chart.version = self.opt_string(c.get("version"), &at("chart.version"))?;
            s.chart.app_version = self.opt_string(c.get("appVersion"), &at("chart.appVersion"))?;
        }
        if let Some(c) = map.get("capabilities").filter(|v| !v.is_null()) {
            let c = self.object(c, &at("capabilities"))?;
            self.check_keys(
                c,
                &["majorVersion", "minorVersion", "apiVersions"],
                &at("capabilities"),
            )?;
            s.capabilities.major_version =
                self.opt_string(c.get("majorVersion"), &at("capabilities.majorVersion"))?;
            s.capabilities.minor_version =
                self.opt_string(c.get("minorVersion"), &at("capabilities.minorVersion"))?;
            if c.contains_key("apiVersions") {
                s.capabilities.api_versions =
                    Some(self.string_list(c.get("apiVersions"), &at("capabilities.apiVersions"))?);
            }
        }
        if let Some(p) = map.get("kubernetesProvider").filter(|v| !v.is_null()) {
            let p = self.object(p, &at("kubernetesProvider"))?;
            self.check_keys(p, &["scheme", "objects"], &at("kubernetesProvider"))?;
            let objects = match p.get("objects") {
                None | Some(Json::Null) => Vec::new(),
                Some(Json::Array(items)) => items.clone(),
                Some(other) => {
                    return Err(self.err(
                        &at("kubernetesProvider.objects"),
                        format!("expected a list, got {}", kind_of(other)),
                    ))
                }
            };
            for (i, o) in objects.iter().enumerate() {
                let m = self.object(o, &at(&format!("kubernetesProvider.objects[{i}]")))?;
                for key in ["apiVersion", "kind"] {
                    if !m.get(key).is_some_and(|v| v.is_string()) {
                        return Err(self.err(
                            &at(&format!("kubernetesProvider.objects[{i}]")),
                            format!("missing `{key}`"),
                        ));
                    }
                }
            }
            s.cluster_objects = Some(objects);
        }
        Ok(s)
    }

    fn test(&self, v: &Json, dir: &FsPath, location: &str) -> Result<TestCase, SuiteError> {
        let map = self.object(v, location)?;
        self.check_keys(map, TEST_KEYS, location)?;
        let it = self
            .opt_string(map.get("it"), &format!("{location}.it"))?
            .unwrap_or_else(|| location.to_string());
        let mut templates =
            self.string_list(map.get("templates"), &format!("{location}.templates"))?;
        if let Some(t) = self.opt_string(map.get("template"), &format!("{location}.template"))? {
            if templates.is_empty() {
                templates.push(t);
            }
        }
        let asserts_value = map
            .get("asserts")
            .ok_or_else(|| self.err(location, "missing `asserts`"))?;
        let list = asserts_value.as_array().ok_or_else(|| {
            self.err(
                &format!("{location}.asserts"),
                format!("expected a list, got {}", kind_of(asserts_value)),
            )
        })?;
        let mut asserts = Vec::new();
        for (i, a) in list.iter().enumerate() {
            asserts.push(parse_assertion(
                self,
                a,
                i,
                &format!("{location}.asserts[{i}]"),
            )?);
        }
        Ok(TestCase {
            it,
            templates,
            document_index: self.int(
                map.get("documentIndex"),
                &format!("{location}.documentIndex"),
            )?,
            document_selector: self.selector(
                map.get("documentSelector"),
                &format!("{location}.documentSelector"),
            )?,
            settings: self.settings(map, dir, location)?,
            asserts,
            skip: self.skip(map.get("skip"), &format!("{location}.skip"))?,
            unsupported: map
                .get("postRenderer")
                .map(|_| "postRenderer is not supported by cozy-render test".to_string()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(text: &str) -> Result<Suite, SuiteError> {
        parse_suite(text, FsPath::new("/c/tests/x_test.yaml"), true)
    }

    #[test]
    fn full_suite_parses() {
        let s = parse(
            r#"
suite: deploy
templates: [deployment.yaml]
excludeTemplates: [skip.yaml]
values: [../ci/v.yaml]
set:
  image.tag: "1.0"
release: {name: r, namespace: ns, revision: 3, upgrade: true}
chart: {version: 1.2.3, appVersion: "9"}
capabilities: {majorVersion: 1, minorVersion: 29, apiVersions: [x/v1]}
kubernetesProvider:
  scheme: {}
  objects: [{apiVersion: v1, kind: Secret, metadata: {name: s}}]
tests:
  - it: works
    template: deployment.yaml
    documentIndex: 0
    set: {replicas: 2}
    asserts:
      - equal: {path: spec.replicas, value: 2}
"#,
        )
        .unwrap();
        assert_eq!(s.name, "deploy");
        assert_eq!(
            s.settings.values,
            vec![PathBuf::from("/c/tests/../ci/v.yaml")]
        );
        assert_eq!(s.settings.set[0].1, json!("1.0"));
        assert_eq!(s.settings.release.revision, Some(3));
        assert_eq!(s.settings.capabilities.minor_version.as_deref(), Some("29"));
        assert_eq!(s.settings.cluster_objects.as_ref().unwrap().len(), 1);
        assert_eq!(s.tests[0].templates, vec!["deployment.yaml".to_string()]);
        assert_eq!(s.tests[0].document_index, Some(0));
        let merged = RenderSettings::layered(&s.settings, &s.tests[0].settings);
        assert_eq!(merged.set.len(), 2);
        assert_eq!(merged.release.name.as_deref(), Some("r"));
    }

    #[test]
    fn errors_name_the_file_and_location() {
        let e = parse("tests:\n  - it: x\n    documentIndex: nope\n    asserts: []\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "/c/tests/x_test.yaml: tests[0].documentIndex: expected an integer, got a string"
        );
        let e = parse("tests: {}\n").unwrap_err();
        assert!(e.to_string().contains("tests: expected a list"), "{e}");
        let e = parse("tests:\n  - it: x\n    asserts:\n      - equal: {path: 'a[', value: 1}\n")
            .unwrap_err();
        assert!(
            e.to_string()
                .contains("tests[0].asserts[0].equal.path: invalid path `a[`"),
            "{e}"
        );
    }

    #[test]
    fn strict_mode_rejects_unknown_keys() {
        let e = parse("tests:\n  - it: x\n    asserts: []\n    bogus: 1\n").unwrap_err();
        assert!(e.to_string().contains("unknown key `bogus`"), "{e}");
        let lenient = parse_suite(
            "tests:\n  - it: x\n    asserts: []\n    bogus: 1\n",
            FsPath::new("t.yaml"),
            false,
        );
        assert!(lenient.is_ok());
    }

    #[test]
    fn missing_tests_is_an_error() {
        assert!(parse("suite: x\n")
            .unwrap_err()
            .to_string()
            .contains("missing `tests`"));
    }

    #[test]
    fn post_renderer_marks_unsupported() {
        let s = parse("postRenderer: {cmd: yq}\ntests: []\n").unwrap();
        assert!(s.unsupported.unwrap().contains("postRenderer"));
    }
}
