use palisade_audit::AuditEvent;

use super::{target, when};
use crate::meta::{rule, AuditHit};
use crate::Check;

rule! {
    /// ## What it does
    /// Reports allowed requests made with impersonation (`kubectl --as`, `Impersonate-User`
    /// headers): the event names both the impersonator and the identity it took.
    ///
    /// ## Why is this bad?
    /// Impersonation lends one subject another's permissions; it is legitimate for a few
    /// admission tools and break-glass workflows and a privilege escalation everywhere else
    /// (`rbac-escalate-bind-impersonate`).
    ///
    /// ## Example
    /// ```json
    /// {"user":{"username":"alice"},"impersonatedUser":{"username":"system:admin"}, ...}
    /// ```
    ///
    /// ## Remediation
    /// Confirm the impersonation was expected; remove `impersonate` from roles that do not need
    /// it.
    ///
    /// ## References
    /// - User impersonation: <https://kubernetes.io/docs/reference/access-authn-authz/authentication/#user-impersonation>
    pub static RULE = {
        code: "PAL-AL-006",
        name: "audit-impersonation",
        severity: Medium,
        category: "audit-log",
        controls: ["MITRE:T1078", "NSA:logging"],
        check: Check::AuditEvent(check),
    };
}

fn check(event: &AuditEvent) -> Vec<AuditHit> {
    if event.impersonated_user.is_none() || !event.allowed() {
        return Vec::new();
    }
    vec![AuditHit::new(format!(
        "{} ran `{}` on {}{}",
        event.who(),
        event.action(),
        target(event),
        when(event)
    ))]
}
