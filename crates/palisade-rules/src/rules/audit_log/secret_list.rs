use palisade_audit::{is_control_plane, AuditEvent};

use super::when;
use crate::meta::{rule, AuditHit};
use crate::Check;

rule! {
    /// ## What it does
    /// Reports allowed `list` and `watch` requests for Secrets, in a namespace or across the
    /// cluster, by anyone but the control plane's own components and controllers.
    ///
    /// ## Why is this bad?
    /// A list returns every Secret's data at once; a cluster-wide one, every credential in the
    /// cluster. It is the single request that turns a stolen token into all the others (MITRE
    /// T1552.007).
    ///
    /// ## Example
    /// ```json
    /// {"verb":"list","user":{"username":"system:serviceaccount:ci:runner"},"objectRef":{"resource":"secrets"}, ...}
    /// ```
    ///
    /// ## Remediation
    /// Find out why the subject needed every Secret; remove `list`/`watch` on Secrets from its
    /// roles (`rbac-read-secrets`), and rotate what it could read if the request was not
    /// expected.
    ///
    /// ## References
    /// - Kubernetes RBAC good practices (listing Secrets):
    ///   <https://kubernetes.io/docs/concepts/security/rbac-good-practices/#listing-secrets>
    pub static RULE = {
        code: "PAL-AL-003",
        name: "audit-secret-list",
        severity: High,
        category: "audit-log",
        controls: ["MITRE:T1552.007", "NSA:logging"],
        check: Check::AuditEvent(check),
    };
}

fn check(event: &AuditEvent) -> Vec<AuditHit> {
    if event.resource() != "secrets"
        || !matches!(event.verb.as_str(), "list" | "watch")
        || !event.allowed()
        || is_control_plane(event.acting_user())
    {
        return Vec::new();
    }
    let scope = match event.namespace() {
        "" => "in every namespace".to_string(),
        ns => format!("in namespace {ns}"),
    };
    vec![AuditHit::new(format!(
        "{} ran `{}` on Secrets {scope}{}",
        event.who(),
        event.verb,
        when(event)
    ))]
}
