use palisade_analysis::netpol::{Endpoint, NetWorkload};
use palisade_analysis::Inventory;

use crate::meta::rule;
use crate::{Check, Emitter};

rule! {
    /// ## What it does
    /// Flags workloads in `kube-system` that a pod in any namespace can reach: a pod in a new
    /// namespace with no labels would be allowed to connect (the workload is not isolated for
    /// ingress, or a rule admits every namespace).
    ///
    /// ## Why is this bad?
    /// Cluster DNS aside, control-plane and add-on components (metrics servers, CNI and CSI
    /// controllers, dashboards) should only be reachable by what needs them; a compromised pod
    /// anywhere probes them first.
    ///
    /// ## Example
    /// ```yaml
    /// kind: Deployment
    /// metadata: {name: metrics-server, namespace: kube-system}   # fails: no ingress policy
    /// ```
    ///
    /// ## Remediation
    /// Isolate kube-system workloads and allow only the namespaces and ports that use them.
    ///
    /// ## References
    /// - NSA/CISA Kubernetes Hardening Guide, network separation.
    pub static RULE = {
        code: "PAL-NET-007",
        name: "netpol-kube-system-reachable",
        severity: Medium,
        category: "network",
        controls: ["NSA:network-separation", "MITRE:T1046"],
        check: Check::Inventory(check),
    };
}

fn check(inventory: &Inventory, out: &mut Emitter) {
    let network = &inventory.network;
    let stranger = NetWorkload::stranger();
    for workload in network
        .workloads
        .iter()
        // NetworkPolicies do not apply to host-network pods: `netpol-host-network` says so.
        .filter(|w| w.namespace == "kube-system" && w.host_network.is_none())
    {
        let reach = network.reach(Endpoint::Workload(&stranger), Endpoint::Workload(workload));
        if !reach.ports.is_empty() {
            let message = format!(
                "{} kube-system/{} is reachable from pods in any namespace on {}",
                workload.object.kind, workload.object.name, reach.ports
            );
            out.report(&workload.source, message, Vec::new());
        }
    }
}
