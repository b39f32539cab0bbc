//! Field paths as users write them: `spec.containers[0].image`, `metadata.labels["helm.sh/chart"]`.

/// One step into a JSON value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    Key(String),
    Index(usize),
}

/// Render segments as a dotted path; keys that are not plain identifiers use `["..."]`.
pub fn display(segments: &[Segment]) -> String {
    let mut out = String::new();
    for seg in segments {
        match seg {
            Segment::Index(i) => out.push_str(&format!("[{i}]")),
            Segment::Key(k) if is_plain(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            Segment::Key(k) => out.push_str(&format!("[{}]", serde_json::Value::String(k.clone()))),
        }
    }
    out
}

/// Convert a JSON pointer (`/spec/containers/0/name`) into a dotted path. Numeric segments are
/// shown as indexes.
pub fn from_pointer(pointer: &str) -> String {
    let segments: Vec<Segment> = pointer
        .split('/')
        .skip(1)
        .map(|raw| raw.replace("~1", "/").replace("~0", "~"))
        .map(|s| match s.parse::<usize>() {
            Ok(i) if !s.starts_with('+') => Segment::Index(i),
            _ => Segment::Key(s),
        })
        .collect();
    display(&segments)
}

fn is_plain(key: &str) -> bool {
    !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_with_dots_and_slashes_are_bracketed() {
        let p = vec![
            Segment::Key("metadata".into()),
            Segment::Key("labels".into()),
            Segment::Key("helm.sh/chart".into()),
        ];
        assert_eq!(display(&p), r#"metadata.labels["helm.sh/chart"]"#);
    }

    #[test]
    fn pointer_to_path() {
        assert_eq!(
            from_pointer("/spec/containers/0/imagePullPolicyy"),
            "spec.containers[0].imagePullPolicyy"
        );
        assert_eq!(from_pointer(""), "");
        assert_eq!(from_pointer("/a~1b"), r#"["a/b"]"#);
    }
}
