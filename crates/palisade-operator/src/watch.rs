//! Watches over the kinds Palisade reads, kept as Palisade's own objects (converted once, when
//! they change, with `managedFields`, the last-applied copy and `status` dropped), so memory
//! holds one compact tree per object and an evaluation converts nothing.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use futures::StreamExt;
use kube::api::{Api, ApiResource, DynamicObject};
use kube::core::PartialObjectMeta;
use kube::runtime::watcher;
use palisade_cluster::{ADMISSION_KINDS, READ_KINDS};
use palisade_model::Object;
use serde_json::Value as Json;

/// (kind, namespace, name).
pub type Key = (String, String, String);

/// One object as the operator keeps it.
#[derive(Clone)]
pub struct Entry {
    pub version: String,
    /// The object as compact JSON: its tree, with a position for every node, is several times
    /// larger, and only the namespaces being judged need theirs.
    json: Arc<[u8]>,
}

impl Entry {
    /// The object's tree, read from the kept JSON.
    pub fn object(&self) -> Object {
        let value: Json = serde_json::from_slice(&self.json).unwrap_or_default();
        palisade_load::json::to_object(&value)
    }
}

/// Every watched object, and which kinds have listed once.
#[derive(Default)]
pub struct State {
    pub objects: HashMap<Key, Entry>,
    pub synced: HashSet<String>,
    /// The Namespaces' UIDs (owners of their reports).
    pub namespace_uids: HashMap<String, String>,
    /// Namespaces (`""` for cluster-scoped objects) with an object added, changed or deleted
    /// since the last evaluation.
    pub dirty: HashSet<String>,
    /// Lists after a kind's first: a watch that could not resume (410 Gone after etcd
    /// compacted, an API server restart) lists again; objects whose resourceVersion did not
    /// change are not taken for changes, so a relist alone writes nothing.
    pub relists: Arc<std::sync::atomic::AtomicU64>,
}

pub type Shared = Arc<Mutex<State>>;

/// Objects per page of a watch's list. Every kind lists at once at start, and each page is
/// held whole (raw, then decoded) while its objects are converted: 500 pods a page, the
/// client's default, held tens of megabytes per kind at the operator's peak.
const LIST_PAGE: u32 = 100;

/// How a failed watch retries: from 250 ms, doubling to 3 s at most, jittered, back to the
/// start after half a minute without failures. kube's default climbs to 30 s and stays high
/// for two minutes, so after an API server restart a fix could wait that long to show; 3 s
/// keeps the reports within seconds of a recovered server, while every watch of a server that
/// is down asks once per few seconds, spread by the jitter. Throttling (429 from API Priority
/// and Fairness, 503) is retried by the client itself first, honouring `Retry-After`.
fn watch_backoff() -> kube::runtime::utils::ResetTimerBackoff<watcher::ExponentialBackoff> {
    kube::runtime::utils::ResetTimerBackoff::new(
        watcher::ExponentialBackoff::from(
            backon::ExponentialBuilder::new()
                .with_min_delay(std::time::Duration::from_millis(250))
                .with_max_delay(std::time::Duration::from_secs(3))
                .with_factor(2.0)
                .with_jitter()
                .without_max_times(),
        ),
        std::time::Duration::from_secs(30),
    )
}

/// A watch that could not resume where it was because the server no longer has that history
/// (410 Gone: etcd compacted, or the API server restarted): the watcher lists again at once,
/// as client-go does; it is no failure of the server to back off from.
fn expired(error: &watcher::Error) -> bool {
    let code = match error {
        watcher::Error::WatchError(status) => status.code,
        watcher::Error::WatchStartFailed(kube::Error::Api(status))
        | watcher::Error::WatchFailed(kube::Error::Api(status))
        | watcher::Error::InitialListFailed(kube::Error::Api(status)) => status.code,
        _ => 0,
    };
    code == 410
}

