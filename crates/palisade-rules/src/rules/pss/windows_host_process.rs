use crate::meta::rule;
use crate::Check;

rule! {
    /// ## What it does
    /// Flags Windows pods and containers that run as HostProcess containers
    /// (`windowsOptions.hostProcess: true`).
    ///
    /// ## Why is this bad?
    /// A HostProcess container runs directly on the Windows node with the node's privileges; it is
    /// the Windows equivalent of a privileged container.
    ///
    /// ## Example
    /// ```yaml
    /// securityContext:
    ///   windowsOptions:
    ///     hostProcess: true   # fails
    /// ```
    ///
    /// ## Remediation
    /// Remove `hostProcess`.
    ///
    /// ## References
    /// - Pod Security Standards, baseline level, check `windowsHostProcess`:
    ///   <https://kubernetes.io/docs/concepts/security/pod-security-standards/>
    pub static RULE = {
        code: "PAL-PSS-011",
        name: "pss-windows-host-process",
        severity: Critical,
        category: "pod-security",
        controls: ["PSS:baseline:windowsHostProcess", "CIS-5.2.11", "NSA:pod-security", "MITRE:T1611"],
        fix: crate::fix::needs_decision,
        check: Check::Pss("windowsHostProcess"),
    };
}
