//! Server-side apply of test manifests.

use kube::api::{Api, DynamicObject, Patch, PatchParams};
use kube::discovery::{Discovery, Scope};
use serde_json::Value as Json;

/// What [`crate::TestCluster::apply`] created or updated: `Kind namespace/name` and the UID
/// the server gave each.
#[derive(Debug, Default)]
pub struct Applied {
    pub objects: Vec<(String, String)>,
}

impl Applied {
    /// The UID of `Kind namespace/name` (`Kind /name` when cluster-scoped).
    pub fn uid(&self, object: &str) -> &str {
        self.objects
            .iter()
            .find(|(name, _)| name == object)
            .map(|(_, uid)| uid.as_str())
            .unwrap_or_else(|| panic!("{object} was not applied"))
    }
}

fn rank(object: &Json) -> u8 {
    match object.get("kind").and_then(Json::as_str) {
        Some("Namespace") => 0,
        Some("CustomResourceDefinition") => 1,
        _ => 2,
    }
}

/// Waits until the controller manager has given `namespace` what it gives every namespace (the
/// `default` ServiceAccount and the `kube-root-ca.crt` ConfigMap), so that a scan right after
/// sees the same objects as the next one.
async fn settled(client: &kube::Client, namespace: &str) -> Result<(), String> {
    let paths = [
        format!("/api/v1/namespaces/{namespace}/serviceaccounts/default"),
        format!("/api/v1/namespaces/{namespace}/configmaps/kube-root-ca.crt"),
    ];
    for path in paths {
        let mut tries = 0;
        loop {
            let request = http::Request::get(path.as_str())
                .body(Vec::new())
                .map_err(|e| e.to_string())?;
            if client.request_text(request).await.is_ok() {
                break;
            }
            tries += 1;
            if tries > 120 {
                return Err(format!("{path} never appeared"));
            }
            tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        }
    }
    Ok(())
}

/// Waits until the CustomResourceDefinition `name` says `Established`: the API server serves
/// its resources from then on (a condition, not a sleep).
async fn established(client: &kube::Client, name: &str) -> Result<(), String> {
    let path = format!("/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{name}");
    for _ in 0..120 {
        let request = http::Request::get(path.as_str())
            .body(Vec::new())
            .map_err(|e| e.to_string())?;
        if let Ok(text) = client.request_text(request).await {
            let crd: Json = serde_json::from_str(&text).map_err(|e| e.to_string())?;
            let conditions = crd
                .pointer("/status/conditions")
                .and_then(Json::as_array)
                .cloned()
                .unwrap_or_default();
            if conditions
                .iter()
                .any(|c| c["type"] == "Established" && c["status"] == "True")
            {
                return Ok(());
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    Err(format!(
        "CustomResourceDefinition {name} never became Established"
    ))
}

pub async fn apply(
    client: &kube::Client,
    yaml: &str,
    controller_manager: bool,
) -> Result<Applied, String> {
    let mut objects = crate::yaml::objects(yaml)?;
    // Namespaces the manifests use without defining them are created, as a test's setup would.
    let defined: Vec<String> = objects
        .iter()
        .filter(|o| o.get("kind").and_then(Json::as_str) == Some("Namespace"))
        .filter_map(|o| {
            o.pointer("/metadata/name")
                .and_then(Json::as_str)
                .map(str::to_string)
        })
        .collect();
    let mut used: Vec<String> = objects
        .iter()
        .filter_map(|o| {
            o.pointer("/metadata/namespace")
                .and_then(Json::as_str)
                .map(str::to_string)
        })
        .filter(|ns| !ns.is_empty() && !defined.contains(ns))
        .collect();
    used.sort();
    used.dedup();
    // Created when missing, never applied: applying would take away labels the test set.
    for namespace in used {
        let body = serde_json::json!({
            "apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}
        });
        let request = http::Request::post("/api/v1/namespaces")
            .header("Content-Type", "application/json")
            .body(body.to_string().into_bytes())
            .map_err(|e| e.to_string())?;
        match client.request_text(request).await {
            Ok(_) => {
                if controller_manager {
                    settled(client, &namespace).await?;
                }
            }
            Err(kube::Error::Api(status)) if status.code == 409 => {}
            Err(e) => return Err(format!("namespace {namespace}: {e}")),
        }
    }
    objects.sort_by_key(rank);
    let mut discovery = Discovery::new(client.clone())
        .run()
        .await
        .map_err(|e| format!("discovery: {e}"))?;
    let params = PatchParams::apply("palisade-test").force();
    let mut applied = Applied::default();
    for object in objects {
        let text = |pointer: &str| {
            object
                .pointer(pointer)
                .and_then(Json::as_str)
                .unwrap_or("")
                .to_string()
        };
        let (api_version, kind) = (text("/apiVersion"), text("/kind"));
        let (name, namespace) = (text("/metadata/name"), text("/metadata/namespace"));
        let (group, version) = api_version.rsplit_once('/').unwrap_or(("", &api_version));
        let gvk = kube::api::GroupVersionKind::gvk(group, version, &kind);
        let mut found = discovery.resolve_gvk(&gvk);
        // A custom resource whose definition was just applied: wait until it is served.
        for _ in 0..40 {
            if found.is_some() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(250)).await;
            discovery = Discovery::new(client.clone())
                .run()
                .await
                .map_err(|e| format!("discovery: {e}"))?;
            found = discovery.resolve_gvk(&gvk);
        }
        let (resource, capabilities) =
            found.ok_or_else(|| format!("{api_version} {kind} is not served"))?;
        let api: Api<DynamicObject> = if capabilities.scope == Scope::Namespaced {
            let namespace = if namespace.is_empty() {
                "default"
            } else {
                &namespace
            };
            Api::namespaced_with(client.clone(), namespace, &resource)
        } else {
            Api::all_with(client.clone(), &resource)
        };
        // A custom resource right after its definition: discovery may list it a moment before
        // the API server serves it (404), or the server may be busy (429, 503). Retried for a
        // bounded time, on those answers only.
        let mut tries = 0;
        let stored = loop {
            match api.patch(&name, &params, &Patch::Apply(&object)).await {
                Ok(stored) => break stored,
                Err(kube::Error::Api(status))
                    if matches!(status.code, 404 | 429 | 503) && tries < 80 =>
                {
                    tries += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(250)).await;
                }
                Err(e) => return Err(format!("{kind} {namespace}/{name}: {e}")),
            }
        };
        let uid = stored.metadata.uid.unwrap_or_default();
        applied
            .objects
            .push((format!("{kind} {namespace}/{name}"), uid));
        if kind == "Namespace" && controller_manager {
            settled(client, &name).await?;
        }
        if kind == "CustomResourceDefinition" {
            established(client, &name).await?;
        }
    }
    Ok(applied)
}
