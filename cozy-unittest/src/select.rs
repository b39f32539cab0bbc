//! Which documents an assertion looks at: its templates, then `documentIndex` or
//! `documentSelector` (assertion-level settings win over test-level ones).

use serde_json::Value as Json;

use crate::compare::values_equal;
use crate::glob::{glob_match, is_pattern};
use crate::rendered::{RenderedChart, TemplateOutput};
use crate::suite::DocumentSelector;
use crate::yaml_out::to_yaml;

/// The documents of one template that an assertion checks.
#[derive(Debug)]
pub struct Target<'a> {
    pub template: String,
    pub output: &'a TemplateOutput,
    /// (position in the template's output, document).
    pub docs: Vec<(usize, &'a Json)>,
}

/// Normalise a template name as suites write it: `deployment.yaml` and `./templates/x.yaml`
/// mean `templates/...`; `charts/<sub>/...` stays as is.
pub fn normalize_template(name: &str) -> String {
    let name = name.trim().trim_start_matches("./");
    if name.starts_with("templates/") || name.starts_with("charts/") || name.starts_with("**") {
        name.to_string()
    } else {
        format!("templates/{name}")
    }
}

/// Resolve template names (with wildcards) against available paths, keeping `available` order.
/// A name that matches nothing is an error naming it.
pub fn resolve_templates(names: &[String], available: &[String]) -> Result<Vec<String>, String> {
    resolve_templates_in(names, available, "")
}

/// [`resolve_templates`] for names relative to a subchart directory (`prefix` = `charts/sub/`):
/// `deployment.yaml` means `charts/sub/templates/deployment.yaml`.
pub fn resolve_templates_in(
    names: &[String],
    available: &[String],
    prefix: &str,
) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::new();
    for name in names {
        let wanted = format!("{prefix}{}", normalize_template(name));
        let hits: Vec<&String> = if is_pattern(&wanted) {
            available
                .iter()
                .filter(|p| glob_match(&wanted, p))
                .collect()
        } else {
            available.iter().filter(|p| **p == wanted).collect()
        };
        if hits.is_empty() {
            return Err(format!(
                "template \"{wanted}\" not exists or not selected in test suite"
            ));
        }
        for h in hits {
            if !out.contains(h) {
                out.push(h.clone());
            }
        }
    }
    let mut ordered: Vec<String> = available
        .iter()
        .filter(|p| out.contains(p))
        .cloned()
        .collect();
    ordered.dedup();
    Ok(ordered)
}

/// Outcome of selecting documents.
#[derive(Debug)]
pub enum Selection<'a> {
    Targets(Vec<Target<'a>>),
    /// `skipEmptyTemplates` removed every template: the assertion is skipped.
    Skipped,
}

