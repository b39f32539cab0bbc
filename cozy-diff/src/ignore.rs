//! `--ignore PATH`: fields left out of the comparison, written as dotted paths with bracketed keys
//! for keys that contain dots or slashes: `metadata.labels["helm.sh/chart"]`,
//! `spec.template.metadata.annotations["checksum/config"]`, `spec.replicas`, `spec.ports[0]`.
//! No wildcards: a path names exactly one field.

use std::fmt;
use std::str::FromStr;

use serde_json::Value as Json;

/// One step of an ignore path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Key(String),
    Index(usize),
}

/// A parsed `--ignore` path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IgnorePath {
    pub text: String,
    pub steps: Vec<Step>,
}

/// Why an ignore path does not parse; `at` is the byte offset of the problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid --ignore path {path:?} at character {}: {message}", at + 1)]
pub struct IgnorePathError {
    pub path: String,
    pub at: usize,
    pub message: String,
}

impl FromStr for IgnorePath {
    type Err = IgnorePathError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let err = |at: usize, message: &str| IgnorePathError {
            path: text.to_string(),
            at,
            message: message.to_string(),
        };
        let chars: Vec<(usize, char)> = text.char_indices().collect();
        let mut steps = Vec::new();
        let mut i = 0;
        let mut expect_key = true;
        while i < chars.len() {
            let (pos, c) = chars[i];
            match c {
                '[' => {
                    let Some(&(_, next)) = chars.get(i + 1) else {
                        return Err(err(pos, "unterminated `[`"));
                    };
                    if next == '"' || next == '\'' {
                        let mut key = String::new();
                        let mut j = i + 2;
                        loop {
                            let Some(&(p, ch)) = chars.get(j) else {
                                return Err(err(pos, "unterminated quoted key"));
                            };
                            if ch == '\\' {
                                let Some(&(_, esc)) = chars.get(j + 1) else {
                                    return Err(err(p, "dangling `\\`"));
                                };
                                key.push(esc);
                                j += 2;
                                continue;
                            }
                            if ch == next {
                                break;
                            }
                            key.push(ch);
                            j += 1;
                        }
                        if chars.get(j + 1).map(|c| c.1) != Some(']') {
                            return Err(err(
                                chars.get(j + 1).map(|c| c.0).unwrap_or(text.len()),
                                "expected `]` after the quoted key",
                            ));
                        }
                        steps.push(Step::Key(key));
                        i = j + 2;
                    } else {
                        let mut digits = String::new();
                        let mut j = i + 1;
                        while let Some(&(_, ch)) = chars.get(j) {
                            if ch == ']' {
                                break;
                            }
                            digits.push(ch);
                            j += 1;
                        }
                        if chars.get(j).is_none() {
                            return Err(err(pos, "unterminated `[`"));
                        }
                        if digits == "*" {
                            return Err(err(
                                pos + 1,
                                "wildcards are not supported; name one field",
                            ));
                        }
                        let index = digits.parse::<usize>().map_err(|_| {
                            err(
                                pos + 1,
                                "expected a list index or a quoted key inside `[...]`",
                            )
                        })?;
                        steps.push(Step::Index(index));
                        i = j + 1;
                    }
                    expect_key = false;
                }
                '.' => {
                    if expect_key {
                        return Err(err(pos, "empty path segment"));
                    }
                    expect_key = true;
                    i += 1;
                }
                _ => {
                    if !expect_key {
                        return Err(err(pos, "expected `.` or `[` between segments"));
                    }
                    let mut key = String::new();
                    while let Some(&(p, ch)) = chars.get(i) {
                        if ch == '.' || ch == '[' {
                            break;
                        }
                        if ch == '*' {
                            return Err(err(p, "wildcards are not supported; name one field"));
                        }
                        if ch == ']' || ch == '"' {
                            return Err(err(p, "unexpected character"));
                        }
                        key.push(ch);
                        i += 1;
                    }
                    steps.push(Step::Key(key));
                    expect_key = false;
                }
            }
        }
        if steps.is_empty() {
            return Err(err(0, "empty path"));
        }
        if expect_key {
            return Err(err(text.len().saturating_sub(1), "path ends with `.`"));
        }
        Ok(IgnorePath {
            text: text.to_string(),
            steps,
        })
    }
}

impl fmt::Display for IgnorePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl IgnorePath {
    /// Remove the field from `value` if present; returns whether something was removed.
    pub fn remove_from(&self, value: &mut Json) -> bool {
        let Some((last, parents)) = self.steps.split_last() else {
            return false;
        };
        let mut cur = value;
        for step in parents {
            let next = match (step, cur) {
                (Step::Key(k), Json::Object(map)) => map.get_mut(k),
                (Step::Index(i), Json::Array(items)) => items.get_mut(*i),
                _ => None,
            };
            match next {
                Some(n) => cur = n,
                None => return false,
            }
        }
        match (last, cur) {
            (Step::Key(k), Json::Object(map)) => map.remove(k).is_some(),
            (Step::Index(i), Json::Array(items)) if *i < items.len() => {
                items.remove(*i);
                true
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn p(s: &str) -> IgnorePath {
        s.parse().unwrap()
    }

    #[test]
    fn parses_dotted_and_bracketed_keys() {
        assert_eq!(
            p(r#"metadata.labels["helm.sh/chart"]"#).steps,
            vec![
                Step::Key("metadata".into()),
                Step::Key("labels".into()),
                Step::Key("helm.sh/chart".into())
            ]
        );
        assert_eq!(p("spec.ports[1].port").steps[2], Step::Index(1));
        assert_eq!(p("a['x.y']").steps[1], Step::Key("x.y".into()));
    }

    #[test]
    fn rejects_malformed_paths_with_position() {
        for (bad, at) in [
            ("a..b", 2),
            ("a[*]", 2),
            ("a.*", 2),
            ("a[\"x\"", 5),
            ("", 0),
            ("a.", 1),
            ("a[x]", 2),
        ] {
            let e = bad.parse::<IgnorePath>().unwrap_err();
            assert_eq!(e.at, at, "{bad}: {e}");
        }
    }

    #[test]
    fn removes_fields() {
        let mut v = json!({"metadata": {"labels": {"helm.sh/chart": "x-1", "a": "b"}}, "spec": {"ports": [1, 2]}});
        assert!(p(r#"metadata.labels["helm.sh/chart"]"#).remove_from(&mut v));
        assert!(p("spec.ports[0]").remove_from(&mut v));
        assert!(!p("spec.missing.deeper").remove_from(&mut v));
        assert_eq!(
            v,
            json!({"metadata": {"labels": {"a": "b"}}, "spec": {"ports": [2]}})
        );
    }
}
