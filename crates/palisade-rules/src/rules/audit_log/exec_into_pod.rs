use palisade_audit::AuditEvent;

use super::{outcome, target, when};
use crate::meta::{rule, AuditHit};
use crate::Check;

rule! {
    /// ## What it does
    /// Reports allowed `exec`, `attach` and `port-forward` requests into pods, and ephemeral
    /// containers added to running pods (`kubectl debug`), by anyone.
    ///
    /// ## Why is this bad?
    /// A shell in a pod is everything the pod holds: its service-account token, its mounted
    /// Secrets, its network position. In production it should be rare, expected and audited;
    /// an unexpected one is how an intruder moves (MITRE T1609).
    ///
    /// ## Example
    /// ```json
    /// {"verb":"create","objectRef":{"resource":"pods","subresource":"exec","namespace":"shop","name":"web-0"}, ...}
    /// ```
    ///
    /// ## Remediation
    /// Confirm with whoever made the request; grant exec only through a separate, break-glass
    /// role; restrict it with `rbac-pod-exec`.
    ///
    /// ## References
    /// - Falco Kubernetes audit rules ("Attach/Exec Pod", "EphemeralContainers Created"):
    ///   <https://github.com/falcosecurity/plugins/tree/main/plugins/k8saudit/rules>
    pub static RULE = {
        code: "PAL-AL-001",
        name: "audit-exec-into-pod",
        severity: High,
        category: "audit-log",
        controls: ["MITRE:T1609", "NSA:logging"],
        check: Check::AuditEvent(check),
    };
}

fn check(event: &AuditEvent) -> Vec<AuditHit> {
    let into = matches!(event.subresource(), "exec" | "attach" | "portforward")
        && matches!(event.verb.as_str(), "create" | "get");
    let debug = event.subresource() == "ephemeralcontainers"
        && matches!(event.verb.as_str(), "update" | "patch");
    if event.resource() != "pods" || !(into || debug) || !event.allowed() {
        return Vec::new();
    }
    vec![AuditHit::new(format!(
        "{} ran `{}` on {}{}{}",
        event.who(),
        event.action(),
        target(event),
        when(event),
        outcome(event)
    ))]
}
