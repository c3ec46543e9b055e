use crate::fix::{self, Remedy};
use crate::meta::rule;
use crate::Check;
use palisade_model::{FieldPath, Object};

rule! {
    /// ## What it does
    /// Flags pods and containers that explicitly disable seccomp: `seccompProfile.type: Unconfined`
    /// (Kubernetes 1.19+), or before 1.19 the `unconfined` value of the seccomp annotations.
    ///
    /// ## Why is this bad?
    /// Without a seccomp filter every system call of the kernel is reachable from the container,
    /// including the rarely used ones where kernel exploits live.
    ///
    /// ## Example
    /// ```yaml
    /// securityContext:
    ///   seccompProfile:
    ///     type: Unconfined   # fails
    /// ```
    ///
    /// ## Remediation
    /// Set `seccompProfile.type: RuntimeDefault` on the pod.
    ///
    /// ## Fix
    /// Unsafe (`--unsafe`): an `Unconfined` profile is replaced with `RuntimeDefault`;
    /// someone chose Unconfined.
    ///
    /// ## References
    /// - Pod Security Standards, baseline level, check `seccompProfile_baseline`:
    ///   <https://kubernetes.io/docs/concepts/security/pod-security-standards/>
    pub static RULE = {
        code: "PAL-PSS-009",
        name: "pss-seccomp-baseline",
        severity: Medium,
        category: "pod-security",
        controls: ["PSS:baseline:seccompProfile_baseline", "CIS-5.7.2", "NSA:pod-security", "MITRE:T1611"],
        fix: repair,
        check: Check::Pss("seccompProfile_baseline"),
    };
}

/// An `Unconfined` profile becomes `RuntimeDefault` (unsafe: someone chose Unconfined).
fn repair(_: &Object, path: &FieldPath) -> Option<Remedy> {
    if path.as_str().contains("/annotations/") {
        return fix::set(
            fix::Safety::Unsafe,
            "replace the seccomp annotation with runtime/default",
            path.clone(),
            "runtime/default",
        );
    }
    if !path.as_str().ends_with("/type") {
        return fix::decision("set seccompProfile.type to RuntimeDefault or Localhost");
    }
    fix::set(
        fix::Safety::Unsafe,
        "replace the seccomp profile with RuntimeDefault",
        path.clone(),
        "RuntimeDefault",
    )
}
