use palisade_audit::AuditEvent;

use super::{outcome, target, when};
use crate::meta::{rule, AuditHit};
use crate::Check;

rule! {
    /// ## What it does
    /// Reports allowed requests to `nodes/proxy`: the kubelet API, reached through the API
    /// server.
    ///
    /// ## Why is this bad?
    /// The kubelet API runs commands in any pod on the node and bypasses admission control; a
    /// `nodes/proxy` request that is not a monitoring agent's scrape deserves a look.
    ///
    /// ## Example
    /// ```json
    /// {"verb":"create","objectRef":{"resource":"nodes","subresource":"proxy","name":"worker-1"}, ...}
    /// ```
    ///
    /// ## Remediation
    /// Give monitoring `nodes/metrics` and `nodes/stats` instead (`rbac-nodes-proxy`).
    ///
    /// ## References
    /// - Kubelet authentication/authorization:
    ///   <https://kubernetes.io/docs/reference/access-authn-authz/kubelet-authn-authz/>
    pub static RULE = {
        code: "PAL-AL-010",
        name: "audit-nodes-proxy",
        severity: High,
        category: "audit-log",
        controls: ["MITRE:T1609", "NSA:logging"],
        check: Check::AuditEvent(check),
    };
}

fn check(event: &AuditEvent) -> Vec<AuditHit> {
    if event.resource() != "nodes" || event.subresource() != "proxy" || !event.allowed() {
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
