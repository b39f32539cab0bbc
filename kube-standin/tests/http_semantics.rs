//! Status codes, bodies and streams on the wire, checked byte-for-byte with a plain socket.

mod common;

use common::{get, request, RawWatch};
use kube_standin::faults::{RequestMatch, Verb};
use kube_standin::StandIn;
use serde_json::json;
use std::time::Duration;

const SHORT: Duration = Duration::from_millis(600);
const WAIT: Duration = Duration::from_secs(10);

fn coredns() -> serde_json::Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "coredns", "namespace": "kube-system"}, "data": {"Corefile": ".:53 {}"}})
}

#[tokio::test]
async fn not_found_and_forbidden_bodies_match_the_apiserver() {
    let server = StandIn::builder()
        .user("system:serviceaccount:ouroboros:ouroboros")
        .start()
        .await
        .unwrap();
    let addr = server.address();
    let missing = get(addr, "/api/v1/namespaces/kube-system/configmaps/coredns").await;
    assert_eq!(missing.status, 404);
    assert_eq!(
        missing.json(),
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
               "message": "configmaps \"coredns\" not found", "reason": "NotFound",
               "details": {"name": "coredns", "kind": "configmaps"}, "code": 404})
    );
    server.forbid(RequestMatch::resource("configmaps").verb(Verb::Get));
    let denied = get(addr, "/api/v1/namespaces/kube-system/configmaps/coredns").await;
    assert_eq!(denied.status, 403);
    assert_eq!(denied.json()["reason"], "Forbidden");
    assert_eq!(
        denied.json()["message"],
        "configmaps \"coredns\" is forbidden: User \"system:serviceaccount:ouroboros:ouroboros\" cannot get resource \"configmaps\" in API group \"\" in the namespace \"kube-system\""
    );
    server.forbid(RequestMatch::resource("ingresses").verb(Verb::List));
    let list = get(addr, "/apis/networking.k8s.io/v1/ingresses").await;
    assert_eq!(
        list.json()["message"],
        "ingresses.networking.k8s.io is forbidden: User \"system:serviceaccount:ouroboros:ouroboros\" cannot list resource \"ingresses\" in API group \"networking.k8s.io\" at the cluster scope"
    );
    let unknown_group = get(addr, "/apis/example.com/v1/widgets").await;
    assert_eq!(
        (unknown_group.status, unknown_group.body.as_str()),
        (404, "404 page not found\n")
    );
    let unknown_resource = get(addr, "/apis/apps/v1/namespaces/x/statefulsets").await;
    assert_eq!(
        unknown_resource.json()["message"],
        "the server could not find the requested resource"
    );
}

