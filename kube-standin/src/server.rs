//! The HTTP edge: turns a request into a route and a verb, applies fault rules, runs the
//! operation against the store and writes the response (and the request log entry).

use crate::control;
use crate::discovery;
use crate::faults::{RequestInfo, Verb};
use crate::metadata::{name_of, resource_version_of};
use crate::patch::{apply_json_patch, apply_merge, PatchError, PatchType};
use crate::path::{self, ResourcePath, Route};
use crate::query::QueryParams;
use crate::request_log::RecordedRequest;
use crate::resource::ResourceType;
use crate::scale;
use crate::selector::{FieldSelector, LabelSelector};
use crate::state::{lock, Shared};
use crate::status::{delete_success, ApiError};
use crate::store::{ObjectKey, Preconditions, UpdateScope};
use crate::watch;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use base64::Engine;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::SystemTime;

pub(crate) fn json_response(code: u16, body: &Value) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    Response::builder()
        .status(StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(bytes))
        .unwrap_or_default()
}

pub(crate) fn error_response(err: &ApiError) -> Response {
    json_response(err.code, &err.to_status())
}

/// What the apiserver's mux answers for a path no API group serves.
fn page_not_found() -> Response {
    Response::builder()
        .status(StatusCode::NOT_FOUND)
        .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
        .body(Body::from("404 page not found\n"))
        .unwrap_or_default()
}

/// Entry point for every request.
pub(crate) async fn handle(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let route = path::parse(uri.path());
    if let Route::Control(rest) = &route {
        return control::handle(&shared, &method, rest, &body);
    }
    let query = uri.query().unwrap_or("").to_string();
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let params = QueryParams::parse(&query);
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let (response, verb) = if discovery::wants_aggregated(accept)
        && matches!(route, Route::CoreVersions | Route::GroupList)
    {
        (
            aggregated_discovery(&shared, matches!(route, Route::CoreVersions)),
            None,
        )
    } else {
        route_request(
            &shared,
            &method,
            route,
            &params,
            content_type.as_deref(),
            &body,
        )
        .await
    };
    shared.record(RecordedRequest {
        method: method.to_string(),
        path: uri.path().to_string(),
        query,
        content_type,
        verb,
        status: response.status().as_u16(),
        body: String::from_utf8_lossy(&body).into_owned(),
    });
    response
}

fn aggregated_discovery(shared: &Shared, core: bool) -> Response {
    let doc = discovery::aggregated(&shared.registry(), core);
    let mut response = json_response(200, &doc);
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static(discovery::AGGREGATED_MEDIA_TYPE),
    );
    response
}

async fn route_request(
    shared: &Arc<Shared>,
    method: &Method,
    route: Route,
    params: &QueryParams,
    content_type: Option<&str>,
    body: &[u8],
) -> (Response, Option<Verb>) {
    let registry = shared.registry();
    let ok = |doc: Value| (json_response(200, &doc), None);
    match route {
        Route::CoreVersions => ok(discovery::core_versions(&shared.address.to_string())),
        Route::GroupList => ok(discovery::group_list(&registry)),
        Route::Group(group) => {
            discovery::group(&registry, &group).map_or((page_not_found(), None), ok)
        }
        Route::ResourceList { group, version } => {
            discovery::resource_list(&registry, &group, &version)
                .map_or((page_not_found(), None), ok)
        }
        Route::Version => ok(discovery::version()),
        Route::Health => (Response::new(Body::from("ok")), None),
        Route::NotFound | Route::Control(_) => (page_not_found(), None),
        Route::Resource(rp) => {
            if !registry.serves_group_version(&rp.group, &rp.version) {
                return (page_not_found(), None);
            }
            let Some(rt) = registry.find(&rp.group, &rp.version, &rp.resource).cloned() else {
                return (error_response(&ApiError::no_such_resource()), None);
            };
            match resource_request(shared, method, &rt, &rp, params, content_type, body).await {
                Ok((response, verb)) => (response, Some(verb)),
                Err((err, verb)) => (error_response(&err), verb),
            }
        }
    }
}

fn verb_of(method: &Method, rp: &ResourcePath, params: &QueryParams) -> Option<Verb> {
    let named = rp.name.is_some();
    Some(match (method.as_str(), named) {
        ("GET", false) if params.flag("watch") => Verb::Watch,
        ("GET", false) => Verb::List,
        ("GET", true) => Verb::Get,
        ("POST", false) => Verb::Create,
        ("PUT", true) => Verb::Update,
        ("PATCH", true) => Verb::Patch,
        ("DELETE", true) => Verb::Delete,
        ("DELETE", false) => Verb::DeleteCollection,
        _ => return None,
    })
}

