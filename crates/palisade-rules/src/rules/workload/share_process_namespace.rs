use palisade_analysis::pss::Violation;
use palisade_model::PodView;

use crate::meta::rule;
use crate::{Check, OptionValues};

rule! {
    /// ## What it does
    /// Flags pods with `shareProcessNamespace: true`.
    ///
    /// ## Why is this bad?
    /// With a shared process namespace every container sees the others' processes, can signal
    /// them and, through `/proc/<pid>/root` and `/proc/<pid>/environ`, read their file systems
    /// and environment: a compromised sidecar gets the main container's secrets.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   shareProcessNamespace: true   # fails
    /// ```
    ///
    /// ## Remediation
    /// Remove the field. For debugging, use `kubectl debug` with an ephemeral container
    /// targeting one container instead.
    ///
    /// ## References
    /// - Share Process Namespace between Containers in a Pod:
    ///   <https://kubernetes.io/docs/tasks/configure-pod-container/share-process-namespace/>
    pub static RULE = {
        code: "PAL-WL-003",
        name: "share-process-namespace",
        severity: Medium,
        category: "workload",
        controls: ["NSA:pod-security", "MITRE:T1552"],
        fix: crate::fix::needs_decision,
        check: Check::Pod(check),
    };
}

fn check(pod: &PodView<'_>, _: &OptionValues) -> Vec<Violation> {
    if !pod.spec.flag("shareProcessNamespace") {
        return Vec::new();
    }
    vec![Violation {
        severity: None,
        path: pod.spec_path.key("shareProcessNamespace"),
        message: "the pod's containers share one process namespace: each can read the others' environment and files through /proc".to_string(),
    }]
}
