use palisade_analysis::rbac::risk::Risk;
use palisade_analysis::Inventory;

use super::grants::report_risk;
use crate::meta::rule;
use crate::{Check, Emitter};

rule! {
    /// ## What it does
    /// Flags bindings that give a non-system subject every permission: a role with `*` verbs on `*`
    /// resources in `*` API groups, such as `cluster-admin`.
    ///
    /// ## Why is this bad?
    /// Whoever holds it can read every Secret, run anything anywhere and change RBAC itself. A
    /// compromised CI token or laptop becomes a compromised cluster.
    ///
    /// ## Example
    /// ```yaml
    /// kind: ClusterRoleBinding
    /// roleRef: {kind: ClusterRole, name: cluster-admin}
    /// subjects:
    /// - kind: ServiceAccount   # fails
    ///   name: deployer
    ///   namespace: ci
    /// ```
    ///
    /// ## Remediation
    /// Bind a role with the verbs and resources the subject needs, in the namespaces it works in;
    /// keep cluster-admin for break-glass identities.
    ///
    /// ## References
    /// - Kubernetes RBAC good practices:
    ///   <https://kubernetes.io/docs/concepts/security/rbac-good-practices/>
    pub static RULE = {
        code: "PAL-RBAC-001",
        name: "rbac-cluster-admin",
        severity: Critical,
        category: "rbac",
        controls: ["CIS-5.1.1", "NSA:rbac", "MITRE:T1078"],
        check: Check::Inventory(check),
    };
}

fn check(inventory: &Inventory, out: &mut Emitter) {
    report_risk(&inventory.rbac, out, Risk::ClusterAdmin);
}
