use crate::fix::{self, Remedy};
use crate::meta::rule;
use crate::Check;
use palisade_model::{FieldPath, Object};

rule! {
    /// ## What it does
    /// Flags containers that do not set `securityContext.allowPrivilegeEscalation: false`. From
    /// Kubernetes 1.25, Windows pods (`spec.os.name: windows`) are exempt.
    ///
    /// ## Why is this bad?
    /// Unless it is false, a process can gain more privileges than its parent (setuid binaries,
    /// file capabilities), which turns a foothold into root inside the container.
    ///
    /// ## Example
    /// ```yaml
    /// securityContext:
    ///   runAsNonRoot: true   # fails: allowPrivilegeEscalation not set
    /// ```
    ///
    /// ## Remediation
    /// Set `allowPrivilegeEscalation: false` on every container.
    ///
    /// ## Fix
    /// Safe: `palisade fix` sets `allowPrivilegeEscalation: false` on the container; a
    /// well-behaved process does not gain privileges through setuid binaries. A privileged container
    /// is left for a decision on `privileged` first.
    ///
    /// ## References
    /// - Pod Security Standards, restricted level, check `allowPrivilegeEscalation`:
    ///   <https://kubernetes.io/docs/concepts/security/pod-security-standards/>
    pub static RULE = {
        code: "PAL-PSS-014",
        name: "pss-allow-privilege-escalation",
        severity: Medium,
        category: "pod-security",
        controls: ["PSS:restricted:allowPrivilegeEscalation", "CIS-5.2.6", "NSA:pod-security", "MITRE:T1068"],
        fix: repair,
        cel: [(
            "(has(variables.spec.os) && has(variables.spec.os.name) && variables.spec.os.name == 'windows') || variables.containers.all(c, has(c.securityContext) && has(c.securityContext.allowPrivilegeEscalation) && c.securityContext.allowPrivilegeEscalation == false)",
            "containers must set securityContext.allowPrivilegeEscalation: false",
        )],
        check: Check::Pss("allowPrivilegeEscalation"),
    };
}

/// `allowPrivilegeEscalation: false` on the container (safe: a well-behaved process does not
/// gain privileges through setuid binaries); a privileged container decides first.
fn repair(object: &Object, path: &FieldPath) -> Option<Remedy> {
    let (_, container) = fix::container_at(object, path)?;
    let privileged = container
        .get("securityContext")
        .and_then(|sc| sc.get("privileged"))
        .and_then(|p| p.as_bool())
        == Some(true);
    if privileged {
        return fix::decision("the container runs privileged, which always allows escalation: decide on privileged first (pss-privileged)");
    }
    fix::set(
        fix::Safety::Safe,
        "set allowPrivilegeEscalation: false",
        path.clone(),
        "false",
    )
}
