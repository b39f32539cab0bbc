//! `Status` bodies worded the way the real apiserver words them.
//!
//! Clients branch on `code` and `reason` and people read `message`, so all three follow the
//! apiserver's own phrasing (`configmaps "coredns" not found`, `Operation cannot be fulfilled
//! on ...`), including the `<resource>.<group>` spelling for non-core groups.

use serde_json::{json, Map, Value};

/// An API error as the server reports it: an HTTP code plus a `Status` object.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{code} {reason}: {message}")]
pub struct ApiError {
    pub code: u16,
    pub reason: String,
    pub message: String,
    /// `details` of the Status (name, group, kind, causes), already shaped as JSON.
    pub details: Option<Value>,
}

/// Names a resource the way error messages and `details` do.
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    /// The API group, empty for the core group.
    pub group: &'a str,
    /// The plural resource name, e.g. `configmaps`.
    pub resource: &'a str,
}

impl Subject<'_> {
    /// `configmaps` for the core group, `ingresses.networking.k8s.io` otherwise.
    pub fn qualified(&self) -> String {
        if self.group.is_empty() {
            self.resource.to_string()
        } else {
            format!("{}.{}", self.resource, self.group)
        }
    }

    fn details(&self, name: &str) -> Value {
        let mut details = Map::new();
        if !name.is_empty() {
            details.insert("name".into(), Value::String(name.into()));
        }
        if !self.group.is_empty() {
            details.insert("group".into(), Value::String(self.group.into()));
        }
        details.insert("kind".into(), Value::String(self.resource.into()));
        Value::Object(details)
    }
}

impl ApiError {
    fn new(code: u16, reason: &str, message: String, details: Option<Value>) -> Self {
        ApiError {
            code,
            reason: reason.into(),
            message,
            details,
        }
    }

    pub fn not_found(subject: Subject<'_>, name: &str) -> Self {
        let message = format!("{} \"{}\" not found", subject.qualified(), name);
        Self::new(404, "NotFound", message, Some(subject.details(name)))
    }

    /// A path that names no resource this server knows (known group/version, unknown resource).
    pub fn no_such_resource() -> Self {
        let details = json!({"causes": [{"reason": "UnexpectedServerResponse", "message": "404 page not found"}]});
        Self::new(
            404,
            "NotFound",
            "the server could not find the requested resource".into(),
            Some(details),
        )
    }

    pub fn already_exists(subject: Subject<'_>, name: &str) -> Self {
        let message = format!("{} \"{}\" already exists", subject.qualified(), name);
        Self::new(409, "AlreadyExists", message, Some(subject.details(name)))
    }

    /// The optimistic-concurrency failure of an update whose resourceVersion is stale.
    pub fn conflict_modified(subject: Subject<'_>, name: &str) -> Self {
        Self::conflict(
            subject,
            name,
            "the object has been modified; please apply your changes to the latest version and try again",
        )
    }

    /// `Operation cannot be fulfilled on <resource> "<name>": <why>`.
    pub fn conflict(subject: Subject<'_>, name: &str, why: &str) -> Self {
        let message = format!(
            "Operation cannot be fulfilled on {} \"{}\": {}",
            subject.qualified(),
            name,
            why
        );
        Self::new(409, "Conflict", message, Some(subject.details(name)))
    }

    /// RBAC denial. `name` is empty for collection verbs; `namespace` empty means cluster scope.
    pub fn forbidden(
        subject: Subject<'_>,
        name: &str,
        user: &str,
        verb: &str,
        namespace: &str,
        subresource: &str,
    ) -> Self {
        let target = if name.is_empty() {
            subject.qualified()
        } else {
            format!("{} \"{}\"", subject.qualified(), name)
        };
        let resource = if subresource.is_empty() {
            subject.resource.to_string()
        } else {
            format!("{}/{}", subject.resource, subresource)
        };
        let scope = if namespace.is_empty() {
            "at the cluster scope".to_string()
        } else {
            format!("in the namespace \"{namespace}\"")
        };
        let message = format!(
            "{target} is forbidden: User \"{user}\" cannot {verb} resource \"{resource}\" in API group \"{}\" {scope}",
            subject.group
        );
        Self::new(403, "Forbidden", message, Some(subject.details(name)))
    }