/// Checks that the path's scope and subresource fit the resource type.
fn check_addressing(rt: &ResourceType, rp: &ResourcePath, verb: Verb) -> Result<(), ApiError> {
    let collection_verb = matches!(verb, Verb::List | Verb::Watch | Verb::DeleteCollection);
    if rt.namespaced && rp.namespace.is_none() && !collection_verb {
        return Err(ApiError::no_such_resource());
    }
    if !rt.namespaced && rp.namespace.is_some() {
        return Err(ApiError::no_such_resource());
    }
    match rp.subresource.as_deref() {
        None => Ok(()),
        Some("status") if rt.status_subresource => Ok(()),
        Some("scale") if rt.scale_subresource => Ok(()),
        Some(_) => Err(ApiError::no_such_resource()),
    }
}

type Outcome = Result<(Response, Verb), (ApiError, Option<Verb>)>;

async fn resource_request(
    shared: &Arc<Shared>,
    method: &Method,
    rt: &ResourceType,
    rp: &ResourcePath,
    params: &QueryParams,
    content_type: Option<&str>,
    body: &[u8],
) -> Outcome {
    let verb = verb_of(method, rp, params)
        .ok_or_else(|| (ApiError::method_not_allowed(method.as_str()), None))?;
    check_addressing(rt, rp, verb).map_err(|e| (e, Some(verb)))?;
    let sub = rp.subresource.as_deref();
    if sub.is_some() && !matches!(verb, Verb::Get | Verb::Update | Verb::Patch) {
        return Err((ApiError::method_not_allowed(method.as_str()), Some(verb)));
    }
    let info = RequestInfo {
        verb,
        group: rt.group.clone(),
        resource: sub.map_or_else(|| rt.plural.clone(), |s| format!("{}/{s}", rt.plural)),
        namespace: rp.namespace.clone().unwrap_or_default(),
        name: rp.name.clone().unwrap_or_default(),
    };
    apply_faults(shared, rt, &info, sub)
        .await
        .map_err(|e| (e, Some(verb)))?;
    let namespace = rp.namespace.as_deref().unwrap_or("");
    let name = rp.name.as_deref().unwrap_or("");
    let result = match verb {
        Verb::Get => get(shared, rt, namespace, name, sub),
        Verb::List => list(shared, rt, rp.namespace.as_deref(), params),
        Verb::Watch => watch::start(shared, rt, rp.namespace.clone(), params, info),
        Verb::Create => create(shared, rt, namespace, params, content_type, body),
        Verb::Update => update(shared, rt, namespace, name, sub, params, content_type, body),
        Verb::Patch => patch(shared, rt, namespace, name, sub, params, content_type, body),
        Verb::Delete => delete(shared, rt, namespace, name, params, body),
        Verb::DeleteCollection => delete_collection(shared, rt, rp.namespace.as_deref(), params),
    };
    result.map(|r| (r, verb)).map_err(|e| (e, Some(verb)))
}

async fn apply_faults(
    shared: &Shared,
    rt: &ResourceType,
    info: &RequestInfo,
    sub: Option<&str>,
) -> Result<(), ApiError> {
    let delay = lock(&shared.faults).delay_for(info);
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let mut faults = lock(&shared.faults);
    if faults.is_forbidden(info) {
        return Err(ApiError::forbidden(
            rt.subject(),
            &info.name,
            &shared.config.user,
            info.verb.as_str(),
            &info.namespace,
            sub.unwrap_or(""),
        ));
    }
    if let Some(code) = faults.take_error(info) {
        return Err(ApiError::server_failure(code));
    }
    if faults.take_conflict(info) {
        return Err(ApiError::conflict_modified(rt.subject(), &info.name));
    }
    Ok(())
}

fn reject_dry_run(params: &QueryParams) -> Result<(), ApiError> {
    match params.non_empty("dryRun") {
        Some(_) => Err(ApiError::bad_request(
            "dryRun is not supported by this API stand-in",
        )),
        None => Ok(()),
    }
}

fn parse_body(content_type: Option<&str>, body: &[u8]) -> Result<Value, ApiError> {
    let media = content_type
        .unwrap_or("application/json")
        .split(';')
        .next()
        .unwrap_or("")
        .trim();
    match media {
        "application/json" | "" | "*/*" => serde_json::from_slice(body)
            .map_err(|e| ApiError::bad_request(format!("the request body is not valid JSON: {e}"))),
        "application/yaml" => serde_yaml::from_slice(body)
            .map_err(|e| ApiError::bad_request(format!("the request body is not valid YAML: {e}"))),
        other => Err(ApiError::unsupported_media_type(
            other,
            "application/json, application/yaml",
        )),
    }
}

