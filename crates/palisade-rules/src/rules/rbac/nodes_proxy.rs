use palisade_analysis::rbac::risk::Risk;
use palisade_analysis::Inventory;

use super::grants::report_risk;
use crate::meta::rule;
use crate::{Check, Emitter};

rule! {
    /// ## What it does
    /// Flags bindings that let a non-system subject use `nodes/proxy`, which reaches the kubelet
    /// API through the API server.
    ///
    /// ## Why is this bad?
    /// The kubelet API runs commands in any pod on the node and is not subject to admission
    /// control; `nodes/proxy` with `get` has been shown to be enough to exec.
    ///
    /// ## Example
    /// ```yaml
    /// kind: ClusterRole
    /// rules:
    /// - apiGroups: [""]
    ///   resources: ["nodes/proxy"]   # fails
    ///   verbs: ["get"]
    /// ```
    ///
    /// ## Remediation
    /// Use `nodes/metrics` or `nodes/stats` for monitoring instead.
    ///
    /// ## References
    /// - Kubernetes RBAC good practices:
    ///   <https://kubernetes.io/docs/concepts/security/rbac-good-practices/>
    pub static RULE = {
        code: "PAL-RBAC-005",
        name: "rbac-nodes-proxy",
        severity: High,
        category: "rbac",
        controls: ["NSA:rbac", "MITRE:T1609"],
        check: Check::Inventory(check),
    };
}

fn check(inventory: &Inventory, out: &mut Emitter) {
    report_risk(&inventory.rbac, out, Risk::NodesProxy);
}
