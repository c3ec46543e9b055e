use palisade_audit::{is_control_plane, AuditEvent};

use super::{target, when};
use crate::meta::{rule, AuditHit};
use crate::Check;

rule! {
    /// ## What it does
    /// Reports pods and service accounts created in `kube-system` by anyone but Kubernetes'
    /// own control plane (its components, nodes and controllers).
    ///
    /// ## Why is this bad?
    /// `kube-system` is where the cluster's most trusted workloads run, usually without Pod
    /// Security enforcement: a pod placed there blends in and may run privileged, and a new
    /// service account there is a quiet place to bind power (MITRE T1610, T1136).
    ///
    /// ## Example
    /// ```json
    /// {"verb":"create","objectRef":{"resource":"pods","namespace":"kube-system"},
    ///  "user":{"username":"system:serviceaccount:kube-system:default"}, ...}
    /// ```
    ///
    /// ## Remediation
    /// Confirm who deployed it and why; deploy add-ons through a reviewed pipeline, and limit
    /// who can create pods and service accounts in `kube-system`.
    ///
    /// ## References
    /// - Falco Kubernetes audit rules ("Pod Created in Kube Namespace", "Service Account
    ///   Created in Kube Namespace"):
    ///   <https://github.com/falcosecurity/plugins/tree/main/plugins/k8saudit/rules>
    pub static RULE = {
        code: "PAL-AL-014",
        name: "audit-kube-system-create",
        severity: Medium,
        category: "audit-log",
        controls: ["MITRE:T1610", "MITRE:T1136", "NSA:logging"],
        check: Check::AuditEvent(check),
    };
}

fn check(event: &AuditEvent) -> Vec<AuditHit> {
    let in_kube_system = event
        .object_ref
        .as_ref()
        .is_some_and(|object| object.namespace == "kube-system");
    if !in_kube_system
        || event.verb != "create"
        || event.api_group() != ""
        || !matches!(event.resource(), "pods" | "serviceaccounts")
        || !event.subresource().is_empty()
        || !event.allowed()
        || is_control_plane(event.acting_user())
    {
        return Vec::new();
    }
    vec![AuditHit::new(format!(
        "{} created {} in kube-system{}",
        event.who(),
        target(event),
        when(event)
    ))]
}
