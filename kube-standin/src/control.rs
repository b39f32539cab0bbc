//! The HTTP control surface under `/_standin/`, for clients that are not Rust tests (a shell
//! script driving the binary). Not logged in the request log.
//!
//! - `GET /_standin/requests`: the request log as a JSON array; `DELETE` clears it.
//! - `POST /_standin/faults`: one fault or an array of faults (see [`Fault`]); `DELETE` clears.
//! - `POST /_standin/objects`: create or replace objects (JSON object, or YAML documents).

use crate::faults::Fault;
use crate::handle::apply_fault;
use crate::server::{error_response, json_response};
use crate::state::{lock, Shared};
use crate::status::ApiError;
use axum::http::Method;
use axum::response::Response;
use serde_json::Value;
use std::sync::Arc;

pub(crate) fn handle(shared: &Arc<Shared>, method: &Method, rest: &str, body: &[u8]) -> Response {
    match (method.as_str(), rest) {
        ("GET", "requests") => json_response(
            200,
            &serde_json::to_value(lock(&shared.log).entries()).unwrap_or_default(),
        ),
        ("DELETE", "requests") => {
            lock(&shared.log).clear();
            json_response(200, &serde_json::json!({}))
        }
        ("POST", "faults") => match parse_faults(body) {
            Ok(faults) => {
                let affected: usize = faults.into_iter().map(|f| apply_fault(shared, f)).sum();
                json_response(200, &serde_json::json!({"affectedWatches": affected}))
            }
            Err(e) => error_response(&e),
        },
        ("DELETE", "faults") => {
            crate::handle::clear_faults(shared);
            json_response(200, &serde_json::json!({}))
        }
        ("POST", "objects") => {
            match crate::handle::apply_text(shared, &String::from_utf8_lossy(body), "request body")
            {
                Ok(objects) => json_response(200, &Value::Array(objects)),
                Err(e) => error_response(&ApiError::bad_request(e.to_string())),
            }
        }
        _ => error_response(&ApiError::no_such_resource()),
    }
}

fn parse_faults(body: &[u8]) -> Result<Vec<Fault>, ApiError> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("fault body is not valid JSON: {e}")))?;
    let list = match value {
        Value::Array(items) => items,
        single => vec![single],
    };
    list.into_iter()
        .map(|v| {
            serde_json::from_value(v)
                .map_err(|e| ApiError::bad_request(format!("invalid fault: {e}")))
        })
        .collect()
}