#[tokio::test]
async fn writes_answer_with_the_apiserver_codes() {
    let server = StandIn::start().await.unwrap();
    let addr = server.address();
    let path = "/api/v1/namespaces/kube-system/configmaps";
    let body = coredns().to_string();
    let created = request(addr, "POST", path, Some("application/json"), &body).await;
    assert_eq!(created.status, 201);
    assert_eq!(created.json()["metadata"]["resourceVersion"], "1");
    let again = request(addr, "POST", path, Some("application/json"), &body).await;
    assert_eq!(
        (again.status, again.json()["reason"].clone()),
        (409, json!("AlreadyExists"))
    );
    assert_eq!(
        again.json()["message"],
        "configmaps \"coredns\" already exists"
    );

    let item = format!("{path}/coredns");
    let apply = request(
        addr,
        "PATCH",
        &item,
        Some("application/apply-patch+yaml"),
        "{}",
    )
    .await;
    assert_eq!(apply.status, 415);
    assert!(apply.json()["message"]
        .as_str()
        .unwrap()
        .contains("server-side apply"));
    let unknown_patch = request(addr, "PATCH", &item, Some("text/plain"), "{}").await;
    assert_eq!(unknown_patch.status, 415);

    let strategic = request(
        addr,
        "PATCH",
        &item,
        Some("application/strategic-merge-patch+json"),
        r#"{"metadata":{"labels":{"a":"b"}}}"#,
    )
    .await;
    assert_eq!(strategic.status, 200);
    assert_eq!(strategic.json()["metadata"]["labels"]["a"], "b");
    let stale_patch = request(
        addr,
        "PATCH",
        &item,
        Some("application/merge-patch+json"),
        r#"{"metadata":{"resourceVersion":"1"},"data":{"x":"y"}}"#,
    )
    .await;
    assert_eq!(
        stale_patch.status, 409,
        "a resourceVersion inside a patch is a precondition"
    );
    let failing_test = request(
        addr,
        "PATCH",
        &item,
        Some("application/json-patch+json"),
        r#"[{"op":"test","path":"/data/Corefile","value":"nope"}]"#,
    )
    .await;
    assert_eq!(failing_test.status, 422);

    let renamed = request(
        addr,
        "PUT",
        &item,
        Some("application/json"),
        &json!({"metadata": {"name": "other"}}).to_string(),
    )
    .await;
    assert_eq!(renamed.status, 400);
    assert_eq!(
        renamed.json()["message"],
        "the name of the object (other) does not match the name on the URL (coredns)"
    );
    let bad_name = request(
        addr,
        "POST",
        path,
        Some("application/json"),
        r#"{"metadata":{"name":"Bad_Name"}}"#,
    )
    .await;
    assert_eq!(bad_name.status, 422);
    assert!(bad_name.json()["message"].as_str().unwrap().starts_with("ConfigMap \"Bad_Name\" is invalid: metadata.name: Invalid value: \"Bad_Name\": a lowercase RFC 1123 subdomain"));

    let precondition = request(
        addr,
        "DELETE",
        &item,
        Some("application/json"),
        r#"{"preconditions":{"resourceVersion":"1"}}"#,
    )
    .await;
    assert_eq!(precondition.status, 409);
    assert!(precondition.json()["message"]
        .as_str()
        .unwrap()
        .contains("Precondition failed: ResourceVersion in precondition: 1"));
    let deleted = request(addr, "DELETE", &item, None, "").await;
    assert_eq!(
        (deleted.status, deleted.json()["status"].clone()),
        (200, json!("Success"))
    );
    assert_eq!(request(addr, "DELETE", &item, None, "").await.status, 404);

    let custom = json!({"apiVersion": "externaldns.k8s.io/v1alpha1", "kind": "DNSEndpoint", "metadata": {"name": "e"}, "spec": {"endpoints": []}, "status": {"observedGeneration": 9}});
    let dns_path = "/apis/externaldns.k8s.io/v1alpha1/namespaces/dns/dnsendpoints";
    let created = request(
        addr,
        "POST",
        dns_path,
        Some("application/json"),
        &custom.to_string(),
    )
    .await;
    assert_eq!(created.json()["metadata"]["generation"], 1);
    assert!(
        created.json().get("status").is_none(),
        "status is a subresource: ignored on create"
    );
    let deleted = request(addr, "DELETE", &format!("{dns_path}/e"), None, "").await;
    assert_eq!(
        deleted.json()["kind"],
        "DNSEndpoint",
        "custom resources answer a delete with the object"
    );
}

#[tokio::test]
async fn list_items_of_builtin_kinds_carry_no_type_meta() {
    let server = StandIn::start().await.unwrap();
    server.apply_object(coredns()).unwrap();
    server.apply_object(json!({"apiVersion": "cozystack.io/v1alpha1", "kind": "Package", "metadata": {"name": "p"}})).unwrap();
    let cms = get(server.address(), "/api/v1/configmaps").await.json();
    assert_eq!(cms["kind"], "ConfigMapList");
    assert_eq!(cms["metadata"]["resourceVersion"], "2");
    assert!(cms["items"][0].get("kind").is_none());
    let packages = get(server.address(), "/apis/cozystack.io/v1alpha1/packages")
        .await
        .json();
    assert_eq!(packages["items"][0]["kind"], "Package");
    let bad = get(server.address(), "/api/v1/configmaps?labelSelector=a+in+b").await;
    assert_eq!(bad.status, 400);
    let bad_field = get(
        server.address(),
        "/api/v1/configmaps?fieldSelector=spec.x%3D1",
    )
    .await;
    assert_eq!(
        bad_field.json()["message"],
        "field label not supported: spec.x"
    );
}

