use crate::fix::{self, Remedy};
use crate::meta::rule;
use crate::Check;
use palisade_model::{FieldPath, Object};

rule! {
    /// ## What it does
    /// Flags containers that do not drop `ALL` capabilities, or that add any capability other than
    /// NET_BIND_SERVICE (Kubernetes 1.22+; Windows pods are exempt from 1.25).
    ///
    /// ## Why is this bad?
    /// The runtime's default capability set still includes powerful ones (NET_RAW allows spoofing
    /// traffic on the pod network); least privilege means starting from none.
    ///
    /// ## Example
    /// ```yaml
    /// securityContext:
    ///   capabilities:
    ///     drop: ["NET_RAW"]   # fails: ALL not dropped
    /// ```
    ///
    /// ## Remediation
    /// Set `capabilities.drop: ["ALL"]` and add back only NET_BIND_SERVICE if needed.
    ///
    /// ## Fix
    /// Safe when the container adds no capability: `palisade fix` adds `ALL` to
    /// `capabilities.drop` (creating it as `drop: [ALL]`) and writes a miscased `all` as `ALL`.
    /// Unsafe when it adds some (the default capabilities it may rely on go too). An added
    /// capability other than `NET_BIND_SERVICE` is left for a decision.
    ///
    /// ## References
    /// - Pod Security Standards, restricted level, check `capabilities_restricted`:
    ///   <https://kubernetes.io/docs/concepts/security/pod-security-standards/>
    pub static RULE = {
        code: "PAL-PSS-018",
        name: "pss-capabilities-restricted",
        severity: Medium,
        category: "pod-security",
        controls: ["PSS:restricted:capabilities_restricted", "CIS-5.2.8", "CIS-5.2.10", "NSA:pod-security", "MITRE:T1611"],
        fix: repair,
        cel: [(
            "(has(variables.spec.os) && has(variables.spec.os.name) && variables.spec.os.name == 'windows') || variables.containers.all(c, has(c.securityContext) && has(c.securityContext.capabilities) && has(c.securityContext.capabilities.drop) && 'ALL' in c.securityContext.capabilities.drop && (!has(c.securityContext.capabilities.add) || c.securityContext.capabilities.add.all(cap, cap == 'NET_BIND_SERVICE')))",
            "containers must drop ALL capabilities and add none but NET_BIND_SERVICE",
        )],
        check: Check::Pss("capabilities_restricted"),
    };
}

/// `drop: [ALL]` (safe when the container adds none; unsafe when it adds some, since the
/// defaults it may rely on go too); a miscased `all` becomes `ALL`; an added capability is a
/// decision.
fn repair(object: &Object, path: &FieldPath) -> Option<Remedy> {
    let (_, container) = fix::container_at(object, path)?;
    let capabilities = container
        .get("securityContext")
        .and_then(|sc| sc.get("capabilities"));
    let adds = capabilities
        .and_then(|c| c.get("add"))
        .is_some_and(|a| !a.as_seq().is_empty());
    let text = path.as_str();
    if text.ends_with("/capabilities/drop") {
        let safety = if adds {
            fix::Safety::Unsafe
        } else {
            fix::Safety::Safe
        };
        return Some(Remedy::Fix(fix::Fix {
            safety,
            title: "drop ALL capabilities".into(),
            edits: vec![fix::Edit::Append {
                path: path.clone(),
                value: "ALL".into(),
            }],
        }));
    }
    if text.contains("/capabilities/drop/") {
        return fix::set(
            fix::Safety::Safe,
            "write ALL in capitals",
            path.clone(),
            "ALL",
        );
    }
    fix::decision("the container adds a capability: remove it, or keep it and record why")
}
