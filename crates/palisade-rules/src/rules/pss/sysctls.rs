use crate::meta::rule;
use crate::Check;

rule! {
    /// ## What it does
    /// Flags pods that set a sysctl outside the safe set of the Kubernetes version
    /// (kernel.shm_rmid_forced, net.ipv4.ip_local_port_range, net.ipv4.tcp_syncookies,
    /// net.ipv4.ping_group_range, net.ipv4.ip_unprivileged_port_start; later versions add
    /// ip_local_reserved_ports (1.27), the tcp_keepalive and tcp_fin_timeout settings (1.29),
    /// tcp_rmem and tcp_wmem (1.32), tcp_slow_start_after_idle and tcp_notsent_lowat (1.37)).
    ///
    /// ## Why is this bad?
    /// Sysctls outside the namespaced safe set change kernel behaviour for the whole node and every
    /// other pod on it.
    ///
    /// ## Example
    /// ```yaml
    /// securityContext:
    ///   sysctls:
    ///   - name: kernel.msgmax   # fails
    ///     value: "65536"
    /// ```
    ///
    /// ## Remediation
    /// Remove the sysctl, or tune the node itself.
    ///
    /// ## References
    /// - Pod Security Standards, baseline level, check `sysctls`:
    ///   <https://kubernetes.io/docs/concepts/security/pod-security-standards/>
    pub static RULE = {
        code: "PAL-PSS-010",
        name: "pss-sysctls",
        severity: Medium,
        category: "pod-security",
        controls: ["PSS:baseline:sysctls", "NSA:pod-security"],
        fix: crate::fix::needs_decision,
        check: Check::Pss("sysctls"),
    };
}
