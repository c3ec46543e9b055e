use palisade_analysis::rbac::risk::Risk;
use palisade_analysis::Inventory;

use super::grants::report_risk;
use crate::meta::rule;
use crate::{Check, Emitter};

rule! {
    /// ## What it does
    /// Flags bindings that let a non-system subject use `pods/exec`, `pods/attach` or
    /// `pods/portforward`. Which verb opens a shell depends on the Kubernetes version
    /// (`--kubernetes-version`, `kubernetes-version:` in the config, the server's with
    /// `--cluster`): before 1.31 the API server authorizes a WebSocket exec (what kubectl uses)
    /// as `get`, so `get` on `pods/exec` is a shell too; from 1.31 only `create` is, and
    /// read-all roles (`get` on `*`) grant none. Each finding names the version it assumed.
    ///
    /// ## Why is this bad?
    /// A shell in a pod is everything the pod has: its service-account token, its mounted Secrets,
    /// its network position.
    ///
    /// ## Example
    /// ```yaml
    /// kind: Role
    /// rules:
    /// - apiGroups: [""]
    ///   resources: ["pods/exec"]   # fails
    ///   verbs: ["create"]
    /// ```
    ///
    /// ## Remediation
    /// Grant exec only for break-glass access, through a separate, audited role.
    ///
    /// ## References
    /// - Kubernetes RBAC good practices:
    ///   <https://kubernetes.io/docs/concepts/security/rbac-good-practices/>
    pub static RULE = {
        code: "PAL-RBAC-004",
        name: "rbac-pod-exec",
        severity: High,
        category: "rbac",
        controls: ["CIS-5.1.4", "NSA:rbac", "MITRE:T1609"],
        check: Check::Inventory(check),
    };
}

fn check(inventory: &Inventory, out: &mut Emitter) {
    report_risk(&inventory.rbac, out, Risk::PodExec);
}