fn convert(
    resource: &ApiResource,
    mut value: Json,
    secret_type: Option<&str>,
) -> Option<(Key, Entry, Option<String>)> {
    if let Some(map) = value.as_object_mut() {
        map.insert(
            "apiVersion".into(),
            Json::String(resource.api_version.clone()),
        );
        map.insert("kind".into(), Json::String(resource.kind.clone()));
        // No rule reads status; it is often most of a pod.
        map.remove("status");
        if let Some(secret_type) = secret_type {
            map.insert("type".into(), Json::String(secret_type.to_string()));
        }
    }
    palisade_cluster::strip_arrival(&mut value);
    if palisade_cluster::owned_by_workload(&resource.kind, &value) {
        return None;
    }
    let uid = (resource.kind == "Namespace").then(|| text_at(&value, "/metadata/uid"));
    let (key, entry) = keyed(&resource.kind, &value);
    Some((key, entry, uid))
}

/// The string at `pointer` in `value`, or `""`.
fn text_at(value: &Json, pointer: &str) -> String {
    value
        .pointer(pointer)
        .and_then(Json::as_str)
        .unwrap_or("")
        .to_string()
}

/// An object of kind `kind` as the state keeps it: its key, and its JSON with the
/// resourceVersion it was read at.
pub fn keyed(kind: &str, value: &Json) -> (Key, Entry) {
    let key = (
        kind.to_string(),
        text_at(value, "/metadata/namespace"),
        text_at(value, "/metadata/name"),
    );
    let entry = Entry {
        version: text_at(value, "/metadata/resourceVersion"),
        json: serde_json::to_vec(value).unwrap_or_default().into(),
    };
    (key, entry)
}

fn map_event<K>(event: watcher::Event<K>, f: impl Fn(K) -> Json) -> watcher::Event<Json> {
    match event {
        watcher::Event::Apply(o) => watcher::Event::Apply(f(o)),
        watcher::Event::Delete(o) => watcher::Event::Delete(f(o)),
        watcher::Event::Init => watcher::Event::Init,
        watcher::Event::InitApply(o) => watcher::Event::InitApply(f(o)),
        watcher::Event::InitDone => watcher::Event::InitDone,
    }
}

fn key_of(resource: &ApiResource, value: &Json) -> Key {
    (
        resource.kind.clone(),
        text_at(value, "/metadata/namespace"),
        text_at(value, "/metadata/name"),
    )
}

