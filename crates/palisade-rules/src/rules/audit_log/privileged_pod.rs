use palisade_analysis::pss::{self, Level, Version};
use palisade_audit::{is_control_plane, AuditEvent};
use palisade_model::PodView;

use super::{target, when};
use crate::meta::{rule, AuditHit};
use crate::Check;

rule! {
    /// ## What it does
    /// Reports pods and pod controllers created (or replaced) with a privileged container,
    /// host namespaces (`hostNetwork`, `hostPID`, `hostIPC`) or `hostPath` volumes, judged with
    /// the same Pod Security checks as `palisade scan`, on the request body. The audit policy
    /// must log pod and workload writes at the `Request` level or above.
    ///
    /// ## Why is this bad?
    /// Each of these is a way out of the container onto the node (MITRE T1611). In a namespace
    /// whose Pod Security level forbids them the request fails; an allowed one means the pod
    /// runs.
    ///
    /// ## Example
    /// ```json
    /// {"verb":"create","objectRef":{"resource":"pods"},"requestObject":{"spec":{"hostPID":true, ...}}}
    /// ```
    ///
    /// ## Remediation
    /// Confirm the workload needs the access; enforce `baseline` or `restricted` Pod Security
    /// on its namespace.
    ///
    /// ## References
    /// - Falco Kubernetes audit rules ("Create Privileged Pod", "Create Sensitive Mount Pod",
    ///   "Create HostNetwork Pod"): <https://github.com/falcosecurity/plugins/tree/main/plugins/k8saudit/rules>
    pub static RULE = {
        code: "PAL-AL-007",
        name: "audit-privileged-pod",
        severity: High,
        category: "audit-log",
        controls: ["MITRE:T1611", "NSA:pod-security", "NSA:logging"],
        check: Check::AuditEvent(check),
    };
}

const WATCHED: &[&str] = &["privileged", "hostNamespaces", "hostPathVolumes"];

fn check(event: &AuditEvent) -> Vec<AuditHit> {
    if !matches!(event.verb.as_str(), "create" | "update")
        || !event.subresource().is_empty()
        || !event.allowed()
        || is_control_plane(event.acting_user())
    {
        return Vec::new();
    }
    let Some(body) = &event.request_object else {
        return Vec::new();
    };
    let object = palisade_load::json::to_object(body);
    let Some(pod) = PodView::of(&object) else {
        return Vec::new();
    };
    pss::evaluate(&pod, Level::Baseline, Version::LATEST)
        .into_iter()
        .filter(|(check, _)| WATCHED.contains(&check.id))
        .map(|(_, violation)| AuditHit {
            message: format!(
                "{} ran `{}` on {}{}: {}",
                event.who(),
                event.action(),
                target(event),
                when(event),
                violation.message
            ),
            path: violation.path,
        })
        .collect()
}
