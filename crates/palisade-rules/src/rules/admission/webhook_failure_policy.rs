use palisade_analysis::pss::Violation;
use palisade_model::Object;

use crate::meta::rule;
use crate::rules::admission::{is_v1beta1, name_of, webhooks};
use crate::{Check, OptionValues};

rule! {
    /// ## What it does
    /// Flags admission webhooks whose `failurePolicy` is `Ignore`: set explicitly, or left
    /// out in `admissionregistration.k8s.io/v1beta1`, whose default was `Ignore` (`v1`
    /// defaults to `Fail`).
    ///
    /// ## Why is this bad?
    /// With `Ignore`, the API server admits requests unchecked whenever the webhook is down,
    /// slow or unreachable. An attacker who can disrupt the webhook's pods (or just wait for
    /// an upgrade) slips past the policy it enforces.
    ///
    /// ## Example
    /// ```yaml
    /// kind: ValidatingWebhookConfiguration
    /// webhooks:
    /// - name: policy.example.com
    ///   failurePolicy: Ignore   # fails
    /// ```
    ///
    /// ## Remediation
    /// Use `failurePolicy: Fail` for webhooks that enforce security, run them highly
    /// available, and exempt only the namespaces the webhook itself needs to start.
    ///
    /// ## References
    /// - Kubernetes docs, Dynamic Admission Control, failure policy:
    ///   <https://kubernetes.io/docs/reference/access-authn-authz/extensible-admission-controllers/#failure-policy>
    pub static RULE = {
        code: "PAL-ADM-001",
        name: "webhook-fails-open",
        severity: Medium,
        category: "admission",
        controls: ["NSA:pod-security", "MITRE:T1562"],
        kinds: ["ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"],
        check: Check::Object(check),
    };
}

fn check(object: &Object, _: &OptionValues) -> Vec<Violation> {
    let mut violations = Vec::new();
    for (hook, path) in webhooks(object) {
        let message = match hook.str_of("failurePolicy") {
            Some("Ignore") => format!(
                "webhook {} fails open: requests are admitted unchecked when it is unavailable",
                name_of(hook)
            ),
            None if is_v1beta1(object) => format!(
                "webhook {} fails open: v1beta1 defaults failurePolicy to Ignore",
                name_of(hook)
            ),
            _ => continue,
        };
        let at = if hook.get("failurePolicy").is_some() {
            path.key("failurePolicy")
        } else {
            path
        };
        violations.push(Violation {
            path: at,
            message,
            severity: None,
        });
    }
    violations
}
