use palisade_analysis::rbac::risk::Risk;
use palisade_analysis::Inventory;

use super::grants::report_risk;
use crate::meta::rule;
use crate::{Check, Emitter};

rule! {
    /// ## What it does
    /// Flags bindings that let a non-system subject create pods or pod controllers (Deployments,
    /// DaemonSets, StatefulSets, ReplicaSets, Jobs, CronJobs, ReplicationControllers).
    ///
    /// ## Why is this bad?
    /// A pod may run as any service account of its namespace and mount any Secret there: creating
    /// pods means holding every permission of every account in the namespace.
    ///
    /// ## Example
    /// ```yaml
    /// kind: Role
    /// rules:
    /// - apiGroups: ["apps"]
    ///   resources: ["deployments"]
    ///   verbs: ["create"]   # fails
    /// ```
    ///
    /// ## Remediation
    /// Deploy through a pipeline identity scoped to one namespace, and keep that namespace's
    /// service accounts least-privileged.
    ///
    /// ## References
    /// - Kubernetes RBAC good practices:
    ///   <https://kubernetes.io/docs/concepts/security/rbac-good-practices/>
    pub static RULE = {
        code: "PAL-RBAC-003",
        name: "rbac-create-workloads",
        severity: Medium,
        category: "rbac",
        controls: ["CIS-5.1.4", "NSA:rbac", "MITRE:T1610"],
        check: Check::Inventory(check),
    };
}

fn check(inventory: &Inventory, out: &mut Emitter) {
    report_risk(&inventory.rbac, out, Risk::CreateWorkloads);
}