#[tokio::test]
async fn watch_streams_changes_after_the_requested_version() {
    let server = StandIn::start().await.unwrap();
    let addr = server.address();
    server.apply_object(coredns()).unwrap();
    let mut from_start =
        RawWatch::open(addr, "/api/v1/namespaces/kube-system/configmaps?watch=1").await;
    assert_eq!(from_start.status, 200);
    let first = from_start.next(WAIT).await.unwrap().unwrap();
    assert_eq!(
        (
            first["type"].as_str(),
            first["object"]["metadata"]["name"].as_str()
        ),
        (Some("ADDED"), Some("coredns"))
    );
    assert_eq!(first["object"]["kind"], "ConfigMap");

    let mut from_rv = RawWatch::open(
        addr,
        "/api/v1/namespaces/kube-system/configmaps?watch=true&resourceVersion=1",
    )
    .await;
    let mut edited = coredns();
    edited["data"]["Corefile"] = json!("changed");
    server.apply_object(edited).unwrap();
    server
        .delete_object("v1", "ConfigMap", "kube-system", "coredns")
        .unwrap();
    for watch in [&mut from_start, &mut from_rv] {
        let modified = watch.next(WAIT).await.unwrap().unwrap();
        assert_eq!(modified["type"], "MODIFIED");
        assert_eq!(modified["object"]["metadata"]["resourceVersion"], "2");
        let deleted = watch.next(WAIT).await.unwrap().unwrap();
        assert_eq!(
            (
                deleted["type"].as_str(),
                deleted["object"]["metadata"]["resourceVersion"].as_str()
            ),
            (Some("DELETED"), Some("3"))
        );
    }
    let log = server.request_log();
    assert_eq!(log[0].query_param("watch").as_deref(), Some("1"));
    assert_eq!((log[0].status, log[0].verb), (200, Some(Verb::Watch)));
}

