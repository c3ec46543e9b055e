use palisade_audit::AuditEvent;

use super::{target, when};
use crate::meta::{rule, AuditHit};
use crate::Check;

rule! {
    /// ## What it does
    /// Reports requests by `system:anonymous` (or the `system:unauthenticated` group) that the
    /// API server allowed, other than the health and version endpoints the default policy opens
    /// to everyone (`/healthz`, `/livez`, `/readyz`, `/version`).
    ///
    /// ## Why is this bad?
    /// An allowed anonymous request means some binding grants something to the whole internet
    /// that can reach the API server (CIS 5.1.x; the default `system:discovery` bindings have
    /// been abused this way). Attackers scan for exactly this.
    ///
    /// ## Example
    /// ```json
    /// {"verb":"list","user":{"username":"system:anonymous","groups":["system:unauthenticated"]},"objectRef":{"resource":"pods"}, ...}
    /// ```
    ///
    /// ## Remediation
    /// Remove the binding to `system:anonymous` or `system:unauthenticated`
    /// (`rbac-anonymous-binding`); consider `--anonymous-auth=false`.
    ///
    /// ## References
    /// - Falco Kubernetes audit rules ("Anonymous Request Allowed"):
    ///   <https://github.com/falcosecurity/plugins/tree/main/plugins/k8saudit/rules>
    pub static RULE = {
        code: "PAL-AL-004",
        name: "audit-anonymous-allowed",
        severity: High,
        category: "audit-log",
        controls: ["CIS-5.1.1", "MITRE:T1078.001", "NSA:logging"],
        check: Check::AuditEvent(check),
    };
}

const PUBLIC: &[&str] = &["/healthz", "/livez", "/readyz", "/version"];

fn check(event: &AuditEvent) -> Vec<AuditHit> {
    let user = event.acting_user();
    let anonymous = user.username == "system:anonymous"
        || user.groups.iter().any(|g| g == "system:unauthenticated");
    let path = event.request_uri.split('?').next().unwrap_or_default();
    let public = event.is_non_resource()
        && PUBLIC
            .iter()
            .any(|p| path == *p || path.strip_prefix(p).is_some_and(|r| r.starts_with('/')));
    if !anonymous || public || !event.allowed() {
        return Vec::new();
    }
    vec![AuditHit::new(format!(
        "an anonymous request from {} was allowed: `{}` on {}{}",
        event.source_ips.join(", "),
        event.action(),
        target(event),
        when(event)
    ))]
}
