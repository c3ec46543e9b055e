use palisade_analysis::Inventory;

use super::grants::report_escalation_paths;
use crate::meta::rule;
use crate::{Check, Emitter};

rule! {
    /// ## What it does
    /// Flags subjects that are not cluster-admin but can become it in several steps: creating
    /// a pod that runs as a more powerful service account, reading a legacy token Secret,
    /// requesting a token, impersonating, binding roles, or taking over a node through a
    /// privileged pod in a namespace where Pod Security Admission allows one. The message
    /// gives the shortest path, each step explained (`palisade rbac paths` draws them).
    ///
    /// ## Why is this bad?
    /// One-object checks see each grant as modest; chained, they are cluster-admin. Attackers
    /// follow exactly these chains.
    ///
    /// ## Example
    /// ```yaml
    /// # dev may create pods in ci (edit), and ci/deployer is bound to cluster-admin:
    /// # dev → ServiceAccount ci/deployer → cluster-admin
    /// kind: RoleBinding
    /// metadata: {name: dev-edit, namespace: ci}
    /// roleRef: {kind: ClusterRole, name: edit}
    /// subjects: [{kind: User, name: dev}]   # fails
    /// ```
    ///
    /// ## Remediation
    /// Break the chain at its weakest link: move powerful service accounts out of namespaces
    /// where others create pods, delete legacy token Secrets, enforce Pod Security baseline.
    ///
    /// ## References
    /// - Kubernetes RBAC good practices, privilege escalation risks:
    ///   <https://kubernetes.io/docs/concepts/security/rbac-good-practices/>
    pub static RULE = {
        code: "PAL-RBAC-015",
        name: "rbac-escalation-path",
        severity: Critical,
        category: "rbac",
        controls: ["NSA:rbac", "MITRE:T1078", "MITRE:T1068"],
        // At the binding subject whose grant is the path's first step: that binding's risky
        // grants are steps of the path, restated under it.
        subsumes: [
            "PAL-RBAC-002", "PAL-RBAC-003", "PAL-RBAC-004", "PAL-RBAC-005", "PAL-RBAC-006",
            "PAL-RBAC-007", "PAL-RBAC-008", "PAL-RBAC-009", "PAL-RBAC-010", "PAL-RBAC-011",
        ],
        check: Check::Inventory(check),
    };
}

fn check(inventory: &Inventory, out: &mut Emitter) {
    report_escalation_paths(&inventory.rbac, out);
}
