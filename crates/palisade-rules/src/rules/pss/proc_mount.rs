use crate::meta::rule;
use crate::Check;

rule! {
    /// ## What it does
    /// Flags containers with a `procMount` other than `Default`. From Kubernetes 1.35 the baseline
    /// level allows `Unmasked` for pods in their own user namespace (`hostUsers: false`).
    ///
    /// ## Why is this bad?
    /// The default /proc mask hides kernel interfaces a container should not reach; unmasking it
    /// exposes them.
    ///
    /// ## Example
    /// ```yaml
    /// securityContext:
    ///   procMount: Unmasked   # fails
    /// ```
    ///
    /// ## Remediation
    /// Remove `procMount` or set it to `Default`.
    ///
    /// ## Fix
    /// Unsafe (`--unsafe`): sets `procMount: Default`; a nested container runtime may need
    /// /proc unmasked.
    ///
    /// ## References
    /// - Pod Security Standards, baseline level, check `procMount`:
    ///   <https://kubernetes.io/docs/concepts/security/pod-security-standards/>
    pub static RULE = {
        code: "PAL-PSS-008",
        name: "pss-proc-mount",
        severity: Medium,
        category: "pod-security",
        controls: ["PSS:baseline:procMount", "NSA:pod-security", "MITRE:T1611"],
        fix: crate::fix::default_proc_mount,
        check: Check::Pss("procMount"),
    };
}
