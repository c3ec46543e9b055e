use palisade_analysis::pss::Violation;
use palisade_model::{FieldPath, Object};

use crate::meta::rule;
use crate::rules::namespace::{is_namespace, LABEL_PREFIX};
use crate::{Check, OptionValues};

rule! {
    /// ## What it does
    /// Flags Namespaces without a `pod-security.kubernetes.io/enforce` label.
    ///
    /// Pod Security Admission may also have cluster-wide defaults in the API server's
    /// admission configuration, which manifests cannot show; if yours sets an enforce level,
    /// ignore this rule.
    ///
    /// The namespaces the API server makes for itself are not judged: `kube-system`, whose
    /// control plane and node agents need privileges (Pod Security's own guidance exempts
    /// it), and `kube-public` and `kube-node-lease`, which hold no pods. Their pods are still
    /// judged one by one, so a fresh cluster is not a list of findings.
    ///
    /// ## Why is this bad?
    /// Without an enforce level, the built-in Pod Security admission lets any pod in: a
    /// privileged pod with host namespaces and the node's file system is accepted as readily
    /// as a hardened one.
    ///
    /// ## Example
    /// ```yaml
    /// kind: Namespace
    /// metadata:
    ///   name: shop   # fails: no pod-security.kubernetes.io/enforce label
    /// ```
    ///
    /// ## Remediation
    /// Label the namespace `pod-security.kubernetes.io/enforce: restricted` (or `baseline`
    /// while workloads are being hardened), with `warn` and `audit` at `restricted` to see
    /// what would break.
    ///
    /// ## References
    /// - Kubernetes docs, Pod Security Admission:
    ///   <https://kubernetes.io/docs/concepts/security/pod-security-admission/>
    /// - CIS Kubernetes Benchmark 5.2.1: ensure that the cluster has at least one active
    ///   policy control mechanism in place
    pub static RULE = {
        code: "PAL-NS-001",
        name: "namespace-pss-enforce-missing",
        severity: Medium,
        category: "namespaces",
        controls: ["CIS-5.2.1", "NSA:pod-security"],
        kinds: ["Namespace"],
        check: Check::Object(check),
    };
}

/// The namespaces the API server creates for itself.
const SYSTEM_NAMESPACES: &[&str] = &["kube-system", "kube-public", "kube-node-lease"];

fn check(object: &Object, _: &OptionValues) -> Vec<Violation> {
    if !is_namespace(object)
        || SYSTEM_NAMESPACES.contains(&object.reference.name.as_str())
        || object.label(&format!("{LABEL_PREFIX}enforce")).is_some()
    {
        return Vec::new();
    }
    let path = if object.root.at(&["metadata", "labels"]).is_some() {
        FieldPath::root().keys(&["metadata", "labels"])
    } else {
        FieldPath::root().key("metadata")
    };
    vec![Violation {
        severity: None,
        path,
        message: format!(
            "Namespace {} has no Pod Security enforce label: any pod is admitted",
            object.reference.name
        ),
    }]
}
