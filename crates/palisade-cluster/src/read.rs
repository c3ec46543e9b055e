//! Discovery of what to list, and the lists themselves: paginated (`limit`/`continue`), several
//! kinds at a time. List tasks pass page text; the reading thread parses one page at a time, so
//! memory holds a page, not a buffer of parsed pages.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use futures::StreamExt;
use kube::core::{params::ListParams, Request};
use serde::Deserialize;
use serde_json::Value as Json;

use crate::connect::{describe, with_timeout, Cluster};
use crate::convert::strip_arrival;
use crate::kinds::{ReadKind, Resource, CRD_KIND, READ_KINDS};
use crate::ClusterError;

/// How to read.
#[derive(Clone, Debug)]
pub struct ReadOptions {
    /// Namespaced kinds are listed in these namespaces only (all when empty); cluster-scoped
    /// kinds are always listed, because the analyses need them.
    pub namespaces: Vec<String>,
    /// Lists in flight at once; 1 reads kind after kind, in a fixed order.
    pub concurrency: usize,
    /// Items per page.
    pub page_size: u32,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            namespaces: Vec::new(),
            concurrency: 4,
            // Pages of 500 (kubectl's default) read no faster here and hold twice the memory.
            page_size: 250,
        }
    }
}

/// What a read reports, in arrival order.
#[derive(Debug)]
pub enum Message {
    /// How many lists the read will make.
    Planned(usize),
    /// One page of objects, `apiVersion` and `kind` set, arrival fields dropped.
    Items(Vec<Json>),
    /// One list is complete: how many objects it gave, and how many it left out because a
    /// workload that is also read owns them (a Deployment's ReplicaSets and their Pods).
    Listed {
        resource: Resource,
        items: usize,
        owned: usize,
    },
    /// One list failed; the others go on.
    Error(ClusterError),
}

/// A page parsed in full, on the reading thread.
#[derive(Deserialize, Default)]
struct Page {
    /// `null` in an empty metadata-only list.
    #[serde(default)]
    items: Option<Vec<Json>>,
}

/// What a list task reads of a page: the continue token and the UIDs; the rest is skipped.
#[derive(Deserialize, Default)]
struct PageHead {
    #[serde(default)]
    metadata: PageMeta,
    #[serde(default)]
    items: Option<Vec<ItemHead>>,
}

#[derive(Deserialize, Default)]
struct PageMeta {
    #[serde(rename = "continue", default)]
    continue_token: Option<String>,
}

#[derive(Deserialize, Default)]
struct ItemHead {
    #[serde(default)]
    metadata: ItemMeta,
}

#[derive(Deserialize, Default)]
struct ItemMeta {
    #[serde(default)]
    uid: Option<String>,
}

/// Kinds whose objects a controller makes from another object's pod template: skipped when
/// that owner is read too, so one root cause is reported once, on the object a user wrote.
const POD_CARRYING: &[&str] = &[
    "Pod",
    "ReplicaSet",
    "Job",
    "ReplicationController",
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "CronJob",
];

/// Secret types read by name (a metadata-only list with a `type=` field selector), because rules
/// judge them: a metadata-only Secret otherwise has no `type`.
const SECRET_TYPES: &[&str] = &["kubernetes.io/service-account-token"];

/// Why a list failed: the HTTP status when the server answered, and what went wrong.
type ListError = (Option<u16>, String);

/// One list: a resource, in one namespace or all.
struct Job {
    resource: Resource,
    namespace: Option<String>,
    /// The type of each Secret that has one of [`SECRET_TYPES`], by UID.
    secret_types: HashMap<String, &'static str>,
}

/// What list tasks hand the reading thread.
enum Wire {
    Page {
        job: Arc<Job>,
        text: String,
        /// UIDs passed on before the list restarted (its continue token expired).
        skip: Option<Arc<HashSet<String>>>,
    },
    Listed(Arc<Job>),
    Error(ClusterError),
}

/// What the list tasks share.
struct Lister {
    client: kube::Client,
    context: String,
    timeout: Option<std::time::Duration>,
    page_size: u32,
}

