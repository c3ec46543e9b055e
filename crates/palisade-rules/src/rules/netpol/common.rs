//! What the NetworkPolicy coverage rules share: namespaces in scope and where to point.

use palisade_analysis::netpol::{Direction, NetWorkload, Network};
use palisade_analysis::rbac::Source;

/// Namespaces the input runs workloads in, sorted.
pub(crate) fn workload_namespaces(network: &Network) -> Vec<String> {
    // A namespace of host-network pods only has nothing a default deny would isolate.
    let mut names: Vec<String> = network
        .workloads
        .iter()
        .filter(|w| w.host_network.is_none())
        .map(|w| w.namespace.clone())
        .collect();
    names.sort();
    names.dedup();
    names
}

/// Where a namespace-level finding points: the Namespace object, or its first workload.
pub(crate) fn namespace_anchor<'n>(network: &'n Network, namespace: &str) -> Option<&'n Source> {
    // Through the namespace indexes: this is asked once per workload, and scanning every
    // workload each time made the scan quadratic in a cluster's size.
    network
        .namespace(namespace)
        .and_then(|n| n.source.as_ref())
        .or_else(|| network.workloads_in(namespace).next().map(|w| &w.source))
}

/// What isolates every pod of `namespace` for ingress (`ingress = true`) or egress, named:
/// NetworkPolicies with an empty `podSelector`, else Cilium rules or administrator policies
/// that isolate a pod without labels there.
pub(crate) fn isolating_all(network: &Network, namespace: &str, ingress: bool) -> Vec<String> {
    // Through the namespace index: asked for every namespace (and every policy that allows
    // all), a walk over every policy grew with the square of the input.
    let policies: Vec<String> = network
        .policies_in(namespace)
        .filter(|p| p.selects_all)
        .filter(|p| {
            if ingress {
                p.ingress_type
            } else {
                p.egress_type
            }
        })
        .map(|p| p.display())
        .collect();
    if !policies.is_empty() || (network.cilium.is_empty() && network.admin.is_empty()) {
        return policies;
    }
    let direction = if ingress {
        Direction::Ingress
    } else {
        Direction::Egress
    };
    network.isolation(&NetWorkload::probe(namespace), direction)
}

/// Reports namespaces where no policy isolates every pod in the direction.
pub(crate) fn report_missing_default_deny(
    network: &Network,
    out: &mut crate::Emitter,
    ingress: bool,
) {
    let direction = if ingress { "ingress" } else { "egress" };
    for namespace in workload_namespaces(network) {
        if !isolating_all(network, &namespace, ingress).is_empty() {
            continue;
        }
        let Some(anchor) = namespace_anchor(network, &namespace) else {
            continue;
        };
        let message = format!(
            "{} has no default-deny {direction} policy: no NetworkPolicy selects every pod (podSelector: {{}}) for {direction}, and no Cilium or AdminNetworkPolicy isolates them",
            crate::rules::namespace_phrase(&anchor.object, &namespace)
        );
        out.report_about(anchor, anchor, direction, message);
    }
}
