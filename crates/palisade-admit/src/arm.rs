//! Arming the webhook: the install manifests register it with `failurePolicy: Ignore`, and the
//! webhook itself sets `Fail` once it can answer.
//!
//! Why: a webhook registered with `Fail` before any of its pods is ready refuses every matched
//! write in the cluster ("failed calling webhook") for as long as the pods do not come up, and
//! a missing serving certificate or an image that cannot be pulled means never. Registered at
//! `Ignore` and armed by a ready pod, installing cannot lock a cluster; once armed, the
//! configuration stays at `Fail`, so taking the webhook down later is not a way around it.

use std::time::Duration;

use k8s_openapi::api::admissionregistration::v1::ValidatingWebhookConfiguration;
use kube::api::{Api, Patch, PatchParams};

use crate::manifests::WEBHOOK_NAME;

/// How long to wait between attempts while the configuration is absent or refuses the patch.
const RETRY: Duration = Duration::from_secs(5);

/// The strategic merge patch that arms the webhook (`webhooks` merge by `name`, so the other
/// webhooks of the configuration, if any, are left as they are).
pub fn arm_patch() -> serde_json::Value {
    serde_json::json!({
        "webhooks": [{"name": WEBHOOK_NAME, "failurePolicy": "Fail"}]
    })
}

/// Whether `configuration`'s Palisade webhook is armed already.
fn armed(configuration: &ValidatingWebhookConfiguration) -> bool {
    configuration
        .webhooks
        .iter()
        .flatten()
        .filter(|webhook| webhook.name == WEBHOOK_NAME)
        .all(|webhook| webhook.failure_policy.as_deref() == Some("Fail"))
}

/// Sets `failurePolicy: Fail` on `name`'s Palisade webhook, trying again every few seconds
/// until it succeeds (the configuration may be created after the webhook's pods, as a Helm
/// release or `kubectl apply` of a stream orders them). Returns once armed.
pub async fn arm_when_present(client: kube::Client, name: String) {
    let api: Api<ValidatingWebhookConfiguration> = Api::all(client);
    let mut said_absent = false;
    loop {
        match api.get_opt(&name).await {
            Ok(Some(configuration)) if armed(&configuration) => {
                eprintln!("palisade admit: ValidatingWebhookConfiguration {name} is armed (failurePolicy: Fail)");
                return;
            }
            Ok(Some(_)) => {
                let params = PatchParams::default();
                match api
                    .patch(&name, &params, &Patch::Strategic(arm_patch()))
                    .await
                {
                    Ok(_) => {
                        eprintln!(
                            "palisade admit: ready; armed ValidatingWebhookConfiguration {name} (failurePolicy: Fail)"
                        );
                        return;
                    }
                    Err(e) => eprintln!(
                        "palisade admit: could not arm ValidatingWebhookConfiguration {name} (trying again): {e}"
                    ),
                }
            }
            Ok(None) => {
                if !said_absent {
                    eprintln!(
                        "palisade admit: no ValidatingWebhookConfiguration {name} yet; it is armed when it appears"
                    );
                    said_absent = true;
                }
            }
            Err(e) => eprintln!(
                "palisade admit: could not read ValidatingWebhookConfiguration {name} (trying again): {e}"
            ),
        }
        tokio::time::sleep(RETRY).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn configuration(policies: &[(&str, Option<&str>)]) -> ValidatingWebhookConfiguration {
        let webhooks: Vec<serde_json::Value> = policies
            .iter()
            .map(|(name, policy)| {
                let mut webhook = serde_json::json!({
                    "name": name, "admissionReviewVersions": ["v1"], "sideEffects": "None",
                    "clientConfig": {"url": "https://example.invalid/validate"}
                });
                if let Some(policy) = policy {
                    webhook["failurePolicy"] = serde_json::json!(policy);
                }
                webhook
            })
            .collect();
        serde_json::from_value(serde_json::json!({
            "apiVersion": "admissionregistration.k8s.io/v1",
            "kind": "ValidatingWebhookConfiguration",
            "metadata": {"name": "palisade"},
            "webhooks": webhooks
        }))
        .expect("a configuration")
    }

    #[test]
    fn armed_means_palisades_own_webhook_fails_closed() {
        assert!(armed(&configuration(&[(WEBHOOK_NAME, Some("Fail"))])));
        assert!(!armed(&configuration(&[(WEBHOOK_NAME, Some("Ignore"))])));
        // Unset is Fail in admissionregistration/v1, but only the API server's defaulting
        // says so; a stored object always carries it, so unset here means not armed.
        assert!(!armed(&configuration(&[(WEBHOOK_NAME, None)])));
        // Another tool's webhook in the same configuration is none of Palisade's business.
        assert!(armed(&configuration(&[
            (WEBHOOK_NAME, Some("Fail")),
            ("other.example.com", Some("Ignore"))
        ])));
    }
}
