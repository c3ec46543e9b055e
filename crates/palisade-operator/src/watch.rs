//! Reflectors over the kinds Palisade reads: each keeps its kind's objects current, and every
//! event wakes the evaluator.

use std::sync::Arc;

use futures::StreamExt;
use kube::api::{Api, ApiResource, DynamicObject};
use kube::core::PartialObjectMeta;
use kube::runtime::reflector::{self, store::Writer, Store};
use kube::runtime::{watcher, WatchStreamExt};
use palisade_cluster::READ_KINDS;
use serde_json::Value as Json;

/// One watched kind.
pub enum Watched {
    Full(ApiResource, Store<DynamicObject>),
    /// Secrets of one type, by metadata only (their type is known from the field selector).
    Typed(
        ApiResource,
        &'static str,
        Store<PartialObjectMeta<DynamicObject>>,
    ),
}

impl Watched {
    pub fn resource(&self) -> &ApiResource {
        match self {
            Watched::Full(r, _) | Watched::Typed(r, _, _) => r,
        }
    }

    /// Every object as JSON, `apiVersion` and `kind` set, arrival fields dropped.
    pub fn objects(&self) -> Vec<Json> {
        let resource = self.resource();
        let mut values: Vec<Json> = match self {
            Watched::Full(_, store) => store
                .state()
                .iter()
                .filter_map(|o| serde_json::to_value(&**o).ok())
                .collect(),
            Watched::Typed(_, secret_type, store) => store
                .state()
                .iter()
                .filter_map(|o| {
                    let mut value =
                        serde_json::json!({ "metadata": serde_json::to_value(&o.metadata).ok()? });
                    value["type"] = Json::String(secret_type.to_string());
                    Some(value)
                })
                .collect(),
        };
        for value in &mut values {
            if let Some(map) = value.as_object_mut() {
                map.insert(
                    "apiVersion".into(),
                    Json::String(resource.api_version.clone()),
                );
                map.insert("kind".into(), Json::String(resource.kind.clone()));
            }
            palisade_cluster::strip_arrival(value);
        }
        values
    }

    pub async fn wait_until_ready(&self) {
        match self {
            Watched::Full(_, store) => {
                let _ = store.wait_until_ready().await;
            }
            Watched::Typed(_, _, store) => {
                let _ = store.wait_until_ready().await;
            }
        }
    }
}

/// Starts a reflector for every kind of [`READ_KINDS`] that the server serves; each event
/// sends on `changed`. Errors go to `on_error` (the reflector retries with backoff).
pub async fn start(
    client: &kube::Client,
    changed: tokio::sync::mpsc::UnboundedSender<()>,
    on_error: Arc<dyn Fn(String) + Send + Sync>,
) -> Result<Vec<Watched>, kube::Error> {
    let mut groups: Vec<&str> = READ_KINDS.iter().map(|k| k.group).collect();
    groups.dedup();
    let discovery = kube::Discovery::new(client.clone())
        .filter(&groups)
        .run()
        .await?;
    let mut watched = Vec::new();
    for want in READ_KINDS {
        let Some((resource, _)) = discovery
            .get(want.group)
            .and_then(|g| g.recommended_kind(want.kind))
        else {
            continue;
        };
        // A kind the credentials may not list is left out (once, said), rather than retried
        // forever: the operator's default role does not read Secrets.
        let probe: Api<DynamicObject> = Api::all_with(client.clone(), &resource);
        match probe
            .list_metadata(&kube::api::ListParams::default().limit(1))
            .await
        {
            Err(kube::Error::Api(status)) if status.code == 403 => {
                on_error(format!(
                    "{}: not permitted to list; not watched",
                    resource.plural
                ));
                continue;
            }
            _ => {}
        }
        let tx = changed.clone();
        let errors = Arc::clone(&on_error);
        let plural = resource.plural.clone();
        if want.metadata_only {
            // Secrets: never their values. Only the types rules judge are watched, by name.
            let secret_type = "kubernetes.io/service-account-token";
            let api: Api<PartialObjectMeta<DynamicObject>> =
                Api::all_with(client.clone(), &resource);
            let writer = Writer::new(resource.clone());
            let reader = writer.as_reader();
            let config = watcher::Config::default().fields(&format!("type={secret_type}"));
            let stream = reflector::reflector(writer, watcher(api, config))
                .default_backoff()
                .touched_objects();
            tokio::spawn(async move {
                futures::pin_mut!(stream);
                while let Some(event) = stream.next().await {
                    if let Err(e) = event {
                        errors(format!("{plural}: {e}"));
                    }
                    let _ = tx.send(());
                }
            });
            watched.push(Watched::Typed(resource, secret_type, reader));
        } else {
            let api: Api<DynamicObject> = Api::all_with(client.clone(), &resource);
            let writer = Writer::new(resource.clone());
            let reader = writer.as_reader();
            let stream = reflector::reflector(writer, watcher(api, watcher::Config::default()))
                .default_backoff()
                .touched_objects();
            tokio::spawn(async move {
                futures::pin_mut!(stream);
                while let Some(event) = stream.next().await {
                    if let Err(e) = event {
                        errors(format!("{plural}: {e}"));
                    }
                    let _ = tx.send(());
                }
            });
            watched.push(Watched::Full(resource, reader));
        }
    }
    Ok(watched)
}
