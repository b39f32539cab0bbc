//! external-dns mode against the API: startup plan (targets, orphan probe) and the reconcile
//! that creates, updates and prunes owned record objects (spec §11).

use std::net::IpAddr;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Service;
use kube::api::{Api, ApiResource, DeleteParams, DynamicObject, ListParams, PostParams};
use kube::{Client, ResourceExt};

use super::metrics::Metrics;
use super::targets::{Applied, TargetError};
use crate::config::ExternalDnsConfig;
use crate::externaldns::{
    build_records, decide_record_action, ownership_selector, plan_records, ObservedRecord,
    OutputKind, RecordAction, RecordOptions, RecordPlan, RecordTargets, StatusObservation,
    StatusTracker, StatusWarning,
};

/// The DNSEndpoint resource.
pub fn dnsendpoint_resource() -> ApiResource {
    ApiResource {
        group: "externaldns.k8s.io".into(),
        version: "v1alpha1".into(),
        api_version: "externaldns.k8s.io/v1alpha1".into(),
        kind: "DNSEndpoint".into(),
        plural: "dnsendpoints".into(),
    }
}

/// The resource carrying records for an output kind.
pub fn record_resource(output: OutputKind) -> ApiResource {
    match output {
        OutputKind::Crd => dnsendpoint_resource(),
        OutputKind::Service => ApiResource::erase::<Service>(&()),
    }
}

/// The records reconciler.
pub struct ExternalDnsTarget {
    api: Api<DynamicObject>,
    opts: RecordOptions,
    targets: RecordTargets,
    status: StatusTracker,
}

/// Reads the proxy Service's cluster IPs (spec §11.1 step 4).
pub async fn discover_proxy_ips(
    client: &Client,
    namespace: &str,
    name: &str,
) -> Result<Vec<IpAddr>, String> {
    let id = format!("{namespace}/{name}");
    let svc = Api::<Service>::namespaced(client.clone(), namespace)
        .get(name)
        .await
        .map_err(|e| format!("get proxy service {id}: {e}"))?;
    let spec = svc.spec.unwrap_or_default();
    if spec.cluster_ip.as_deref() == Some("None") {
        return Err(format!(
            "proxy service {id} is headless (clusterIP: None); it needs a ClusterIP"
        ));
    }
    let raw: Vec<String> = match spec.cluster_ips {
        Some(ips) if !ips.is_empty() => ips,
        _ => spec
            .cluster_ip
            .into_iter()
            .filter(|ip| !ip.is_empty())
            .collect(),
    };
    if raw.is_empty() {
        return Err(format!("proxy service {id} has no ClusterIP allocated yet"));
    }
    raw.iter()
        .map(|ip| {
            ip.parse()
                .map_err(|_| format!("proxy service {id} has an invalid ClusterIP {ip:?}"))
        })
        .collect()
}

impl ExternalDnsTarget {
    /// Resolves the plan: records namespace, instance, targets; runs the orphan probe.
    pub async fn plan(
        client: &Client,
        cfg: &ExternalDnsConfig,
        pod_namespace: &str,
        instance: &str,
    ) -> Result<Self, String> {
        if instance.is_empty() {
            return Err("OUROBOROS_INSTANCE is not set; it must name the release so two releases never prune each other's records".into());
        }
        let namespace = if cfg.namespace.is_empty() {
            pod_namespace.to_string()
        } else {
            cfg.namespace.clone()
        };
        let ips = if cfg.proxy_ip.is_empty() {
            discover_proxy_ips(client, pod_namespace, &cfg.proxy_service).await?
        } else {
            vec![cfg
                .proxy_ip
                .parse()
                .map_err(|_| format!("invalid --external-dns-proxy-ip {:?}", cfg.proxy_ip))?]
        };
        let targets = RecordTargets::from_ips(&ips);
        let opts = RecordOptions {
            namespace: namespace.clone(),
            instance: instance.to_string(),
            ttl: cfg.ttl,
            output: cfg.output,
            annotation_prefix: cfg.annotation_prefix.clone(),
            annotations: cfg.annotations.clone(),
            labels: cfg.labels.clone(),
        };
        let inactive = match cfg.output {
            OutputKind::Crd => OutputKind::Service,
            OutputKind::Service => OutputKind::Crd,
        };
        let _ = tokio::time::timeout(
            Duration::from_secs(5),
            orphan_probe(client, &namespace, instance, inactive),
        )
        .await;
        let output = if cfg.output == OutputKind::Crd {
            "crd"
        } else {
            "service"
        };
        let target_text: Vec<String> = ips.iter().map(ToString::to_string).collect();
        tracing::info!(recordsNamespace = %namespace, serviceNamespace = %pod_namespace, targets = %target_text.join(","),
            ttl = cfg.ttl, instance, annotations = cfg.annotations.len(), labels = cfg.labels.len(),
            "external-dns reconciler ready (output={output})");
        Ok(Self {
            api: Api::namespaced_with(client.clone(), &namespace, &record_resource(cfg.output)),
            opts,
            targets,
            status: StatusTracker::default(),
        })
    }

