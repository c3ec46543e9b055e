use crate::meta::rule;
use crate::Check;

rule! {
    /// ## What it does
    /// Flags SELinux options that set a custom `user` or `role`, or a `type` other than
    /// container_t, container_init_t, container_kvm_t (and container_engine_t from Kubernetes
    /// 1.31).
    ///
    /// ## Why is this bad?
    /// Custom SELinux users, roles and types can lift the confinement that separates containers
    /// from the node and from one another (`spc_t` is unconfined).
    ///
    /// ## Example
    /// ```yaml
    /// securityContext:
    ///   seLinuxOptions:
    ///     type: spc_t   # fails
    /// ```
    ///
    /// ## Remediation
    /// Leave `type`, `user` and `role` unset, or use one of the allowed container types.
    ///
    /// ## References
    /// - Pod Security Standards, baseline level, check `seLinuxOptions`:
    ///   <https://kubernetes.io/docs/concepts/security/pod-security-standards/>
    pub static RULE = {
        code: "PAL-PSS-007",
        name: "pss-selinux-options",
        severity: Medium,
        category: "pod-security",
        controls: ["PSS:baseline:seLinuxOptions", "NSA:pod-security", "MITRE:T1611"],
        fix: crate::fix::needs_decision,
        check: Check::Pss("seLinuxOptions"),
    };
}
