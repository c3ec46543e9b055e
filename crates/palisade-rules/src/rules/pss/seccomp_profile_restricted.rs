use crate::fix::{self, Remedy};
use crate::meta::rule;
use crate::Check;
use palisade_model::{FieldPath, Object};

rule! {
    /// ## What it does
    /// Flags pods whose containers do not all run with a seccomp profile of type `RuntimeDefault`
    /// or `Localhost`, set on the pod or on each container (Kubernetes 1.19+; Windows pods are
    /// exempt from 1.25).
    ///
    /// ## Why is this bad?
    /// Without a seccomp profile, containers run `Unconfined` on most runtimes: the whole kernel
    /// system-call surface is reachable.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   securityContext:
    ///     runAsNonRoot: true   # fails: no seccompProfile
    /// ```
    ///
    /// ## Remediation
    /// Set `securityContext.seccompProfile.type: RuntimeDefault` on the pod.
    ///
    /// ## Fix
    /// Safe for containers that set no profile: `palisade fix` sets the pod's
    /// `securityContext.seccompProfile.type: RuntimeDefault` (the runtime's default filter allows what
    /// ordinary programs call). Unsafe where a profile is set to something else: it is replaced with
    /// `RuntimeDefault` only with `--unsafe`.
    ///
    /// ## References
    /// - Pod Security Standards, restricted level, check `seccompProfile_restricted`:
    ///   <https://kubernetes.io/docs/concepts/security/pod-security-standards/>
    pub static RULE = {
        code: "PAL-PSS-017",
        name: "pss-seccomp-restricted",
        severity: Medium,
        category: "pod-security",
        controls: ["PSS:restricted:seccompProfile_restricted", "CIS-5.7.2", "NSA:pod-security", "MITRE:T1611"],
        fix: repair,
        cel: [(
            "(has(variables.spec.os) && has(variables.spec.os.name) && variables.spec.os.name == 'windows') || ((!(has(variables.spec.securityContext) && has(variables.spec.securityContext.seccompProfile)) || (has(variables.spec.securityContext.seccompProfile.type) && variables.spec.securityContext.seccompProfile.type in ['RuntimeDefault', 'Localhost'])) && variables.containers.all(c, (has(c.securityContext) && has(c.securityContext.seccompProfile)) ? (has(c.securityContext.seccompProfile.type) && c.securityContext.seccompProfile.type in ['RuntimeDefault', 'Localhost']) : (has(variables.spec.securityContext) && has(variables.spec.securityContext.seccompProfile) && has(variables.spec.securityContext.seccompProfile.type) && variables.spec.securityContext.seccompProfile.type in ['RuntimeDefault', 'Localhost'])))",
            "pods must run with a RuntimeDefault or Localhost seccomp profile",
        )],
        check: Check::Pss("seccompProfile_restricted"),
    };
}

/// `seccompProfile.type: RuntimeDefault` on the pod, for containers that set none (safe: the
/// runtime's default filter allows what ordinary programs call); a profile set to something
/// else is replaced only with `--unsafe`.
fn repair(object: &Object, path: &FieldPath) -> Option<Remedy> {
    let pod_context = fix::pod_security_context(object, path);
    let explicit = match fix::container_at(object, path) {
        Some((_, container)) => container
            .get("securityContext")
            .and_then(|sc| sc.get("seccompProfile"))
            .is_some_and(|p| !p.is_null()),
        None => pod_context.is_some(),
    };
    if explicit {
        return fix::set(
            fix::Safety::Unsafe,
            "replace the seccomp profile with RuntimeDefault",
            path.clone(),
            "RuntimeDefault",
        );
    }
    let spec = fix::pod_spec_path(object)?;
    fix::set(
        fix::Safety::Safe,
        "set the pod's seccompProfile.type: RuntimeDefault",
        spec.keys(&["securityContext", "seccompProfile", "type"]),
        "RuntimeDefault",
    )
}
