use crate::meta::rule;
use crate::Check;

rule! {
    /// ## What it does
    /// Flags containers with a `procMount` other than `Default`, even in pods with their own user
    /// namespace (restricted level, Kubernetes 1.35+).
    ///
    /// ## Why is this bad?
    /// The restricted level keeps /proc masked everywhere; the user-namespace relaxation applies
    /// only at baseline.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   hostUsers: false
    ///   containers:
    ///   - name: app
    ///     securityContext:
    ///       procMount: Unmasked   # fails
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
    /// - Pod Security Standards, restricted level, check `procMount_restricted`:
    ///   <https://kubernetes.io/docs/concepts/security/pod-security-standards/>
    pub static RULE = {
        code: "PAL-PSS-019",
        name: "pss-proc-mount-restricted",
        severity: Medium,
        category: "pod-security",
        controls: ["PSS:restricted:procMount_restricted", "NSA:pod-security", "MITRE:T1611"],
        fix: crate::fix::default_proc_mount,
        check: Check::Pss("procMount_restricted"),
    };
}
