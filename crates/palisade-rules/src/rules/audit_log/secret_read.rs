use palisade_audit::{is_control_plane, AuditEvent};

use super::{target, when};
use crate::meta::{rule, AuditHit};
use crate::Check;

rule! {
    /// ## What it does
    /// Reports allowed reads (`get`) of a Secret by anyone but the control plane's own
    /// components and controllers (kube-controller-manager, the scheduler, nodes, and the
    /// kube-system service accounts controllers run as).
    ///
    /// ## Why is this bad?
    /// Reading a Secret is reading a credential. Applications usually receive theirs as volumes
    /// or environment variables, which the kubelet reads as the node; a user or workload
    /// reading Secrets through the API is worth knowing about, and an attacker with a stolen
    /// token does exactly this first (MITRE T1552.007).
    ///
    /// ## Example
    /// ```json
    /// {"verb":"get","user":{"username":"alice"},"objectRef":{"resource":"secrets","namespace":"shop","name":"db"}, ...}
    /// ```
    ///
    /// ## Remediation
    /// Confirm the read was expected; narrow who can read Secrets (`rbac-read-secrets`); mount
    /// Secrets into the pods that need them instead.
    ///
    /// ## References
    /// - Falco Kubernetes audit rules ("K8s Secret Get Successfully"):
    ///   <https://github.com/falcosecurity/plugins/tree/main/plugins/k8saudit/rules>
    pub static RULE = {
        code: "PAL-AL-002",
        name: "audit-secret-read",
        severity: Medium,
        category: "audit-log",
        controls: ["MITRE:T1552.007", "NSA:logging"],
        check: Check::AuditEvent(check),
    };
}

fn check(event: &AuditEvent) -> Vec<AuditHit> {
    if event.resource() != "secrets"
        || !event.subresource().is_empty()
        || event.verb != "get"
        || !event.allowed()
        || is_control_plane(event.acting_user())
    {
        return Vec::new();
    }
    vec![AuditHit::new(format!(
        "{} read {}{}",
        event.who(),
        target(event),
        when(event)
    ))]
}