impl Cluster {
    /// Lists every kind Palisade reads (and the custom resources that carry pod templates),
    /// calling `sink` on this thread for each page, finished list and error.
    pub fn read(&self, options: &ReadOptions, sink: &mut dyn FnMut(Message)) {
        let (resources, errors) = self.runtime.block_on(self.plan(options.page_size));
        for error in errors {
            sink(Message::Error(error));
        }
        let mut jobs: Vec<(Resource, Option<String>)> = Vec::new();
        for resource in &resources {
            if resource.namespaced && !options.namespaces.is_empty() {
                for namespace in &options.namespaces {
                    jobs.push((resource.clone(), Some(namespace.clone())));
                }
            } else {
                jobs.push((resource.clone(), None));
            }
        }
        sink(Message::Planned(jobs.len()));
        let owners: HashSet<String> = resources
            .iter()
            .filter(|r| POD_CARRYING.contains(&r.kind.as_str()) || !is_built_in(&r.group))
            .map(|r| r.kind.clone())
            .collect();
        let lister = Arc::new(self.lister(options.page_size));
        // Two pages in flight at most: memory holds a few pages of text, whatever the cluster.
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Wire>(2);
        let concurrency = options.concurrency.max(1);
        self.runtime.spawn(async move {
            futures::stream::iter(jobs)
                .for_each_concurrent(concurrency, |(resource, namespace)| {
                    let lister = Arc::clone(&lister);
                    let tx = tx.clone();
                    async move { lister.list(resource, namespace, &tx).await }
                })
                .await;
        });
        let mut counts: HashMap<*const Job, (usize, usize)> = HashMap::new();
        while let Some(wire) = rx.blocking_recv() {
            match wire {
                Wire::Page { job, text, skip } => {
                    let (items, owned) = counts.entry(Arc::as_ptr(&job)).or_default();
                    let batch = objects_of_page(&job, &text, skip.as_deref(), &owners, owned);
                    drop(text);
                    *items += batch.len();
                    if !batch.is_empty() {
                        sink(Message::Items(batch));
                    }
                }
                Wire::Listed(job) => {
                    let (items, owned) = counts.remove(&Arc::as_ptr(&job)).unwrap_or_default();
                    sink(Message::Listed {
                        resource: job.resource.clone(),
                        items,
                        owned,
                    });
                }
                Wire::Error(error) => sink(Message::Error(error)),
            }
        }
    }

    fn lister(&self, page_size: u32) -> Lister {
        Lister {
            client: self.client.clone(),
            context: self.context.clone(),
            timeout: self.timeout,
            page_size,
        }
    }

    /// The resources to list: the kinds of [`READ_KINDS`] the server serves, at their preferred
    /// versions, and the custom resources whose schema has a pod template.
    async fn plan(&self, page_size: u32) -> (Vec<Resource>, Vec<ClusterError>) {
        let mut errors = Vec::new();
        let mut groups: Vec<&str> = READ_KINDS.iter().map(|k| k.group).collect();
        groups.dedup();
        let discovery = kube::discovery::Discovery::new(self.client.clone()).filter(&groups);
        let discovery = match with_timeout(self.timeout, discovery.run()).await {
            Ok(discovery) => Some(discovery),
            Err(e) => {
                errors.push(self.kind_error("discovery", &e));
                None
            }
        };
        let mut resources: Vec<Resource> = READ_KINDS
            .iter()
            .filter_map(|want| served(discovery.as_ref()?, want))
            .collect();
        let (found, crd_errors) = self.custom_pod_resources_async(page_size).await;
        errors.extend(crd_errors);
        resources.extend(found);
        (resources, errors)
    }

    /// The custom resources whose objects carry a pod template (Argo Rollouts, ...), from
    /// the cluster's CustomResourceDefinitions.
    pub fn custom_pod_resources(&self) -> (Vec<Resource>, Vec<ClusterError>) {
        self.runtime
            .block_on(self.custom_pod_resources_async(ReadOptions::default().page_size))
    }

