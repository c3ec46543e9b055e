use crate::meta::rule;
use crate::Check;

rule! {
    /// ## What it does
    /// Flags volumes of types other than configMap, csi, downwardAPI, emptyDir, ephemeral,
    /// persistentVolumeClaim, projected and secret. A volume with no source is an emptyDir, as the
    /// API server defaults it.
    ///
    /// ## Why is this bad?
    /// The other volume types either reach the node (hostPath) or attach storage directly with
    /// credentials and settings the pod author controls (nfs, iscsi, rbd, ...), bypassing the
    /// cluster's storage classes.
    ///
    /// ## Example
    /// ```yaml
    /// volumes:
    /// - name: data
    ///   nfs:              # fails
    ///     server: 10.0.0.5
    ///     path: /exports
    /// ```
    ///
    /// ## Remediation
    /// Use a persistentVolumeClaim backed by a StorageClass.
    ///
    /// ## References
    /// - Pod Security Standards, restricted level, check `restrictedVolumes`:
    ///   <https://kubernetes.io/docs/concepts/security/pod-security-standards/>
    pub static RULE = {
        code: "PAL-PSS-013",
        name: "pss-restricted-volumes",
        severity: Medium,
        category: "pod-security",
        controls: ["PSS:restricted:restrictedVolumes", "NSA:pod-security"],
        fix: crate::fix::needs_decision,
        check: Check::Pss("restrictedVolumes"),
    };
}
