//! AdminNetworkPolicy and BaselineAdminNetworkPolicy (`policy.networking.k8s.io/v1alpha1`), the
//! cluster administrator's tiers around NetworkPolicy, as the sig-network policy API defines
//! them.
//!
//! * Cluster-scoped. The subject is `namespaces` (a namespace selector: every pod of those
//!   namespaces) or `pods` (namespace selector AND pod selector); host-network pods are never
//!   subjects nor peers.
//! * Rules are ordered: within a policy the first rule matching a connection decides; across
//!   AdminNetworkPolicies the lower `priority` number goes first. Actions are `Allow`, `Deny`
//!   and `Pass` (skip the remaining AdminNetworkPolicies, leave the decision to the
//!   NetworkPolicy tier). A BaselineAdminNetworkPolicy (only one, named `default`) has `Allow`
//!   and `Deny` and decides what NetworkPolicies leave open: traffic of pods that no
//!   NetworkPolicy isolates.
//! * Peers: `namespaces`, `pods`, and for egress `nodes` and `networks` (CIDRs). `ports` is a
//!   list of `portNumber`, `namedPort` (resolved on the destination pod) or `portRange`;
//!   absent, every port.
//! * A peer with no field this version knows fails closed: an `Allow` rule matches nothing,
//!   `Deny` and `Pass` rules match everything.

use palisade_model::{FieldPath, Node, Object};

use super::model::{Cidr, PolicyPort, PortRef, Protocol};
use crate::rbac::Source;
use crate::selector::LabelSelector;

/// Which of the two cluster tiers a policy belongs to, and its priority there (lower first).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum AdminTier {
    /// An AdminNetworkPolicy, or a ClusterNetworkPolicy of the `Admin` tier.
    Admin(i64),
    /// The BaselineAdminNetworkPolicy (after every baseline ClusterNetworkPolicy), or a
    /// ClusterNetworkPolicy of the `Baseline` tier.
    Baseline(i64),
}

/// The priority the BaselineAdminNetworkPolicy, which has none, is ordered at: after every
/// baseline ClusterNetworkPolicy (0-1000).
const BANP_PRIORITY: i64 = 1001;

/// What a rule does with the traffic it matches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Allow,
    Deny,
    Pass,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Allow => "Allow",
            Action::Deny => "Deny",
            Action::Pass => "Pass",
        }
    }
}

/// The pods a policy applies to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Subject {
    Namespaces(LabelSelector),
    Pods {
        namespaces: LabelSelector,
        pods: LabelSelector,
    },
    /// Neither field (a newer API version's field): selects nothing.
    Unknown,
}

/// One entry of a rule's `from` / `to`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AdminPeer {
    Namespaces(LabelSelector),
    Pods {
        namespaces: LabelSelector,
        pods: LabelSelector,
    },
    /// Nodes by label: their addresses (`status.addresses` of the input's Nodes) and the
    /// host-network pods running on them ([`super::Network`]'s `nodes_hold_pod`).
    Nodes(LabelSelector),
    Networks(Vec<Cidr>),
    /// A field this version does not know (or `domainNames`, resolved at runtime).
    Unknown,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AdminRule {
    pub name: Option<String>,
    pub action: Action,
    pub peers: Vec<AdminPeer>,
    /// `None`: every port.
    pub ports: Option<Vec<PolicyPort>>,
    pub path: FieldPath,
    pub source: Source,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AdminPolicy {
    pub tier: AdminTier,
    /// AdminNetworkPolicy, BaselineAdminNetworkPolicy or ClusterNetworkPolicy.
    pub kind: &'static str,
    pub name: String,
    pub subject: Subject,
    pub ingress: Vec<AdminRule>,
    pub egress: Vec<AdminRule>,
    /// Where the policy's subject is written.
    pub source: Source,
}

impl AdminPolicy {
    pub fn kind(&self) -> &'static str {
        self.kind
    }

    pub fn is_baseline(&self) -> bool {
        matches!(self.tier, AdminTier::Baseline(_))
    }

    pub fn display(&self) -> String {
        match (self.kind, self.tier) {
            (CLUSTER_NETWORK_POLICY, AdminTier::Admin(priority)) => {
                format!(
                    "{} {} (Admin tier, priority {priority})",
                    self.kind, self.name
                )
            }
            (CLUSTER_NETWORK_POLICY, AdminTier::Baseline(priority)) => format!(
                "{} {} (Baseline tier, priority {priority})",
                self.kind, self.name
            ),
            (_, AdminTier::Admin(priority)) => {
                format!("{} {} (priority {priority})", self.kind, self.name)
            }
            (_, AdminTier::Baseline(_)) => format!("{} {}", self.kind, self.name),
        }
    }
}

