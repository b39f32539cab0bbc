//! The request log: every API request with its answer, so tests can assert exactly what a
//! client sent (for example that a read-only client never wrote).

use crate::faults::Verb;
use crate::query::QueryParams;
use serde::Serialize;

/// One served request. Control requests (`/_standin/...`) are not logged.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordedRequest {
    pub method: String,
    pub path: String,
    /// Raw query string, without the `?`.
    pub query: String,
    pub content_type: Option<String>,
    /// The Kubernetes verb, when the path addressed a resource.
    pub verb: Option<Verb>,
    /// The response code (200 for a watch that started streaming).
    pub status: u16,
    /// The request body as text (lossy UTF-8), truncated to 64 KiB.
    pub body: String,
}

impl RecordedRequest {
    /// A decoded query parameter.
    pub fn query_param(&self, key: &str) -> Option<String> {
        QueryParams::parse(&self.query).get(key).map(str::to_string)
    }

    /// GET or HEAD: cannot have changed anything.
    pub fn is_read_only(&self) -> bool {
        matches!(self.method.as_str(), "GET" | "HEAD")
    }

    /// The body parsed as JSON, if it is JSON.
    pub fn body_json(&self) -> Option<serde_json::Value> {
        serde_json::from_str(&self.body).ok()
    }
}

/// Bounded so that long benchmarks cannot grow it without limit; the oldest entries go first.
#[derive(Debug, Default)]
pub struct RequestLog {
    entries: std::collections::VecDeque<RecordedRequest>,
    dropped: u64,
}

const LOG_LIMIT: usize = 200_000;
const BODY_LIMIT: usize = 64 * 1024;

impl RequestLog {
    pub fn record(&mut self, mut entry: RecordedRequest) {
        if entry.body.len() > BODY_LIMIT {
            let mut cut = BODY_LIMIT;
            while !entry.body.is_char_boundary(cut) {
                cut -= 1;
            }
            entry.body.truncate(cut);
        }
        self.entries.push_back(entry);
        if self.entries.len() > LOG_LIMIT {
            self.entries.pop_front();
            self.dropped += 1;
        }
    }

    pub fn entries(&self) -> Vec<RecordedRequest> {
        self.entries.iter().cloned().collect()
    }

    pub fn clear(&mut self) {
        self.entries.clear();
        self.dropped = 0;
    }

    /// How many entries were discarded because the log was full.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(method: &str, body: String) -> RecordedRequest {
        RecordedRequest {
            method: method.into(),
            path: "/api/v1/namespaces/a/configmaps".into(),
            query: "labelSelector=a%3Db".into(),
            content_type: None,
            verb: Some(Verb::List),
            status: 200,
            body,
        }
    }

    #[test]
    fn records_and_decodes() {
        let mut log = RequestLog::default();
        log.record(entry("GET", String::new()));
        log.record(entry("PATCH", "{\"data\":{\"k\":null}}".into()));
        let entries = log.entries();
        assert_eq!(entries.len(), 2);
        assert_eq!(
            entries[0].query_param("labelSelector").as_deref(),
            Some("a=b")
        );
        assert!(entries[0].is_read_only() && !entries[1].is_read_only());
        assert_eq!(
            entries[1].body_json().unwrap()["data"]["k"],
            serde_json::Value::Null
        );
        log.clear();
        assert!(log.entries().is_empty());
    }

    #[test]
    fn long_bodies_are_truncated_on_a_char_boundary() {
        let mut log = RequestLog::default();
        log.record(entry("POST", "é".repeat(BODY_LIMIT)));
        let body = &log.entries()[0].body;
        assert!(body.len() <= BODY_LIMIT && body.chars().all(|c| c == 'é'));
    }
}
