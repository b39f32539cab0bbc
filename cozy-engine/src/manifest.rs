//! Splitting rendered template output into documents and ordering them the way Helm does.
//!
//! Helm facts reproduced here: a document separator is `---` at the start of a line; each
//! document is whitespace-trimmed; empty documents are dropped and comment-only ones kept;
//! ordinary documents are sorted stably by the install order of their kind (unknown kinds last),
//! keeping template-path order and position inside the file; hooks (`helm.sh/hook`) come after
//! every ordinary document, ordered by weight, then kind, then the same path order.

use serde_json::Value as Json;

use crate::error::RenderError;
use crate::render::RenderedFile;

/// Helm's `InstallOrder` of kinds.
pub const INSTALL_ORDER: &[&str] = &[
    "PriorityClass",
    "Namespace",
    "NetworkPolicy",
    "ResourceQuota",
    "LimitRange",
    "PodSecurityPolicy",
    "PodDisruptionBudget",
    "ServiceAccount",
    "Secret",
    "SecretList",
    "ConfigMap",
    "StorageClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "CustomResourceDefinition",
    "ClusterRole",
    "ClusterRoleList",
    "ClusterRoleBinding",
    "ClusterRoleBindingList",
    "Role",
    "RoleList",
    "RoleBinding",
    "RoleBindingList",
    "Service",
    "DaemonSet",
    "Pod",
    "ReplicationController",
    "ReplicaSet",
    "Deployment",
    "HorizontalPodAutoscaler",
    "StatefulSet",
    "Job",
    "CronJob",
    "IngressClass",
    "Ingress",
    "APIService",
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
];

/// A hook document's Helm annotations.
#[derive(Debug, Clone, PartialEq)]
pub struct Hook {
    /// `helm.sh/hook` events, e.g. `["pre-delete"]`.
    pub events: Vec<String>,
    /// `helm.sh/hook-weight` (0 when absent or not an integer).
    pub weight: i64,
    /// `helm.sh/hook-delete-policy` values.
    pub delete_policies: Vec<String>,
}

/// One YAML document of the render.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    /// `# Source:` name (`<chart>/templates/<file>`).
    pub source: String,
    /// Template path relative to the root chart (`templates/<file>`, `charts/<sub>/templates/<file>`).
    pub path: String,
    /// Position of the document inside its template's output (0-based, empty documents skipped).
    pub index: usize,
    /// The trimmed document text as printed.
    pub text: String,
    /// The parsed document (`null` for a comment-only document).
    pub value: Json,
    /// Present when the document is a Helm hook.
    pub hook: Option<Hook>,
}

impl Document {
    pub fn kind(&self) -> &str {
        self.value.get("kind").and_then(Json::as_str).unwrap_or("")
    }
    pub fn api_version(&self) -> &str {
        self.value
            .get("apiVersion")
            .and_then(Json::as_str)
            .unwrap_or("")
    }
    pub fn name(&self) -> &str {
        self.value
            .pointer("/metadata/name")
            .and_then(Json::as_str)
            .unwrap_or("")
    }
    pub fn namespace(&self) -> Option<&str> {
        self.value
            .pointer("/metadata/namespace")
            .and_then(Json::as_str)
    }
    /// True when `template` names this document's template, in relative or source form.
    pub fn matches_template(&self, template: &str) -> bool {
        let t = template.trim_start_matches("./");
        self.path == t || self.source == t
    }
}

/// Split one template's output into trimmed, non-empty document texts (Helm's `SplitManifests`).
pub fn split_documents(text: &str) -> Vec<String> {
    let mut docs = Vec::new();
    let mut current = String::new();
    for line in text.split_inclusive('\n') {
        if let Some(rest) = line.strip_prefix("---") {
            // `---` followed by whitespace (or nothing) separates; anything after the
            // whitespace starts the next document, as Helm's `---\s*` split does.
            if rest.is_empty() || rest.starts_with(char::is_whitespace) {
                push_doc(&mut docs, &current);
                current.clear();
                current.push_str(rest.trim_start());
                continue;
            }
        }
        current.push_str(line);
    }
    push_doc(&mut docs, &current);
    docs
}

fn push_doc(docs: &mut Vec<String>, text: &str) {
    let trimmed = text.trim();
    if !trimmed.is_empty() {
        docs.push(trimmed.to_string());
    }
}

/// Parse every file's documents and return them in Helm's output order.
pub fn order_documents(files: &[RenderedFile]) -> Result<Vec<Document>, RenderError> {
    let mut files_sorted: Vec<&RenderedFile> = files.iter().collect();
    files_sorted.sort_by(|a, b| a.source.cmp(&b.source));
    let mut ordinary = Vec::new();
    let mut hooks = Vec::new();
    for file in files_sorted {
        for (index, text) in split_documents(&file.text).into_iter().enumerate() {
            let value = parse_document(&file.source, &file.text, &text)?;
            let hook = hook_of(&value);
            let doc = Document {
                source: file.source.clone(),
                path: file.path.clone(),
                index,
                text,
                value,
                hook,
            };
            if doc.hook.is_some() {
                hooks.push(doc);
            } else {
                ordinary.push(doc);
            }
        }
    }
    ordinary.sort_by_key(|d| kind_rank(d.kind()));
    hooks.sort_by_key(|d| {
        (
            d.hook.as_ref().map(|h| h.weight).unwrap_or(0),
            kind_rank(d.kind()),
        )
    });
    ordinary.extend(hooks);
    Ok(ordinary)
}

fn kind_rank(kind: &str) -> usize {
    INSTALL_ORDER
        .iter()
        .position(|k| *k == kind)
        .unwrap_or(INSTALL_ORDER.len())
}

