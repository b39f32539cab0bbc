//! Rule `required-fields`: every manifest has `apiVersion`, `kind` and `metadata.name`.

use serde_json::Value as Json;

use crate::{Finding, Manifest};

pub const RULE: &str = "required-fields";

pub fn check(m: &Manifest) -> Vec<Finding> {
    let mut out = Vec::new();
    for (pointer, path) in [
        ("/apiVersion", "apiVersion"),
        ("/kind", "kind"),
        ("/metadata/name", "metadata.name"),
    ] {
        match m.value.pointer(pointer) {
            Some(Json::String(s)) if !s.trim().is_empty() => {}
            Some(Json::String(_)) | None | Some(Json::Null) => {
                out.push(Finding::new(RULE, m, format!("`{path}` is required")).at(path));
            }
            Some(other) => {
                out.push(
                    Finding::new(RULE, m, format!("`{path}` must be a string, found {other}"))
                        .at(path),
                );
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn missing_name_and_kind_reported() {
        let m = Manifest::new(
            "c/templates/x.yaml",
            json!({"apiVersion": "v1", "metadata": {}}),
        );
        let f = check(&m);
        let paths: Vec<_> = f.iter().map(|f| f.path.clone().unwrap()).collect();
        assert_eq!(paths, vec!["kind", "metadata.name"]);
    }

    #[test]
    fn complete_manifest_passes() {
        let m = Manifest::new(
            "s",
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}}),
        );
        assert!(check(&m).is_empty());
    }

    #[test]
    fn non_string_name_reported() {
        let m = Manifest::new(
            "s",
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": 5}}),
        );
        assert!(check(&m)[0].message.contains("must be a string"));
    }
}
