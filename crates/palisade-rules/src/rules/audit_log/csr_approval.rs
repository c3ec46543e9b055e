use palisade_audit::{is_control_plane, AuditEvent};

use super::{target, when};
use crate::meta::{rule, AuditHit};
use crate::Check;

rule! {
    /// ## What it does
    /// Reports CertificateSigningRequests approved (`certificatesigningrequests/approval`) by
    /// anyone but the control plane's own approver.
    ///
    /// ## Why is this bad?
    /// An approved CSR for the `kube-apiserver-client` signer is a client certificate for any
    /// user and group it names, `system:masters` included, valid until it expires and not
    /// revocable (MITRE T1649).
    ///
    /// ## Example
    /// ```json
    /// {"verb":"update","objectRef":{"resource":"certificatesigningrequests","subresource":"approval","name":"alice"}, ...}
    /// ```
    ///
    /// ## Remediation
    /// Check what the CSR asked for (`kubectl get csr NAME -o yaml`); restrict `approve` on
    /// signers (`rbac-approve-csr`).
    ///
    /// ## References
    /// - Certificate signing requests: <https://kubernetes.io/docs/reference/access-authn-authz/certificate-signing-requests/>
    pub static RULE = {
        code: "PAL-AL-009",
        name: "audit-csr-approval",
        severity: Medium,
        category: "audit-log",
        controls: ["MITRE:T1649", "NSA:logging"],
        check: Check::AuditEvent(check),
    };
}

fn check(event: &AuditEvent) -> Vec<AuditHit> {
    if event.resource() != "certificatesigningrequests"
        || event.subresource() != "approval"
        || !matches!(event.verb.as_str(), "update" | "patch")
        || !event.allowed()
        || is_control_plane(event.acting_user())
    {
        return Vec::new();
    }
    vec![AuditHit::new(format!(
        "{} approved {}{}",
        event.who(),
        target(event),
        when(event)
    ))]
}
