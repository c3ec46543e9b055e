use palisade_analysis::Inventory;

use crate::meta::rule;
use crate::{Check, Emitter};

rule! {
    /// ## What it does
    /// Flags NetworkPolicies, AdminNetworkPolicies and BaselineAdminNetworkPolicies that the
    /// API server would refuse: a port outside 1-65535, a protocol other than `TCP`, `UDP` or
    /// `SCTP` (as written), `endPort` below `port` or beside a named port, `policyTypes` other
    /// than `Ingress` and `Egress`, a peer with both `ipBlock` and a selector (or neither), a
    /// CIDR that is not one or an `except` outside its `cidr`, a label selector with an unknown
    /// operator, an AdminNetworkPolicy priority outside 0-1000, an unknown action, a
    /// BaselineAdminNetworkPolicy not named `default`.
    ///
    /// ## Why is this bad?
    /// The policy never reaches the cluster: the deploy that carries it fails, and until
    /// someone notices, the isolation it was written for does not exist. Read loosely (a port
    /// of 65536 as "every port", `ICMP` as TCP) it would also misstate who can reach whom, so
    /// Palisade leaves it out of every NetworkPolicy analysis, as the cluster does, and says so.
    ///
    /// ## Example
    /// ```yaml
    /// kind: NetworkPolicy
    /// spec:
    ///   podSelector: {}
    ///   ingress:
    ///     - ports:
    ///         - port: 65536      # fails: not a port
    /// ```
    ///
    /// ## Remediation
    /// Fix the field the finding names; `kubectl apply --dry-run=server` shows the API
    /// server's own verdict.
    ///
    /// ## References
    /// - NetworkPolicy validation: <https://kubernetes.io/docs/reference/kubernetes-api/policy-resources/network-policy-v1/>
    /// - AdminNetworkPolicy API: <https://network-policy-api.sigs.k8s.io/reference/spec/>
    pub static RULE = {
        code: "PAL-NET-010",
        name: "netpol-invalid",
        severity: High,
        category: "network",
        controls: ["NSA:network-separation"],
        check: Check::Inventory(check),
    };
}

fn check(inventory: &Inventory, out: &mut Emitter) {
    for invalid in &inventory.network.invalid {
        let message = format!(
            "{} would be refused by the API server ({}): the isolation it describes does not exist",
            invalid.policy, invalid.message
        );
        out.report(&invalid.source, message, Vec::new());
    }
}
