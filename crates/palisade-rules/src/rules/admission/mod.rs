//! Admission webhooks and runtime classes: the cluster's own enforcement points.

pub mod policy_denies;
pub mod runtime_class_required;
pub mod webhook_failure_policy;
pub mod webhook_selector_bypass;
pub mod webhook_timeout;

use palisade_model::{FieldPath, Node, Object};

/// Each webhook of a (Validating|Mutating)WebhookConfiguration, with its path and the API
/// version's defaults applied by the caller.
pub(crate) fn webhooks(object: &Object) -> Vec<(&Node, FieldPath)> {
    let is_configuration = object.group() == "admissionregistration.k8s.io"
        && matches!(
            object.kind(),
            "ValidatingWebhookConfiguration" | "MutatingWebhookConfiguration"
        );
    if !is_configuration {
        return Vec::new();
    }
    object
        .root
        .get("webhooks")
        .map(Node::as_seq)
        .unwrap_or_default()
        .iter()
        .enumerate()
        .map(|(i, hook)| (hook, FieldPath::root().key("webhooks").index(i)))
        .collect()
}

/// `v1beta1` defaulted `failurePolicy` to Ignore and `timeoutSeconds` to 30; `v1` to Fail and 10.
pub(crate) fn is_v1beta1(object: &Object) -> bool {
    object.reference.api_version.ends_with("/v1beta1")
}

pub(crate) fn name_of(hook: &Node) -> &str {
    hook.str_of("name").unwrap_or("?")
}
