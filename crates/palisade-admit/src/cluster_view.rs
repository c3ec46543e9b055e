//! The cluster's RBAC objects and ServiceAccounts, kept current by watches (kube-rs
//! reflectors), so that admission can judge what a new object adds to them.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use futures::StreamExt;
use kube::api::{Api, ApiResource, DynamicObject};
use kube::runtime::reflector::{self, store::Writer, Store};
use kube::runtime::{watcher, WatchStreamExt};
use palisade_analysis::InventoryBuilder;
use palisade_engine::Pipeline;
use palisade_model::{Finding, Object, ObjectRef};
use serde_json::Value as Json;

use crate::review::ClusterView;

/// (group, version, kind, plural) of what the view watches.
const WATCHED: &[(&str, &str, &str, &str)] = &[
    (
        "rbac.authorization.k8s.io",
        "v1",
        "ClusterRole",
        "clusterroles",
    ),
    (
        "rbac.authorization.k8s.io",
        "v1",
        "ClusterRoleBinding",
        "clusterrolebindings",
    ),
    ("rbac.authorization.k8s.io", "v1", "Role", "roles"),
    (
        "rbac.authorization.k8s.io",
        "v1",
        "RoleBinding",
        "rolebindings",
    ),
    ("", "v1", "ServiceAccount", "serviceaccounts"),
    ("", "v1", "Namespace", "namespaces"),
];

/// Findings of a state, identified without the volatile parts.
type Keyed = HashSet<(&'static str, Arc<ObjectRef>, String, String)>;

fn key(finding: &Finding) -> (&'static str, Arc<ObjectRef>, String, String) {
    (
        finding.rule.code,
        Arc::clone(&finding.object),
        finding.path.as_str().to_string(),
        finding.message.to_string(),
    )
}

pub struct RbacView {
    stores: Vec<(ApiResource, Store<DynamicObject>)>,
    /// Counts watch events: the state's identity for the cache.
    generation: Arc<AtomicU64>,
    /// The findings of the state as it is, for the generation they were computed at.
    current: Mutex<Option<(u64, Arc<Keyed>)>>,
}

impl RbacView {
    /// Starts the watches on the caller's runtime.
    pub fn start(client: &kube::Client, context: &str) -> RbacView {
        let generation = Arc::new(AtomicU64::new(0));
        let mut stores = Vec::new();
        for (group, version, kind, plural) in WATCHED {
            let resource = ApiResource {
                group: group.to_string(),
                version: version.to_string(),
                api_version: if group.is_empty() {
                    version.to_string()
                } else {
                    format!("{group}/{version}")
                },
                kind: kind.to_string(),
                plural: plural.to_string(),
            };
            let api: Api<DynamicObject> = Api::all_with(client.clone(), &resource);
            let writer = Writer::new(resource.clone());
            let reader = writer.as_reader();
            let stream = reflector::reflector(writer, watcher(api, watcher::Config::default()))
                .default_backoff()
                .touched_objects();
            let counter = Arc::clone(&generation);
            let context = context.to_string();
            tokio::spawn(async move {
                futures::pin_mut!(stream);
                while let Some(event) = stream.next().await {
                    counter.fetch_add(1, Ordering::Relaxed);
                    if let Err(e) = event {
                        eprintln!("palisade admit: watching {plural} in `{context}`: {e}");
                    }
                }
            });
            stores.push((resource, reader));
        }
        RbacView {
            stores,
            generation,
            current: Mutex::new(None),
        }
    }

    /// A label of a Namespace, as last seen.
    pub fn namespace_label(&self, namespace: &str, label: &str) -> Option<String> {
        let (resource, store) = self.stores.iter().find(|(r, _)| r.kind == "Namespace")?;
        let object = store.get(&reflector::ObjectRef::new_with(namespace, resource.clone()))?;
        object.metadata.labels.as_ref()?.get(label).cloned()
    }

    /// Whether every watch has listed its kind once.
    pub async fn wait_until_ready(&self) {
        for (_, store) in &self.stores {
            let _ = store.wait_until_ready().await;
        }
    }

    /// The view as objects, leaving out `except` (the object under review, in its old form).
    fn inventory(&self, except: Option<&ObjectRef>) -> InventoryBuilder {
        let mut builder = InventoryBuilder::default();
        for (resource, store) in &self.stores {
            for object in store.state() {
                let Ok(mut value) = serde_json::to_value(&*object) else {
                    continue;
                };
                if let Some(map) = value.as_object_mut() {
                    map.insert(
                        "apiVersion".into(),
                        Json::String(resource.api_version.clone()),
                    );
                    map.insert("kind".into(), Json::String(resource.kind.clone()));
                }
                palisade_cluster::strip_arrival(&mut value);
                let object = palisade_load::json::to_object(&value);
                if except.is_some_and(|e| same_object(e, &object.reference)) {
                    continue;
                }
                builder.add(&object);
            }
        }
        builder
    }

    fn findings_now(&self, pipeline: &Pipeline) -> Arc<Keyed> {
        let generation = self.generation.load(Ordering::Relaxed);
        if let Ok(cache) = self.current.lock() {
            if let Some((at, keyed)) = cache.as_ref() {
                if *at == generation {
                    return Arc::clone(keyed);
                }
            }
        }
        let inventory = pipeline.engine.build_inventory(self.inventory(None));
        let keyed: Arc<Keyed> = Arc::new(
            pipeline
                .engine
                .check_inventory_in(&inventory, "rbac")
                .iter()
                .map(key)
                .collect(),
        );
        if let Ok(mut cache) = self.current.lock() {
            *cache = Some((generation, Arc::clone(&keyed)));
        }
        keyed
    }
}

/// The same object, whatever its apiVersion (`rbac.authorization.k8s.io/v1` or a beta).
fn same_object(a: &ObjectRef, b: &ObjectRef) -> bool {
    a.kind == b.kind && a.namespace == b.namespace && a.name == b.name
}

impl ClusterView for RbacView {
    fn added_findings(&self, pipeline: &Pipeline, object: &Object) -> Vec<Finding> {
        let before = self.findings_now(pipeline);
        let mut with = self.inventory(Some(&object.reference));
        with.add(object);
        let inventory = pipeline.engine.build_inventory(with);
        pipeline
            .engine
            .check_inventory_in(&inventory, "rbac")
            .into_iter()
            .filter(|f| !before.contains(&key(f)))
            .collect()
    }
}
