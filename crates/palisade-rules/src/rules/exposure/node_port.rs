use palisade_analysis::pss::Violation;
use palisade_model::{FieldPath, Object};

use crate::meta::rule;
use crate::rules::exposure::service_type;
use crate::{Check, OptionValues};

rule! {
    /// ## What it does
    /// Flags Services of type `NodePort`.
    ///
    /// ## Why is this bad?
    /// A node port opens the service on every node's addresses, bypassing Ingress, load
    /// balancer policies and, with most CNI plugins, NetworkPolicies on the nodes' side. It is
    /// easy to forget and hard to audit.
    ///
    /// ## Example
    /// ```yaml
    /// kind: Service
    /// spec:
    ///   type: NodePort   # fails
    /// ```
    ///
    /// ## Remediation
    /// Use `ClusterIP` behind an Ingress or Gateway, or an internal load balancer.
    ///
    /// ## References
    /// - Kubernetes docs, Service type NodePort:
    ///   <https://kubernetes.io/docs/concepts/services-networking/service/#type-nodeport>
    pub static RULE = {
        code: "PAL-EXP-002",
        name: "service-node-port",
        severity: Low,
        category: "exposure",
        controls: ["NSA:network-separation", "MITRE:T1190"],
        kinds: ["Service"],
        check: Check::Object(check),
    };
}

fn check(object: &Object, _: &OptionValues) -> Vec<Violation> {
    if service_type(object) != Some("NodePort") {
        return Vec::new();
    }
    vec![Violation {
        severity: None,
        path: FieldPath::root().keys(&["spec", "type"]),
        message: "Service opens a port on every node (type NodePort)".to_string(),
    }]
}