fn get(
    shared: &Shared,
    rt: &ResourceType,
    namespace: &str,
    name: &str,
    sub: Option<&str>,
) -> Result<Response, ApiError> {
    let key = ObjectKey::new(namespace, name);
    let object = lock(&shared.store)
        .get(&rt.key(), &key)
        .ok_or_else(|| ApiError::not_found(rt.subject(), name))?;
    match sub {
        Some("scale") => Ok(json_response(200, &scale::to_scale(&object))),
        _ => Ok(json_response(200, &object)),
    }
}

/// Opaque continue token: the snapshot's resourceVersion and the last key returned.
#[derive(serde::Serialize, serde::Deserialize)]
struct ContinueToken {
    rv: u64,
    namespace: String,
    name: String,
}

fn encode_continue(token: &ContinueToken) -> String {
    base64::engine::general_purpose::STANDARD.encode(serde_json::to_vec(token).unwrap_or_default())
}

fn decode_continue(raw: &str) -> Result<ContinueToken, ApiError> {
    base64::engine::general_purpose::STANDARD
        .decode(raw)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or_else(|| ApiError::bad_request(format!("continue key is not valid: {raw:?}")))
}

pub(crate) fn selectors(params: &QueryParams) -> Result<(LabelSelector, FieldSelector), ApiError> {
    let labels = LabelSelector::parse(params.get("labelSelector").unwrap_or(""))
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let fields = FieldSelector::parse(params.get("fieldSelector").unwrap_or(""))
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    Ok((labels, fields))
}

/// List items of built-in kinds carry no kind/apiVersion; custom resources keep them.
pub(crate) fn list_item(rt: &ResourceType, object: &Value) -> Value {
    let mut item = object.clone();
    if rt.builtin {
        if let Some(map) = item.as_object_mut() {
            map.remove("kind");
            map.remove("apiVersion");
        }
    }
    item
}

/// The version of a `resourceVersionMatch=Exact` list, if this is one.
fn exact_version(params: &QueryParams) -> Result<Option<u64>, ApiError> {
    if params.get("resourceVersionMatch") != Some("Exact") {
        return Ok(None);
    }
    let raw = params.non_empty("resourceVersion").unwrap_or("");
    match raw.parse::<u64>() {
        Ok(rv) if rv > 0 => Ok(Some(rv)),
        _ => Err(ApiError::bad_request(format!(
            "resourceVersionMatch=Exact requires a non-zero resourceVersion, got {raw:?}"
        ))),
    }
}

fn list(
    shared: &Shared,
    rt: &ResourceType,
    namespace: Option<&str>,
    params: &QueryParams,
) -> Result<Response, ApiError> {
    let (labels, fields) = selectors(params)?;
    let limit = params
        .number("limit")
        .map_err(ApiError::bad_request)?
        .unwrap_or(0) as usize;
    let token = params
        .non_empty("continue")
        .map(decode_continue)
        .transpose()?;
    let (objects, rv) = {
        let store = lock(&shared.store);
        match &token {
            Some(t) => {
                let snapshot = store.list_at(rt, namespace, t.rv).map_err(|_| {
                    ApiError::expired("The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.".into())
                })?;
                let after = ObjectKey::new(&t.namespace, &t.name);
                // The snapshot is in key order: find the first key after the token by binary
                // search. Computing every object's key for every page made a paginated list of
                // 10,000 objects quadratic (seconds, for 20 pages of 500).
                let mut rest = snapshot;
                let start = rest.partition_point(|o| {
                    ObjectKey::new(crate::metadata::namespace_of(o), name_of(o)) <= after
                });
                rest.drain(..start);
                (rest, t.rv)
            }
            None => match exact_version(params)? {
                // resourceVersionMatch=Exact: the collection as it was at that version.
                Some(rv) => {
                    let at = store.list_at(rt, namespace, rv).map_err(|e| {
                        ApiError::expired(format!(
                            "too old resource version: {} ({})",
                            e.requested, e.oldest
                        ))
                    })?;
                    (at, rv)
                }
                None => (store.list(&rt.key(), namespace), store.resource_version()),
            },
        }
    };
    let matching: Vec<_> = objects
        .into_iter()
        .filter(|o| labels.matches(o) && fields.matches(o))
        .collect();
    let mut metadata = json!({"resourceVersion": rv.to_string()});
    let page: &[Arc<Value>] = if limit > 0 && matching.len() > limit {
        let last = &matching[limit - 1];
        let token = ContinueToken {
            rv,
            namespace: crate::metadata::namespace_of(last).into(),
            name: name_of(last).into(),
        };
        metadata["continue"] = Value::String(encode_continue(&token));
        if params.non_empty("labelSelector").is_none()
            && params.non_empty("fieldSelector").is_none()
        {
            metadata["remainingItemCount"] = Value::from((matching.len() - limit) as u64);
        }
        &matching[..limit]
    } else {
        &matching
    };
    let items: Vec<Value> = page.iter().map(|o| list_item(rt, o)).collect();
    Ok(json_response(
        200,
        &json!({"kind": format!("{}List", rt.kind), "apiVersion": rt.api_version(), "metadata": metadata, "items": items}),
    ))
}

