//! The real kube-rs client against the stand-in, through an ordinary kubeconfig file.

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::api::networking::v1::Ingress;
use kube::api::{
    Api, DeleteParams, ListParams, Patch, PatchParams, PostParams, WatchEvent, WatchParams,
};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::runtime::watcher;
use kube::{Client, Config};
use kube_standin::faults::{RequestMatch, Verb};
use kube_standin::{StandIn, StandInHandle};
use serde_json::json;
use std::time::Duration;

async fn client_for(server: &StandInHandle) -> Client {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kubeconfig");
    server.write_kubeconfig(&path).unwrap();
    let kubeconfig = Kubeconfig::read_from(&path).unwrap();
    let config = Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .unwrap();
    Client::try_from(config).unwrap()
}

fn api_error(err: kube::Error) -> Box<kube::core::Status> {
    match err {
        kube::Error::Api(status) => status,
        other => panic!("expected an API error, got {other:?}"),
    }
}

fn configmap(name: &str, value: &str) -> ConfigMap {
    serde_json::from_value(json!({"metadata": {"name": name}, "data": {"Corefile": value}}))
        .unwrap()
}

const WAIT: Duration = Duration::from_secs(10);

#[tokio::test]
async fn get_create_replace_patch_delete_with_apiserver_semantics() {
    let server = StandIn::start().await.unwrap();
    let client = client_for(&server).await;
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), "kube-system");

    let missing = api_error(api.get("coredns").await.unwrap_err());
    assert_eq!((missing.code, missing.reason.as_str()), (404, "NotFound"));
    assert_eq!(missing.message, "configmaps \"coredns\" not found");

    let created = api
        .create(&PostParams::default(), &configmap("coredns", ".:53 {}"))
        .await
        .unwrap();
    let rv1 = created.metadata.resource_version.clone().unwrap();
    assert!(created.metadata.uid.is_some() && created.metadata.creation_timestamp.is_some());
    let dup = api_error(
        api.create(&PostParams::default(), &configmap("coredns", "x"))
            .await
            .unwrap_err(),
    );
    assert_eq!((dup.code, dup.reason.as_str()), (409, "AlreadyExists"));

    let mut edit = created.clone();
    edit.data
        .as_mut()
        .unwrap()
        .insert("Corefile".into(), ".:53 { reload }".into());
    let replaced = api
        .replace("coredns", &PostParams::default(), &edit)
        .await
        .unwrap();
    assert_ne!(
        replaced.metadata.resource_version.as_deref(),
        Some(rv1.as_str())
    );
    // `edit` still carries the old resourceVersion: optimistic concurrency refuses it.
    let stale = api_error(
        api.replace("coredns", &PostParams::default(), &edit)
            .await
            .unwrap_err(),
    );
    assert_eq!(stale.code, 409);
    assert_eq!(
        stale.message,
        "Operation cannot be fulfilled on configmaps \"coredns\": the object has been modified; please apply your changes to the latest version and try again"
    );

    let merged = api
        .patch(
            "coredns",
            &PatchParams::default(),
            &Patch::Merge(json!({"data": {"extra": "1"}})),
        )
        .await
        .unwrap();
    assert_eq!(merged.data.as_ref().unwrap()["extra"], "1");
    assert_eq!(merged.data.as_ref().unwrap()["Corefile"], ".:53 { reload }");
    let removed = api
        .patch(
            "coredns",
            &PatchParams::default(),
            &Patch::Merge(json!({"data": {"extra": null}})),
        )
        .await
        .unwrap();
    assert!(!removed.data.as_ref().unwrap().contains_key("extra"));
    let ops: json_patch::Patch = serde_json::from_value(
        json!([{"op": "replace", "path": "/data/Corefile", "value": "new"}]),
    )
    .unwrap();
    let patched = api
        .patch("coredns", &PatchParams::default(), &Patch::Json::<()>(ops))
        .await
        .unwrap();
    assert_eq!(patched.data.as_ref().unwrap()["Corefile"], "new");

    let deleted = api
        .delete("coredns", &DeleteParams::default())
        .await
        .unwrap();
    assert!(
        deleted.is_right(),
        "built-in kinds answer a delete with a Status"
    );
    assert_eq!(api_error(api.get("coredns").await.unwrap_err()).code, 404);

    let log = server.request_log();
    let patches: Vec<_> = log.iter().filter(|r| r.verb == Some(Verb::Patch)).collect();
    assert_eq!(
        patches[0].content_type.as_deref(),
        Some("application/merge-patch+json")
    );
    assert_eq!(
        patches[2].content_type.as_deref(),
        Some("application/json-patch+json")
    );
    assert_eq!(
        patches[1].body_json().unwrap(),
        json!({"data": {"extra": null}})
    );
}

