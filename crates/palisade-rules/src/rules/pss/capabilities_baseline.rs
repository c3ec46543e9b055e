use crate::meta::rule;
use crate::Check;

rule! {
    /// ## What it does
    /// Flags containers that add a Linux capability outside the baseline set (AUDIT_WRITE, CHOWN,
    /// DAC_OVERRIDE, FOWNER, FSETID, KILL, MKNOD, NET_BIND_SERVICE, SETFCAP, SETGID, SETPCAP,
    /// SETUID, SYS_CHROOT).
    ///
    /// ## Why is this bad?
    /// Capabilities such as SYS_ADMIN, NET_ADMIN, SYS_PTRACE or SYS_MODULE each give a container a
    /// piece of root's power over the node's kernel; several are enough on their own to escape the
    /// container.
    ///
    /// ## Example
    /// ```yaml
    /// securityContext:
    ///   capabilities:
    ///     add: ["SYS_ADMIN"]   # fails
    /// ```
    ///
    /// ## Remediation
    /// Drop the capability. If the workload needs it, run it in a namespace at the `privileged`
    /// level and document why.
    ///
    /// ## References
    /// - Pod Security Standards, baseline level, check `capabilities_baseline`:
    ///   <https://kubernetes.io/docs/concepts/security/pod-security-standards/>
    pub static RULE = {
        code: "PAL-PSS-003",
        name: "pss-capabilities-baseline",
        severity: High,
        category: "pod-security",
        controls: ["PSS:baseline:capabilities_baseline", "CIS-5.2.9", "NSA:pod-security", "MITRE:T1611"],
        fix: crate::fix::needs_decision,
        cel: [(
            "variables.containers.all(c, !has(c.securityContext) || !has(c.securityContext.capabilities) || !has(c.securityContext.capabilities.add) || c.securityContext.capabilities.add.all(cap, cap in ['AUDIT_WRITE', 'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'MKNOD', 'NET_BIND_SERVICE', 'SETFCAP', 'SETGID', 'SETPCAP', 'SETUID', 'SYS_CHROOT']))",
            "containers may add only the capabilities of the baseline set",
        )],
        check: Check::Pss("capabilities_baseline"),
    };
}
