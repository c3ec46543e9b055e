use crate::meta::rule;
use crate::Check;

rule! {
    /// ## What it does
    /// Flags containers that bind a port on the node (`ports[].hostPort` other than 0).
    ///
    /// ## Why is this bad?
    /// A host port exposes the container on every address of the node, outside the Service and
    /// NetworkPolicy model, and ties the pod to nodes where the port is free.
    ///
    /// ## Example
    /// ```yaml
    /// ports:
    /// - containerPort: 8080
    ///   hostPort: 8080   # fails
    /// ```
    ///
    /// ## Remediation
    /// Remove `hostPort` and expose the pod through a Service.
    ///
    /// ## References
    /// - Pod Security Standards, baseline level, check `hostPorts`:
    ///   <https://kubernetes.io/docs/concepts/security/pod-security-standards/>
    pub static RULE = {
        code: "PAL-PSS-005",
        name: "pss-host-ports",
        severity: Medium,
        category: "pod-security",
        controls: ["PSS:baseline:hostPorts", "CIS-5.2.13", "NSA:network-separation"],
        fix: crate::fix::needs_decision,
        cel: [(
            "variables.containers.all(c, !has(c.ports) || c.ports.all(p, !has(p.hostPort) || p.hostPort == 0))",
            "containers must not use host ports",
        )],
        check: Check::Pss("hostPorts"),
    };
}