/// Applies one watch event to the state; `listing` gathers a relist (Init ... InitDone) so
/// objects deleted while the watch was down disappear too.
fn apply(
    state: &Shared,
    resource: &ApiResource,
    secret_type: Option<&str>,
    event: watcher::Event<Json>,
    listing: &mut Option<HashSet<Key>>,
) {
    let Ok(mut state) = state.lock() else { return };
    let upsert = |state: &mut State, value: Json| {
        if let Some((key, entry, uid)) = convert(resource, value, secret_type) {
            if let Some(uid) = uid {
                state.namespace_uids.insert(key.2.clone(), uid);
            }
            let unchanged = state
                .objects
                .get(&key)
                .is_some_and(|old| old.version == entry.version && !entry.version.is_empty());
            if !unchanged {
                state.dirty.insert(key.1.clone());
                state.objects.insert(key.clone(), entry);
            }
            Some(key)
        } else {
            None
        }
    };
    match event {
        watcher::Event::Apply(value) => {
            upsert(&mut state, value);
        }
        watcher::Event::Delete(value) => {
            let key = key_of(resource, &value);
            if resource.kind == "Namespace" {
                state.namespace_uids.remove(&key.2);
            }
            state.dirty.insert(key.1.clone());
            state.objects.remove(&key);
        }
        watcher::Event::Init => *listing = Some(HashSet::new()),
        watcher::Event::InitApply(value) => {
            if let Some(key) = upsert(&mut state, value) {
                if let Some(seen) = listing.as_mut() {
                    seen.insert(key);
                }
            }
        }
        watcher::Event::InitDone => {
            if let Some(seen) = listing.take() {
                let State { objects, dirty, .. } = &mut *state;
                objects.retain(|key, _| {
                    let keep = key.0 != resource.kind || seen.contains(key);
                    if !keep {
                        dirty.insert(key.1.clone());
                    }
                    keep
                });
            }
            if !state.synced.insert(resource.plural.clone()) {
                state
                    .relists
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
        }
    }
}

/// Starts a watch for every kind of [`READ_KINDS`] that the server serves and the credentials
/// may list; each event updates `state` and sends on `changed`. Returns the kinds watched.
pub async fn start(
    client: &kube::Client,
    state: Shared,
    changed: tokio::sync::mpsc::UnboundedSender<()>,
    on_error: Arc<dyn Fn(String) + Send + Sync>,
) -> Result<Vec<String>, kube::Error> {
    let kinds = || READ_KINDS.iter().chain(ADMISSION_KINDS);
    let mut groups: Vec<&str> = kinds().map(|k| k.group).collect();
    groups.sort_unstable();
    groups.dedup();
    let discovery = kube::Discovery::new(client.clone())
        .filter(&groups)
        .run()
        .await?;
    let mut watched = Vec::new();
    for want in kinds() {
        let Some((resource, _)) = discovery
            .get(want.group)
            .and_then(|g| g.recommended_kind(want.kind))
        else {
            continue;
        };
        // A kind the credentials may not list is left out (said once) rather than retried
        // forever: the operator's default role does not read Secrets.
        let probe: Api<DynamicObject> = Api::all_with(client.clone(), &resource);
        if let Err(kube::Error::Api(status)) = probe
            .list_metadata(&kube::api::ListParams::default().limit(1))
            .await
        {
            if status.code == 403 {
                on_error(format!(
                    "{}: not permitted to list; not watched",
                    resource.plural
                ));
                continue;
            }
        }
        watched.push(resource.plural.clone());
        let tx = changed.clone();
        let errors = Arc::clone(&on_error);
        let state = Arc::clone(&state);
        // Both kinds of watch as one stream of JSON events.
        let (stream, secret_type) = if want.metadata_only {
            // Secrets: never their values; only the types rules judge, by name.
            let secret_type = "kubernetes.io/service-account-token";
            let api: Api<PartialObjectMeta<DynamicObject>> =
                Api::all_with(client.clone(), &resource);
            let config = watcher::Config::default()
                .page_size(LIST_PAGE)
                .fields(&format!("type={secret_type}"));
            let stream = watcher(api, config).map(|event| {
                event.map(|event| {
                    map_event(event, |o| {
                        serde_json::json!({ "metadata": serde_json::to_value(&o.metadata).unwrap_or_default() })
                    })
                })
            });
            (stream.boxed(), Some(secret_type))
        } else {
            let api: Api<DynamicObject> = Api::all_with(client.clone(), &resource);
            let stream =
                watcher(api, watcher::Config::default().page_size(LIST_PAGE)).map(|event| {
                    event.map(|event| {
                        map_event(event, |o| serde_json::to_value(&o).unwrap_or_default())
                    })
                });
            (stream.boxed(), None)
        };
        tokio::spawn(async move {
            futures::pin_mut!(stream);
            let mut listing = None;
            let mut backoff = watch_backoff();
            while let Some(event) = stream.next().await {
                match event {
                    Ok(event) => apply(&state, &resource, secret_type, event, &mut listing),
                    Err(e) => {
                        errors(format!("{}: {e}", resource.plural));
                        if !expired(&e) {
                            if let Some(delay) = backoff.next() {
                                tokio::time::sleep(delay).await;
                            }
                        }
                    }
                }
                let _ = tx.send(());
            }
        });
    }
    Ok(watched)
}