fn selector(node: Option<&Node>) -> LabelSelector {
    node.map(LabelSelector::from_node).unwrap_or_default()
}

fn namespaced_pods(node: &Node) -> (LabelSelector, LabelSelector) {
    (
        selector(node.get("namespaceSelector")),
        selector(node.get("podSelector")),
    )
}

fn peer_of(node: &Node) -> AdminPeer {
    if let Some(namespaces) = node.get("namespaces") {
        AdminPeer::Namespaces(LabelSelector::from_node(namespaces))
    } else if let Some(pods) = node.get("pods") {
        let (namespaces, pods) = namespaced_pods(pods);
        AdminPeer::Pods { namespaces, pods }
    } else if let Some(nodes) = node.get("nodes") {
        AdminPeer::Nodes(LabelSelector::from_node(nodes))
    } else if let Some(networks) = node.get("networks") {
        AdminPeer::Networks(
            networks
                .as_seq()
                .iter()
                .filter_map(|n| n.as_str().and_then(Cidr::parse))
                .collect(),
        )
    } else {
        AdminPeer::Unknown
    }
}

/// The ports one entry of an administrator policy's `ports` names. A `namedPort` has no
/// protocol: it matches a container port of that name whatever its protocol (a UDP `dns`
/// too), so it stands for the name under each protocol.
fn ports_of(node: &Node) -> Vec<PolicyPort> {
    if let Some(name) = node.str_of("namedPort") {
        return ports_of_name(name);
    }
    port_of(node).into_iter().collect()
}

fn port_of(node: &Node) -> Option<PolicyPort> {
    let protocol = |n: &Node| {
        n.str_of("protocol")
            .and_then(Protocol::parse)
            .unwrap_or(Protocol::Tcp)
    };
    let number = |n: &Node, key: &str| n.get(key)?.as_i64().and_then(|p| u16::try_from(p).ok());
    if let Some(n) = node.get("portNumber") {
        Some(PolicyPort {
            protocol: protocol(n),
            port: Some(PortRef::Number(number(n, "port")?)),
            end_port: None,
        })
    } else if let Some(n) = node.get("portRange") {
        Some(PolicyPort {
            protocol: protocol(n),
            port: Some(PortRef::Number(number(n, "start")?)),
            end_port: Some(number(n, "end")?),
        })
    } else {
        None
    }
}

const CLUSTER_NETWORK_POLICY: &str = "ClusterNetworkPolicy";

/// The ports one entry of a ClusterNetworkPolicy rule's `protocols` names: `tcp`, `udp` or
/// `sctp` with a `destinationPort` (`number` or `range`), or `destinationNamedPort` (under
/// each protocol, as a `namedPort`).
fn protocols_of(node: &Node) -> Vec<PolicyPort> {
    if let Some(name) = node.str_of("destinationNamedPort") {
        return ports_of_name(name);
    }
    let number = |n: &Node, key: &str| n.get(key)?.as_i64().and_then(|p| u16::try_from(p).ok());
    [
        ("tcp", Protocol::Tcp),
        ("udp", Protocol::Udp),
        ("sctp", Protocol::Sctp),
    ]
    .into_iter()
    .filter_map(|(key, protocol)| {
        let port = node.get(key)?.get("destinationPort");
        // No destination port (the API server refuses it): every port of the protocol.
        let Some(port) = port else {
            return Some(PolicyPort {
                protocol,
                port: None,
                end_port: None,
            });
        };
        if let Some(range) = port.get("range") {
            return Some(PolicyPort {
                protocol,
                port: Some(PortRef::Number(number(range, "start")?)),
                end_port: Some(number(range, "end")?),
            });
        }
        Some(PolicyPort {
            protocol,
            port: Some(PortRef::Number(number(port, "number")?)),
            end_port: None,
        })
    })
    .collect()
}

