use palisade_analysis::netpol::Direction;
use palisade_analysis::Inventory;

use crate::meta::rule;
use crate::rules::netpol::common::namespace_anchor;
use crate::{Check, Emitter};

rule! {
    /// ## What it does
    /// Flags workloads that no NetworkPolicy selects for ingress, or for egress: all traffic in
    /// that direction is allowed to or from their pods. One finding per direction. A
    /// CiliumNetworkPolicy in default deny isolates as well, and so do AdminNetworkPolicies or
    /// the BaselineAdminNetworkPolicy when they leave a stranger (an unlabelled pod of an
    /// unlabelled namespace; for egress, the internet too) no port.
    ///
    /// ## Why is this bad?
    /// A pod that is not isolated accepts connections from every pod of the cluster (ingress),
    /// or reaches anything, the cloud metadata endpoint included (egress).
    ///
    /// ## Example
    /// ```yaml
    /// # shop has a policy for `app: api` only; this Deployment's pods match no policy
    /// kind: Deployment
    /// metadata: {name: web, namespace: shop}
    /// spec:
    ///   template:
    ///     metadata:
    ///       labels: {app: web}   # fails
    /// ```
    ///
    /// ## Remediation
    /// Give the namespace a default-deny policy, or a policy selecting these pods.
    ///
    /// ## References
    /// - Kubernetes NetworkPolicy, isolated and non-isolated pods:
    ///   <https://kubernetes.io/docs/concepts/services-networking/network-policies/#the-two-sorts-of-pod-isolation>
    pub static RULE = {
        code: "PAL-NET-003",
        name: "netpol-workload-not-isolated",
        severity: Low,
        category: "network",
        controls: ["CIS-5.3.2", "NSA:network-separation"],
        check: Check::Inventory(check),
    };
}

fn check(inventory: &Inventory, out: &mut Emitter) {
    let network = &inventory.network;
    // NetworkPolicies do not apply to host-network pods: `netpol-host-network` says so.
    for workload in network
        .workloads
        .iter()
        .filter(|w| w.host_network.is_none())
    {
        for (direction, word) in [
            (Direction::Ingress, "ingress"),
            (Direction::Egress, "egress"),
        ] {
            if network.isolation(workload, direction).is_empty() {
                let message = format!(
                    "{} is not selected by any NetworkPolicy for {word}: all {word} traffic of its pods is allowed",
                    workload.object.display_name()
                );
                // The namespace's missing default deny is the root cause, when that is reported.
                match namespace_anchor(network, &workload.namespace) {
                    Some(anchor) => out.report_about(&workload.source, anchor, word, message),
                    None => out.report(&workload.source, message, Vec::new()),
                }
            }
        }
    }
}
