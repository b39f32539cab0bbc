//! Label and field selectors as list and watch accept them.
//!
//! Label selectors support the full syntax (`a=b`, `a==b`, `a!=b`, `a in (x,y)`,
//! `a notin (x)`, `a`, `!a`). Field selectors support what the apiserver supports for every
//! kind: `metadata.name` and `metadata.namespace` with `=`, `==` and `!=`.

use serde_json::Value;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SelectorError {
    #[error("unable to parse requirement: {0}")]
    Label(String),
    #[error("invalid selector: '{0}'; can't understand '{1}'")]
    FieldSyntax(String, String),
    #[error("field label not supported: {0}")]
    FieldNotSupported(String),
}

#[derive(Debug, Clone, PartialEq)]
enum LabelRequirement {
    Equals(String, String),
    NotEquals(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    NotExists(String),
}

/// A parsed `labelSelector`; the empty selector matches everything.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LabelSelector {
    requirements: Vec<LabelRequirement>,
}

/// Splits at top-level commas (commas inside parentheses belong to a set).
fn split_requirements(raw: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (i, c) in raw.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                parts.push(&raw[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&raw[start..]);
    parts
}

fn check_key(key: &str, raw: &str) -> Result<String, SelectorError> {
    let ok = !key.is_empty()
        && key.len() <= 317
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'));
    if ok {
        Ok(key.to_string())
    } else {
        Err(SelectorError::Label(format!(
            "invalid label key {key:?} in {raw:?}"
        )))
    }
}

fn parse_set(rest: &str, raw: &str) -> Result<Vec<String>, SelectorError> {
    let rest = rest.trim();
    let inner = rest
        .strip_prefix('(')
        .and_then(|r| r.strip_suffix(')'))
        .ok_or_else(|| {
            SelectorError::Label(format!("expected a parenthesised set of values in {raw:?}"))
        })?;
    Ok(inner
        .split(',')
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .collect())
}

fn parse_requirement(part: &str) -> Result<LabelRequirement, SelectorError> {
    let raw = part.trim();
    if let Some(key) = raw.strip_prefix('!') {
        return Ok(LabelRequirement::NotExists(check_key(key.trim(), raw)?));
    }
    if let Some((key, value)) = raw.split_once("!=") {
        return Ok(LabelRequirement::NotEquals(
            check_key(key.trim(), raw)?,
            value.trim().to_string(),
        ));
    }
    if let Some((key, value)) = raw.split_once("==").or_else(|| raw.split_once('=')) {
        return Ok(LabelRequirement::Equals(
            check_key(key.trim(), raw)?,
            value.trim().to_string(),
        ));
    }
    let mut words = raw.splitn(2, char::is_whitespace);
    let key = words.next().unwrap_or_default();
    let rest = words.next().unwrap_or_default().trim_start();
    if rest.is_empty() {
        return Ok(LabelRequirement::Exists(check_key(key, raw)?));
    }
    if let Some(set) = rest.strip_prefix("notin") {
        return Ok(LabelRequirement::NotIn(
            check_key(key, raw)?,
            parse_set(set, raw)?,
        ));
    }
    if let Some(set) = rest.strip_prefix("in") {
        return Ok(LabelRequirement::In(
            check_key(key, raw)?,
            parse_set(set, raw)?,
        ));
    }
    Err(SelectorError::Label(format!(
        "found {rest:?}, expected: in, notin, =, ==, !=, or end of requirement in {raw:?}"
    )))
}

impl LabelSelector {
    pub fn parse(raw: &str) -> Result<Self, SelectorError> {
        if raw.trim().is_empty() {
            return Ok(Self::default());
        }
        let requirements = split_requirements(raw)
            .into_iter()
            .map(parse_requirement)
            .collect::<Result<_, _>>()?;
        Ok(LabelSelector { requirements })
    }

    pub fn matches(&self, object: &Value) -> bool {
        let labels = object.pointer("/metadata/labels");
        let label = |key: &str| labels.and_then(|l| l.get(key)).and_then(Value::as_str);
        self.requirements.iter().all(|req| match req {
            LabelRequirement::Equals(k, v) => label(k) == Some(v.as_str()),
            LabelRequirement::NotEquals(k, v) => label(k) != Some(v.as_str()),
            LabelRequirement::In(k, vs) => label(k).is_some_and(|l| vs.iter().any(|v| v == l)),
            LabelRequirement::NotIn(k, vs) => label(k).is_none_or(|l| !vs.iter().any(|v| v == l)),
            LabelRequirement::Exists(k) => label(k).is_some(),
            LabelRequirement::NotExists(k) => label(k).is_none(),
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
struct FieldRequirement {
    path: &'static str,
    value: String,
    negated: bool,
}

/// A parsed `fieldSelector` over `metadata.name` / `metadata.namespace`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FieldSelector {
    requirements: Vec<FieldRequirement>,
}

impl FieldSelector {
    pub fn parse(raw: &str) -> Result<Self, SelectorError> {
        let mut requirements = Vec::new();
        for part in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (field, value, negated) = if let Some((f, v)) = part.split_once("!=") {
                (f, v, true)
            } else if let Some((f, v)) = part.split_once("==").or_else(|| part.split_once('=')) {
                (f, v, false)
            } else {
                return Err(SelectorError::FieldSyntax(
                    raw.to_string(),
                    part.to_string(),
                ));
            };
            let path = match field.trim() {
                "metadata.name" => "/metadata/name",
                "metadata.namespace" => "/metadata/namespace",
                other => return Err(SelectorError::FieldNotSupported(other.to_string())),
            };
            requirements.push(FieldRequirement {
                path,
                value: value.trim().to_string(),
                negated,
            });
        }
        Ok(FieldSelector { requirements })
    }

    pub fn matches(&self, object: &Value) -> bool {
        self.requirements.iter().all(|req| {
            let actual = object
                .pointer(req.path)
                .and_then(Value::as_str)
                .unwrap_or("");
            (actual == req.value) != req.negated
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(labels: Value) -> Value {
        json!({"metadata": {"name": "a", "namespace": "ns1", "labels": labels}})
    }

    #[test]
    fn equality_and_set_based_label_requirements() {
        let o = obj(json!({"app": "web", "tier": "front"}));
        let cases = [
            ("", true),
            ("app=web", true),
            ("app==web", true),
            ("app!=web", false),
            ("app=web,tier=back", false),
            ("tier in (front, back)", true),
            ("tier notin (front)", false),
            ("missing notin (x)", true),
            ("app", true),
            ("!app", false),
            ("!missing", true),
            ("app in (a,b),tier", false),
        ];
        for (selector, expected) in cases {
            assert_eq!(
                LabelSelector::parse(selector).unwrap().matches(&o),
                expected,
                "{selector}"
            );
        }
    }

    #[test]
    fn malformed_label_selector_is_an_error() {
        assert!(LabelSelector::parse("app in front").is_err());
        assert!(LabelSelector::parse("a b c").is_err());
        assert!(LabelSelector::parse("=x").is_err());
    }

    #[test]
    fn field_selector_name_and_namespace() {
        let o = obj(json!({}));
        assert!(FieldSelector::parse("metadata.name=a").unwrap().matches(&o));
        assert!(!FieldSelector::parse("metadata.name!=a")
            .unwrap()
            .matches(&o));
        assert!(
            FieldSelector::parse("metadata.namespace==ns1,metadata.name=a")
                .unwrap()
                .matches(&o)
        );
        assert_eq!(
            FieldSelector::parse("spec.x=1").unwrap_err().to_string(),
            "field label not supported: spec.x"
        );
        assert!(FieldSelector::parse("nonsense").is_err());
    }
}
