use palisade_analysis::Inventory;

use super::common::report_missing_default_deny;
use crate::meta::rule;
use crate::{Check, Emitter};

rule! {
    /// ## What it does
    /// Flags namespaces that run workloads but have no NetworkPolicy selecting every pod
    /// (`podSelector: {}`) for ingress: a default deny. A CiliumNetworkPolicy (or clusterwide
    /// one) in default deny for every pod of the namespace counts, and so do administrator
    /// policies (AdminNetworkPolicy, BaselineAdminNetworkPolicy) that leave a pod without
    /// labels there no port from a stranger.
    ///
    /// ## Why is this bad?
    /// Without it, every pod accepts connections from every other pod of the cluster, and a new
    /// workload is exposed until someone writes its policy. Segmentation starts from deny.
    ///
    /// ## Example
    /// ```yaml
    /// # namespace shop: workloads, and no policy like this one
    /// apiVersion: networking.k8s.io/v1
    /// kind: NetworkPolicy
    /// metadata: {name: default-deny, namespace: shop}
    /// spec:
    ///   podSelector: {}
    ///   policyTypes: [Ingress]
    /// ```
    ///
    /// ## Remediation
    /// Add a default-deny policy (`palisade netpol generate default-deny -n NS`), then allow
    /// what each workload needs.
    ///
    /// ## References
    /// - Kubernetes NetworkPolicy: <https://kubernetes.io/docs/concepts/services-networking/network-policies/>
    pub static RULE = {
        code: "PAL-NET-001",
        name: "netpol-no-default-deny-ingress",
        severity: Medium,
        category: "network",
        controls: ["CIS-5.3.2", "NSA:network-separation", "MITRE:T1046"],
        subsumes: ["PAL-NET-003"],
        check: Check::Inventory(check),
    };
}

fn check(inventory: &Inventory, out: &mut Emitter) {
    report_missing_default_deny(&inventory.network, out, true);
}