    async fn custom_pod_resources_async(
        &self,
        page_size: u32,
    ) -> (Vec<Resource>, Vec<ClusterError>) {
        let crds = Resource {
            group: CRD_KIND.group.into(),
            version: "v1".into(),
            kind: CRD_KIND.kind.into(),
            plural: CRD_KIND.resource.into(),
            namespaced: false,
            metadata_only: false,
        };
        let lister = self.lister(page_size);
        let mut pager = Pager::new(&lister, &crds, None, None);
        let mut found = Vec::new();
        while let Some(page) = pager.next().await {
            match page {
                Ok((text, _)) => {
                    let page: Page = serde_json::from_str(&text).unwrap_or_default();
                    found.extend(
                        page.items
                            .unwrap_or_default()
                            .iter()
                            .filter_map(pod_carrying),
                    );
                }
                Err((status, message)) => {
                    let error = ClusterError::Kind {
                        context: self.context.clone(),
                        resource: crds.display(),
                        status,
                        message,
                    };
                    return (found, vec![error]);
                }
            }
        }
        (found, Vec::new())
    }

    fn kind_error(&self, resource: &str, error: &kube::Error) -> ClusterError {
        let (status, message) = describe(error);
        ClusterError::Kind {
            context: self.context.clone(),
            resource: resource.to_string(),
            status,
            message,
        }
    }
}

/// The objects of one page as callers get them: `apiVersion`, `kind` (and a Secret's known
/// `type`) set, arrival fields dropped, objects a read workload owns left out (counted in
/// `owned`).
fn objects_of_page(
    job: &Job,
    text: &str,
    skip: Option<&HashSet<String>>,
    owners: &HashSet<String>,
    owned: &mut usize,
) -> Vec<Json> {
    let page: Page = serde_json::from_str(text).unwrap_or_default();
    let api_version = job.resource.api_version();
    let items = page.items.unwrap_or_default();
    let mut batch = Vec::with_capacity(items.len());
    for mut item in items {
        let uid = item.pointer("/metadata/uid").and_then(Json::as_str);
        if skip.is_some_and(|seen| uid.is_some_and(|uid| seen.contains(uid))) {
            continue;
        }
        if is_owned(&job.resource.kind, &item, owners) {
            *owned += 1;
            continue;
        }
        let secret_type = uid.and_then(|uid| job.secret_types.get(uid).copied());
        if let Some(map) = item.as_object_mut() {
            map.insert("apiVersion".into(), Json::String(api_version.clone()));
            map.insert("kind".into(), Json::String(job.resource.kind.clone()));
            if let Some(secret_type) = secret_type {
                map.insert("type".into(), Json::String(secret_type.to_string()));
            }
        }
        strip_arrival(&mut item);
        if job.resource.kind == "Secret" && job.resource.group.is_empty() {
            forget_secret_values(&mut item);
        }
        batch.push(item);
    }
    batch
}

/// Secrets are asked for as metadata only; a server (or proxy) that sends them whole anyway
/// must not put their values in Palisade's hands: dropped on arrival, before anything else
/// sees the object.
fn forget_secret_values(item: &mut Json) {
    if let Some(map) = item.as_object_mut() {
        map.remove("data");
        map.remove("stringData");
    }
}

/// Whether a controller made `item` (a Pod, ReplicaSet or Job) from the pod template of a
/// workload kind Palisade reads, so its findings belong to that workload.
pub fn owned_by_workload(kind: &str, item: &Json) -> bool {
    let owners: HashSet<String> = POD_CARRYING.iter().map(|k| k.to_string()).collect();
    is_owned(kind, item, &owners)
}

/// Whether a controller made `item` from a pod template that is read too.
fn is_owned(kind: &str, item: &Json, owners: &HashSet<String>) -> bool {
    if !matches!(kind, "Pod" | "ReplicaSet" | "Job") {
        return false;
    }
    let Some(references) = item
        .pointer("/metadata/ownerReferences")
        .and_then(Json::as_array)
    else {
        return false;
    };
    references.iter().any(|owner| {
        owner.get("controller").and_then(Json::as_bool) == Some(true)
            && owner
                .get("kind")
                .and_then(Json::as_str)
                .is_some_and(|k| owners.contains(k))
    })
}