#[tokio::test]
async fn watch_with_label_selector_sees_objects_enter_and_leave() {
    let server = StandIn::start().await.unwrap();
    let mut watch = RawWatch::open(server.address(), "/api/v1/namespaces/n/services?watch=1&labelSelector=app.kubernetes.io%2Fmanaged-by%3Douroboros").await;
    let svc = |managed: &str| json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s", "namespace": "n", "labels": {"app.kubernetes.io/managed-by": managed}}});
    server.apply_object(svc("someone-else")).unwrap();
    server.apply_object(svc("ouroboros")).unwrap();
    server.apply_object(svc("someone-else")).unwrap();
    let types: Vec<String> = [watch.next(WAIT).await, watch.next(WAIT).await]
        .into_iter()
        .map(|e| e.unwrap().unwrap()["type"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(types, vec!["ADDED", "DELETED"]);
}

#[tokio::test]
async fn too_old_resource_version_gets_an_expired_error_event() {
    let server = StandIn::builder().history_limit(3).start().await.unwrap();
    for i in 0..6 {
        let mut cm = coredns();
        cm["metadata"]["name"] = json!(format!("c{i}"));
        server.apply_object(cm).unwrap();
    }
    let mut watch = RawWatch::open(
        server.address(),
        "/api/v1/configmaps?watch=1&resourceVersion=2",
    )
    .await;
    assert_eq!(
        watch.status, 200,
        "the watch cache answers 200 and then an ERROR event"
    );
    let error = watch.next(WAIT).await.unwrap().unwrap();
    assert_eq!(error["type"], "ERROR");
    assert_eq!(error["object"]["code"], 410);
    assert_eq!(error["object"]["reason"], "Expired");
    assert_eq!(
        error["object"]["message"],
        "too old resource version: 2 (3)"
    );
    assert_eq!(
        watch.next(WAIT).await,
        Ok(None),
        "the stream ends after the error"
    );
    let ok = RawWatch::open(
        server.address(),
        "/api/v1/configmaps?watch=1&resourceVersion=3",
    )
    .await;
    assert_eq!(ok.status, 200);

    let exact = get(
        server.address(),
        "/api/v1/configmaps?resourceVersion=6&resourceVersionMatch=Exact",
    )
    .await
    .json();
    assert_eq!(exact["metadata"]["resourceVersion"], "6");
    assert_eq!(
        exact["items"].as_array().unwrap().len(),
        6,
        "the state at version 6, not the latest"
    );
    let too_old = get(
        server.address(),
        "/api/v1/configmaps?resourceVersion=2&resourceVersionMatch=Exact",
    )
    .await;
    assert_eq!(too_old.status, 410);
    // An expired continue token is a plain 410 response.
    let page = get(server.address(), "/api/v1/configmaps?limit=1")
        .await
        .json();
    let token = page["metadata"]["continue"].as_str().unwrap().to_string();
    for i in 0..4 {
        let mut cm = coredns();
        cm["metadata"]["name"] = json!(format!("d{i}"));
        server.apply_object(cm).unwrap();
    }
    let expired = get(
        server.address(),
        &format!("/api/v1/configmaps?limit=1&continue={token}"),
    )
    .await;
    assert_eq!(
        (expired.status, expired.json()["reason"].clone()),
        (410, json!("Expired"))
    );
}

#[tokio::test]
async fn bookmarks_initial_events_and_timeouts() {
    let server = StandIn::builder()
        .bookmark_interval(Duration::from_millis(100))
        .start()
        .await
        .unwrap();
    server.apply_object(coredns()).unwrap();
    let mut watch = RawWatch::open(
        server.address(),
        "/api/v1/configmaps?watch=1&resourceVersion=1&allowWatchBookmarks=true",
    )
    .await;
    let bookmark = watch.next(WAIT).await.unwrap().unwrap();
    assert_eq!(bookmark["type"], "BOOKMARK");
    assert_eq!(
        bookmark["object"],
        json!({"kind": "ConfigMap", "apiVersion": "v1", "metadata": {"resourceVersion": "1"}})
    );

    let mut streaming = RawWatch::open(
        server.address(),
        "/api/v1/configmaps?watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true",
    )
    .await;
    assert_eq!(
        streaming.next(WAIT).await.unwrap().unwrap()["type"],
        "ADDED"
    );
    let end = streaming.next(WAIT).await.unwrap().unwrap();
    assert_eq!(
        end["object"]["metadata"]["annotations"]["k8s.io/initial-events-end"],
        "true"
    );

    let mut short = RawWatch::open(
        server.address(),
        "/api/v1/configmaps?watch=1&resourceVersion=1&timeoutSeconds=1",
    )
    .await;
    assert_eq!(
        short.next(Duration::from_secs(5)).await,
        Ok(None),
        "the server ends the watch after timeoutSeconds"
    );
}

#[tokio::test]
async fn dropped_and_silent_watches() {
    let server = StandIn::start().await.unwrap();
    let addr = server.address();
    let mut dropped = RawWatch::open(
        addr,
        "/apis/networking.k8s.io/v1/ingresses?watch=1&resourceVersion=0",
    )
    .await;
    let mut silent = RawWatch::open(
        addr,
        "/api/v1/configmaps?watch=1&resourceVersion=0&timeoutSeconds=1",
    )
    .await;
    let mut live = RawWatch::open(addr, "/api/v1/secrets?watch=1&resourceVersion=0").await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(server.open_watches(RequestMatch::any()), 3);
    assert_eq!(
        server.silence_watches(RequestMatch::resource("configmaps")),
        1
    );
    assert_eq!(server.drop_watches(RequestMatch::resource("ingresses")), 1);
    assert_eq!(dropped.next(WAIT).await, Ok(None));

    server.apply_object(coredns()).unwrap();
    server.apply_object(json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "x"}})).unwrap();
    assert_eq!(live.next(WAIT).await.unwrap().unwrap()["type"], "ADDED");
    // Silent: no event, and it outlives its own timeoutSeconds=1 (the stream just hangs).
    assert_eq!(silent.next(Duration::from_millis(1500)).await, Err(()));

    server.silence_all_watches(RequestMatch::resource("configmaps"));
    let mut new_silent = RawWatch::open(addr, "/api/v1/configmaps?watch=1").await;
    assert_eq!(
        new_silent.next(SHORT).await,
        Err(()),
        "new watches start silent too"
    );
    server.clear_faults();
    let mut fresh = RawWatch::open(addr, "/api/v1/configmaps?watch=1").await;
    assert_eq!(fresh.next(WAIT).await.unwrap().unwrap()["type"], "ADDED");
}

#[tokio::test]
async fn error_bursts_conflict_storms_and_delays() {
    let server = StandIn::start().await.unwrap();
    let addr = server.address();
    server.apply_object(coredns()).unwrap();
    let item = "/api/v1/namespaces/kube-system/configmaps/coredns";
    server.fail_next(RequestMatch::resource("configmaps"), 2, 503);
    assert_eq!(get(addr, item).await.status, 503);
    let second = get(addr, item).await;
    assert_eq!(
        (second.status, second.json()["reason"].clone()),
        (503, json!("ServiceUnavailable"))
    );
    assert_eq!(get(addr, item).await.status, 200);

    server.conflict_next(RequestMatch::resource("configmaps").name("coredns"), 3);
    for _ in 0..3 {
        let r = request(
            addr,
            "PATCH",
            item,
            Some("application/merge-patch+json"),
            r#"{"data":{"a":"1"}}"#,
        )
        .await;
        assert_eq!(r.status, 409);
    }
    assert_eq!(
        server
            .get_object("v1", "ConfigMap", "kube-system", "coredns")
            .unwrap()
            .unwrap()["data"]
            .get("a"),
        None,
        "conflicts store nothing"
    );
    let ok = request(
        addr,
        "PATCH",
        item,
        Some("application/merge-patch+json"),
        r#"{"data":{"a":"1"}}"#,
    )
    .await;
    assert_eq!(ok.status, 200);

    server.delay(
        RequestMatch::resource("configmaps").verb(Verb::Get),
        Duration::from_millis(300),
    );
    let started = std::time::Instant::now();
    assert_eq!(get(addr, item).await.status, 200);
    assert!(started.elapsed() >= Duration::from_millis(300));

    let codes: Vec<u16> = server.request_log().iter().map(|r| r.status).collect();
    assert_eq!(codes, vec![503, 503, 200, 409, 409, 409, 200, 200]);
}