#[tokio::test]
async fn list_with_selectors_and_pagination() {
    let server = StandIn::start().await.unwrap();
    for i in 0..5 {
        let team = if i % 2 == 0 { "a" } else { "b" };
        server
            .apply_object(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": format!("cm{i}"), "namespace": "ns", "labels": {"team": team}}}))
            .unwrap();
    }
    let client = client_for(&server).await;
    let api: Api<ConfigMap> = Api::namespaced(client, "ns");
    let team_a = api
        .list(&ListParams::default().labels("team=a"))
        .await
        .unwrap();
    let names: Vec<_> = team_a
        .items
        .iter()
        .map(|c| c.metadata.name.clone().unwrap())
        .collect();
    assert_eq!(names, vec!["cm0", "cm2", "cm4"]);
    let by_name = api
        .list(&ListParams::default().fields("metadata.name=cm3"))
        .await
        .unwrap();
    assert_eq!(by_name.items.len(), 1);

    let first = api.list(&ListParams::default().limit(2)).await.unwrap();
    assert_eq!(first.items.len(), 2);
    let token = first.metadata.continue_.clone().expect("continue token");
    assert_eq!(first.metadata.remaining_item_count, Some(3));
    // A change after the first page does not leak into the rest of a paginated list.
    server.apply_object(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm9", "namespace": "ns"}})).unwrap();
    let second = api
        .list(&ListParams::default().limit(2).continue_token(&token))
        .await
        .unwrap();
    let third = api
        .list(
            &ListParams::default()
                .limit(2)
                .continue_token(second.metadata.continue_.as_deref().unwrap()),
        )
        .await
        .unwrap();
    let rest: Vec<_> = second
        .items
        .iter()
        .chain(third.items.iter())
        .map(|c| c.metadata.name.clone().unwrap())
        .collect();
    assert_eq!(rest, vec!["cm2", "cm3", "cm4"]);
    assert_eq!(third.metadata.continue_.as_deref().unwrap_or(""), "");
    assert_eq!(
        second.metadata.resource_version,
        first.metadata.resource_version
    );
}

#[tokio::test]
async fn runtime_watcher_sees_adds_updates_and_deletes() {
    let server = StandIn::start().await.unwrap();
    let client = client_for(&server).await;
    let api: Api<Ingress> = Api::all(client);
    let ingress = |host: &str| json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "web", "namespace": "apps"}, "spec": {"tls": [{"hosts": [host]}]}});
    server.apply_object(ingress("a.example.com")).unwrap();

    let mut events = watcher(api, watcher::Config::default()).boxed();
    let mut seen_initial = false;
    while let Some(event) = tokio::time::timeout(WAIT, events.try_next())
        .await
        .unwrap()
        .unwrap()
    {
        match event {
            watcher::Event::InitApply(i) => {
                seen_initial = i.metadata.name.as_deref() == Some("web")
            }
            watcher::Event::InitDone => break,
            _ => {}
        }
    }
    assert!(
        seen_initial,
        "the initial list delivered the existing Ingress"
    );

    server.apply_object(ingress("b.example.com")).unwrap();
    let updated = next_apply(&mut events).await;
    let host = &updated.spec.unwrap().tls.unwrap()[0].hosts.clone().unwrap()[0];
    assert_eq!(host, "b.example.com");

    server
        .delete_object("networking.k8s.io/v1", "Ingress", "apps", "web")
        .unwrap();
    match tokio::time::timeout(WAIT, events.try_next())
        .await
        .unwrap()
        .unwrap()
        .unwrap()
    {
        watcher::Event::Delete(i) => assert_eq!(i.metadata.name.as_deref(), Some("web")),
        other => panic!("unexpected event {other:?}"),
    }
}

async fn next_apply<K: std::fmt::Debug>(
    events: &mut (impl futures::Stream<Item = Result<watcher::Event<K>, watcher::Error>> + Unpin),
) -> K {
    match tokio::time::timeout(WAIT, events.try_next())
        .await
        .expect("event in time")
        .expect("no watch error")
        .expect("stream open")
    {
        watcher::Event::Apply(k) => k,
        other => panic!("unexpected event {other:?}"),
    }
}

