use crate::meta::rule;
use crate::Check;

rule! {
    /// ## What it does
    /// Flags containers, init containers and ephemeral containers that run privileged
    /// (`securityContext.privileged: true`).
    ///
    /// ## Why is this bad?
    /// A privileged container has every capability, sees every device of the node and runs without
    /// the seccomp, AppArmor and SELinux confinement the runtime would apply: it is root on the
    /// node in all but name.
    ///
    /// ## Example
    /// ```yaml
    /// containers:
    /// - name: app
    ///   image: registry.example.com/app:1.4.2
    ///   securityContext:
    ///     privileged: true   # fails
    /// ```
    ///
    /// ## Remediation
    /// Remove `privileged` or set it to `false`; grant the one capability the workload needs
    /// instead.
    ///
    /// ## References
    /// - Pod Security Standards, baseline level, check `privileged`:
    ///   <https://kubernetes.io/docs/concepts/security/pod-security-standards/>
    pub static RULE = {
        code: "PAL-PSS-002",
        name: "pss-privileged",
        severity: Critical,
        category: "pod-security",
        controls: ["PSS:baseline:privileged", "CIS-5.2.2", "NSA:pod-security", "MITRE:T1611"],
        check: Check::Pss("privileged"),
    };
}
