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
    ///   switch enforcement off for it. Exemptions by name are fine. When another webhook of
    ///   the same configuration guards that label (it validates namespace creates and updates,
    ///   fails closed, and does not itself skip namespaces with the label: Gatekeeper's
    ///   `check-ignore-label`, say), the exemption is reported at `low`, naming the guard:
    ///   it holds as long as the guard refuses the label to whoever should not set it.
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

fn strings<'a>(node: &'a Node, key: &str) -> Vec<&'a str> {
    node.get(key)
        .map(Node::as_seq)
        .unwrap_or_default()
        .iter()
        .filter_map(Node::as_str)
        .collect()
}

/// Whether `hook` is called on every create and update of a Namespace.
fn validates_namespace_writes(hook: &Node) -> bool {
    hook.get("rules")
        .map(Node::as_seq)
        .unwrap_or_default()
        .iter()
        .any(|rule| {
            let groups = strings(rule, "apiGroups");
            let resources = strings(rule, "resources");
            let operations = strings(rule, "operations");
            (groups.contains(&"") || groups.contains(&"*"))
                && (resources.contains(&"namespaces") || resources.contains(&"*"))
                && (operations.contains(&"*")
                    || (operations.contains(&"CREATE") && operations.contains(&"UPDATE")))
        })
}

/// Another webhook of the configuration that can refuse namespace label `key`: it validates
/// namespace writes, fails closed, and does not skip namespaces carrying the label itself.
fn guard_of<'a>(
    object: &'a Object,
    hooks: &[(&'a Node, palisade_model::FieldPath)],
    exempting: &Node,
    key: &str,
) -> Option<&'a str> {
    let fails_closed = |hook: &Node| match hook.str_of("failurePolicy") {
        Some(policy) => policy == "Fail",
        None => !crate::rules::admission::is_v1beta1(object),
    };
    hooks
        .iter()
        .map(|(hook, _)| *hook)
        .filter(|hook| !std::ptr::eq(*hook, exempting))
        .find(|hook| {
            let skips_labelled = hook.get("namespaceSelector").is_some_and(|selector| {
                expressions(selector)
                    .iter()
                    .any(|e| is_exemption(e) && e.str_of("key") == Some(key))
            });
            fails_closed(hook) && validates_namespace_writes(hook) && !skips_labelled
        })
        .map(name_of)
}

fn check(object: &Object, _: &OptionValues) -> Vec<Violation> {
    if object.kind() != "ValidatingWebhookConfiguration" {
        return Vec::new();
    }
    let mut violations = Vec::new();
    let hooks = webhooks(object);
    for (hook, path) in hooks.iter().map(|(hook, path)| (*hook, path)) {
        if let Some(selector) = hook.get("objectSelector") {
            if expressions(selector).iter().any(is_exemption) {
                violations.push(Violation {
                    severity: None,
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
                let key = expression.str_of("key").unwrap_or("?");
                let (message, severity) = match guard_of(object, &hooks, hook, key) {
                    Some(guard) => (
                        format!(
                            "webhook {} exempts namespaces by label {key}, which webhook {guard} guards (it validates every namespace create and update, failing closed): the exemption holds as long as {guard} refuses the label to whoever should not set it",
                            name_of(hook)
                        ),
                        Some(palisade_model::Severity::Low),
                    ),
                    None => (
                        format!(
                            "webhook {} exempts namespaces by label {key}: whoever can label a namespace can turn it off there",
                            name_of(hook)
                        ),
                        None,
                    ),
                };
                violations.push(Violation {
                    path: path
                        .key("namespaceSelector")
                        .key("matchExpressions")
                        .index(i),
                    message,
                    severity,
                });
            }
        }
    }
    violations
}