#[tokio::test]
async fn watch_from_a_compacted_version_gets_410_and_the_watcher_relists() {
    let server = StandIn::builder().history_limit(5).start().await.unwrap();
    let client = client_for(&server).await;
    let api: Api<ConfigMap> = Api::namespaced(client, "w");

    // A raw watch from a version older than the retained history: one ERROR event, code 410.
    for i in 0..10 {
        server.apply_object(json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": format!("s{i}"), "namespace": "w"}})).unwrap();
    }
    let mut stream = api
        .watch(&WatchParams::default(), "1")
        .await
        .unwrap()
        .boxed();
    match tokio::time::timeout(WAIT, stream.next()).await.unwrap() {
        Some(Ok(WatchEvent::Error(status))) => {
            assert_eq!((status.code, status.reason.as_str()), (410, "Expired"));
            assert!(
                status.message.starts_with("too old resource version: 1 ("),
                "{}",
                status.message
            );
        }
        other => panic!("expected a 410 ERROR event, got {other:?}"),
    }

    // The runtime watcher: its re-watch after a dropped stream lands on a compacted version,
    // and it recovers by listing again.
    // Drive the watcher in its own task: it only issues its watch request while polled.
    let (tx, mut events) = tokio::sync::mpsc::unbounded_channel();
    let driver = tokio::spawn(async move {
        let mut stream = watcher(api, watcher::Config::default()).boxed();
        while let Some(event) = stream.next().await {
            if tx.send(event).is_err() {
                return;
            }
        }
    });
    loop {
        if let watcher::Event::InitDone = tokio::time::timeout(WAIT, events.recv())
            .await
            .unwrap()
            .unwrap()
            .unwrap()
        {
            break;
        }
    }
    let watching = RequestMatch::resource("configmaps").verb(Verb::Watch);
    let deadline = tokio::time::Instant::now() + WAIT;
    while server.open_watches(watching.clone()) == 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the watcher never started watching"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    server.delay(watching.clone(), Duration::from_millis(1500));
    assert_eq!(server.drop_watches(watching), 1);
    for i in 0..10 {
        server.apply_object(json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": format!("t{i}"), "namespace": "w"}})).unwrap();
    }
    server.apply_object(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "after-gap", "namespace": "w"}})).unwrap();
    let mut relisted = false;
    let mut saw_410 = false;
    let deadline = tokio::time::Instant::now() + WAIT;
    while tokio::time::Instant::now() < deadline {
        match tokio::time::timeout(WAIT, events.recv()).await.unwrap() {
            Some(Err(watcher::Error::WatchError(status))) => saw_410 = status.code == 410,
            Some(Ok(watcher::Event::InitApply(cm)))
                if cm.metadata.name.as_deref() == Some("after-gap") =>
            {
                relisted = true
            }
            Some(Ok(watcher::Event::InitDone)) if relisted => break,
            Some(_) => {}
            None => panic!("watcher stream ended"),
        }
    }
    driver.abort();
    assert!(
        saw_410,
        "the re-watch from the compacted version got the 410 ERROR event"
    );
    assert!(
        relisted,
        "the watcher relisted after the 410 and saw the object created in the gap"
    );
    let lists = server
        .request_log()
        .iter()
        .filter(|r| r.verb == Some(Verb::List) && r.path == "/api/v1/namespaces/w/configmaps")
        .count();
    assert_eq!(lists, 2, "one initial list and one relist");
}

#[tokio::test]
async fn deployment_scale_subresource_and_rollout_status() {
    let server = StandIn::builder()
        .rollout_delay(Duration::from_millis(50))
        .start()
        .await
        .unwrap();
    server
        .apply_object(json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "ouroboros-controller", "namespace": "ouroboros"},
            "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "c"}}, "template": {"metadata": {"labels": {"app": "c"}}, "spec": {"containers": [{"name": "c", "image": "x"}]}}}
        }))
        .unwrap();
    let client = client_for(&server).await;
    let api: Api<Deployment> = Api::namespaced(client, "ouroboros");
    wait_for_replicas(&api, Some(2)).await;
    let scale = api.get_scale("ouroboros-controller").await.unwrap();
    assert_eq!(scale.spec.unwrap().replicas, Some(2));
    assert_eq!(scale.status.unwrap().replicas, 2);

    let scaled = api
        .patch_scale(
            "ouroboros-controller",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"replicas": 0}})),
        )
        .await
        .unwrap();
    assert_eq!(scaled.spec.unwrap().replicas, Some(0));
    let deploy = api.get("ouroboros-controller").await.unwrap();
    assert_eq!(deploy.spec.unwrap().replicas, Some(0));
    wait_for_replicas(&api, None).await;
    let status = api
        .get("ouroboros-controller")
        .await
        .unwrap()
        .status
        .unwrap();
    assert!(
        status.replicas.is_none(),
        "zero replicas are omitted from status, as the apiserver does"
    );
}

