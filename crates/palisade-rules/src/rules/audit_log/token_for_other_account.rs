use palisade_audit::{is_control_plane, AuditEvent};

use super::{target, when};
use crate::meta::{rule, AuditHit};
use crate::Check;

rule! {
    /// ## What it does
    /// Reports allowed `serviceaccounts/token` requests (the TokenRequest API) for a service
    /// account other than the requester's own, by anyone but the kubelet and the control plane.
    ///
    /// ## Why is this bad?
    /// A token for another service account is that account's permissions, for as long as the
    /// token lives: a quiet way to move sideways (MITRE T1528).
    ///
    /// ## Example
    /// ```json
    /// {"verb":"create","user":{"username":"alice"},"objectRef":{"resource":"serviceaccounts","subresource":"token","namespace":"ci","name":"deployer"}, ...}
    /// ```
    ///
    /// ## Remediation
    /// Confirm why the requester needed the token; remove `create` on `serviceaccounts/token`
    /// from its roles (`rbac-create-tokens`).
    ///
    /// ## References
    /// - TokenRequest API: <https://kubernetes.io/docs/reference/kubernetes-api/authentication-resources/token-request-v1/>
    pub static RULE = {
        code: "PAL-AL-008",
        name: "audit-token-for-other-account",
        severity: Medium,
        category: "audit-log",
        controls: ["MITRE:T1528", "NSA:logging"],
        check: Check::AuditEvent(check),
    };
}

fn check(event: &AuditEvent) -> Vec<AuditHit> {
    if event.resource() != "serviceaccounts"
        || event.subresource() != "token"
        || event.verb != "create"
        || !event.allowed()
        || is_control_plane(event.acting_user())
    {
        return Vec::new();
    }
    let own = format!(
        "system:serviceaccount:{}:{}",
        event.namespace(),
        event.name()
    );
    if event.acting_user().username == own {
        return Vec::new();
    }
    vec![AuditHit::new(format!(
        "{} requested a token for {}{}",
        event.who(),
        target(event),
        when(event)
    ))]
}
