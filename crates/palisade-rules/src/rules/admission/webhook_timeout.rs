use palisade_analysis::pss::Violation;
use palisade_model::{Node, Object};

use crate::meta::rule;
use crate::rules::admission::{is_v1beta1, name_of, webhooks};
use crate::{Check, OptionValues};

/// Above this, a slow webhook holds API requests long enough to hurt the control plane.
const LONGEST_SECONDS: i64 = 15;

rule! {
    /// ## What it does
    /// Flags admission webhooks without an explicit `timeoutSeconds`, and those that allow
    /// more than 15 seconds. Without the field, `v1` waits 10 seconds and `v1beta1` 30.
    ///
    /// ## Why is this bad?
    /// Every matching API request waits for the webhook. A long or implicit timeout makes a
    /// slow webhook stall deployments and controllers cluster-wide (with `Fail`), or silently
    /// skip enforcement after a long wait (with `Ignore`); the right value is a decision
    /// about the webhook's latency, which should be written down.
    ///
    /// ## Example
    /// ```yaml
    /// webhooks:
    /// - name: policy.example.com
    ///   timeoutSeconds: 30   # fails: above 15 s
    /// ```
    ///
    /// ## Remediation
    /// Set `timeoutSeconds` to a few seconds (the webhook's p99 latency with margin, at most
    /// 15).
    ///
    /// ## References
    /// - Kubernetes docs, Dynamic Admission Control, timeouts:
    ///   <https://kubernetes.io/docs/reference/access-authn-authz/extensible-admission-controllers/#timeouts>
    pub static RULE = {
        code: "PAL-ADM-003",
        name: "webhook-timeout",
        severity: Low,
        category: "admission",
        controls: ["NSA:pod-security"],
        kinds: ["ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"],
        check: Check::Object(check),
    };
}

fn check(object: &Object, _: &OptionValues) -> Vec<Violation> {
    let default = if is_v1beta1(object) { 30 } else { 10 };
    let mut violations = Vec::new();
    for (hook, path) in webhooks(object) {
        match hook.get("timeoutSeconds").and_then(Node::as_i64) {
            Some(seconds) if seconds > LONGEST_SECONDS => violations.push(Violation {
                severity: None,
                path: path.key("timeoutSeconds"),
                message: format!(
                    "webhook {} may hold API requests for {seconds} s (more than {LONGEST_SECONDS})",
                    name_of(hook)
                ),
            }),
            Some(_) => {}
            None => violations.push(Violation {
                severity: None,
                path,
                message: format!(
                    "webhook {} sets no timeoutSeconds: API requests wait the default {default} s",
                    name_of(hook)
                ),
            }),
        }
    }
    violations
}
