use crate::meta::rule;
use crate::Check;

rule! {
    /// ## What it does
    /// Flags pods and containers that set `runAsUser: 0` (Kubernetes 1.23+).
    ///
    /// ## Why is this bad?
    /// UID 0 is root; setting it explicitly defeats `runAsNonRoot`.
    ///
    /// ## Example
    /// ```yaml
    /// securityContext:
    ///   runAsUser: 0   # fails
    /// ```
    ///
    /// ## Remediation
    /// Use a non-zero UID.
    ///
    /// ## References
    /// - Pod Security Standards, restricted level, check `runAsUser`:
    ///   <https://kubernetes.io/docs/concepts/security/pod-security-standards/>
    pub static RULE = {
        code: "PAL-PSS-016",
        name: "pss-run-as-user",
        severity: Medium,
        category: "pod-security",
        controls: ["PSS:restricted:runAsUser", "CIS-5.2.7", "NSA:pod-security"],
        subsumes: ["PAL-PSS-015", "PAL-WL-006"],
        about: super::run_as_identity,
        fix: crate::fix::needs_decision,
        cel: [(
            "!(has(variables.spec.securityContext) && has(variables.spec.securityContext.runAsUser) && variables.spec.securityContext.runAsUser == 0) && variables.containers.all(c, !(has(c.securityContext) && has(c.securityContext.runAsUser) && c.securityContext.runAsUser == 0))",
            "pods and containers must not set runAsUser: 0",
        )],
        check: Check::Pss("runAsUser"),
    };
}
