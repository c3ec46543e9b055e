use std::collections::HashMap;

use palisade_analysis::netpol::{Endpoint, Network, NetworkPolicy, Peer};
use palisade_analysis::selector::LabelSelector;
use palisade_analysis::Inventory;
use palisade_model::Severity;

use crate::meta::rule;
use crate::{Check, Emitter};

rule! {
    /// ## What it does
    /// Flags NetworkPolicies whose `podSelector` matches no workload of their namespace, and
    /// peers (`from`/`to` entries) whose selectors match no workload or namespace of the input.
    /// Only namespaces whose workloads are in the input are judged.
    ///
    /// Operators create pods the manifests do not hold (Prometheus and Alertmanager for their
    /// custom resources, a storage operator for its instance managers). Where the input holds a
    /// custom resource in the namespace the selector can reach (any namespace, for a peer with
    /// a `namespaceSelector`), or installs an operator (a CustomResourceDefinition) in the
    /// policy's own project (see `scan --default-namespace`), "matches nothing" cannot be
    /// known: the finding says "no pod in the input", names what may make them (a custom
    /// resource of the namespace first, then an operator of the policy's own file), and is
    /// `info` rather than `low`.
    ///
    /// ## Why is this bad?
    /// A policy that selects nothing protects nothing; a peer that matches nothing allows
    /// nothing. Both usually mean a label was renamed, and the traffic someone meant to allow or
    /// isolate is not.
    ///
    /// ## Example
    /// ```yaml
    /// kind: NetworkPolicy
    /// metadata: {name: api, namespace: shop}
    /// spec:
    ///   podSelector: {matchLabels: {app: shop-api}}   # fails: the pods say app: api
    /// ```
    ///
    /// ## Remediation
    /// Fix the selector, or delete the policy.
    ///
    /// ## References
    /// - Kubernetes NetworkPolicy: <https://kubernetes.io/docs/concepts/services-networking/network-policies/>
    pub static RULE = {
        code: "PAL-NET-004",
        name: "netpol-dangling",
        severity: Low,
        category: "network",
        controls: ["NSA:network-separation"],
        check: Check::Inventory(check),
    };
}

/// Whether a peer with a namespace selector matches something, by its two selectors: the
/// answer holds for every policy that has such a peer, whatever its namespace.
type AcrossNamespaces<'n> = HashMap<(&'n LabelSelector, Option<&'n LabelSelector>), bool>;

fn peer_matches_something<'n>(
    network: &'n Network,
    policy: &NetworkPolicy,
    peer: &'n Peer,
    across_namespaces: &mut AcrossNamespaces<'n>,
) -> bool {
    if peer.ip_block.is_some() {
        return true;
    }
    let matches = |w: &palisade_analysis::netpol::NetWorkload| {
        network.peer_matches(peer, &policy.namespace, Endpoint::Workload(w))
    };
    // A pod selector alone picks pods of the policy's namespace: only those are looked at
    // (looking at every workload for every peer made large inputs quadratic).
    let Some(namespace_selector) = &peer.namespace_selector else {
        return network.workloads_in(&policy.namespace).any(matches);
    };
    // A namespace selector looks at every workload: asked once per pair of selectors (the
    // policies of many namespaces share their peers, as copies of one chart do).
    *across_namespaces
        .entry((namespace_selector, peer.pod_selector.as_ref()))
        .or_insert_with(|| {
            let any_workload = network.workloads.iter().any(matches);
            let namespace_only = peer.pod_selector.is_none();
            any_workload
                || (namespace_only
                    && network
                        .namespaces
                        .iter()
                        .any(|n| namespace_selector.matches(&n.labels)))
        })
}

fn check(inventory: &Inventory, out: &mut Emitter) {
    let network = &inventory.network;
    let mut across_namespaces = AcrossNamespaces::new();
    for policy in &network.policies {
        let mut in_namespace = network.workloads_in(&policy.namespace).peekable();
        if in_namespace.peek().is_none() {
            continue;
        }
        if !in_namespace.any(|w| policy.pod_selector.matches(&w.labels)) {
            let namespace =
                crate::rules::namespace_phrase(&policy.source.object, &policy.namespace);
            match network.pod_maker_for(policy, Some(&policy.namespace)) {
                Some(maker) => out.report_at(
                    &policy.source,
                    Severity::Info,
                    format!(
                        "{} selects no pod in the input; {maker} may create matching pods at runtime",
                        policy.display()
                    ),
                ),
                None => out.report(
                    &policy.source,
                    format!("{} selects no workload of {namespace}", policy.display()),
                    Vec::new(),
                ),
            }
        }
        for rule in policy.ingress.iter().chain(&policy.egress) {
            for peer in rule.peers.iter().flatten() {
                if peer_matches_something(network, policy, peer, &mut across_namespaces) {
                    continue;
                }
                // A peer with a namespace selector may select pods anywhere.
                let scope = match peer.namespace_selector {
                    Some(_) => None,
                    None => Some(policy.namespace.as_str()),
                };
                match network.pod_maker_for(policy, scope) {
                    Some(maker) => out.report_at(
                        &peer.source,
                        Severity::Info,
                        format!(
                            "a peer of {} matches no pod in the input; {maker} may create matching pods at runtime",
                            policy.display()
                        ),
                    ),
                    None => out.report(
                        &peer.source,
                        format!(
                            "a peer of {} matches no workload or namespace in the input",
                            policy.display()
                        ),
                        Vec::new(),
                    ),
                }
            }
        }
    }
}
