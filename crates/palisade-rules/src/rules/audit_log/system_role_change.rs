use palisade_audit::{is_control_plane, AuditEvent};

use super::{target, when};
use crate::meta::{rule, AuditHit};
use crate::Check;

rule! {
    /// ## What it does
    /// Reports Kubernetes' own ClusterRoles and ClusterRoleBindings (named `system:...`)
    /// changed or deleted by anyone but the control plane.
    ///
    /// ## Why is this bad?
    /// The default roles are what controllers, nodes and every authenticated user run with:
    /// widening one (`system:discovery`, `system:node`) hands its power to everyone who holds
    /// it, and deleting one breaks the component that needs it. Attackers who reached
    /// `escalate` hide there, where nobody reviews (MITRE T1098).
    ///
    /// ## Example
    /// ```json
    /// {"verb":"patch","objectRef":{"resource":"clusterroles","name":"system:discovery"}, ...}
    /// ```
    ///
    /// ## Remediation
    /// Restore the role (the API server reconciles default roles at start unless they are
    /// annotated `rbac.authorization.kubernetes.io/autoupdate: "false"`), and find who could
    /// write it (`palisade rbac who-can update clusterroles`).
    ///
    /// ## References
    /// - Falco Kubernetes audit rules ("System ClusterRole Modified/Deleted"):
    ///   <https://github.com/falcosecurity/plugins/tree/main/plugins/k8saudit/rules>
    pub static RULE = {
        code: "PAL-AL-013",
        name: "audit-system-role-change",
        severity: High,
        category: "audit-log",
        controls: ["MITRE:T1098", "NSA:rbac", "NSA:logging"],
        check: Check::AuditEvent(check),
    };
}

fn check(event: &AuditEvent) -> Vec<AuditHit> {
    let name = event
        .object_ref
        .as_ref()
        .map_or("", |object| object.name.as_str());
    if event.api_group() != "rbac.authorization.k8s.io"
        || !matches!(event.resource(), "clusterroles" | "clusterrolebindings")
        || !name.starts_with("system:")
        || !matches!(
            event.verb.as_str(),
            "update" | "patch" | "delete" | "deletecollection"
        )
        || !event.allowed()
        || is_control_plane(event.acting_user())
    {
        return Vec::new();
    }
    vec![AuditHit::new(format!(
        "{} ran `{}` on {}, one of Kubernetes' own{}",
        event.who(),
        event.verb,
        target(event),
        when(event)
    ))]
}
