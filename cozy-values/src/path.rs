//! Value paths as users write them: `addons.ouroboros.enabled`, `hosts[0].name`,
//! `annotations["example.com/key"]`.
//!
//! Paths are plain strings so they can key maps and appear in messages unchanged.

/// Path of the child `key` of the map at `parent` (`""` is the root).
pub fn child_key(parent: &str, key: &str) -> String {
    let plain = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    match (parent.is_empty(), plain) {
        (true, true) => key.to_owned(),
        (false, true) => format!("{parent}.{key}"),
        (_, false) => format!("{parent}[{}]", serde_json::Value::String(key.to_owned())),
    }
}

/// Path of element `index` of the list at `parent`.
pub fn child_index(parent: &str, index: usize) -> String {
    format!("{parent}[{index}]")
}

/// Convert a JSON pointer (`/addons/ouroboros/enabled`, as JSON Schema validators report
/// instance locations) into a value path. Numeric segments become indexes only where the
/// value at that point is a list, so a map key `"0"` stays a key.
pub fn from_json_pointer(pointer: &str, root: &serde_json::Value) -> String {
    let mut path = String::new();
    let mut node = Some(root);
    for raw in pointer.split('/').skip(1) {
        let segment = raw.replace("~1", "/").replace("~0", "~");
        match (node, segment.parse::<usize>()) {
            (Some(serde_json::Value::Array(items)), Ok(index)) => {
                path = child_index(&path, index);
                node = items.get(index);
            }
            (current, _) => {
                node = current.and_then(|v| v.get(&segment));
                path = child_key(&path, &segment);
            }
        }
    }
    path
}

/// The parent of a path, or `None` at the root. Used to fall back to the nearest ancestor
/// that has a known origin.
pub fn parent(path: &str) -> Option<&str> {
    if path.is_empty() {
        return None;
    }
    if path.ends_with(']') {
        // An index or a quoted key: cut at the matching `[` (quoted keys are JSON strings,
        // which may contain `[`; scan for the last `[` that starts a bracket segment).
        let mut in_string = false;
        let mut escaped = false;
        let mut last_open = None;
        for (i, c) in path.char_indices() {
            match c {
                _ if escaped => escaped = false,
                '\\' if in_string => escaped = true,
                '"' => in_string = !in_string,
                '[' if !in_string => last_open = Some(i),
                _ => {}
            }
        }
        return last_open.map(|i| &path[..i]);
    }
    Some(match path.rfind(['.', ']']) {
        Some(i) if path.as_bytes()[i] == b'.' => &path[..i],
        Some(i) => &path[..=i],
        None => "",
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn builds_readable_paths() {
        let p = child_key("", "addons");
        let p = child_key(&p, "ouroboros");
        assert_eq!(child_key(&p, "enabled"), "addons.ouroboros.enabled");
        assert_eq!(child_index("hosts", 0), "hosts[0]");
        assert_eq!(child_key("a", "example.com/x"), r#"a["example.com/x"]"#);
        assert_eq!(child_key("", ""), r#"[""]"#);
    }

    #[test]
    fn converts_json_pointers() {
        let root = json!({"a": {"0": {"b": [1, {"c~/d": 2}]}}});
        assert_eq!(
            from_json_pointer("/a/0/b/1/c~0~1d", &root),
            r#"a.0.b[1]["c~/d"]"#
        );
        assert_eq!(from_json_pointer("", &root), "");
    }

    #[test]
    fn walks_up_to_the_root() {
        assert_eq!(parent("a.b[2]"), Some("a.b"));
        assert_eq!(parent("a.b"), Some("a"));
        assert_eq!(parent(r#"a["x.[y"]"#), Some("a"));
        assert_eq!(parent("a[0].b"), Some("a[0]"));
        assert_eq!(parent("a"), Some(""));
        assert_eq!(parent(""), None);
    }
}