/// Pick the documents of `templates` in `rendered` that an assertion checks.
pub fn select<'a>(
    rendered: &'a RenderedChart,
    templates: &[String],
    document_index: Option<i64>,
    selector: Option<&DocumentSelector>,
) -> Result<Selection<'a>, String> {
    static EMPTY: std::sync::OnceLock<TemplateOutput> = std::sync::OnceLock::new();
    let mut targets = Vec::new();
    for t in templates {
        let output = rendered
            .templates
            .get(t)
            .unwrap_or_else(|| EMPTY.get_or_init(TemplateOutput::default));
        let docs: Vec<(usize, &Json)> = output.documents.iter().enumerate().collect();
        targets.push(Target {
            template: t.clone(),
            output,
            docs,
        });
    }
    if let Some(sel) = selector {
        let mut total = 0;
        let mut kept = Vec::new();
        for mut target in targets {
            target.docs.retain(|(_, doc)| {
                sel.path
                    .resolve(doc)
                    .iter()
                    .any(|v| values_equal(v, &sel.value))
            });
            total += target.docs.len();
            if target.docs.is_empty() {
                if sel.skip_empty_templates {
                    continue;
                }
                return Err(format!(
                    "documentSelector (path: {}, value: {}) matched no document in {}",
                    sel.path.text,
                    to_yaml(&sel.value).trim_end(),
                    target.template
                ));
            }
            kept.push(target);
        }
        if total > 1 && !sel.match_many {
            return Err(format!(
                "documentSelector (path: {}, value: {}) matched {total} documents; set `matchMany: true` to assert all of them",
                sel.path.text,
                to_yaml(&sel.value).trim_end()
            ));
        }
        if kept.is_empty() {
            return Ok(Selection::Skipped);
        }
        return Ok(Selection::Targets(kept));
    }
    if let Some(index) = document_index.filter(|i| *i >= 0) {
        for target in &mut targets {
            let i = index as usize;
            if i >= target.docs.len() {
                return Err(format!(
                    "document index {index} is out of range ({} rendered {} document{})",
                    target.template,
                    target.docs.len(),
                    if target.docs.len() == 1 { "" } else { "s" }
                ));
            }
            target.docs = vec![target.docs[i]];
        }
    }
    Ok(Selection::Targets(targets))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::path::Path;
    use serde_json::json;

    #[test]
    fn names_in_a_subchart_scope_are_relative_to_its_directory() {
        let available = vec![
            "templates/deployment.yaml".to_string(),
            "charts/sub/templates/deployment.yaml".to_string(),
            "charts/sub/templates/svc.yaml".to_string(),
        ];
        let got = resolve_templates_in(&["deployment.yaml".into()], &available, "charts/sub/");
        assert_eq!(got.unwrap(), vec![available[1].clone()]);
        let all = resolve_templates_in(&["*.yaml".into()], &available, "charts/sub/").unwrap();
        assert_eq!(all, available[1..].to_vec());
        let e = resolve_templates_in(&["nope.yaml".into()], &available, "charts/sub/");
        assert!(e.unwrap_err().contains("charts/sub/templates/nope.yaml"));
    }

    fn chart() -> RenderedChart {
        let mut c = RenderedChart::default();
        c.templates.insert(
            "templates/a.yaml".into(),
            TemplateOutput {
                documents: vec![json!({"kind": "A", "n": 1}), json!({"kind": "B", "n": 2})],
                raw: None,
            },
        );
        c.templates.insert(
            "templates/b.yaml".into(),
            TemplateOutput {
                documents: vec![json!({"kind": "B", "n": 3})],
                raw: None,
            },
        );
        c
    }

    fn sel(value: serde_json::Value, many: bool, skip: bool) -> DocumentSelector {
        DocumentSelector {
            path: Path::parse("kind").unwrap(),
            value,
            match_many: many,
            skip_empty_templates: skip,
        }
    }

    #[test]
    fn template_names_resolve_with_wildcards() {
        let avail = vec![
            "templates/a.yaml".to_string(),
            "templates/b.yaml".into(),
            "templates/sub/c.yaml".into(),
        ];
        assert_eq!(
            resolve_templates(&["b.yaml".into()], &avail).unwrap(),
            vec!["templates/b.yaml"]
        );
        assert_eq!(
            resolve_templates(&["*.yaml".into()], &avail).unwrap().len(),
            2
        );
        assert_eq!(
            resolve_templates(&["templates/**".into()], &avail)
                .unwrap()
                .len(),
            3
        );
        let e = resolve_templates(&["nope.yaml".into()], &avail).unwrap_err();
        assert_eq!(
            e,
            "template \"templates/nope.yaml\" not exists or not selected in test suite"
        );
    }

    #[test]
    fn document_index_picks_one_per_template() {
        let c = chart();
        let Selection::Targets(t) =
            select(&c, &["templates/a.yaml".into()], Some(1), None).unwrap()
        else {
            panic!()
        };
        assert_eq!(t[0].docs[0].1["n"], json!(2));
        let e = select(&c, &["templates/b.yaml".into()], Some(1), None).unwrap_err();
        assert!(e.contains("document index 1 is out of range"), "{e}");
    }

    #[test]
    fn selector_needs_match_many_for_several_documents() {
        let c = chart();
        let all = vec!["templates/a.yaml".to_string(), "templates/b.yaml".into()];
        let e = select(&c, &all, None, Some(&sel(json!("B"), false, false))).unwrap_err();
        assert!(e.contains("matched 2 documents"), "{e}");
        let Selection::Targets(t) =
            select(&c, &all, None, Some(&sel(json!("B"), true, false))).unwrap()
        else {
            panic!()
        };
        assert_eq!(t.iter().map(|t| t.docs.len()).sum::<usize>(), 2);
    }

    #[test]
    fn selector_with_skip_empty_templates_drops_templates_without_matches() {
        let c = chart();
        let all = vec!["templates/a.yaml".to_string(), "templates/b.yaml".into()];
        let e = select(&c, &all, None, Some(&sel(json!("A"), false, false))).unwrap_err();
        assert!(e.contains("matched no document in templates/b.yaml"), "{e}");
        let Selection::Targets(t) =
            select(&c, &all, None, Some(&sel(json!("A"), false, true))).unwrap()
        else {
            panic!()
        };
        assert_eq!(t.len(), 1);
        assert!(matches!(
            select(&c, &all, None, Some(&sel(json!("Z"), false, true))).unwrap(),
            Selection::Skipped
        ));
    }
}
