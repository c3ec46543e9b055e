use crate::meta::rule;
use crate::Check;

rule! {
    /// ## What it does
    /// Flags probes and lifecycle handlers that set a `host` for `httpGet` or `tcpSocket`
    /// (Kubernetes 1.34+).
    ///
    /// ## Why is this bad?
    /// The kubelet makes these requests from the node: a `host` lets a pod author point the kubelet
    /// at any address the node can reach (server-side request forgery).
    ///
    /// ## Example
    /// ```yaml
    /// livenessProbe:
    ///   httpGet:
    ///     host: 169.254.169.254   # fails
    ///     port: 80
    /// ```
    ///
    /// ## Remediation
    /// Remove `host`; probes target the pod's own IP by default.
    ///
    /// ## References
    /// - Pod Security Standards, baseline level, check `hostProbesAndHostLifecycle`:
    ///   <https://kubernetes.io/docs/concepts/security/pod-security-standards/>
    pub static RULE = {
        code: "PAL-PSS-012",
        name: "pss-host-probes-and-lifecycle",
        severity: Medium,
        category: "pod-security",
        controls: ["PSS:baseline:hostProbesAndHostLifecycle", "NSA:network-separation", "MITRE:T1557"],
        fix: crate::fix::needs_decision,
        check: Check::Pss("hostProbesAndHostLifecycle"),
    };
}