    /// A watch or continue token older than the retained history.
    pub fn expired(message: String) -> Self {
        Self::new(410, "Expired", message, None)
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, "BadRequest", message.into(), None)
    }

    /// Validation failure: `<Kind> "<name>" is invalid: <field>: <detail>`.
    pub fn invalid(
        subject: Subject<'_>,
        kind: &str,
        name: &str,
        field: &str,
        cause_reason: &str,
        detail: &str,
    ) -> Self {
        let message = format!("{kind} \"{name}\" is invalid: {field}: {detail}");
        let mut details = subject.details(name);
        details["kind"] = Value::String(kind.into());
        details["causes"] = json!([{"reason": cause_reason, "message": detail, "field": field}]);
        Self::new(422, "Invalid", message, Some(details))
    }

    /// A well-formed request the server cannot act on (e.g. a failing JSON patch `test`).
    pub fn unprocessable(message: impl Into<String>) -> Self {
        Self::new(422, "Invalid", message.into(), None)
    }

    pub fn unsupported_media_type(content_type: &str, what: &str) -> Self {
        let message = format!("the body of the request was in an unknown format - accepted media types include: {what} (got \"{content_type}\")");
        Self::new(415, "UnsupportedMediaType", message, None)
    }

    pub fn method_not_allowed(method: &str) -> Self {
        Self::new(
            405,
            "MethodNotAllowed",
            format!("the server does not allow this method on the requested resource ({method})"),
            None,
        )
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(500, "InternalError", message.into(), None)
    }

    /// An injected server-side failure with the reason the apiserver uses for that code.
    pub fn server_failure(code: u16) -> Self {
        let (reason, message) = match code {
            503 => ("ServiceUnavailable", "the server is currently unable to handle the request"),
            504 => ("Timeout", "the server was unable to return a response in the time allotted, but may still be processing the request"),
            429 => ("TooManyRequests", "the server has received too many requests and has asked us to try again later"),
            _ => ("InternalError", "an error on the server (\"injected fault\") has prevented the request from succeeding"),
        };
        Self::new(code, reason, message.into(), None)
    }

    /// The `Status` object sent as the response body (or inside a watch ERROR event).
    pub fn to_status(&self) -> Value {
        let mut status = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        });
        if let Some(details) = &self.details {
            status["details"] = details.clone();
        }
        status
    }
}

/// The `Status` a delete returns for built-in kinds that do not echo the deleted object.
pub fn delete_success(subject: Subject<'_>, name: &str, uid: &str) -> Value {
    let mut details = subject.details(name);
    details["uid"] = Value::String(uid.into());
    json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": details})
}

#[cfg(test)]
mod tests {
    use super::*;

    const CORE: Subject<'static> = Subject {
        group: "",
        resource: "configmaps",
    };
    const NET: Subject<'static> = Subject {
        group: "networking.k8s.io",
        resource: "ingresses",
    };

    #[test]
    fn not_found_is_worded_like_the_apiserver() {
        let status = ApiError::not_found(CORE, "coredns").to_status();
        assert_eq!(status["message"], "configmaps \"coredns\" not found");
        assert_eq!(status["reason"], "NotFound");
        assert_eq!(status["code"], 404);
        assert_eq!(
            status["details"],
            json!({"name": "coredns", "kind": "configmaps"})
        );
        let grouped = ApiError::not_found(NET, "web").to_status();
        assert_eq!(
            grouped["message"],
            "ingresses.networking.k8s.io \"web\" not found"
        );
        assert_eq!(grouped["details"]["group"], "networking.k8s.io");
    }

    #[test]
    fn forbidden_names_user_verb_group_and_scope() {
        let err = ApiError::forbidden(
            CORE,
            "coredns",
            "system:serviceaccount:x:y",
            "get",
            "kube-system",
            "",
        );
        assert_eq!(
            err.message,
            "configmaps \"coredns\" is forbidden: User \"system:serviceaccount:x:y\" cannot get resource \"configmaps\" in API group \"\" in the namespace \"kube-system\""
        );
        let list = ApiError::forbidden(NET, "", "u", "list", "", "");
        assert_eq!(
            list.message,
            "ingresses.networking.k8s.io is forbidden: User \"u\" cannot list resource \"ingresses\" in API group \"networking.k8s.io\" at the cluster scope"
        );
        let scale = ApiError::forbidden(
            Subject {
                group: "apps",
                resource: "deployments",
            },
            "c",
            "u",
            "patch",
            "ns",
            "scale",
        );
        assert!(
            scale
                .message
                .contains("cannot patch resource \"deployments/scale\" in API group \"apps\""),
            "{}",
            scale.message
        );
    }

    #[test]
    fn conflict_message_matches_the_optimistic_concurrency_text() {
        let err = ApiError::conflict_modified(CORE, "coredns");
        assert_eq!(err.code, 409);
        assert_eq!(
            err.message,
            "Operation cannot be fulfilled on configmaps \"coredns\": the object has been modified; please apply your changes to the latest version and try again"
        );
    }

    #[test]
    fn delete_success_carries_uid() {
        let status = delete_success(CORE, "a", "u-1");
        assert_eq!(status["status"], "Success");
        assert_eq!(status["details"]["uid"], "u-1");
    }
}
