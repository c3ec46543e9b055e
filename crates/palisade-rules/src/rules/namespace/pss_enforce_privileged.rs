use palisade_analysis::pss::Violation;
use palisade_model::{FieldPath, Object};

use crate::meta::rule;
use crate::rules::namespace::{is_namespace, LABEL_PREFIX};
use crate::{Check, OptionValues};

rule! {
    /// ## What it does
    /// Flags Namespaces whose `pod-security.kubernetes.io/enforce` label is `privileged`.
    ///
    /// ## Why is this bad?
    /// The `privileged` level allows everything, including pods that take over the node.
    /// Setting it says so explicitly, which is right only for a few system namespaces whose
    /// agents need the node (CNI, CSI, monitoring); those deserve a suppression with the
    /// reason written down.
    ///
    /// ## Example
    /// ```yaml
    /// kind: Namespace
    /// metadata:
    ///   labels:
    ///     pod-security.kubernetes.io/enforce: privileged   # fails
    /// ```
    ///
    /// ## Remediation
    /// Enforce `baseline` or `restricted`; move node agents into their own namespace.
    ///
    /// ## References
    /// - Kubernetes docs, Pod Security Standards:
    ///   <https://kubernetes.io/docs/concepts/security/pod-security-standards/>
    /// - CIS Kubernetes Benchmark 5.2.1
    pub static RULE = {
        code: "PAL-NS-002",
        name: "namespace-pss-enforce-privileged",
        severity: High,
        category: "namespaces",
        controls: ["CIS-5.2.1", "NSA:pod-security", "MITRE:T1611"],
        kinds: ["Namespace"],
        check: Check::Object(check),
    };
}

fn check(object: &Object, _: &OptionValues) -> Vec<Violation> {
    let key = format!("{LABEL_PREFIX}enforce");
    if !is_namespace(object) || object.label(&key) != Some("privileged") {
        return Vec::new();
    }
    vec![Violation {
        severity: None,
        path: FieldPath::root().keys(&["metadata", "labels", &key]),
        message: format!(
            "Namespace {} enforces the privileged level: pods that take over the node are admitted",
            object.reference.name
        ),
    }]
}
