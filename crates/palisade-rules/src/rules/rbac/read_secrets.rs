use palisade_analysis::rbac::risk::Risk;
use palisade_analysis::Inventory;

use super::grants::report_risk;
use crate::meta::rule;
use crate::{Check, Emitter};

rule! {
    /// ## What it does
    /// Flags bindings that let a non-system subject `get`, `list` or `watch` Secrets (cluster-wide
    /// or in a namespace), including through aggregated roles such as `edit` and `admin`.
    ///
    /// ## Why is this bad?
    /// Secrets hold credentials, and `list` returns their values. Legacy service-account token
    /// Secrets hand over the identity of their account.
    ///
    /// ## Example
    /// ```yaml
    /// kind: Role
    /// rules:
    /// - apiGroups: [""]
    ///   resources: ["secrets"]
    ///   verbs: ["list"]   # fails
    /// ```
    ///
    /// ## Remediation
    /// Grant `get` on the specific Secrets (`resourceNames`) the workload needs, or mount them
    /// instead of reading them through the API.
    ///
    /// ## References
    /// - Kubernetes RBAC good practices:
    ///   <https://kubernetes.io/docs/concepts/security/rbac-good-practices/>
    pub static RULE = {
        code: "PAL-RBAC-002",
        name: "rbac-read-secrets",
        severity: High,
        category: "rbac",
        controls: ["CIS-5.1.2", "NSA:rbac", "MITRE:T1552"],
        check: Check::Inventory(check),
    };
}

fn check(inventory: &Inventory, out: &mut Emitter) {
    report_risk(&inventory.rbac, out, Risk::ReadSecrets);
}
