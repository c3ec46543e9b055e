use palisade_audit::{is_control_plane, AuditEvent};

use super::{target, when};
use crate::meta::{rule, AuditHit};
use crate::Check;

rule! {
    /// ## What it does
    /// Reports admission webhook configurations (validating or mutating) created, changed or
    /// deleted by anyone but the control plane.
    ///
    /// ## Why is this bad?
    /// Deleting or loosening a validating webhook switches a policy engine off; adding a
    /// mutating one lets its server rewrite every pod the cluster creates (MITRE T1562.001).
    ///
    /// ## Example
    /// ```json
    /// {"verb":"delete","objectRef":{"resource":"validatingwebhookconfigurations","name":"palisade"}, ...}
    /// ```
    ///
    /// ## Remediation
    /// Confirm the change with the webhook's owners; restrict writes to webhook configurations
    /// (`rbac-webhook-write`).
    ///
    /// ## References
    /// - Dynamic admission control: <https://kubernetes.io/docs/reference/access-authn-authz/extensible-admission-controllers/>
    pub static RULE = {
        code: "PAL-AL-011",
        name: "audit-webhook-change",
        severity: High,
        category: "audit-log",
        controls: ["MITRE:T1562.001", "NSA:logging"],
        check: Check::AuditEvent(check),
    };
}

fn check(event: &AuditEvent) -> Vec<AuditHit> {
    if event.api_group() != "admissionregistration.k8s.io"
        || !matches!(
            event.resource(),
            "validatingwebhookconfigurations" | "mutatingwebhookconfigurations"
        )
        || !event.is_write()
        || !event.allowed()
        || is_control_plane(event.acting_user())
    {
        return Vec::new();
    }
    vec![AuditHit::new(format!(
        "{} ran `{}` on {}{}",
        event.who(),
        event.verb,
        target(event),
        when(event)
    ))]
}
