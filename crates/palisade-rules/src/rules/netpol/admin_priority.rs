use palisade_analysis::netpol::{AdminPolicy, AdminTier, NetWorkload, Network};
use palisade_analysis::Inventory;

use crate::meta::rule;
use crate::{Check, Emitter};

rule! {
    /// ## What it does
    /// Flags AdminNetworkPolicies that share a priority with another whose subject holds the
    /// same pods, in a direction both have rules for: which of the two decides a connection
    /// they both match is undefined.
    ///
    /// ## Why is this bad?
    /// The API leaves the order of same-priority policies to the implementation, and it may
    /// differ between nodes, CNI versions or restarts: one policy's Deny and the other's Allow
    /// can each win. An incident-response quarantine at priority 0 is only guaranteed when
    /// nothing else sits there.
    ///
    /// ## Example
    /// ```yaml
    /// kind: AdminNetworkPolicy
    /// metadata: {name: allow-monitoring}
    /// spec:
    ///   priority: 10
    ///   subject: {namespaces: {}}
    /// ---
    /// kind: AdminNetworkPolicy
    /// metadata: {name: deny-cross-namespace}
    /// spec:
    ///   priority: 10          # fails: same priority, same pods
    ///   subject: {namespaces: {}}
    /// ```
    ///
    /// ## Remediation
    /// Give each policy its own priority, lower numbers for the rules that must win.
    ///
    /// ## References
    /// - AdminNetworkPolicy `spec.priority`:
    ///   <https://network-policy-api.sigs.k8s.io/reference/spec/>
    pub static RULE = {
        code: "PAL-NET-009",
        name: "netpol-admin-same-priority",
        severity: Medium,
        category: "network",
        controls: ["NSA:network-separation"],
        check: Check::Inventory(check),
    };
}

/// The directions both policies have rules for.
fn shared_directions(a: &AdminPolicy, b: &AdminPolicy) -> Vec<&'static str> {
    let mut shared = Vec::new();
    if !a.ingress.is_empty() && !b.ingress.is_empty() {
        shared.push("ingress");
    }
    if !a.egress.is_empty() && !b.egress.is_empty() {
        shared.push("egress");
    }
    shared
}

/// A workload of the input (or, when it holds none, a pod without labels in some namespace)
/// that both subjects hold.
fn shared_subject<'n>(
    network: &'n Network,
    a: &AdminPolicy,
    b: &AdminPolicy,
) -> Option<std::borrow::Cow<'n, NetWorkload>> {
    let both =
        |w: &NetWorkload| network.admin_subject_holds(a, w) && network.admin_subject_holds(b, w);
    if let Some(found) = network.workloads.iter().find(|w| both(w)) {
        return Some(std::borrow::Cow::Borrowed(found));
    }
    let stranger = NetWorkload::stranger();
    both(&stranger).then_some(std::borrow::Cow::Owned(stranger))
}

fn check(inventory: &Inventory, out: &mut Emitter) {
    let network = &inventory.network;
    let mut admin: Vec<&AdminPolicy> = network
        .admin
        .iter()
        .filter(|p| matches!(p.tier, AdminTier::Admin(_)))
        .collect();
    admin.sort_by(|a, b| (a.tier, &a.name).cmp(&(b.tier, &b.name)));
    for (i, later) in admin.iter().enumerate() {
        for earlier in admin[..i].iter().filter(|e| e.tier == later.tier) {
            let directions = shared_directions(earlier, later);
            if directions.is_empty() {
                continue;
            }
            let Some(pod) = shared_subject(network, earlier, later) else {
                continue;
            };
            let AdminTier::Admin(priority) = later.tier else {
                continue;
            };
            let pods = if pod.namespace == NetWorkload::STRANGER_NAMESPACE {
                "every pod".to_string()
            } else {
                pod.object.display_name()
            };
            let message = format!(
                "AdminNetworkPolicy {} has priority {priority}, as AdminNetworkPolicy {} does, and both hold {pods} with {} rules: which decides is undefined",
                later.name,
                earlier.name,
                directions.join(" and ")
            );
            out.report(&later.source, message, Vec::new());
        }
    }
}
