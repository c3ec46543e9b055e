use crate::meta::rule;
use crate::Check;

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
    /// ## References
    /// - Pod Security Standards, baseline level, check `appArmorProfile`:
    ///   <https://kubernetes.io/docs/concepts/security/pod-security-standards/>
    pub static RULE = {
        code: "PAL-PSS-006",
        name: "pss-apparmor-profile",
        severity: Medium,
        category: "pod-security",
        controls: ["PSS:baseline:appArmorProfile", "NSA:pod-security", "MITRE:T1611"],
        fix: crate::fix::needs_decision,
        check: Check::Pss("appArmorProfile"),
    };
}
