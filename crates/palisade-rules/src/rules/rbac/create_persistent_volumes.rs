use palisade_analysis::rbac::risk::Risk;
use palisade_analysis::Inventory;

use super::grants::report_risk;
use crate::meta::rule;
use crate::{Check, Emitter};

rule! {
    /// ## What it does
    /// Flags bindings that let a non-system subject create PersistentVolumes.
    ///
    /// ## Why is this bad?
    /// A PersistentVolume can be a hostPath on any node; claiming it mounts the node's file system
    /// into a pod, whatever Pod Security says about hostPath volumes.
    ///
    /// ## Example
    /// ```yaml
    /// kind: ClusterRole
    /// rules:
    /// - apiGroups: [""]
    ///   resources: ["persistentvolumes"]   # fails
    ///   verbs: ["create"]
    /// ```
    ///
    /// ## Remediation
    /// Provision volumes through StorageClasses; keep PersistentVolume creation for the storage
    /// provisioner.
    ///
    /// ## References
    /// - Kubernetes RBAC good practices:
    ///   <https://kubernetes.io/docs/concepts/security/rbac-good-practices/>
    pub static RULE = {
        code: "PAL-RBAC-010",
        name: "rbac-create-persistent-volumes",
        severity: Medium,
        category: "rbac",
        controls: ["NSA:rbac", "MITRE:T1611"],
        check: Check::Inventory(check),
    };
}

fn check(inventory: &Inventory, out: &mut Emitter) {
    report_risk(&inventory.rbac, out, Risk::CreatePersistentVolumes);
}
