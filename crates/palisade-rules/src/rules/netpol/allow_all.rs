use palisade_analysis::netpol::PolicyRule;
use palisade_analysis::Inventory;

use super::common::isolating_all;
use crate::meta::rule;
use crate::{Check, Emitter};

rule! {
    /// ## What it does
    /// Flags ingress (egress) rules that allow every peer on every port (no `from`/`to`, no
    /// `ports`) in a namespace that has a default deny for that direction.
    ///
    /// ## Why is this bad?
    /// Policies are additive: one allow-all rule re-opens the pods it selects completely, and
    /// the default deny next to it gives a false sense of isolation.
    ///
    /// ## Example
    /// ```yaml
    /// kind: NetworkPolicy
    /// metadata: {name: web, namespace: shop}
    /// spec:
    ///   podSelector: {matchLabels: {app: web}}
    ///   ingress:
    ///   - {}   # fails: every source, every port
    /// ```
    ///
    /// ## Remediation
    /// Name the sources (`from`) and the ports the workload serves.
    ///
    /// ## References
    /// - Kubernetes NetworkPolicy: <https://kubernetes.io/docs/concepts/services-networking/network-policies/>
    pub static RULE = {
        code: "PAL-NET-005",
        name: "netpol-allow-all-cancels-deny",
        severity: Medium,
        category: "network",
        controls: ["NSA:network-separation"],
        check: Check::Inventory(check),
    };
}

fn allows_everything(rule: &PolicyRule) -> bool {
    rule.peers.is_none() && rule.ports.is_none()
}

fn check(inventory: &Inventory, out: &mut Emitter) {
    let network = &inventory.network;
    for policy in &network.policies {
        for (ingress, rules, word) in [
            (true, &policy.ingress, "ingress"),
            (false, &policy.egress, "egress"),
        ] {
            let mut allowing = rules.iter().filter(|r| allows_everything(r)).peekable();
            if allowing.peek().is_none() {
                continue;
            }
            let Some(deny) = isolating_all(network, &policy.namespace, ingress)
                .into_iter()
                .next()
            else {
                continue;
            };
            for rule in allowing {
                let message = format!(
                    "{} allows all {word} to the pods it selects, cancelling the default deny of {}",
                    policy.display(),
                    deny
                );
                out.report(&rule.source, message, Vec::new());
            }
        }
    }
}
