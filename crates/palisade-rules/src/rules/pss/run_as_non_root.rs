use crate::fix::{self, Remedy};
use crate::meta::rule;
use crate::Check;
use palisade_model::{FieldPath, Object};

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
    /// ## Fix
    /// Unsafe (`--unsafe`): sets `runAsNonRoot: true`, on the pod for containers that set
    /// nothing, else where it is false; an image whose user is root then fails to start. A pod or
    /// container that asks for user 0 is left for a decision.
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
        about: super::run_as_identity,
        fix: repair,
        cel: [(
            "!(has(variables.spec.securityContext) && has(variables.spec.securityContext.runAsNonRoot) && variables.spec.securityContext.runAsNonRoot == false) && variables.containers.all(c, (has(c.securityContext) && has(c.securityContext.runAsNonRoot)) ? c.securityContext.runAsNonRoot == true : (has(variables.spec.securityContext) && has(variables.spec.securityContext.runAsNonRoot) && variables.spec.securityContext.runAsNonRoot == true))",
            "containers must run as non-root: runAsNonRoot true on the pod or on each container, never false",
        )],
        check: Check::Pss("runAsNonRoot"),
    };
}

/// `runAsNonRoot: true`, on the pod for containers that set nothing, else where it is false
/// (unsafe: an image whose user is root then fails to start). A container or pod that asks for
/// user 0 is a decision.
fn repair(object: &Object, path: &FieldPath) -> Option<Remedy> {
    let root_user = |context: Option<&palisade_model::Node>| {
        context
            .and_then(|c| c.get("runAsUser"))
            .and_then(|u| u.as_i64())
            == Some(0)
    };
    let spec_path = fix::pod_spec_path(object)?;
    let pod = palisade_model::PodView::of(object)?;
    if root_user(pod.spec.get("securityContext")) {
        return fix::decision("the pod asks for user 0: choose a non-root user for the image");
    }
    if let Some((_, container)) = fix::container_at(object, path) {
        let context = container.get("securityContext");
        if root_user(context) {
            return fix::decision(
                "the container asks for user 0: choose a non-root user for the image",
            );
        }
        let explicit = context
            .and_then(|c| c.get("runAsNonRoot"))
            .is_some_and(|v| !v.is_null());
        if !explicit {
            return fix::set(
                fix::Safety::Unsafe,
                "set the pod's runAsNonRoot: true",
                spec_path.keys(&["securityContext", "runAsNonRoot"]),
                "true",
            );
        }
    }
    fix::set(
        fix::Safety::Unsafe,
        "set runAsNonRoot: true",
        path.clone(),
        "true",
    )
}
