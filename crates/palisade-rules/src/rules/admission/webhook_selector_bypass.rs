use palisade_analysis::pss::Violation;
use palisade_model::{Node, Object};

use crate::meta::rule;
use crate::rules::admission::{name_of, webhooks};
use crate::{Check, OptionValues};

/// The namespace label the API server sets from the name; nobody can change it.
const NAME_LABEL: &str = "kubernetes.io/metadata.name";

rule! {
    /// ## What it does
    /// Flags validating admission webhooks whose selectors let requesters opt out:
    /// - an `objectSelector` that exempts objects by label (`NotIn`, `DoesNotExist`):
    ///   whoever creates an object chooses its labels, so whoever wants to skip the webhook
    ///   can;
    /// - a `namespaceSelector` that exempts namespaces (`NotIn`, `DoesNotExist`) by any label
    ///   other than `kubernetes.io/metadata.name`: anyone who can label a namespace can
    ///   switch enforcement off for it. Exemptions by name are fine.
    ///
    /// Opt-in selectors (`In`, `Exists`, `matchLabels`) scope a webhook to what it is for and
    /// pass. Mutating webhooks are not judged: their selectors usually decide injection or
    /// defaulting (an Istio sidecar, say), where opting out is the point.
    ///
    /// ## Why is this bad?
    /// A policy webhook is only as strong as its scope. A label-based exemption turns it into
    /// a suggestion for anyone with rights to set that label.
    ///
    /// ## Example
    /// ```yaml
    /// webhooks:
    /// - name: policy.example.com
    ///   objectSelector:
    ///     matchExpressions:
    ///     - {key: policy.example.com/skip, operator: DoesNotExist}   # fails
    /// ```
    ///
    /// ## Remediation
    /// Select namespaces by `kubernetes.io/metadata.name`, drop `objectSelector`s from
    /// security webhooks, and use `matchConditions` (CEL) for finer scoping.
    ///
    /// ## References
    /// - Kubernetes docs, matching requests by selectors:
    ///   <https://kubernetes.io/docs/reference/access-authn-authz/extensible-admission-controllers/#matching-requests-objectselector>
    pub static RULE = {
        code: "PAL-ADM-002",
        name: "webhook-selector-bypass",
        severity: Medium,
        category: "admission",
        controls: ["NSA:pod-security", "MITRE:T1562"],
        kinds: ["ValidatingWebhookConfiguration"],
        check: Check::Object(check),
    };
}

fn expressions(selector: &Node) -> &[Node] {
    selector
        .get("matchExpressions")
        .map(Node::as_seq)
        .unwrap_or_default()
}

fn is_exemption(expression: &Node) -> bool {
    matches!(
        expression.str_of("operator"),
        Some("NotIn" | "DoesNotExist")
    )
}

fn check(object: &Object, _: &OptionValues) -> Vec<Violation> {
    if object.kind() != "ValidatingWebhookConfiguration" {
        return Vec::new();
    }
    let mut violations = Vec::new();
    for (hook, path) in webhooks(object) {
        if let Some(selector) = hook.get("objectSelector") {
            if expressions(selector).iter().any(is_exemption) {
                violations.push(Violation {
                    path: path.key("objectSelector"),
                    message: format!(
                        "webhook {} exempts objects by their own labels: a requester picks labels that skip it",
                        name_of(hook)
                    ),
                });
            }
        }
        if let Some(selector) = hook.get("namespaceSelector") {
            let exemptions = expressions(selector)
                .iter()
                .enumerate()
                .filter(|(_, e)| is_exemption(e) && e.str_of("key") != Some(NAME_LABEL));
            for (i, expression) in exemptions {
                violations.push(Violation {
                    path: path
                        .key("namespaceSelector")
                        .key("matchExpressions")
                        .index(i),
                    message: format!(
                        "webhook {} exempts namespaces by label {}: whoever can label a namespace can turn it off there",
                        name_of(hook),
                        expression.str_of("key").unwrap_or("?")
                    ),
                });
            }
        }
    }
    violations
}
