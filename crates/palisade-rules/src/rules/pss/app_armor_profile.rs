use crate::fix::{self, Remedy};
use crate::meta::rule;
use crate::Check;
use palisade_model::{FieldPath, Object};

rule! {
    /// ## What it does
    /// Flags pods and containers whose AppArmor profile is not `RuntimeDefault` or `Localhost`, in
    /// the `appArmorProfile` field or the older
    /// `container.apparmor.security.beta.kubernetes.io/<container>` annotation (`unconfined`).
    ///
    /// ## Why is this bad?
    /// An unconfined container loses the mandatory access control that the runtime's default
    /// profile applies, which blocks many container escapes (mounting file systems, writing to
    /// /proc and /sys).
    ///
    /// ## Example
    /// ```yaml
    /// securityContext:
    ///   appArmorProfile:
    ///     type: Unconfined   # fails
    /// ```
    ///
    /// ## Remediation
    /// Remove the override, or set `type: RuntimeDefault` or a `Localhost` profile.
    ///
    /// ## Fix
    /// Unsafe (`--unsafe`): the field or annotation that chose another profile gets the
    /// runtime's default (`RuntimeDefault`, or `runtime/default` in the annotation); someone chose
    /// the other one.
    ///
    /// ## References
    /// - Pod Security Standards, baseline level, check `appArmorProfile`:
    ///   <https://kubernetes.io/docs/concepts/security/pod-security-standards/>
    pub static RULE = {
        code: "PAL-PSS-006",
        name: "pss-apparmor-profile",
        severity: Medium,
        category: "pod-security",
        controls: ["PSS:baseline:appArmorProfile", "NSA:pod-security", "MITRE:T1611"],
        fix: repair,
        check: Check::Pss("appArmorProfile"),
    };
}

/// The runtime's default AppArmor profile, in the field or annotation that chose another
/// (unsafe: someone chose it).
fn repair(_: &Object, path: &FieldPath) -> Option<Remedy> {
    let value = if path.as_str().ends_with("/appArmorProfile/type") {
        "RuntimeDefault"
    } else {
        "runtime/default"
    };
    fix::set(
        fix::Safety::Unsafe,
        "use the runtime's default AppArmor profile",
        path.clone(),
        value,
    )
}