/// A container port's name under each protocol: a name has none of its own.
fn ports_of_name(name: &str) -> Vec<PolicyPort> {
    [Protocol::Tcp, Protocol::Udp, Protocol::Sctp]
        .into_iter()
        .map(|protocol| PolicyPort {
            protocol,
            port: Some(PortRef::Name(name.to_string())),
            end_port: None,
        })
        .collect()
}

fn rules_of(object: &Object, key: &str, peers_key: &str, baseline: bool) -> Vec<AdminRule> {
    let cluster = object.kind() == CLUSTER_NETWORK_POLICY;
    let base = FieldPath::root().keys(&["spec", key]);
    object
        .root
        .at(&["spec", key])
        .map(Node::as_seq)
        .unwrap_or_default()
        .iter()
        .enumerate()
        .map(|(i, rule)| {
            let path = base.index(i);
            let action = match (rule.str_of("action"), cluster) {
                (Some("Allow"), false) | (Some("Accept"), true) => Action::Allow,
                // A baseline ClusterNetworkPolicy may pass too: to the default, allowed.
                (Some("Pass"), _) if !baseline || cluster => Action::Pass,
                // Deny, and what the API server would reject: fail closed.
                _ => Action::Deny,
            };
            AdminRule {
                name: rule.str_of("name").map(str::to_string),
                action,
                peers: rule
                    .get(peers_key)
                    .map(Node::as_seq)
                    .unwrap_or_default()
                    .iter()
                    .map(peer_of)
                    .collect(),
                ports: if cluster {
                    rule.get("protocols")
                        .map(|ports| ports.as_seq().iter().flat_map(protocols_of).collect())
                } else {
                    rule.get("ports")
                        .map(|ports| ports.as_seq().iter().flat_map(ports_of).collect())
                },
                source: Source::of(object, &path, false),
                path,
            }
        })
        .collect()
}

pub(crate) fn admin_policy_of(object: &Object) -> Option<AdminPolicy> {
    if object.group() != "policy.networking.k8s.io" {
        return None;
    }
    let spec = object.root.get("spec");
    let priority = || {
        spec.and_then(|s| s.get("priority"))
            .and_then(Node::as_i64)
            .unwrap_or(1000)
    };
    let (tier, kind) = match object.kind() {
        "AdminNetworkPolicy" => (AdminTier::Admin(priority()), "AdminNetworkPolicy"),
        "BaselineAdminNetworkPolicy" => (
            AdminTier::Baseline(BANP_PRIORITY),
            "BaselineAdminNetworkPolicy",
        ),
        CLUSTER_NETWORK_POLICY => match spec.and_then(|s| s.str_of("tier")) {
            Some("Baseline") => (AdminTier::Baseline(priority()), CLUSTER_NETWORK_POLICY),
            // Admin, and what the API server would refuse (left out before this is read).
            _ => (AdminTier::Admin(priority()), CLUSTER_NETWORK_POLICY),
        },
        _ => return None,
    };
    let subject_node = spec.and_then(|s| s.get("subject"));
    let subject = match subject_node {
        Some(s) if s.get("namespaces").is_some() => {
            Subject::Namespaces(selector(s.get("namespaces")))
        }
        Some(s) if s.get("pods").is_some() => {
            let (namespaces, pods) = s.get("pods").map(namespaced_pods).unwrap_or_default();
            Subject::Pods { namespaces, pods }
        }
        _ => Subject::Unknown,
    };
    let baseline = matches!(tier, AdminTier::Baseline(_));
    Some(AdminPolicy {
        tier,
        kind,
        name: object.reference.name.clone(),
        subject,
        ingress: rules_of(object, "ingress", "from", baseline),
        egress: rules_of(object, "egress", "to", baseline),
        source: Source::of(object, &FieldPath::root().keys(&["spec", "subject"]), false),
    })
}