fn create(
    shared: &Arc<Shared>,
    rt: &ResourceType,
    namespace: &str,
    params: &QueryParams,
    content_type: Option<&str>,
    body: &[u8],
) -> Result<Response, ApiError> {
    reject_dry_run(params)?;
    let object = parse_body(content_type, body)?;
    let created = shared.write(|store| store.create(rt, namespace, object, SystemTime::now()))?;
    after_write(shared, rt, &created);
    Ok(json_response(201, &created))
}

#[allow(clippy::too_many_arguments)]
fn update(
    shared: &Arc<Shared>,
    rt: &ResourceType,
    namespace: &str,
    name: &str,
    sub: Option<&str>,
    params: &QueryParams,
    content_type: Option<&str>,
    body: &[u8],
) -> Result<Response, ApiError> {
    reject_dry_run(params)?;
    let object = parse_body(content_type, body)?;
    if sub == Some("scale") {
        return write_scale(shared, rt, namespace, name, |_| Ok(object));
    }
    let scope = if sub == Some("status") {
        UpdateScope::Status
    } else {
        UpdateScope::Main
    };
    let updated = shared.write(|store| store.update(rt, namespace, name, object, scope))?;
    after_write(shared, rt, &updated);
    Ok(json_response(200, &updated))
}

fn apply_patch(patch_type: PatchType, current: &Value, patch: &Value) -> Result<Value, ApiError> {
    let result = match patch_type {
        PatchType::Merge | PatchType::Strategic => apply_merge(current, patch),
        PatchType::Json => apply_json_patch(current, patch),
        PatchType::Apply => return Err(apply_unsupported()),
    };
    result.map_err(|e| match e {
        PatchError::Operation { .. } => ApiError::unprocessable(e.to_string()),
        PatchError::NotAnArray | PatchError::MergeNotObject => ApiError::bad_request(e.to_string()),
    })
}

fn apply_unsupported() -> ApiError {
    ApiError {
        code: 415,
        reason: "UnsupportedMediaType".into(),
        message: "server-side apply (application/apply-patch+yaml) is not supported by this API stand-in; use a merge, strategic merge or JSON patch".into(),
        details: None,
    }
}

fn patch_type_of(content_type: Option<&str>) -> Result<PatchType, ApiError> {
    let raw = content_type.unwrap_or("");
    match PatchType::from_content_type(raw) {
        Some(PatchType::Apply) => Err(apply_unsupported()),
        Some(t) => Ok(t),
        None => Err(ApiError::unsupported_media_type(
            raw,
            "application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json",
        )),
    }
}

#[allow(clippy::too_many_arguments)]
fn patch(
    shared: &Arc<Shared>,
    rt: &ResourceType,
    namespace: &str,
    name: &str,
    sub: Option<&str>,
    params: &QueryParams,
    content_type: Option<&str>,
    body: &[u8],
) -> Result<Response, ApiError> {
    reject_dry_run(params)?;
    let patch_type = patch_type_of(content_type)?;
    let patch_doc: Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("the patch is not valid JSON: {e}")))?;
    if sub == Some("scale") {
        return write_scale(shared, rt, namespace, name, |scale_view| {
            apply_patch(patch_type, scale_view, &patch_doc)
        });
    }
    let scope = if sub == Some("status") {
        UpdateScope::Status
    } else {
        UpdateScope::Main
    };
    // Read, patch and write under one lock, so a patch never conflicts with a concurrent
    // writer (the apiserver retries internally for the same effect).
    let patched = shared.write(|store| {
        let key = ObjectKey::new(namespace, name);
        let current = store
            .get(&rt.key(), &key)
            .ok_or_else(|| ApiError::not_found(rt.subject(), name))?;
        let patched = apply_patch(patch_type, &current, &patch_doc)?;
        store.update(rt, namespace, name, patched, scope)
    })?;
    after_write(shared, rt, &patched);
    Ok(json_response(200, &patched))
}

