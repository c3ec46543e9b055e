use palisade_analysis::rbac::risk::Risk;
use palisade_analysis::Inventory;

use super::grants::report_risk;
use crate::meta::rule;
use crate::{Check, Emitter};

rule! {
    /// ## What it does
    /// Flags bindings that let a non-system subject create, change or delete validating or mutating
    /// admission webhook configurations.
    ///
    /// ## Why is this bad?
    /// Admission webhooks see and may rewrite every object sent to the API server, Secrets
    /// included; deleting one switches a policy off.
    ///
    /// ## Example
    /// ```yaml
    /// kind: ClusterRole
    /// rules:
    /// - apiGroups: ["admissionregistration.k8s.io"]
    ///   resources: ["mutatingwebhookconfigurations"]   # fails
    ///   verbs: ["patch"]
    /// ```
    ///
    /// ## Remediation
    /// Leave webhook configuration to the controller that owns it, bound only to its own objects by
    /// `resourceNames`.
    ///
    /// ## References
    /// - Kubernetes RBAC good practices:
    ///   <https://kubernetes.io/docs/concepts/security/rbac-good-practices/>
    pub static RULE = {
        code: "PAL-RBAC-009",
        name: "rbac-webhook-write",
        severity: High,
        category: "rbac",
        controls: ["NSA:rbac", "MITRE:T1562"],
        check: Check::Inventory(check),
    };
}

fn check(inventory: &Inventory, out: &mut Emitter) {
    report_risk(&inventory.rbac, out, Risk::WebhookWrite);
}
