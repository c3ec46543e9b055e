use palisade_analysis::rbac::risk::Risk;
use palisade_analysis::Inventory;

use super::grants::report_risk;
use crate::meta::rule;
use crate::{Check, Emitter};

rule! {
    /// ## What it does
    /// Flags bindings that let a non-system subject create service-account tokens
    /// (`serviceaccounts/token`).
    ///
    /// ## Why is this bad?
    /// A token request yields a working credential for the account, with all its permissions.
    ///
    /// ## Example
    /// ```yaml
    /// kind: Role
    /// rules:
    /// - apiGroups: [""]
    ///   resources: ["serviceaccounts/token"]   # fails
    ///   verbs: ["create"]
    /// ```
    ///
    /// ## Remediation
    /// Let workloads get their own tokens through projected volumes instead.
    ///
    /// ## References
    /// - Kubernetes RBAC good practices:
    ///   <https://kubernetes.io/docs/concepts/security/rbac-good-practices/>
    pub static RULE = {
        code: "PAL-RBAC-007",
        name: "rbac-create-tokens",
        severity: High,
        category: "rbac",
        controls: ["NSA:rbac", "MITRE:T1528"],
        check: Check::Inventory(check),
    };
}

fn check(inventory: &Inventory, out: &mut Emitter) {
    report_risk(&inventory.rbac, out, Risk::CreateTokens);
}
