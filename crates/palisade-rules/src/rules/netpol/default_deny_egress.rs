use palisade_analysis::Inventory;

use super::common::report_missing_default_deny;
use crate::meta::rule;
use crate::{Check, Emitter};

rule! {
    /// ## What it does
    /// Flags namespaces that run workloads but have no NetworkPolicy selecting every pod for
    /// egress. A Cilium policy in egress default deny for every pod of the namespace counts,
    /// and so do administrator policies that leave a pod without labels there no port toward
    /// a stranger or the internet.
    ///
    /// ## Why is this bad?
    /// Without egress control a compromised pod reaches the cloud metadata endpoint, the API
    /// server, other namespaces and the internet: exfiltration and lateral movement are
    /// unhindered.
    ///
    /// ## Example
    /// ```yaml
    /// apiVersion: networking.k8s.io/v1
    /// kind: NetworkPolicy
    /// metadata: {name: default-deny-egress, namespace: shop}
    /// spec:
    ///   podSelector: {}
    ///   policyTypes: [Egress]
    ///   egress:
    ///   - to: [{namespaceSelector: {}, podSelector: {matchLabels: {k8s-app: kube-dns}}}]
    ///     ports: [{port: 53, protocol: UDP}, {port: 53, protocol: TCP}]
    /// ```
    ///
    /// ## Remediation
    /// Add a default-deny egress policy that keeps DNS open (`palisade netpol generate default-
    /// deny -n NS`).
    ///
    /// ## References
    /// - Kubernetes NetworkPolicy: <https://kubernetes.io/docs/concepts/services-networking/network-policies/>
    pub static RULE = {
        code: "PAL-NET-002",
        name: "netpol-no-default-deny-egress",
        severity: Medium,
        category: "network",
        controls: ["CIS-5.3.2", "NSA:network-separation", "MITRE:T1041"],
        subsumes: ["PAL-NET-003"],
        check: Check::Inventory(check),
    };
}

fn check(inventory: &Inventory, out: &mut Emitter) {
    report_missing_default_deny(&inventory.network, out, false);
}