/// Most text of parsed documents one thread keeps (see [`remember_parsed_documents`]).
const PARSED_CACHE_BYTES: usize = 16 * 1024 * 1024;

thread_local! {
    /// Documents this thread has parsed, by text; `None` until enabled.
    static PARSED: std::cell::RefCell<Option<ParsedCache>> = const { std::cell::RefCell::new(None) };
}

#[derive(Default)]
struct ParsedCache {
    documents: std::collections::HashMap<String, Json>,
    bytes: usize,
}

/// From now on this thread parses each distinct document text once.
///
/// Render workers turn this on: the cases of a lint matrix or a test run render mostly the
/// same documents again, and parsing them back is a fifth of a render. The value of a document
/// depends on its text alone. Up to [`PARSED_CACHE_BYTES`] of text are kept; later documents
/// are parsed every time.
pub(crate) fn remember_parsed_documents() {
    PARSED.with(|cache| {
        cache.borrow_mut().get_or_insert_with(ParsedCache::default);
    });
}

fn parse_document(source: &str, file_text: &str, doc: &str) -> Result<Json, RenderError> {
    let known = PARSED.with(|cache| {
        cache
            .borrow()
            .as_ref()
            .and_then(|c| c.documents.get(doc).cloned())
    });
    if let Some(value) = known {
        return Ok(value);
    }
    let value = parse_document_text(source, file_text, doc)?;
    PARSED.with(|cache| {
        if let Some(c) = cache.borrow_mut().as_mut() {
            if c.bytes + doc.len() <= PARSED_CACHE_BYTES {
                c.bytes += doc.len();
                c.documents.insert(doc.to_owned(), value.clone());
            }
        }
    });
    Ok(value)
}

fn parse_document_text(source: &str, file_text: &str, doc: &str) -> Result<Json, RenderError> {
    match cozy_values::yaml::parse_manifest(doc, cozy_values::yaml::NumberMode::Native) {
        Ok(value) => {
            if !(value.is_object() || value.is_null()) {
                return Err(RenderError::InvalidYaml {
                    source_name: source.to_string(),
                    message: "a manifest must be a YAML mapping".to_string(),
                    snippet: snippet_around(doc, 1),
                });
            }
            Ok(value)
        }
        Err(err) => {
            let line = err.location().map(|l| l.line).unwrap_or(1);
            let _ = file_text;
            Err(RenderError::InvalidYaml {
                source_name: source.to_string(),
                message: err.to_string(),
                snippet: snippet_around(doc, line),
            })
        }
    }
}

/// The lines around `line` (1-based), numbered, with the faulty one marked.
pub fn snippet_around(text: &str, line: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let from = line.saturating_sub(3).max(1);
    let to = (line + 2).min(lines.len());
    let mut out = String::new();
    for n in from..=to {
        let marker = if n == line { ">" } else { " " };
        out.push_str(&format!(
            "{marker}{n:>4} | {}\n",
            lines.get(n - 1).unwrap_or(&"")
        ));
    }
    out
}

fn hook_of(value: &Json) -> Option<Hook> {
    let annotations = value.pointer("/metadata/annotations")?.as_object()?;
    let events = annotations.get("helm.sh/hook")?.as_str()?;
    let split = |s: &str| {
        s.split(',')
            .map(|p| p.trim().to_string())
            .filter(|p| !p.is_empty())
            .collect::<Vec<_>>()
    };
    let weight = annotations
        .get("helm.sh/hook-weight")
        .and_then(|w| match w {
            Json::String(s) => s.trim().parse::<i64>().ok(),
            Json::Number(n) => n.as_i64(),
            _ => None,
        })
        .unwrap_or(0);
    let delete_policies = annotations
        .get("helm.sh/hook-delete-policy")
        .and_then(Json::as_str)
        .map(split)
        .unwrap_or_default();
    Some(Hook {
        events: split(events),
        weight,
        delete_policies,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separator_only_at_line_start() {
        let docs = split_documents("a: 1\nb: x---y\n---\nc: 2\n  ---\n");
        assert_eq!(
            docs,
            vec!["a: 1\nb: x---y".to_string(), "c: 2\n  ---".to_string()]
        );
    }

    #[test]
    fn empty_documents_dropped_comment_only_kept() {
        let docs = split_documents("---\n\n---\n# just a comment\n---   \n\n");
        assert_eq!(docs, vec!["# just a comment".to_string()]);
    }

    #[test]
    fn text_after_separator_starts_next_document() {
        let docs = split_documents("# Networking---\napiVersion: v1\n--- kind: X\n");
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[1], "kind: X");
    }

    #[test]
    fn kinds_sort_by_install_order_hooks_last() {
        let f = |path: &str, text: &str| RenderedFile {
            source: format!("c/{path}"),
            path: path.into(),
            text: text.into(),
        };
        let files = vec![
            f("templates/a.yaml", "kind: Deployment\nmetadata: {name: d}\n---\nkind: Job\nmetadata:\n  name: j\n  annotations: {helm.sh/hook: pre-delete, helm.sh/hook-weight: \"-5\"}\n"),
            f("templates/b.yaml", "kind: ServiceAccount\nmetadata: {name: s}\n---\nkind: Foo\nmetadata: {name: f}\n---\nkind: Role\nmetadata:\n  name: r\n  annotations: {helm.sh/hook: pre-delete, helm.sh/hook-weight: \"-10\"}\n"),
        ];
        let docs = order_documents(&files).unwrap();
        let names: Vec<&str> = docs.iter().map(|d| d.name()).collect();
        assert_eq!(names, vec!["s", "d", "f", "r", "j"]);
        assert_eq!(docs[4].hook.as_ref().unwrap().weight, -5);
    }
}
