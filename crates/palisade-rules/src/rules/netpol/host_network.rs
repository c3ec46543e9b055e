use palisade_analysis::Inventory;

use crate::meta::rule;
use crate::{Check, Emitter};

rule! {
    /// ## What it does
    /// Flags workloads whose pods use the node's network (`hostNetwork: true`), once each:
    /// NetworkPolicies do not apply to such pods, so no policy isolates them, whatever the
    /// namespace's policies say. The NetworkPolicy coverage rules leave them out.
    ///
    /// ## Why is this bad?
    /// A host-network pod listens on the node's addresses and reaches everything the node
    /// reaches, the cloud metadata endpoint and the kubelet included; a default-deny policy in
    /// its namespace changes nothing. Only node firewalls, or a CNI's host policies (Cilium's
    /// host firewall, Calico's host endpoints), restrict it.
    ///
    /// ## Example
    /// ```yaml
    /// kind: DaemonSet
    /// metadata: {name: node-exporter, namespace: monitoring}
    /// spec:
    ///   template:
    ///     spec:
    ///       hostNetwork: true   # fails
    /// ```
    ///
    /// ## Remediation
    /// Drop `hostNetwork` unless the pod must serve on the node's addresses (CNI agents, node
    /// exporters); use a `hostPort` or a NodePort Service for a single port. Where it stays,
    /// restrict the node's traffic with host firewall policies.
    ///
    /// ## References
    /// - Kubernetes NetworkPolicy: "pods with hostNetwork: true" behaviour is undefined by the
    ///   API and most CNIs do not enforce policies on them:
    ///   <https://kubernetes.io/docs/concepts/services-networking/network-policies/#networkpolicy-and-hostnetwork-pods>
    pub static RULE = {
        code: "PAL-NET-008",
        name: "netpol-host-network",
        severity: Medium,
        category: "network",
        controls: ["NSA:network-separation", "MITRE:T1599"],
        check: Check::Inventory(check),
    };
}

fn check(inventory: &Inventory, out: &mut Emitter) {
    for workload in &inventory.network.workloads {
        if let Some(at) = &workload.host_network {
            let message = format!(
                "{} runs its pods on the node's network (hostNetwork: true): NetworkPolicies do not apply to them",
                workload.object.display_name()
            );
            out.report(at, message, Vec::new());
        }
    }
}