#[tokio::test]
async fn control_endpoints_drive_faults_objects_and_the_log() {
    let server = StandIn::start().await.unwrap();
    let addr = server.address();
    let yaml = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: coredns\n  namespace: kube-system\ndata:\n  Corefile: x\n";
    let applied = request(
        addr,
        "POST",
        "/_standin/objects",
        Some("application/yaml"),
        yaml,
    )
    .await;
    assert_eq!(applied.status, 200);
    assert_eq!(applied.json()[0]["metadata"]["name"], "coredns");
    let fault = r#"{"type":"forbid","match":{"resource":"configmaps","verb":"update"}}"#;
    assert_eq!(
        request(
            addr,
            "POST",
            "/_standin/faults",
            Some("application/json"),
            fault
        )
        .await
        .status,
        200
    );
    let put = request(
        addr,
        "PUT",
        "/api/v1/namespaces/kube-system/configmaps/coredns",
        Some("application/json"),
        r#"{"metadata":{"name":"coredns"}}"#,
    )
    .await;
    assert_eq!(put.status, 403);
    assert_eq!(
        request(addr, "DELETE", "/_standin/faults", None, "")
            .await
            .status,
        200
    );
    let log = get(addr, "/_standin/requests").await.json();
    assert_eq!(
        log.as_array().unwrap().len(),
        1,
        "control requests are not logged"
    );
    assert_eq!(log[0]["method"], "PUT");
    assert_eq!(log[0]["status"], 403);
    assert_eq!(log[0]["contentType"], "application/json");
    let bad = request(
        addr,
        "POST",
        "/_standin/faults",
        Some("application/json"),
        r#"{"type":"nope"}"#,
    )
    .await;
    assert_eq!(bad.status, 400);
}

#[tokio::test]
async fn discovery_documents() {
    let server = StandIn::start().await.unwrap();
    let addr = server.address();
    assert_eq!(get(addr, "/api").await.json()["versions"], json!(["v1"]));
    let groups = get(addr, "/apis").await.json();
    assert!(groups["groups"]
        .as_array()
        .unwrap()
        .iter()
        .any(|g| g["name"] == "coordination.k8s.io"));
    let gw = get(addr, "/apis/gateway.networking.k8s.io/v1").await.json();
    let names: Vec<&str> = gw["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"gateways") && names.contains(&"httproutes"));
    assert_eq!(
        get(addr, "/apis/gateway.networking.k8s.io/v2").await.status,
        404
    );
    assert_eq!(get(addr, "/version").await.json()["major"], "1");
}

#[tokio::test]
async fn aggregated_discovery_when_the_client_asks_for_it() {
    let server = StandIn::start().await.unwrap();
    let addr = server.address();
    let accept =
        "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json";
    let apis = common::request_with_accept(addr, "/apis", accept).await;
    assert_eq!(
        apis.header("content-type"),
        Some("application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList")
    );
    let doc = apis.json();
    assert_eq!(doc["kind"], "APIGroupDiscoveryList");
    let gateway = doc["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["metadata"]["name"] == "gateway.networking.k8s.io")
        .unwrap();
    assert_eq!(
        gateway["versions"][0]["resources"][0]["resource"],
        "gateways"
    );
    let core = common::request_with_accept(addr, "/api", accept)
        .await
        .json();
    assert_eq!(core["items"][0]["versions"][0]["version"], "v1");
    assert_eq!(
        get(addr, "/apis").await.json()["kind"],
        "APIGroupList",
        "plain clients get the legacy document"
    );
}
