use crate::meta::rule;
use crate::Check;

rule! {
    /// ## What it does
    /// Flags pods whose containers do not all run with a seccomp profile of type `RuntimeDefault`
    /// or `Localhost`, set on the pod or on each container (Kubernetes 1.19+; Windows pods are
    /// exempt from 1.25).
    ///
    /// ## Why is this bad?
    /// Without a seccomp profile, containers run `Unconfined` on most runtimes: the whole kernel
    /// system-call surface is reachable.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   securityContext:
    ///     runAsNonRoot: true   # fails: no seccompProfile
    /// ```
    ///
    /// ## Remediation
    /// Set `securityContext.seccompProfile.type: RuntimeDefault` on the pod.
    ///
    /// ## References
    /// - Pod Security Standards, restricted level, check `seccompProfile_restricted`:
    ///   <https://kubernetes.io/docs/concepts/security/pod-security-standards/>
    pub static RULE = {
        code: "PAL-PSS-017",
        name: "pss-seccomp-restricted",
        severity: Medium,
        category: "pod-security",
        controls: ["PSS:restricted:seccompProfile_restricted", "CIS-5.7.2", "NSA:pod-security", "MITRE:T1611"],
        check: Check::Pss("seccompProfile_restricted"),
    };
}
