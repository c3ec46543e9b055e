use crate::meta::rule;
use crate::Check;

rule! {
    /// ## What it does
    /// Flags containers that do not drop `ALL` capabilities, or that add any capability other than
    /// NET_BIND_SERVICE (Kubernetes 1.22+; Windows pods are exempt from 1.25).
    ///
    /// ## Why is this bad?
    /// The runtime's default capability set still includes powerful ones (NET_RAW allows spoofing
    /// traffic on the pod network); least privilege means starting from none.
    ///
    /// ## Example
    /// ```yaml
    /// securityContext:
    ///   capabilities:
    ///     drop: ["NET_RAW"]   # fails: ALL not dropped
    /// ```
    ///
    /// ## Remediation
    /// Set `capabilities.drop: ["ALL"]` and add back only NET_BIND_SERVICE if needed.
    ///
    /// ## References
    /// - Pod Security Standards, restricted level, check `capabilities_restricted`:
    ///   <https://kubernetes.io/docs/concepts/security/pod-security-standards/>
    pub static RULE = {
        code: "PAL-PSS-018",
        name: "pss-capabilities-restricted",
        severity: Medium,
        category: "pod-security",
        controls: ["PSS:restricted:capabilities_restricted", "CIS-5.2.8", "CIS-5.2.10", "NSA:pod-security", "MITRE:T1611"],
        check: Check::Pss("capabilities_restricted"),
    };
}
