//! The `path` syntax of helm-unittest assertions, resolved over parsed documents.
//!
//! Accepted forms: `a.b[0].c`, `a["x.y/z"]`, `a['x']`, keys with dashes (`app.kubernetes.io-x`
//! is one key per dot-separated part), `[*]` and `.*` wildcards, and an optional leading `$.`
//! (helm-unittest accepts JSONPath). A path is parsed once into [`Segment`]s; resolving returns
//! every value it reaches, so a wildcard path yields one value per match and a path that reaches
//! nothing yields an empty list (callers decide whether that is a failure).

use serde_json::Value as Json;

use crate::error::PathError;

/// One step of a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    /// A map key.
    Key(String),
    /// A list position (negative counts from the end).
    Index(i64),
    /// Every element of a list or every value of a map.
    Wildcard,
}

/// A parsed assertion path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Path {
    pub text: String,
    pub segments: Vec<Segment>,
}

impl Path {
    /// Parse a path; the error names the path and the character position at fault.
    pub fn parse(text: &str) -> Result<Path, PathError> {
        let segments = parse_segments(text)?;
        Ok(Path {
            text: text.to_string(),
            segments,
        })
    }

    /// Every value the path reaches in `doc`, in document order.
    pub fn resolve<'a>(&self, doc: &'a Json) -> Vec<&'a Json> {
        let mut current = vec![doc];
        for segment in &self.segments {
            let mut next = Vec::new();
            for value in current {
                step(value, segment, &mut next);
            }
            current = next;
        }
        current
    }

    /// Whether the path contains a wildcard (and may legitimately match several values).
    pub fn has_wildcard(&self) -> bool {
        self.segments.contains(&Segment::Wildcard)
    }
}

fn step<'a>(value: &'a Json, segment: &Segment, out: &mut Vec<&'a Json>) {
    match (segment, value) {
        (Segment::Key(key), Json::Object(map)) => {
            if let Some(v) = map.get(key) {
                out.push(v);
            }
        }
        (Segment::Index(i), Json::Array(items)) => {
            let len = items.len() as i64;
            let pos = if *i < 0 { len + *i } else { *i };
            if pos >= 0 && pos < len {
                out.push(&items[pos as usize]);
            }
        }
        (Segment::Wildcard, Json::Array(items)) => out.extend(items.iter()),
        (Segment::Wildcard, Json::Object(map)) => out.extend(map.values()),
        _ => {}
    }
}

/// Largest list index a path may name: Helm's limit for `--set a[N]`.
pub const MAX_INDEX: u64 = 65536;

fn parse_segments(text: &str) -> Result<Vec<Segment>, PathError> {
    let err = |pos: usize, reason: &str| PathError {
        path: text.to_string(),
        position: pos,
        reason: reason.to_string(),
    };
    let chars: Vec<char> = text.chars().collect();
    let mut segments = Vec::new();
    let mut i = 0;
    if chars.first() == Some(&'$') {
        i = 1;
        if chars.get(1) == Some(&'.') {
            i = 2;
        }
    }
    if text.trim().is_empty() {
        return Err(err(0, "the path is empty"));
    }
    let mut expect_key = true;
    while i < chars.len() {
        match chars[i] {
            '[' => {
                let close = find_bracket_end(&chars, i).ok_or_else(|| err(i, "unclosed `[`"))?;
                let inner: String = chars[i + 1..close].iter().collect();
                let inner = inner.trim();
                let segment = parse_bracket(inner).ok_or_else(|| {
                    err(
                        i + 1,
                        "expected a number, `*` or a quoted key inside `[...]`",
                    )
                })?;
                // A `set:` path builds a list that long; refuse what Helm's `--set` refuses.
                if let Segment::Index(n) = segment {
                    if n.unsigned_abs() > MAX_INDEX {
                        return Err(err(
                            i + 1,
                            &format!("list index {n} is out of range (at most {MAX_INDEX})"),
                        ));
                    }
                }
                segments.push(segment);
                i = close + 1;
                expect_key = false;
            }
            '.' => {
                if expect_key && !segments.is_empty() {
                    return Err(err(i, "empty key between dots"));
                }
                i += 1;
                if i >= chars.len() {
                    return Err(err(i, "the path ends with `.`"));
                }
                expect_key = true;
            }
            _ => {
                if !expect_key {
                    return Err(err(i, "expected `.` or `[` after `]`"));
                }
                let start = i;
                while i < chars.len() && chars[i] != '.' && chars[i] != '[' {
                    i += 1;
                }
                let key: String = chars[start..i].iter().collect();
                if key == "*" {
                    segments.push(Segment::Wildcard);
                } else {
                    segments.push(Segment::Key(key));
                }
                expect_key = false;
            }
        }
    }
    Ok(segments)
}

/// Position of the `]` closing the bracket opened at `open`, skipping quoted text.
fn find_bracket_end(chars: &[char], open: usize) -> Option<usize> {
    let mut quote: Option<char> = None;
    let mut i = open + 1;
    while i < chars.len() {
        let c = chars[i];
        match quote {
            Some(q) if c == '\\' => {
                let _ = q;
                i += 1;
            }
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '"' || c == '\'' => quote = Some(c),
            None if c == ']' => return Some(i),
            None => {}
        }
        i += 1;
    }
    None
}

