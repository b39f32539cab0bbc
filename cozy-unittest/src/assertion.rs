//! Assertion definitions: helm-unittest's assertion types and their parameters as plain data.
//!
//! Antonyms (`notEqual`, `notExists`, `isNotNull`, ...) parse into the same [`Check`] as their
//! positive form with [`Assertion::negate`] set; `not: true` flips it again, so
//! `notEqual` + `not: true` means `equal`, as in helm-unittest.

use serde_json::{Map, Value as Json};

use crate::error::SuiteError;
use crate::path::Path;
use crate::suite::{kind_of, Ctx, DocumentSelector};

/// A compiled regular expression that remembers how it was written.
#[derive(Debug, Clone)]
pub struct Pattern {
    pub text: String,
    pub regex: regex::Regex,
}

impl PartialEq for Pattern {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

/// What an assertion checks.
#[derive(Debug, Clone, PartialEq)]
pub enum Check {
    Equal {
        path: Path,
        value: Json,
        decode_base64: bool,
    },
    EqualRaw {
        value: String,
    },
    MatchRegex {
        path: Path,
        pattern: Pattern,
        decode_base64: bool,
    },
    MatchRegexRaw {
        pattern: Pattern,
    },
    Contains {
        path: Path,
        content: Json,
        count: Option<u64>,
        any: bool,
    },
    ContainsDocument {
        kind: String,
        api_version: String,
        name: Option<String>,
        namespace: Option<String>,
        any: bool,
    },
    Exists {
        path: Path,
    },
    IsNull {
        path: Path,
    },
    IsNullOrEmpty {
        path: Path,
    },
    IsKind {
        of: String,
    },
    IsApiVersion {
        of: String,
    },
    IsType {
        path: Path,
        type_name: String,
    },
    HasDocuments {
        count: u64,
        filter_aware: bool,
    },
    LengthEqual {
        paths: Vec<Path>,
        count: Option<u64>,
    },
    IsSubset {
        path: Path,
        content: Map<String, Json>,
    },
    FailedTemplate {
        error_message: Option<String>,
        error_pattern: Option<Pattern>,
    },
    MatchSnapshot {
        path: Option<Path>,
    },
    MatchSnapshotRaw,
}

impl Check {
    /// Whether the check is about a failed render (`failedTemplate`); every other check needs
    /// a successful render to say anything.
    pub fn expects_failure(&self) -> bool {
        matches!(self, Check::FailedTemplate { .. })
    }
}

/// One entry of `asserts:`.
#[derive(Debug, Clone, PartialEq)]
pub struct Assertion {
    /// Position in the test's `asserts` list.
    pub index: usize,
    /// The assertion type as written (`notEqual`, `isNotNull`, ...).
    pub name: String,
    pub check: Check,
    /// The effective direction: antonym XOR `not`.
    pub negate: bool,
    /// `not: true` as written.
    pub not: bool,
    pub template: Option<String>,
    pub document_index: Option<i64>,
    pub document_selector: Option<DocumentSelector>,
}

const COMMON_KEYS: &[&str] = &["not", "template", "documentIndex", "documentSelector"];

/// (name, antonym) of every supported assertion type.
pub const ASSERTION_TYPES: &[(&str, bool)] = &[
    ("equal", false),
    ("notEqual", true),
    ("equalRaw", false),
    ("notEqualRaw", true),
    ("matchRegex", false),
    ("notMatchRegex", true),
    ("matchRegexRaw", false),
    ("notMatchRegexRaw", true),
    ("contains", false),
    ("notContains", true),
    ("containsDocument", false),
    ("exists", false),
    ("notExists", true),
    ("isNull", false),
    ("isNotNull", true),
    ("isEmpty", false),
    ("isNotEmpty", true),
    ("isNullOrEmpty", false),
    ("isNotNullOrEmpty", true),
    ("isKind", false),
    ("isAPIVersion", false),
    ("isType", false),
    ("isNotType", true),
    ("hasDocuments", false),
    ("lengthEqual", false),
    ("notLengthEqual", true),
    ("isSubset", false),
    ("isNotSubset", true),
    ("failedTemplate", false),
    ("notFailedTemplate", true),
    ("matchSnapshot", false),
    ("matchSnapshotRaw", false),
];

pub(crate) fn parse_assertion(
    ctx: &Ctx,
    v: &Json,
    index: usize,
    location: &str,
) -> Result<Assertion, SuiteError> {
    let map = ctx.object(v, location)?;
    let mut found: Option<(&str, bool, &Json)> = None;
    for (key, value) in map {
        if COMMON_KEYS.contains(&key.as_str()) {
            continue;
        }
        let Some((name, antonym)) = ASSERTION_TYPES.iter().find(|(n, _)| *n == key) else {
            return Err(ctx.err(location, format!("unknown assertion type `{key}`")));
        };
        if let Some((other, _, _)) = found {
            return Err(ctx.err(
                location,
                format!(
                    "assertion types `{other}` and `{key}` in one entry; write one per list item"
                ),
            ));
        }
        found = Some((name, *antonym, value));
    }
    let Some((name, antonym, params)) = found else {
        return Err(ctx.err(location, "no assertion type given"));
    };
    let not = ctx.bool(map.get("not"), &format!("{location}.not"))?;
    let here = format!("{location}.{name}");
    let empty = Map::new();
    let params = match params {
        Json::Null => &empty,
        other => ctx.object(other, &here)?,
    };
    let check = parse_check(ctx, name, params, &here)?;
    Ok(Assertion {
        index,
        name: name.to_string(),
        check,
        negate: antonym != not,
        not,
        template: ctx.opt_string(map.get("template"), &format!("{location}.template"))?,
        document_index: ctx.int(
            map.get("documentIndex"),
            &format!("{location}.documentIndex"),
        )?,
        document_selector: ctx.selector(
            map.get("documentSelector"),
            &format!("{location}.documentSelector"),
        )?,
    })
}

fn pattern(ctx: &Ctx, v: Option<&Json>, location: &str) -> Result<Pattern, SuiteError> {
    let text = match v {
        Some(v) => ctx.string(v, location)?,
        None => return Err(ctx.err(location, "missing")),
    };
    let regex = regex::Regex::new(&text)
        .map_err(|e| ctx.err(location, format!("invalid regular expression: {e}")))?;
    Ok(Pattern { text, regex })
}

fn count(ctx: &Ctx, v: Option<&Json>, location: &str) -> Result<Option<u64>, SuiteError> {
    match ctx.int(v, location)? {
        Some(n) if n < 0 => Err(ctx.err(location, "must not be negative")),
        other => Ok(other.map(|n| n as u64)),
    }
}

fn parse_check(
    ctx: &Ctx,
    name: &str,
    p: &Map<String, Json>,
    here: &str,
) -> Result<Check, SuiteError> {
    let at = |k: &str| format!("{here}.{k}");
    let keys = |known: &[&str]| ctx.check_keys(p, known, here);
    let value_of = |k: &str| {
        p.get(k)
            .cloned()
            .ok_or_else(|| ctx.err(here, format!("missing `{k}`")))
    };
    Ok(match name {
        "equal" | "notEqual" => {
            keys(&["path", "value", "decodeBase64"])?;
            Check::Equal {
                path: ctx.path(p.get("path"), &at("path"))?,
                value: p.get("value").cloned().unwrap_or(Json::Null),
                decode_base64: ctx.bool(p.get("decodeBase64"), &at("decodeBase64"))?,
            }
        }
        "equalRaw" | "notEqualRaw" => {
            keys(&["value"])?;
            Check::EqualRaw {
                value: ctx.string(&value_of("value")?, &at("value"))?,
            }
        }
        "matchRegex" | "notMatchRegex" => {
            keys(&["path", "pattern", "decodeBase64"])?;
            Check::MatchRegex {
                path: ctx.path(p.get("path"), &at("path"))?,
                pattern: pattern(ctx, p.get("pattern"), &at("pattern"))?,
                decode_base64: ctx.bool(p.get("decodeBase64"), &at("decodeBase64"))?,
            }
        }
        "matchRegexRaw" | "notMatchRegexRaw" => {
            keys(&["pattern"])?;
            Check::MatchRegexRaw {
                pattern: pattern(ctx, p.get("pattern"), &at("pattern"))?,
            }
        }
        "contains" | "notContains" => {
            keys(&["path", "content", "count", "any"])?;
            Check::Contains {
                path: ctx.path(p.get("path"), &at("path"))?,
                content: value_of("content")?,
                count: count(ctx, p.get("count"), &at("count"))?,
                any: ctx.bool(p.get("any"), &at("any"))?,
            }
        }
        "containsDocument" => {
            keys(&["kind", "apiVersion", "name", "namespace", "any"])?;
            Check::ContainsDocument {
                kind: ctx.string(&value_of("kind")?, &at("kind"))?,
                api_version: ctx.string(&value_of("apiVersion")?, &at("apiVersion"))?,
                name: ctx.opt_string(p.get("name"), &at("name"))?,
                namespace: ctx.opt_string(p.get("namespace"), &at("namespace"))?,
                any: ctx.bool(p.get("any"), &at("any"))?,
            }
        }
        "exists" | "notExists" => {
            keys(&["path"])?;
            Check::Exists {
                path: ctx.path(p.get("path"), &at("path"))?,
            }
        }
        "isNull" | "isNotNull" => {
            keys(&["path"])?;
            Check::IsNull {
                path: ctx.path(p.get("path"), &at("path"))?,
            }
        }
        "isEmpty" | "isNotEmpty" | "isNullOrEmpty" | "isNotNullOrEmpty" => {
            keys(&["path"])?;
            Check::IsNullOrEmpty {
                path: ctx.path(p.get("path"), &at("path"))?,
            }
        }
        "isKind" => {
            keys(&["of"])?;
            Check::IsKind {
                of: ctx.string(&value_of("of")?, &at("of"))?,
            }
        }
        "isAPIVersion" => {
            keys(&["of"])?;
            Check::IsApiVersion {
                of: ctx.string(&value_of("of")?, &at("of"))?,
            }
        }
        "isType" | "isNotType" => {
            keys(&["path", "type"])?;
            Check::IsType {
                path: ctx.path(p.get("path"), &at("path"))?,
                type_name: ctx.string(&value_of("type")?, &at("type"))?,
            }
        }
        "hasDocuments" => {
            keys(&["count", "filterAware"])?;
            Check::HasDocuments {
                count: count(ctx, p.get("count"), &at("count"))?
                    .ok_or_else(|| ctx.err(here, "missing `count`"))?,
                filter_aware: ctx.bool(p.get("filterAware"), &at("filterAware"))?,
            }
        }
        "lengthEqual" | "notLengthEqual" => {
            keys(&["path", "paths", "count"])?;
            let mut paths = Vec::new();
            if p.contains_key("path") {
                paths.push(ctx.path(p.get("path"), &at("path"))?);
            }
            for (i, text) in ctx
                .string_list(p.get("paths"), &at("paths"))?
                .iter()
                .enumerate()
            {
                paths.push(ctx.path(
                    Some(&Json::String(text.clone())),
                    &format!("{}[{i}]", at("paths")),
                )?);
            }
            let count = count(ctx, p.get("count"), &at("count"))?;
            if paths.is_empty() {
                return Err(ctx.err(here, "give `path` or `paths`"));
            }
            if count.is_none() && paths.len() < 2 {
                return Err(ctx.err(
                    here,
                    "give `count`, or several `paths` to compare with each other",
                ));
            }
            Check::LengthEqual { paths, count }
        }
        "isSubset" | "isNotSubset" => {
            keys(&["path", "content"])?;
            let content = value_of("content")?;
            let content = match content {
                Json::Object(m) => m,
                other => {
                    return Err(ctx.err(
                        &at("content"),
                        format!("expected a map, got {}", kind_of(&other)),
                    ))
                }
            };
            Check::IsSubset {
                path: ctx.path(p.get("path"), &at("path"))?,
                content,
            }
        }
        "failedTemplate" | "notFailedTemplate" => {
            keys(&["errorMessage", "errorPattern"])?;
            let error_message = ctx
                .opt_string(p.get("errorMessage"), &at("errorMessage"))?
                .filter(|s| !s.is_empty());
            let error_pattern = match ctx
                .opt_string(p.get("errorPattern"), &at("errorPattern"))?
                .filter(|s| !s.is_empty())
            {
                None => None,
                // helm-unittest falls back to a literal match when the pattern is not a valid regex.
                Some(text) => {
                    let regex = regex::Regex::new(&text)
                        .or_else(|_| regex::Regex::new(&regex::escape(&text)))
                        .map_err(|e| ctx.err(&at("errorPattern"), e.to_string()))?;
                    Some(Pattern { text, regex })
                }
            };
            if error_message.is_some() && error_pattern.is_some() {
                return Err(ctx.err(here, "give `errorMessage` or `errorPattern`, not both"));
            }
            Check::FailedTemplate {
                error_message,
                error_pattern,
            }
        }
        "matchSnapshot" => {
            keys(&["path"])?;
            Check::MatchSnapshot {
                path: match p.get("path") {
                    None | Some(Json::Null) => None,
                    v => Some(ctx.path(v, &at("path"))?),
                },
            }
        }
        "matchSnapshotRaw" => {
            keys(&[])?;
            Check::MatchSnapshotRaw
        }
        other => return Err(ctx.err(here, format!("unknown assertion type `{other}`"))),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path as FsPath;

    fn parse(yaml: &str) -> Result<Assertion, SuiteError> {
        let v = crate::yaml_in::parse_document(yaml).unwrap();
        let ctx = Ctx {
            file: FsPath::new("s_test.yaml"),
            strict: true,
        };
        parse_assertion(&ctx, &v, 0, "tests[0].asserts[0]")
    }

    #[test]
    fn antonyms_and_not_combine() {
        let a = parse("notEqual: {path: a, value: 1}\n").unwrap();
        assert!(a.negate && !a.not);
        let a = parse("notEqual: {path: a, value: 1}\nnot: true\n").unwrap();
        assert!(!a.negate);
        let a = parse("equal: {path: a, value: 1}\nnot: true\n").unwrap();
        assert!(a.negate);
    }

    #[test]
    fn every_type_parses() {
        for (yaml, name) in [
            ("equalRaw: {value: x}", "equalRaw"),
            ("matchRegex: {path: a, pattern: '^x$'}", "matchRegex"),
            ("matchRegexRaw: {pattern: x}", "matchRegexRaw"),
            (
                "contains: {path: a, content: 1, count: 2, any: true}",
                "contains",
            ),
            (
                "containsDocument: {kind: K, apiVersion: v1, name: n}",
                "containsDocument",
            ),
            ("exists: {path: a}", "exists"),
            ("isNull: {path: a}", "isNull"),
            ("isNotEmpty: {path: a}", "isNotEmpty"),
            ("isKind: {of: K}", "isKind"),
            ("isAPIVersion: {of: v1}", "isAPIVersion"),
            ("isType: {path: a, type: string}", "isType"),
            ("hasDocuments: {count: 1}", "hasDocuments"),
            ("lengthEqual: {paths: [a, b]}", "lengthEqual"),
            ("isSubset: {path: a, content: {x: 1}}", "isSubset"),
            ("failedTemplate: {}", "failedTemplate"),
            ("notFailedTemplate: {}", "notFailedTemplate"),
            ("matchSnapshot: {}", "matchSnapshot"),
            ("matchSnapshotRaw: {}", "matchSnapshotRaw"),
        ] {
            assert_eq!(parse(yaml).unwrap().name, name, "{yaml}");
        }
    }

    #[test]
    fn bad_definitions_are_explained() {
        let e = parse("equals: {path: a}").unwrap_err().to_string();
        assert!(e.contains("unknown assertion type `equals`"), "{e}");
        let e = parse("equal: {path: a}\nexists: {path: a}")
            .unwrap_err()
            .to_string();
        assert!(e.contains("in one entry"), "{e}");
        let e = parse("matchRegex: {path: a, pattern: '('}")
            .unwrap_err()
            .to_string();
        assert!(e.contains("invalid regular expression"), "{e}");
        let e = parse("failedTemplate: {errorMessage: a, errorPattern: b}")
            .unwrap_err()
            .to_string();
        assert!(e.contains("not both"), "{e}");
        let e = parse("hasDocuments: {}").unwrap_err().to_string();
        assert!(e.contains("missing `count`"), "{e}");
        let e = parse("isSubset: {path: a, content: [1]}")
            .unwrap_err()
            .to_string();
        assert!(e.contains("expected a map"), "{e}");
    }

    #[test]
    fn failed_template_pattern_falls_back_to_literal() {
        let a = parse("failedTemplate: {errorPattern: 'value ('}").unwrap();
        let Check::FailedTemplate {
            error_pattern: Some(p),
            ..
        } = a.check
        else {
            panic!()
        };
        assert!(p.regex.is_match("bad value (x)"));
    }
}
