use palisade_analysis::rbac::risk::Risk;
use palisade_analysis::Inventory;

use super::grants::report_risk;
use crate::meta::rule;
use crate::{Check, Emitter};

rule! {
    /// ## What it does
    /// Flags bindings that let a non-system subject `escalate` or `bind` roles, or `impersonate`
    /// users, groups or service accounts.
    ///
    /// ## Why is this bad?
    /// These verbs bypass RBAC's own escalation check: with them a subject grants itself, or acts
    /// as, anyone, up to cluster-admin.
    ///
    /// ## Example
    /// ```yaml
    /// kind: ClusterRole
    /// rules:
    /// - apiGroups: [""]
    ///   resources: ["users", "groups"]
    ///   verbs: ["impersonate"]   # fails
    /// ```
    ///
    /// ## Remediation
    /// Remove these verbs; RBAC managers should bind only roles whose permissions they hold
    /// themselves.
    ///
    /// ## References
    /// - Kubernetes RBAC good practices:
    ///   <https://kubernetes.io/docs/concepts/security/rbac-good-practices/>
    pub static RULE = {
        code: "PAL-RBAC-006",
        name: "rbac-escalate-bind-impersonate",
        severity: Critical,
        category: "rbac",
        controls: ["CIS-5.1.8", "NSA:rbac", "MITRE:T1078"],
        check: Check::Inventory(check),
    };
}

fn check(inventory: &Inventory, out: &mut Emitter) {
    report_risk(&inventory.rbac, out, Risk::EscalateBindImpersonate);
}
