use palisade_analysis::netpol::{Cidr, Endpoint, Protocol};
use palisade_analysis::Inventory;

use crate::meta::rule;
use crate::{Check, Emitter};

rule! {
    /// ## What it does
    /// Flags egress rules that allow traffic to the cloud metadata endpoint 169.254.169.254 on
    /// port 80: rules with no `to` (every destination) or an `ipBlock` that contains it without
    /// an `except`. Workloads with no egress policy at all are reported by
    /// `netpol-workload-not-isolated`.
    ///
    /// ## Why is this bad?
    /// The metadata endpoint hands out the node's cloud credentials; from a compromised pod it is
    /// the shortest way out of the cluster (metadata concealment is a CIS and NSA control).
    ///
    /// ## Example
    /// ```yaml
    /// egress:
    /// - to:
    ///   - ipBlock: {cidr: 0.0.0.0/0}   # fails: add except: [169.254.169.254/32]
    /// ```
    ///
    /// ## Remediation
    /// Add `except: [169.254.169.254/32]` to the block (`palisade netpol generate deny-metadata`).
    ///
    /// ## References
    /// - Kubernetes security checklist, metadata concealment:
    ///   <https://kubernetes.io/docs/concepts/security/security-checklist/>
    pub static RULE = {
        code: "PAL-NET-006",
        name: "netpol-egress-to-metadata",
        severity: High,
        category: "network",
        controls: ["CIS-5.3.2", "NSA:network-separation", "MITRE:T1552.005"],
        check: Check::Inventory(check),
    };
}

fn check(inventory: &Inventory, out: &mut Emitter) {
    let network = &inventory.network;
    let Some(metadata) = Cidr::parse("169.254.169.254/32") else {
        return;
    };
    for policy in network.policies.iter().filter(|p| p.egress_type) {
        for rule in &policy.egress {
            let peer_ok = rule.peers.as_ref().is_none_or(|peers| {
                peers.iter().any(|p| {
                    network.peer_matches(p, &policy.namespace, Endpoint::External(&metadata))
                })
            });
            let port_ok = rule.ports.as_ref().is_none_or(|ports| {
                ports.iter().any(|p| {
                    p.protocol == Protocol::Tcp
                        && match &p.port {
                            None => true,
                            Some(palisade_analysis::netpol::PortRef::Number(n)) => {
                                *n <= 80 && 80 <= p.end_port.unwrap_or(*n)
                            }
                            Some(palisade_analysis::netpol::PortRef::Name(_)) => false,
                        }
                })
            });
            if peer_ok && port_ok {
                let message = format!(
                    "{} allows egress to the cloud metadata endpoint 169.254.169.254",
                    policy.display()
                );
                out.report(&rule.source, message, Vec::new());
            }
        }
    }
}
