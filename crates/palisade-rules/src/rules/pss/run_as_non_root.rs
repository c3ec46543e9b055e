use crate::meta::rule;
use crate::Check;

rule! {
    /// ## What it does
    /// Flags pods and containers that may run as root: `runAsNonRoot` false anywhere, or a
    /// container that sets nothing while the pod does not set `runAsNonRoot: true`.
    ///
    /// ## Why is this bad?
    /// Root in a container is root on the node's kernel; most container escapes need it.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   containers:
    ///   - name: app   # fails: nothing requires a non-root user
    ///     image: registry.example.com/app:1.4.2
    /// ```
    ///
    /// ## Remediation
    /// Set `securityContext.runAsNonRoot: true` on the pod and give the image a non-root user.
    ///
    /// ## References
    /// - Pod Security Standards, restricted level, check `runAsNonRoot`:
    ///   <https://kubernetes.io/docs/concepts/security/pod-security-standards/>
    pub static RULE = {
        code: "PAL-PSS-015",
        name: "pss-run-as-non-root",
        severity: Medium,
        category: "pod-security",
        controls: ["PSS:restricted:runAsNonRoot", "CIS-5.2.7", "NSA:pod-security", "MITRE:T1611"],
        check: Check::Pss("runAsNonRoot"),
    };
}
