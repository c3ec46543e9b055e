use crate::fix::{self, Remedy};
use crate::meta::rule;
use crate::Check;
use palisade_model::{FieldPath, Object};

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
    /// ## Fix
    /// Unsafe (`palisade fix --unsafe`): sets `privileged: false`; the process may need the
    /// host's devices. A privileged DaemonSet (a node daemon) is left for a decision.
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
        subsumes: ["PAL-PSS-014", "PAL-PSS-003", "PAL-PSS-018", "PAL-WL-002"],
        about: super::privileged_context,
        fix: repair,
        cel: [(
            "variables.containers.all(c, !(has(c.securityContext) && has(c.securityContext.privileged) && c.securityContext.privileged == true))",
            "containers must not run privileged",
        )],
        check: Check::Pss("privileged"),
    };
}

/// `privileged: false` (unsafe: the process may need the host's devices); a privileged node
/// daemon (a DaemonSet) is a decision: it usually is privileged for a reason.
fn repair(object: &Object, path: &FieldPath) -> Option<Remedy> {
    if object.kind() == "DaemonSet" {
        return fix::decision("a privileged node daemon: grant the capabilities it needs instead, or keep it and record why");
    }
    fix::set(
        fix::Safety::Unsafe,
        "set privileged: false",
        path.clone(),
        "false",
    )
}