fn is_built_in(group: &str) -> bool {
    group.is_empty() || !group.contains('.') || group.ends_with(".k8s.io")
}

/// The resource for `want`, when the server serves it.
fn served(discovery: &kube::Discovery, want: &ReadKind) -> Option<Resource> {
    let (resource, capabilities) = discovery.get(want.group)?.recommended_kind(want.kind)?;
    Some(Resource {
        group: resource.group,
        version: resource.version,
        kind: resource.kind,
        plural: resource.plural,
        namespaced: capabilities.scope == kube::discovery::Scope::Namespaced,
        metadata_only: want.metadata_only,
    })
}

/// The custom resource a CustomResourceDefinition defines, when its objects carry a pod
/// template at `spec.template` (the served version the server stores, else the first served
/// one that has the template).
fn pod_carrying(crd: &Json) -> Option<Resource> {
    let spec = crd.get("spec")?;
    let has_template = |version: &Json| {
        version
            .pointer("/schema/openAPIV3Schema/properties/spec/properties/template")
            .is_some()
    };
    let versions = spec.get("versions")?.as_array()?;
    let served = |v: &&Json| v.get("served").and_then(Json::as_bool) == Some(true);
    let version = versions
        .iter()
        .filter(served)
        .find(|v| v.get("storage").and_then(Json::as_bool) == Some(true) && has_template(v))
        .or_else(|| versions.iter().filter(served).find(|v| has_template(v)))?;
    let text = |node: &Json, pointer: &str| node.pointer(pointer)?.as_str().map(str::to_string);
    Some(Resource {
        group: text(spec, "/group")?,
        version: text(version, "/name")?,
        kind: text(spec, "/names/kind")?,
        plural: text(spec, "/names/plural")?,
        namespaced: text(spec, "/scope").as_deref() != Some("Cluster"),
        metadata_only: false,
    })
}

/// The pages of one list, fetched one at a time, as text.
struct Pager<'a> {
    lister: &'a Lister,
    resource: &'a Resource,
    namespace: Option<&'a str>,
    field_selector: Option<String>,
    continue_token: Option<String>,
    restarted: bool,
    done: bool,
    /// UIDs passed on, to leave out after a restart.
    seen: HashSet<String>,
    /// What was passed on before the restart.
    skip: Option<Arc<HashSet<String>>>,
}

impl<'a> Pager<'a> {
    fn new(
        lister: &'a Lister,
        resource: &'a Resource,
        namespace: Option<&'a str>,
        field_selector: Option<String>,
    ) -> Self {
        Pager {
            lister,
            resource,
            namespace,
            field_selector,
            continue_token: None,
            restarted: false,
            done: false,
            seen: HashSet::new(),
            skip: None,
        }
    }

    /// The next page's text and its items' UIDs.
    async fn next(&mut self) -> Option<Result<(String, Vec<String>), ListError>> {
        while !self.done {
            let mut params = ListParams::default().limit(self.lister.page_size);
            if let Some(selector) = &self.field_selector {
                params = params.fields(selector);
            }
            if let Some(token) = &self.continue_token {
                params = params.continue_token(token);
            }
            let request = Request::new(self.resource.url_path(self.namespace));
            let request = if self.resource.metadata_only {
                request.list_metadata(&params)
            } else {
                request.list(&params)
            };
            let request = match request {
                Ok(request) => request,
                Err(e) => {
                    self.done = true;
                    return Some(Err((None, e.to_string())));
                }
            };
            let answer = with_timeout(
                self.lister.timeout,
                self.lister.client.request_text(request),
            );
            let text = match answer.await {
                Ok(text) => text,
                Err(kube::Error::Api(status))
                    if status.code == 410 && self.continue_token.is_some() && !self.restarted =>
                {
                    // The continue token outlived etcd's compaction: list again from the start,
                    // leaving out what was already passed on.
                    self.restarted = true;
                    self.continue_token = None;
                    self.skip = Some(Arc::new(std::mem::take(&mut self.seen)));
                    continue;
                }
                Err(e) => {
                    self.done = true;
                    return Some(Err(describe(&e)));
                }
            };
            let head: PageHead = match serde_json::from_str(&text) {
                Ok(head) => head,
                Err(e) => {
                    self.done = true;
                    return Some(Err((
                        None,
                        format!("the API server's answer could not be read: {e}"),
                    )));
                }
            };
            self.continue_token = head.metadata.continue_token.filter(|t| !t.is_empty());
            self.done = self.continue_token.is_none();
            let uids: Vec<String> = head
                .items
                .unwrap_or_default()
                .into_iter()
                .filter_map(|item| item.metadata.uid)
                .collect();
            if !self.done || self.restarted {
                self.seen.extend(uids.iter().cloned());
            }
            return Some(Ok((text, uids)));
        }
        None
    }
}

