use palisade_analysis::pss::Violation;
use palisade_model::{FieldPath, Node, Object};

use crate::meta::rule;
use crate::{Check, OptionValues};

rule! {
    /// ## What it does
    /// Flags Istio `AuthorizationPolicy`s with action `ALLOW` (the default) that contain a
    /// rule matching every request: an empty rule (`rules: [{}]`), or one whose `from`,
    /// `to` and `when` are all empty.
    ///
    /// Note the asymmetry Istio defines: an `ALLOW` policy with no rules at all (`spec: {}`)
    /// matches nothing and so denies everything; it passes.
    ///
    /// ## Why is this bad?
    /// An allow-all rule makes every other ALLOW policy on the same workloads meaningless:
    /// any caller, authenticated or not, reaches any path with any method.
    ///
    /// ## Example
    /// ```yaml
    /// kind: AuthorizationPolicy
    /// spec:
    ///   action: ALLOW
    ///   rules:
    ///   - {}   # fails
    /// ```
    ///
    /// ## Remediation
    /// List the callers (`from.source.principals`, namespaces) and operations the workload
    /// serves; start from a mesh-wide `spec: {}` deny-all and allow what is needed.
    ///
    /// ## References
    /// - Istio, Authorization Policy: <https://istio.io/latest/docs/reference/config/security/authorization-policy/>
    pub static RULE = {
        code: "PAL-MESH-003",
        name: "mesh-authorization-allow-all",
        severity: High,
        category: "mesh",
        controls: ["NSA:network-separation", "NSA:rbac"],
        kinds: ["AuthorizationPolicy"],
        check: Check::Object(check),
    };
}

fn empty(rule: &Node, key: &str) -> bool {
    rule.get(key)
        .is_none_or(|n| n.is_null() || n.as_seq().is_empty() && !n.is_map())
}

fn check(object: &Object, _: &OptionValues) -> Vec<Violation> {
    if !(object.group() == "security.istio.io" && object.kind() == "AuthorizationPolicy") {
        return Vec::new();
    }
    let Some(spec) = object.root.get("spec") else {
        return Vec::new();
    };
    if spec.str_of("action").is_some_and(|a| a != "ALLOW") {
        return Vec::new();
    }
    let rules = spec.get("rules").map(Node::as_seq).unwrap_or_default();
    rules
        .iter()
        .enumerate()
        .filter(|(_, rule)| ["from", "to", "when"].iter().all(|k| empty(rule, k)))
        .map(|(i, _)| Violation {
            severity: None,
            path: FieldPath::root().keys(&["spec", "rules"]).index(i),
            message: format!(
                "rule {i} matches every request: the policy allows all callers and operations"
            ),
        })
        .collect()
}
