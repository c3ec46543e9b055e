use palisade_analysis::pss::Violation;
use palisade_model::{FieldPath, Node, Object};

use crate::meta::rule;
use crate::rules::exposure::service_type;
use crate::{Check, OptionValues};

/// Annotations with which cloud providers create an internal (VPC-only) load balancer.
const INTERNAL: &[(&str, &str)] = &[
    (
        "service.beta.kubernetes.io/aws-load-balancer-internal",
        "true",
    ),
    (
        "service.beta.kubernetes.io/aws-load-balancer-scheme",
        "internal",
    ),
    ("networking.gke.io/load-balancer-type", "Internal"),
    ("cloud.google.com/load-balancer-type", "Internal"),
    (
        "service.beta.kubernetes.io/azure-load-balancer-internal",
        "true",
    ),
    (
        "service.beta.kubernetes.io/oci-load-balancer-internal",
        "true",
    ),
    (
        "service.kubernetes.io/ibm-load-balancer-cloud-provider-ip-type",
        "private",
    ),
];

rule! {
    /// ## What it does
    /// Flags Services of type `LoadBalancer` that are reachable from anywhere: no
    /// `loadBalancerSourceRanges` and none of the cloud providers' internal load balancer
    /// annotations (AWS, GKE, Azure, OCI, IBM).
    ///
    /// ## Why is this bad?
    /// A public load balancer puts the workload on the internet, usually with all its node
    /// ports reachable too. Exposure should be a decision written down (a source range, an
    /// internal load balancer, an Ingress with TLS and authentication), not a default.
    ///
    /// ## Example
    /// ```yaml
    /// kind: Service
    /// spec:
    ///   type: LoadBalancer   # fails: no source ranges, not internal
    /// ```
    ///
    /// ## Remediation
    /// Restrict `loadBalancerSourceRanges`, make the load balancer internal, or expose the
    /// service through an Ingress or Gateway that terminates TLS.
    ///
    /// ## References
    /// - Kubernetes docs, Service type LoadBalancer:
    ///   <https://kubernetes.io/docs/concepts/services-networking/service/#loadbalancer>
    /// - MITRE ATT&CK T1190 Exploit Public-Facing Application
    pub static RULE = {
        code: "PAL-EXP-001",
        name: "service-load-balancer-public",
        severity: Medium,
        category: "exposure",
        controls: ["NSA:network-separation", "MITRE:T1190"],
        kinds: ["Service"],
        check: Check::Object(check),
    };
}

fn check(object: &Object, _: &OptionValues) -> Vec<Violation> {
    if service_type(object) != Some("LoadBalancer") {
        return Vec::new();
    }
    let restricted = object
        .root
        .at(&["spec", "loadBalancerSourceRanges"])
        .is_some_and(|r| !r.as_seq().is_empty());
    let internal = INTERNAL.iter().any(|(key, value)| {
        object
            .annotation(key)
            .is_some_and(|v| v.eq_ignore_ascii_case(value))
    });
    if restricted || internal {
        return Vec::new();
    }
    let ports: Vec<String> = object
        .root
        .at(&["spec", "ports"])
        .map(Node::as_seq)
        .unwrap_or_default()
        .iter()
        .filter_map(|p| p.get("port").and_then(Node::as_i64))
        .map(|p| p.to_string())
        .collect();
    vec![Violation {
        severity: None,
        path: FieldPath::root().keys(&["spec", "type"]),
        message: format!(
            "Service is a public load balancer (port {}) with no loadBalancerSourceRanges",
            if ports.is_empty() {
                "?".to_string()
            } else {
                ports.join(", ")
            }
        ),
    }]
}