    /// One reconcile.
    pub async fn apply(
        &mut self,
        hosts: &[String],
        metrics: &Metrics,
    ) -> Result<Applied, TargetError> {
        let ns = self.opts.namespace.clone();
        let mut desired = Vec::new();
        for host in hosts {
            match build_records(host, &self.targets, &self.opts) {
                Ok(records) => desired.extend(records),
                Err(e) => {
                    tracing::warn!(host = %host, error = %e, "externaldns: skipping host with build failure")
                }
            }
        }
        let selector = ownership_selector(&self.opts.instance);
        let listed = self
            .api
            .list(&ListParams::default().labels(&selector))
            .await
            .map_err(|source| TargetError::Api {
                context: format!("list records in {ns}"),
                source,
            })?;
        let owned: Vec<ObservedRecord> = listed
            .items
            .iter()
            .map(observe)
            .filter(|o| o.is_owned_by(&self.opts.instance))
            .collect();
        let plan = plan_records(hosts.len(), desired, &owned, &self.opts.instance);
        let mut wrote = false;
        match plan {
            RecordPlan::Noop => {}
            RecordPlan::KeepOwnedOnEmptyHosts { owned_count } => {
                tracing::warn!(ownedCount = owned_count, namespace = %ns,
                    "host set is empty but owned records exist; keeping them. Uninstall the release to remove them, or restore a hostname");
            }
            RecordPlan::AllBuildsFailed {
                host_count,
                owned_count,
            } => {
                return Err(TargetError::Records(format!(
                    "all {host_count} hosts failed to build records; pruning none of the {owned_count} owned records"
                )));
            }
            RecordPlan::Apply { desired, prune } => {
                for record in &desired {
                    wrote |= self.apply_one(record, metrics).await?;
                }
                for name in prune {
                    match self.api.delete(&name, &DeleteParams::default()).await {
                        Ok(_) => {
                            metrics.write();
                            wrote = true;
                        }
                        Err(kube::Error::Api(s)) if s.code == 404 => {}
                        Err(source) => {
                            return Err(TargetError::Api {
                                context: format!("delete record {ns}/{name}"),
                                source,
                            })
                        }
                    }
                }
            }
        }
        if self.opts.output == OutputKind::Crd {
            self.surface_status(&listed.items);
        }
        Ok(if wrote {
            Applied::Written
        } else {
            Applied::Unchanged("records up to date")
        })
    }