/// A write through `/scale`: `edit` turns the current Scale view into the requested one.
fn write_scale(
    shared: &Arc<Shared>,
    rt: &ResourceType,
    namespace: &str,
    name: &str,
    edit: impl FnOnce(&Value) -> Result<Value, ApiError>,
) -> Result<Response, ApiError> {
    let updated = shared.write(|store| {
        let key = ObjectKey::new(namespace, name);
        let current = store
            .get(&rt.key(), &key)
            .ok_or_else(|| ApiError::not_found(rt.subject(), name))?;
        let wanted = edit(&scale::to_scale(&current))?;
        let wanted_rv = resource_version_of(&wanted);
        if !wanted_rv.is_empty() && wanted_rv != resource_version_of(&current) {
            return Err(ApiError::conflict_modified(rt.subject(), name));
        }
        let replicas = scale::replicas_of(&wanted, name)?;
        store.update(
            rt,
            namespace,
            name,
            scale::with_replicas(&current, replicas),
            UpdateScope::Main,
        )
    })?;
    after_write(shared, rt, &updated);
    Ok(json_response(200, &scale::to_scale(&updated)))
}

/// Simulates the deployment controller: status follows `spec.replicas` after a delay.
pub(crate) fn after_write(shared: &Arc<Shared>, rt: &ResourceType, object: &Value) {
    if !rt.scale_subresource || !scale::needs_settling(object) {
        return;
    }
    let shared_for_task = shared.clone();
    let rt = rt.clone();
    let namespace = crate::metadata::namespace_of(object).to_string();
    let name = name_of(object).to_string();
    let delay = shared.config.rollout_delay;
    shared.runtime.spawn(async move {
        tokio::time::sleep(delay).await;
        shared_for_task.write(|store| {
            let Some(current) = store.get(&rt.key(), &ObjectKey::new(&namespace, &name)) else {
                return;
            };
            if scale::needs_settling(&current) {
                let status =
                    json!({"metadata": {"name": name}, "status": scale::settled_status(&current)});
                // Unconditional: a concurrent spec change is settled by its own task.
                let _ = store.update(&rt, &namespace, &name, status, UpdateScope::Status);
            }
        });
    });
}

fn delete(
    shared: &Arc<Shared>,
    rt: &ResourceType,
    namespace: &str,
    name: &str,
    params: &QueryParams,
    body: &[u8],
) -> Result<Response, ApiError> {
    reject_dry_run(params)?;
    let options: Value = if body.iter().all(u8::is_ascii_whitespace) {
        Value::Null
    } else {
        serde_json::from_slice(body).map_err(|e| {
            ApiError::bad_request(format!("the DeleteOptions body is not valid JSON: {e}"))
        })?
    };
    let text = |pointer: &str| {
        options
            .pointer(pointer)
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let preconditions = Preconditions {
        uid: text("/preconditions/uid"),
        resource_version: text("/preconditions/resourceVersion"),
    };
    let deleted = shared.write(|store| store.delete(rt, namespace, name, &preconditions))?;
    if rt.builtin {
        Ok(json_response(
            200,
            &delete_success(rt.subject(), name, crate::metadata::uid_of(&deleted)),
        ))
    } else {
        Ok(json_response(200, &deleted))
    }
}

fn delete_collection(
    shared: &Arc<Shared>,
    rt: &ResourceType,
    namespace: Option<&str>,
    params: &QueryParams,
) -> Result<Response, ApiError> {
    reject_dry_run(params)?;
    let (labels, fields) = selectors(params)?;
    let deleted = shared.write(|store| {
        let targets: Vec<_> = store
            .list(&rt.key(), namespace)
            .into_iter()
            .filter(|o| labels.matches(o) && fields.matches(o))
            .collect();
        targets
            .iter()
            .filter_map(|o| {
                store
                    .delete(
                        rt,
                        crate::metadata::namespace_of(o),
                        name_of(o),
                        &Preconditions::default(),
                    )
                    .ok()
            })
            .collect::<Vec<_>>()
    });
    let rv = lock(&shared.store).resource_version();
    let items: Vec<Value> = deleted.iter().map(|o| list_item(rt, o)).collect();
    Ok(json_response(
        200,
        &json!({"kind": format!("{}List", rt.kind), "apiVersion": rt.api_version(), "metadata": {"resourceVersion": rv.to_string()}, "items": items}),
    ))
}
