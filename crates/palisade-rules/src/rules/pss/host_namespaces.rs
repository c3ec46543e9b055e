use crate::meta::rule;
use crate::Check;

rule! {
    /// ## What it does
    /// Flags pods that share the node's network, process or IPC namespace (`hostNetwork`, `hostPID`
    /// or `hostIPC` set to `true`).
    ///
    /// ## Why is this bad?
    /// A pod in the host's namespaces sees and reaches what the node does: every process on the
    /// node (`hostPID`, enough to read other containers' environment and to `nsenter` into them),
    /// the node's loopback services and interfaces (`hostNetwork`, which bypasses NetworkPolicy),
    /// or the node's shared memory (`hostIPC`). It is one of the shortest paths from a container to
    /// the node.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   hostPID: true   # fails
    ///   containers:
    ///   - name: app
    ///     image: registry.example.com/app:1.4.2
    /// ```
    ///
    /// ## Remediation
    /// Remove the fields or set them to `false`. Node agents that truly need them (CNI, node
    /// exporters) belong in a namespace whose Pod Security level is `privileged`, with the
    /// exception documented.
    ///
    /// ## References
    /// - Pod Security Standards, baseline level, check `hostNamespaces`:
    ///   <https://kubernetes.io/docs/concepts/security/pod-security-standards/>
    pub static RULE = {
        code: "PAL-PSS-001",
        name: "pss-host-namespaces",
        severity: High,
        category: "pod-security",
        controls: ["PSS:baseline:hostNamespaces", "CIS-5.2.3", "CIS-5.2.4", "CIS-5.2.5", "NSA:pod-security", "MITRE:T1611"],
        subsumes: ["PAL-NET-008"],
        fix: crate::fix::needs_decision,
        cel: [(
            "!(has(variables.spec.hostNetwork) && variables.spec.hostNetwork == true) && !(has(variables.spec.hostPID) && variables.spec.hostPID == true) && !(has(variables.spec.hostIPC) && variables.spec.hostIPC == true)",
            "pods must not share the node's network, PID or IPC namespace (hostNetwork, hostPID, hostIPC)",
        )],
        check: Check::Pss("hostNamespaces"),
    };
}