impl Lister {
    async fn list(
        &self,
        resource: Resource,
        namespace: Option<String>,
        tx: &tokio::sync::mpsc::Sender<Wire>,
    ) {
        let error = |(status, message): ListError| {
            let scope = namespace
                .as_ref()
                .map_or(String::new(), |ns| format!(" in namespace {ns}"));
            Wire::Error(ClusterError::Kind {
                context: self.context.clone(),
                resource: format!("{}{scope}", resource.display()),
                status,
                message,
            })
        };
        let mut secret_types: HashMap<String, &'static str> = HashMap::new();
        if resource.metadata_only && resource.kind == "Secret" {
            for secret_type in SECRET_TYPES {
                let selector = format!("type={secret_type}");
                let mut pager = Pager::new(self, &resource, namespace.as_deref(), Some(selector));
                while let Some(page) = pager.next().await {
                    match page {
                        Ok((_, uids)) => {
                            secret_types.extend(uids.into_iter().map(|uid| (uid, *secret_type)));
                        }
                        Err(e) => {
                            let _ = tx.send(error(e)).await;
                            return;
                        }
                    }
                }
            }
        }
        let job = Arc::new(Job {
            resource: resource.clone(),
            namespace: namespace.clone(),
            secret_types,
        });
        let mut pager = Pager::new(self, &job.resource, job.namespace.as_deref(), None);
        while let Some(page) = pager.next().await {
            let wire = match page {
                Ok((text, _)) => Wire::Page {
                    job: Arc::clone(&job),
                    text,
                    skip: pager.skip.clone(),
                },
                Err(e) => {
                    let _ = tx.send(error(e)).await;
                    return;
                }
            };
            if tx.send(wire).await.is_err() {
                return;
            }
        }
        let _ = tx.send(Wire::Listed(job)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rollouts_carry_pods_and_other_custom_resources_do_not() {
        let rollout = json!({"spec": {
        "group": "argoproj.io", "scope": "Namespaced",
        "names": {"kind": "Rollout", "plural": "rollouts"},
        "versions": [
            {"name": "v1alpha1", "served": true, "storage": true, "schema": {"openAPIV3Schema": {
                "properties": {"spec": {"properties": {"template": {"type": "object"}}}}}}}
        ]}});
        let found = pod_carrying(&rollout).expect("a pod-carrying CRD");
        assert_eq!(found.api_version(), "argoproj.io/v1alpha1");
        assert_eq!((found.kind.as_str(), found.namespaced), ("Rollout", true));
        let certificate = json!({"spec": {
            "group": "cert-manager.io", "scope": "Namespaced",
            "names": {"kind": "Certificate", "plural": "certificates"},
            "versions": [{"name": "v1", "served": true, "storage": true, "schema": {"openAPIV3Schema": {
                "properties": {"spec": {"properties": {"secretName": {"type": "string"}}}}}}}]}});
        assert!(pod_carrying(&certificate).is_none());
        let unserved = json!({"spec": {
            "group": "argoproj.io", "scope": "Namespaced",
            "names": {"kind": "Rollout", "plural": "rollouts"},
            "versions": [{"name": "v1alpha1", "served": false, "storage": true, "schema": {"openAPIV3Schema": {
                "properties": {"spec": {"properties": {"template": {}}}}}}}]}});
        assert!(pod_carrying(&unserved).is_none());
    }
}

#[cfg(test)]
mod arrival_tests {
    use super::*;

    /// A page as a server that ignores the metadata-only request sends it: values included.
    const WHOLE_SECRETS: &str = r#"{"kind":"SecretList","apiVersion":"v1","metadata":{"resourceVersion":"7"},"items":[{"metadata":{"name":"db","namespace":"shop","uid":"u1"},"type":"Opaque","data":{"password":"aHVudGVyMg=="},"stringData":{"token":"s3cr3t-value"}}]}"#;

    #[test]
    fn secret_values_are_dropped_on_arrival_even_when_the_server_sends_them() {
        let job = Job {
            resource: Resource {
                group: String::new(),
                version: "v1".into(),
                kind: "Secret".into(),
                plural: "secrets".into(),
                namespaced: true,
                metadata_only: true,
            },
            namespace: None,
            secret_types: HashMap::new(),
        };
        let mut owned = 0;
        let batch = objects_of_page(&job, WHOLE_SECRETS, None, &HashSet::new(), &mut owned);
        assert_eq!(batch.len(), 1);
        let text = batch[0].to_string();
        assert!(
            !text.contains("aHVudGVyMg") && !text.contains("s3cr3t"),
            "{text}"
        );
        assert_eq!(batch[0]["metadata"]["name"], "db");
        assert_eq!(batch[0]["kind"], "Secret");
    }
}

impl Cluster {
    /// Lists every object at `path` (a collection URL), following `continue` tokens; a
    /// collection the server does not serve (404) is empty.
    pub fn list_all(&self, path: &str) -> Result<Vec<Json>, ClusterError> {
        self.runtime.block_on(async {
            let mut out = Vec::new();
            let mut token: Option<String> = None;
            loop {
                let mut params = ListParams::default().limit(500);
                if let Some(t) = &token {
                    params = params.continue_token(t);
                }
                let request = Request::new(path)
                    .list(&params)
                    .map_err(|e| self.kind_error(path, &kube::Error::BuildRequest(e)))?;
                let page: Json =
                    match with_timeout(self.timeout, self.client.request(request)).await {
                        Ok(page) => page,
                        Err(kube::Error::Api(status)) if status.code == 404 => return Ok(out),
                        Err(e) => return Err(self.kind_error(path, &e)),
                    };
                out.extend(page["items"].as_array().cloned().unwrap_or_default());
                token = page["metadata"]["continue"]
                    .as_str()
                    .filter(|t| !t.is_empty())
                    .map(str::to_string);
                if token.is_none() {
                    return Ok(out);
                }
            }
        })
    }

    /// The cluster's ValidatingAdmissionPolicies and bindings, at the newest version it
    /// serves (`v1`, `v1beta1`, then `v1alpha1`), each with its `apiVersion` and `kind`.
    pub fn admission_policies(&self) -> Result<Vec<Json>, ClusterError> {
        for version in ["v1", "v1beta1", "v1alpha1"] {
            let base = format!("/apis/admissionregistration.k8s.io/{version}");
            let mut found = Vec::new();
            for (plural, kind) in [
                ("validatingadmissionpolicies", "ValidatingAdmissionPolicy"),
                (
                    "validatingadmissionpolicybindings",
                    "ValidatingAdmissionPolicyBinding",
                ),
            ] {
                for mut item in self.list_all(&format!("{base}/{plural}"))? {
                    if let Some(map) = item.as_object_mut() {
                        map.insert(
                            "apiVersion".into(),
                            Json::String(format!("admissionregistration.k8s.io/{version}")),
                        );
                        map.insert("kind".into(), Json::String(kind.into()));
                    }
                    found.push(item);
                }
            }
            if !found.is_empty() {
                return Ok(found);
            }
        }
        Ok(Vec::new())
    }
}
