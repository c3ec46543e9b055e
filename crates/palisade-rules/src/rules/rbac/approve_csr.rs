use palisade_analysis::rbac::risk::Risk;
use palisade_analysis::Inventory;

use super::grants::report_risk;
use crate::meta::rule;
use crate::{Check, Emitter};

rule! {
    /// ## What it does
    /// Flags bindings that let a non-system subject both create CertificateSigningRequests and
    /// approve them (`certificatesigningrequests/approval` plus `approve` on signers).
    ///
    /// ## Why is this bad?
    /// Together they mint client certificates for any user or group the signer allows, including
    /// `system:masters` with the kube-apiserver-client signer.
    ///
    /// ## Example
    /// ```yaml
    /// kind: ClusterRole
    /// rules:
    /// - apiGroups: ["certificates.k8s.io"]
    ///   resources: ["certificatesigningrequests", "certificatesigningrequests/approval"]
    ///   verbs: ["create", "update"]   # fails with approve on signers
    /// ```
    ///
    /// ## Remediation
    /// Keep requesting and approving certificates in separate hands.
    ///
    /// ## References
    /// - Kubernetes RBAC good practices:
    ///   <https://kubernetes.io/docs/concepts/security/rbac-good-practices/>
    pub static RULE = {
        code: "PAL-RBAC-008",
        name: "rbac-approve-csr",
        severity: High,
        category: "rbac",
        controls: ["NSA:rbac", "MITRE:T1649"],
        check: Check::Inventory(check),
    };
}

fn check(inventory: &Inventory, out: &mut Emitter) {
    report_risk(&inventory.rbac, out, Risk::ApproveCsr);
}
