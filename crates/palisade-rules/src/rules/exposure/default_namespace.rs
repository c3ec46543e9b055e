use palisade_analysis::pss::Violation;
use palisade_model::{FieldPath, Object};

use crate::meta::rule;
use crate::{Check, OptionValues};

/// Objects Kubernetes itself keeps in `default`.
const SYSTEM_OBJECTS: &[(&str, &str)] = &[
    ("Service", "kubernetes"),
    ("Endpoints", "kubernetes"),
    ("EndpointSlice", "kubernetes"),
    ("ServiceAccount", "default"),
    ("ConfigMap", "kube-root-ca.crt"),
];

/// Records, not things someone deploys.
const RECORD_KINDS: &[&str] = &["Event", "Lease", "EndpointSlice", "Endpoints"];

rule! {
    /// ## What it does
    /// Flags objects placed in the `default` namespace (`metadata.namespace: default`). The
    /// objects Kubernetes keeps there itself (the `kubernetes` Service and endpoints, the
    /// `default` ServiceAccount, `kube-root-ca.crt`) and records such as Events and Leases
    /// pass. Manifests without a namespace are not flagged: they go wherever they are applied.
    ///
    /// ## Why is this bad?
    /// `default` is where everything lands by accident: it usually has no Pod Security
    /// level, no NetworkPolicies, no quotas, and RBAC grants there reach unrelated
    /// workloads. Namespaces are the unit of isolation, so each workload needs its own.
    ///
    /// ## Example
    /// ```yaml
    /// metadata:
    ///   name: web
    ///   namespace: default   # fails
    /// ```
    ///
    /// ## Remediation
    /// Create a namespace per application or team, with Pod Security labels, a default-deny
    /// NetworkPolicy and quotas, and move the workload there.
    ///
    /// ## References
    /// - CIS Kubernetes Benchmark 5.7.4: the default namespace should not be used
    pub static RULE = {
        code: "PAL-EXP-006",
        name: "default-namespace",
        severity: Low,
        category: "exposure",
        controls: ["CIS-5.7.4", "NSA:network-separation"],
        kinds: ["*"],
        check: Check::Object(check),
    };
}

fn check(object: &Object, _: &OptionValues) -> Vec<Violation> {
    if object.reference.namespace.as_deref() != Some("default") {
        return Vec::new();
    }
    let kind = object.kind();
    let name = object.reference.name.as_str();
    if RECORD_KINDS.contains(&kind) || SYSTEM_OBJECTS.contains(&(kind, name)) {
        return Vec::new();
    }
    // A namespace set explicitly; the loader may fill it from elsewhere (a List, a dump).
    if object.root.at(&["metadata", "namespace"]).is_none() {
        return Vec::new();
    }
    vec![Violation {
        severity: None,
        path: FieldPath::root().keys(&["metadata", "namespace"]),
        message: format!("{kind} {name} lives in the default namespace"),
    }]
}