async fn wait_for_replicas(api: &Api<Deployment>, want: Option<i32>) {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let got = api
            .get("ouroboros-controller")
            .await
            .unwrap()
            .status
            .and_then(|s| s.replicas);
        if got == want && tokio::time::Instant::now() < deadline {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "status.replicas stayed {got:?}, wanted {want:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn leases_for_leader_election() {
    let server = StandIn::start().await.unwrap();
    let client = client_for(&server).await;
    let api: Api<Lease> = Api::namespaced(client, "ouroboros");
    let lease: Lease = serde_json::from_value(json!({
        "metadata": {"name": "ouroboros-controller"},
        "spec": {"holderIdentity": "pod-a", "leaseDurationSeconds": 15, "renewTime": "2026-01-01T00:00:00.000000Z"}
    }))
    .unwrap();
    let created = api.create(&PostParams::default(), &lease).await.unwrap();
    let mut takeover = created.clone();
    takeover.spec.as_mut().unwrap().holder_identity = Some("pod-b".into());
    let mut competing = created.clone();
    competing.spec.as_mut().unwrap().holder_identity = Some("pod-c".into());
    api.replace("ouroboros-controller", &PostParams::default(), &takeover)
        .await
        .unwrap();
    let lost = api_error(
        api.replace("ouroboros-controller", &PostParams::default(), &competing)
            .await
            .unwrap_err(),
    );
    assert_eq!(
        lost.code, 409,
        "only one of two racing replicas wins the lease"
    );
    let stored = api.get("ouroboros-controller").await.unwrap();
    assert_eq!(
        stored.spec.unwrap().holder_identity.as_deref(),
        Some("pod-b")
    );
}

#[tokio::test]
async fn discovery_and_version_are_consistent_with_what_is_served() {
    let server = StandIn::start().await.unwrap();
    let client = client_for(&server).await;
    let version = client.apiserver_version().await.unwrap();
    assert_eq!(version.major, "1");
    let discovery = kube::discovery::Discovery::new(client.clone())
        .run()
        .await
        .unwrap();
    let (deploy, caps) = discovery
        .resolve_gvk(&kube::api::GroupVersionKind::gvk(
            "apps",
            "v1",
            "Deployment",
        ))
        .expect("Deployment discovered");
    assert_eq!(deploy.plural, "deployments");
    assert!(
        caps.subresources
            .iter()
            .any(|(s, _)| s.plural == "deployments/scale" || s.plural == "scale"),
        "{:?}",
        caps.subresources
    );
    let (dns, _) = discovery
        .resolve_gvk(&kube::api::GroupVersionKind::gvk(
            "externaldns.k8s.io",
            "v1alpha1",
            "DNSEndpoint",
        ))
        .expect("DNSEndpoint discovered");
    assert_eq!(dns.plural, "dnsendpoints");
    let (ns, caps) = discovery
        .resolve_gvk(&kube::api::GroupVersionKind::gvk("", "v1", "Namespace"))
        .expect("Namespace");
    assert_eq!(
        (ns.plural.as_str(), caps.scope.clone()),
        ("namespaces", kube::discovery::Scope::Cluster)
    );
    assert!(discovery
        .resolve_gvk(&kube::api::GroupVersionKind::gvk(
            "apps",
            "v1",
            "StatefulSet"
        ))
        .is_none());
}

#[tokio::test]
async fn forbidden_and_injected_failures_reach_the_client_as_api_errors() {
    let server = StandIn::builder()
        .user("system:serviceaccount:ouroboros:ouroboros")
        .start()
        .await
        .unwrap();
    let client = client_for(&server).await;
    let api: Api<ConfigMap> = Api::namespaced(client, "kube-system");
    server.forbid(RequestMatch::resource("configmaps").name("node-local-dns"));
    let denied = api_error(api.get("node-local-dns").await.unwrap_err());
    assert_eq!(denied.code, 403);
    assert_eq!(
        denied.message,
        "configmaps \"node-local-dns\" is forbidden: User \"system:serviceaccount:ouroboros:ouroboros\" cannot get resource \"configmaps\" in API group \"\" in the namespace \"kube-system\""
    );
    server.apply_object(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "coredns", "namespace": "kube-system"}, "data": {"Corefile": "x"}})).unwrap();
    server.conflict_next(RequestMatch::resource("configmaps").verb(Verb::Update), 2);
    let current = api.get("coredns").await.unwrap();
    for _ in 0..2 {
        assert_eq!(
            api_error(
                api.replace("coredns", &PostParams::default(), &current)
                    .await
                    .unwrap_err()
            )
            .code,
            409
        );
    }
    api.replace("coredns", &PostParams::default(), &current)
        .await
        .expect("storm over");
    server.fail_next(RequestMatch::any(), 1, 500);
    assert_eq!(api_error(api.get("coredns").await.unwrap_err()).code, 500);
    assert!(api.get("coredns").await.is_ok());
    // kube-rs retries 429/503/504 by itself: a single 503 is invisible to the caller, and the
    // log shows the retry.
    server.clear_request_log();
    server.fail_next(RequestMatch::any(), 1, 503);
    assert!(api.get("coredns").await.is_ok());
    let codes: Vec<u16> = server.request_log().iter().map(|r| r.status).collect();
    assert_eq!(codes, vec![503, 200]);
}
