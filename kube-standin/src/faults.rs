//! Fault injection: which requests fail, stall or go quiet, and how.
//!
//! Rules match requests by verb, group, resource (`deployments/scale` for a subresource),
//! namespace and name; an unset field matches anything. Counted faults (error bursts, conflict
//! storms) are consumed one matching request at a time; the others stay until cleared.

use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The Kubernetes verb of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verb {
    Get,
    List,
    Watch,
    Create,
    Update,
    Patch,
    Delete,
    #[serde(rename = "deletecollection")]
    DeleteCollection,
}

impl Verb {
    pub fn as_str(self) -> &'static str {
        match self {
            Verb::Get => "get",
            Verb::List => "list",
            Verb::Watch => "watch",
            Verb::Create => "create",
            Verb::Update => "update",
            Verb::Patch => "patch",
            Verb::Delete => "delete",
            Verb::DeleteCollection => "deletecollection",
        }
    }

    pub fn is_write(self) -> bool {
        matches!(
            self,
            Verb::Create | Verb::Update | Verb::Patch | Verb::Delete | Verb::DeleteCollection
        )
    }
}

/// What a request addresses, as fault rules see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RequestInfo {
    pub verb: Verb,
    pub group: String,
    /// Plural, with `/<subresource>` appended for subresource requests.
    pub resource: String,
    /// Empty for cluster-scoped or all-namespace requests.
    pub namespace: String,
    /// Empty for collection requests.
    pub name: String,
}

/// Selects requests; unset fields match anything.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct RequestMatch {
    pub verb: Option<Verb>,
    pub group: Option<String>,
    pub resource: Option<String>,
    pub namespace: Option<String>,
    pub name: Option<String>,
}

impl RequestMatch {
    /// Matches every request.
    pub fn any() -> Self {
        Self::default()
    }

    /// Matches requests to one resource (plural name, or `plural/subresource`).
    pub fn resource(resource: &str) -> Self {
        RequestMatch {
            resource: Some(resource.into()),
            ..Self::default()
        }
    }

    pub fn verb(mut self, verb: Verb) -> Self {
        self.verb = Some(verb);
        self
    }

    pub fn group(mut self, group: &str) -> Self {
        self.group = Some(group.into());
        self
    }

    pub fn namespace(mut self, namespace: &str) -> Self {
        self.namespace = Some(namespace.into());
        self
    }

    pub fn name(mut self, name: &str) -> Self {
        self.name = Some(name.into());
        self
    }

    pub fn matches(&self, info: &RequestInfo) -> bool {
        self.verb.is_none_or(|v| v == info.verb)
            && self.group.as_deref().is_none_or(|g| g == info.group)
            && self.resource.as_deref().is_none_or(|r| r == info.resource)
            && self
                .namespace
                .as_deref()
                .is_none_or(|n| n == info.namespace)
            && self.name.as_deref().is_none_or(|n| n == info.name)
    }
}

/// One fault, as the HTTP control endpoint accepts it (`POST /_standin/faults`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum Fault {
    /// 403 Forbidden for matching requests until cleared.
    Forbid {
        #[serde(rename = "match", default)]
        matcher: RequestMatch,
    },
    /// The next `count` matching requests fail with `code` (500, 503, 504, 429...).
    Errors {
        #[serde(rename = "match", default)]
        matcher: RequestMatch,
        count: u32,
        #[serde(default = "default_error_code")]
        code: u16,
    },
    /// The next `count` matching writes fail with 409 Conflict and change nothing.
    Conflicts {
        #[serde(rename = "match", default)]
        matcher: RequestMatch,
        count: u32,
    },
    /// Matching requests wait this long before being served, until cleared.
    Delay {
        #[serde(rename = "match", default)]
        matcher: RequestMatch,
        millis: u64,
    },
    /// Open matching watches close now (the client sees the stream end).
    DropWatches {
        #[serde(rename = "match", default)]
        matcher: RequestMatch,
    },
    /// Open matching watches stay connected but deliver nothing more, not even bookmarks,
    /// and never time out. With `includeNew`, watches opened later behave the same until cleared.
    SilenceWatches {
        #[serde(rename = "match", default)]
        matcher: RequestMatch,
        #[serde(default, rename = "includeNew")]
        include_new: bool,
    },
}

fn default_error_code() -> u16 {
    500
}

#[derive(Debug, Clone)]
struct Counted {
    matcher: RequestMatch,
    remaining: u32,
    code: u16,
}

/// Standing fault rules.
#[derive(Debug, Clone, Default)]
pub struct FaultRules {
    forbidden: Vec<RequestMatch>,
    errors: Vec<Counted>,
    conflicts: Vec<Counted>,
    delays: Vec<(RequestMatch, Duration)>,
    silent_watches: Vec<RequestMatch>,
}

impl FaultRules {
    pub fn forbid(&mut self, matcher: RequestMatch) {
        self.forbidden.push(matcher);
    }