fn parse_bracket(inner: &str) -> Option<Segment> {
    if inner == "*" {
        return Some(Segment::Wildcard);
    }
    if let Ok(n) = inner.parse::<i64>() {
        return Some(Segment::Index(n));
    }
    let first = inner.chars().next()?;
    if (first == '"' || first == '\'') && inner.len() >= 2 && inner.ends_with(first) {
        let body = &inner[1..inner.len() - 1];
        let mut key = String::new();
        let mut escaped = false;
        for c in body.chars() {
            if escaped {
                key.push(c);
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else {
                key.push(c);
            }
        }
        return Some(Segment::Key(key));
    }
    None
}

/// Build the nested value that a `set:` key describes (`a.b[1].c` = v), for merging into values.
/// List indexes create lists padded with nulls, like Helm's `--set a[1]=x`.
pub fn build_set_value(path: &Path, value: Json) -> Json {
    let mut out = value;
    for segment in path.segments.iter().rev() {
        out = match segment {
            Segment::Key(k) => {
                let mut map = serde_json::Map::new();
                map.insert(k.clone(), out);
                Json::Object(map)
            }
            Segment::Index(i) => {
                let pos = (*i).max(0) as usize;
                let mut items = vec![Json::Null; pos];
                items.push(out);
                Json::Array(items)
            }
            Segment::Wildcard => {
                let mut map = serde_json::Map::new();
                map.insert("*".into(), out);
                Json::Object(map)
            }
        };
    }
    out
}

/// Deep-merge `overlay` into `base`: maps merge, lists merge position-wise where the overlay
/// has non-null entries (so `a[1]=x` keeps `a[0]`), everything else is replaced.
pub fn merge_into(base: &mut Json, overlay: Json) {
    match (base, overlay) {
        (Json::Object(b), Json::Object(o)) => {
            for (k, v) in o {
                match b.get_mut(&k) {
                    Some(existing) => merge_into(existing, v),
                    None => {
                        b.insert(k, v);
                    }
                }
            }
        }
        (Json::Array(b), Json::Array(o)) if o.iter().any(|v| v.is_null()) => {
            for (i, v) in o.into_iter().enumerate() {
                if i < b.len() {
                    if !v.is_null() {
                        merge_into(&mut b[i], v);
                    }
                } else {
                    b.push(v);
                }
            }
        }
        (b, o) => *b = o,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn resolve(path: &str, doc: &Json) -> Vec<Json> {
        Path::parse(path)
            .unwrap()
            .resolve(doc)
            .into_iter()
            .cloned()
            .collect()
    }

    #[test]
    fn dotted_and_indexed_paths() {
        let doc = json!({"a": {"b": [{"c": 1}, {"c": 2}]}});
        assert_eq!(resolve("a.b[1].c", &doc), vec![json!(2)]);
        assert_eq!(resolve("a.b[-1].c", &doc), vec![json!(2)]);
        assert_eq!(resolve("$.a.b[0].c", &doc), vec![json!(1)]);
        assert!(resolve("a.b[5].c", &doc).is_empty());
    }

    #[test]
    fn quoted_keys_with_dots_and_slashes() {
        let doc = json!({"metadata": {"annotations": {"kubernetes.io/ingress.class": "nginx", "it's": 1}}});
        assert_eq!(
            resolve(
                r#"metadata.annotations["kubernetes.io/ingress.class"]"#,
                &doc
            ),
            vec![json!("nginx")]
        );
        assert_eq!(
            resolve("metadata.annotations['kubernetes.io/ingress.class']", &doc),
            vec![json!("nginx")]
        );
        assert_eq!(
            resolve(r"metadata.annotations['it\'s']", &doc),
            vec![json!(1)]
        );
    }

    #[test]
    fn dashes_are_part_of_keys() {
        let doc = json!({"data": {"my-key": "v"}});
        assert_eq!(resolve("data.my-key", &doc), vec![json!("v")]);
    }

    #[test]
    fn wildcards_fan_out() {
        let doc =
            json!({"spec": {"containers": [{"name": "a"}, {"name": "b"}]}, "m": {"x": 1, "y": 2}});
        assert_eq!(
            resolve("spec.containers[*].name", &doc),
            vec![json!("a"), json!("b")]
        );
        assert_eq!(resolve("m.*", &doc).len(), 2);
        assert!(Path::parse("spec.containers[*].name")
            .unwrap()
            .has_wildcard());
    }

    #[test]
    fn malformed_paths_are_errors_with_position() {
        let e = Path::parse("a[0").unwrap_err();
        assert_eq!(e.position, 1);
        assert!(e.to_string().contains("a[0"));
        assert!(Path::parse("a..b").is_err());
        assert!(Path::parse("a.").is_err());
        assert!(Path::parse("a[x]").is_err());
        assert!(Path::parse("").is_err());
    }

    #[test]
    fn huge_list_indexes_are_refused_before_anything_is_built() {
        // `set: {a[99999999999]: x}` once asked for a list of that many nulls.
        let e = Path::parse("a[99999999999]").unwrap_err();
        assert!(e.to_string().contains("99999999999"), "{e}");
        assert!(Path::parse("a[-9223372036854775808]").is_err());
        assert!(Path::parse("a[65536]").is_ok());
        assert!(Path::parse("a[-1]").is_ok());
    }

    #[test]
    fn set_values_build_nested_maps_and_lists() {
        let v = build_set_value(&Path::parse("a.b[1].c").unwrap(), json!("x"));
        assert_eq!(v, json!({"a": {"b": [null, {"c": "x"}]}}));
        let mut base = json!({"a": {"b": [{"c": "keep"}, {"d": 1}], "e": 2}});
        merge_into(&mut base, v);
        assert_eq!(
            base,
            json!({"a": {"b": [{"c": "keep"}, {"d": 1, "c": "x"}], "e": 2}})
        );
    }
}
