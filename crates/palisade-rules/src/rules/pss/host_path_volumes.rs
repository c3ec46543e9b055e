use crate::meta::rule;
use crate::Check;

rule! {
    /// ## What it does
    /// Flags pods that mount a `hostPath` volume.
    ///
    /// ## Why is this bad?
    /// A hostPath volume exposes the node's file system to the container: the container runtime
    /// socket, kubelet credentials, other pods' data. Writable, it lets the container change the
    /// node.
    ///
    /// ## Example
    /// ```yaml
    /// volumes:
    /// - name: docker
    ///   hostPath:          # fails
    ///     path: /var/run/docker.sock
    /// ```
    ///
    /// ## Remediation
    /// Use a persistentVolumeClaim, an emptyDir, a configMap, a secret or a CSI volume instead.
    ///
    /// ## References
    /// - Pod Security Standards, baseline level, check `hostPathVolumes`:
    ///   <https://kubernetes.io/docs/concepts/security/pod-security-standards/>
    pub static RULE = {
        code: "PAL-PSS-004",
        name: "pss-host-path-volumes",
        severity: High,
        category: "pod-security",
        controls: ["PSS:baseline:hostPathVolumes", "CIS-5.2.12", "NSA:pod-security", "MITRE:T1611"],
        fix: crate::fix::needs_decision,
        cel: [(
            "!has(variables.spec.volumes) || variables.spec.volumes.all(v, !has(v.hostPath))",
            "pods must not mount hostPath volumes",
        )],
        check: Check::Pss("hostPathVolumes"),
    };
}