    pub fn errors(&mut self, matcher: RequestMatch, count: u32, code: u16) {
        self.errors.push(Counted {
            matcher,
            remaining: count,
            code,
        });
    }

    pub fn conflicts(&mut self, matcher: RequestMatch, count: u32) {
        self.conflicts.push(Counted {
            matcher,
            remaining: count,
            code: 409,
        });
    }

    pub fn delay(&mut self, matcher: RequestMatch, delay: Duration) {
        self.delays.push((matcher, delay));
    }

    pub fn silence_new_watches(&mut self, matcher: RequestMatch) {
        self.silent_watches.push(matcher);
    }

    /// The longest delay any rule imposes on this request.
    pub fn delay_for(&self, info: &RequestInfo) -> Duration {
        self.delays
            .iter()
            .filter(|(m, _)| m.matches(info))
            .map(|(_, d)| *d)
            .max()
            .unwrap_or_default()
    }

    pub fn is_forbidden(&self, info: &RequestInfo) -> bool {
        self.forbidden.iter().any(|m| m.matches(info))
    }

    fn take(list: &mut Vec<Counted>, info: &RequestInfo) -> Option<u16> {
        let hit = list
            .iter_mut()
            .find(|c| c.remaining > 0 && c.matcher.matches(info))?;
        hit.remaining -= 1;
        let code = hit.code;
        list.retain(|c| c.remaining > 0);
        Some(code)
    }

    /// Consumes one injected server error for this request, if any is pending.
    pub fn take_error(&mut self, info: &RequestInfo) -> Option<u16> {
        Self::take(&mut self.errors, info)
    }

    /// Consumes one injected conflict for this write, if any is pending. Reads never conflict.
    pub fn take_conflict(&mut self, info: &RequestInfo) -> bool {
        info.verb.is_write() && Self::take(&mut self.conflicts, info).is_some()
    }

    pub fn watch_starts_silent(&self, info: &RequestInfo) -> bool {
        self.silent_watches.iter().any(|m| m.matches(info))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(verb: Verb, resource: &str, name: &str) -> RequestInfo {
        RequestInfo {
            verb,
            group: "".into(),
            resource: resource.into(),
            namespace: "kube-system".into(),
            name: name.into(),
        }
    }

    #[test]
    fn matcher_fields_narrow_the_match() {
        let get = info(Verb::Get, "configmaps", "coredns");
        assert!(RequestMatch::any().matches(&get));
        assert!(RequestMatch::resource("configmaps")
            .verb(Verb::Get)
            .namespace("kube-system")
            .name("coredns")
            .matches(&get));
        assert!(!RequestMatch::resource("configmaps")
            .verb(Verb::Update)
            .matches(&get));
        assert!(!RequestMatch::resource("configmaps")
            .group("apps")
            .matches(&get));
    }

    #[test]
    fn counted_faults_are_consumed() {
        let mut rules = FaultRules::default();
        rules.conflicts(RequestMatch::resource("configmaps"), 2);
        let update = info(Verb::Update, "configmaps", "coredns");
        let get = info(Verb::Get, "configmaps", "coredns");
        assert!(!rules.take_conflict(&get), "reads never conflict");
        assert!(rules.take_conflict(&update));
        assert!(rules.take_conflict(&update));
        assert!(!rules.take_conflict(&update));
        rules.errors(RequestMatch::any(), 1, 503);
        assert_eq!(rules.take_error(&get), Some(503));
        assert_eq!(rules.take_error(&get), None);
    }

    #[test]
    fn standing_rules() {
        let mut rules = FaultRules::default();
        rules.forbid(RequestMatch::resource("configmaps").name("node-local-dns"));
        rules.delay(RequestMatch::any(), Duration::from_millis(5));
        rules.delay(
            RequestMatch::resource("configmaps"),
            Duration::from_millis(50),
        );
        let probe = info(Verb::Get, "configmaps", "node-local-dns");
        assert!(rules.is_forbidden(&probe));
        assert!(!rules.is_forbidden(&info(Verb::Get, "configmaps", "coredns")));
        assert_eq!(rules.delay_for(&probe), Duration::from_millis(50));
    }

    #[test]
    fn faults_parse_from_json() {
        let fault: Fault = serde_json::from_str(r#"{"type":"errors","match":{"resource":"ingresses","verb":"list"},"count":3,"code":503}"#).unwrap();
        assert_eq!(
            fault,
            Fault::Errors {
                matcher: RequestMatch::resource("ingresses").verb(Verb::List),
                count: 3,
                code: 503
            }
        );
        let silent: Fault =
            serde_json::from_str(r#"{"type":"silenceWatches","includeNew":true}"#).unwrap();
        assert_eq!(
            silent,
            Fault::SilenceWatches {
                matcher: RequestMatch::any(),
                include_new: true
            }
        );
    }
}