    async fn apply_one(
        &self,
        record: &crate::externaldns::DesiredRecord,
        metrics: &Metrics,
    ) -> Result<bool, TargetError> {
        let ns = &self.opts.namespace;
        let id = format!("{ns}/{}", record.name);
        let existing = self
            .api
            .get_opt(&record.name)
            .await
            .map_err(|source| TargetError::Api {
                context: format!("get record {id}"),
                source,
            })?;
        let observed = existing.as_ref().map(observe);
        match decide_record_action(
            record,
            observed.as_ref(),
            &self.opts.instance,
            self.opts.output,
        ) {
            RecordAction::Unchanged => Ok(false),
            RecordAction::RefuseForeign => Err(TargetError::Records(format!(
                "record {id} exists but is not owned by instance {:?}; refusing to overwrite it",
                self.opts.instance
            ))),
            RecordAction::Create => {
                let obj: DynamicObject =
                    serde_json::from_value(record.to_object(ns, self.opts.output))
                        .map_err(|e| TargetError::Records(format!("build record {id}: {e}")))?;
                let pp = PostParams {
                    field_manager: Some("ouroboros".into()),
                    ..Default::default()
                };
                match self.api.create(&pp, &obj).await {
                    Ok(_) => {
                        metrics.write();
                        Ok(true)
                    }
                    Err(kube::Error::Api(s)) if s.code == 409 => Ok(false),
                    Err(source) => Err(TargetError::Api {
                        context: format!("create record {id}"),
                        source,
                    }),
                }
            }
            RecordAction::Update { .. } => {
                let Some(mut obj) = existing else {
                    return Ok(false);
                };
                obj.metadata.labels = Some(record.labels.clone());
                obj.metadata.annotations = Some(record.annotations.clone());
                if let (OutputKind::Crd, Some(spec)) = (self.opts.output, &record.spec) {
                    obj.data["spec"] = spec.clone();
                }
                let pp = PostParams {
                    field_manager: Some("ouroboros".into()),
                    ..Default::default()
                };
                match self.api.replace(&record.name, &pp, &obj).await {
                    Ok(_) => {
                        metrics.write();
                        Ok(true)
                    }
                    Err(kube::Error::Api(s)) if s.code == 404 => Ok(false),
                    Err(kube::Error::Api(s)) if s.code == 409 => {
                        metrics.conflict();
                        Err(TargetError::Conflict {
                            context: format!("update record {id}"),
                            attempts: 1,
                        })
                    }
                    Err(source) => Err(TargetError::Api {
                        context: format!("update record {id}"),
                        source,
                    }),
                }
            }
        }
    }

    fn surface_status(&mut self, items: &[DynamicObject]) {
        let now = k8s_openapi::jiff::Timestamp::now();
        let observations: Vec<StatusObservation> = items
            .iter()
            .map(|o| StatusObservation {
                name: o.name_any(),
                generation: o.metadata.generation.unwrap_or(0),
                observed_generation: o
                    .data
                    .get("status")
                    .and_then(|s| s.get("observedGeneration"))
                    .cloned(),
                age: o
                    .metadata
                    .creation_timestamp
                    .as_ref()
                    .and_then(|t| now.duration_since(t.0).try_into().ok())
                    .unwrap_or(Duration::ZERO),
            })
            .collect();
        for warning in self.status.evaluate(Instant::now(), &observations) {
            match warning {
                StatusWarning::Missing { name, generation } => {
                    tracing::warn!(dnsEndpoint = %name, specGeneration = generation,
                    "DNSEndpoint has no status after the grace period; external-dns may not be running or may lack status RBAC")
                }
                StatusWarning::Behind {
                    name,
                    generation,
                    observed,
                } => tracing::warn!(dnsEndpoint = %name, specGeneration = generation,
                    observedGeneration = %observed, "DNSEndpoint status lags its spec; external-dns is unhealthy or its provider rejects writes"),
            }
        }
    }
}

fn observe(obj: &DynamicObject) -> ObservedRecord {
    ObservedRecord {
        name: obj.name_any(),
        labels: obj.labels().clone(),
        annotations: obj.annotations().clone(),
        spec: obj.data.get("spec").cloned(),
        resource_version: obj.resource_version(),
    }
}

async fn orphan_probe(client: &Client, namespace: &str, instance: &str, inactive: OutputKind) {
    let resource = record_resource(inactive);
    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), namespace, &resource);
    let selector = ownership_selector(instance);
    match api
        .list(&ListParams::default().labels(&selector).limit(1))
        .await
    {
        Ok(list) if !list.items.is_empty() => {
            let kind = if inactive == OutputKind::Crd {
                "dnsendpoints.externaldns.k8s.io"
            } else {
                "services"
            };
            tracing::warn!(orphanCount = list.items.len(), namespace,
                "records of the other external-dns output remain; remove them with: kubectl --namespace {namespace} delete {kind} --selector='{selector}'");
        }
        Ok(_) => {}
        Err(kube::Error::Api(s)) if s.code == 404 || s.code == 403 => {}
        Err(e) => tracing::debug!(namespace, error = %e, "orphan probe failed"),
    }
}
