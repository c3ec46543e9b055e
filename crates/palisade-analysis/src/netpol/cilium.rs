//! CiliumNetworkPolicy and CiliumClusterwideNetworkPolicy (`cilium.io/v2`) at layers 3 and 4,
//! as Cilium enforces them.
//!
//! * A policy holds one rule (`spec`) or several (`specs`). A rule applies to the endpoints its
//!   `endpointSelector` picks (in a CiliumNetworkPolicy, only pods of its namespace); rules with
//!   a `nodeSelector` apply to nodes, not pods.
//! * Default deny: an endpoint that some rule selects with an `ingress` or `ingressDeny`
//!   section only accepts what is allowed (egress alike), unless the rule sets
//!   `enableDefaultDeny.ingress: false`. Cilium enforces Kubernetes NetworkPolicies in the same
//!   tier: allows add up across both kinds.
//! * `ingressDeny` / `egressDeny` win over every allow, of any kind.
//! * Peers: `fromEndpoints`/`toEndpoints` (label selectors over pod labels, plus
//!   `io.kubernetes.pod.namespace` and the namespace's labels as
//!   `io.cilium.k8s.namespace.labels.KEY`; in a namespaced policy a selector that names neither
//!   means the policy's namespace), `fromEntities`/`toEntities` (`all`, `cluster`
//!   for pods, `world` for outside addresses; the others name nodes and Cilium's own
//!   identities), `fromCIDR`/`toCIDR`/`fromCIDRSet`/`toCIDRSet` with `except` (outside the
//!   cluster only: CIDR rules never match pods). A rule with `toPorts` and no peer field allows
//!   every peer on those ports; an empty rule (`{}`) or an empty peer list allows nothing.
//! * `toPorts[].ports[]`: `port` (a number, `0` for all, or a container port's name), `endPort`,
//!   `protocol` (`TCP`, `UDP`, `SCTP`, or `ANY`, the default). Layer 7 `rules` are counted as
//!   the layer 4 allow they sit on (the HTTP, DNS or Kafka filter is not evaluated).
//! * Not modelled: `toFQDNs`, `toServices`, `toGroups`, `fromNodes`/`toNodes`, `fromRequires`,
//!   the `io.cilium.k8s.policy.serviceaccount` label.

use palisade_model::{FieldPath, Node, Object};

use super::model::{Cidr, IpBlock, PolicyPort, PortRef, Protocol};
use crate::rbac::Source;
use crate::selector::{LabelSelector, Requirement};

/// The label Cilium gives every pod for its namespace.
pub const NAMESPACE_LABEL: &str = "io.kubernetes.pod.namespace";
/// The prefix under which Cilium gives pods their namespace's labels.
pub const NAMESPACE_LABELS_PREFIX: &str = "io.cilium.k8s.namespace.labels.";

/// The peers one Cilium rule section names.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CiliumPeers {
    /// `fromEndpoints` / `toEndpoints`, already restricted to the policy's namespace where
    /// Cilium does so.
    pub endpoints: Vec<LabelSelector>,
    pub entities: Vec<String>,
    pub cidrs: Vec<IpBlock>,
}

/// One entry of `ingress`, `ingressDeny`, `egress` or `egressDeny`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CiliumSection {
    /// `None`: every peer (a rule with `toPorts` and no layer 3 field).
    pub peers: Option<CiliumPeers>,
    /// `None`: every port.
    pub ports: Option<Vec<PolicyPort>>,
    /// Whether layer 7 rules sit on the ports (counted as the layer 4 allow).
    pub layer7: bool,
    /// Fields this engine does not evaluate (`toFQDNs`, ...), named for the explanation.
    pub unmodelled: Vec<&'static str>,
    pub path: FieldPath,
    pub source: Source,
}

/// One rule of a Cilium policy (a policy with `specs` has several).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CiliumRule {
    pub kind: &'static str,
    /// `None` for a CiliumClusterwideNetworkPolicy.
    pub namespace: Option<String>,
    pub name: String,
    /// The endpoints the rule applies to; `None` for a node rule (`nodeSelector`).
    pub selector: Option<LabelSelector>,
    pub ingress: Vec<CiliumSection>,
    pub ingress_deny: Vec<CiliumSection>,
    pub egress: Vec<CiliumSection>,
    pub egress_deny: Vec<CiliumSection>,
    pub default_deny_ingress: bool,
    pub default_deny_egress: bool,
    /// `/spec` or `/specs/N`.
    pub path: FieldPath,
    pub source: Source,
}

impl CiliumRule {
    /// Every section of the rule: allows and denies, both directions.
    pub fn sections(&self) -> impl Iterator<Item = &CiliumSection> {
        self.ingress
            .iter()
            .chain(&self.ingress_deny)
            .chain(&self.egress)
            .chain(&self.egress_deny)
    }
}

impl CiliumRule {
    pub fn display(&self) -> String {
        let name = match &self.namespace {
            Some(ns) => format!("{ns}/{}", self.name),
            None => self.name.clone(),
        };
        if self.path.as_str() == "/spec" {
            format!("{} {name}", self.kind)
        } else {
            format!("{} {name} {}", self.kind, self.path)
        }
    }
}

/// A key as Cilium writes it (`k8s:app`, `any:app`) as the pod label it matches.
fn label_key(key: &str) -> String {
    key.strip_prefix("k8s:")
        .or_else(|| key.strip_prefix("any:"))
        .unwrap_or(key)
        .to_string()
}

/// Reads a Cilium endpoint selector; in a namespaced policy, one that says nothing of the
/// namespace selects in the policy's namespace (`force`: always, as for `endpointSelector`).
fn endpoint_selector(node: &Node, namespace: Option<&str>, force: bool) -> LabelSelector {
    let mut selector = LabelSelector::from_node(node);
    for requirement in &mut selector.requirements {
        match requirement {
            Requirement::Equals(k, _)
            | Requirement::In(k, _)
            | Requirement::NotIn(k, _)
            | Requirement::Exists(k)
            | Requirement::DoesNotExist(k) => *k = label_key(k),
        }
    }
    if let Some(namespace) = namespace {
        // A peer selector on the namespace, or on the namespace's labels, reaches across.
        let names_namespace = selector
            .keys()
            .any(|k| k == NAMESPACE_LABEL || k.starts_with(NAMESPACE_LABELS_PREFIX));
        if force {
            selector
                .requirements
                .retain(|r| !matches!(r, Requirement::Equals(k, _) if k == NAMESPACE_LABEL));
        }
        if force || !names_namespace {
            selector.requirements.push(Requirement::Equals(
                NAMESPACE_LABEL.to_string(),
                namespace.to_string(),
            ));
        }
    }
    selector
}

fn cidr_blocks(section: &Node, prefix: &str) -> Vec<IpBlock> {
    let mut blocks: Vec<IpBlock> = section
        .get(&format!("{prefix}CIDR"))
        .map(Node::as_seq)
        .unwrap_or_default()
        .iter()
        .filter_map(|c| c.as_str().and_then(Cidr::parse))
        .map(|cidr| IpBlock {
            cidr,
            except: Vec::new(),
        })
        .collect();
    blocks.extend(
        section
            .get(&format!("{prefix}CIDRSet"))
            .map(Node::as_seq)
            .unwrap_or_default()
            .iter()
            .filter_map(IpBlock::from_node),
    );
    blocks
}

/// `toPorts`: the ports, and whether layer 7 rules sit on them.
fn ports_of(section: &Node) -> (Option<Vec<PolicyPort>>, bool) {
    let Some(to_ports) = section.get("toPorts").map(Node::as_seq) else {
        return (None, false);
    };
    let mut ports = Vec::new();
    let mut layer7 = false;
    let mut every_port = false;
    for entry in to_ports {
        layer7 |= entry.get("rules").is_some_and(|r| !r.as_map().is_empty());
        let listed = entry.get("ports").map(Node::as_seq).unwrap_or_default();
        if listed.is_empty() {
            every_port = true;
        }
        for port in listed {
            let protocols: &[Protocol] = match port.str_of("protocol").map(str::to_ascii_uppercase)
            {
                None => &[Protocol::Tcp, Protocol::Udp, Protocol::Sctp],
                Some(p) if p == "ANY" => &[Protocol::Tcp, Protocol::Udp, Protocol::Sctp],
                Some(p) if p == "TCP" => &[Protocol::Tcp],
                Some(p) if p == "UDP" => &[Protocol::Udp],
                Some(p) if p == "SCTP" => &[Protocol::Sctp],
                // ICMP and what Cilium rejects: no TCP, UDP or SCTP port.
                Some(_) => &[],
            };
            let text = port
                .get("port")
                .and_then(|p| {
                    p.as_str()
                        .map(str::to_string)
                        .or_else(|| p.as_i64().map(|n| n.to_string()))
                })
                .unwrap_or_default();
            let port_ref = match text.parse::<u16>() {
                Ok(0) => None,
                Ok(n) => Some(PortRef::Number(n)),
                Err(_) if text.is_empty() => None,
                Err(_) => Some(PortRef::Name(text.to_ascii_lowercase())),
            };
            let end_port = port
                .get("endPort")
                .and_then(Node::as_i64)
                .and_then(|n| u16::try_from(n).ok());
            for &protocol in protocols {
                ports.push(PolicyPort {
                    protocol,
                    port: port_ref.clone(),
                    end_port,
                });
            }
        }
    }
    (if every_port { None } else { Some(ports) }, layer7)
}

fn sections(
    object: &Object,
    rule: &Node,
    rule_path: &FieldPath,
    key: &str,
    prefix: &str,
    namespace: Option<&str>,
) -> Vec<CiliumSection> {
    rule.get(key)
        .map(Node::as_seq)
        .unwrap_or_default()
        .iter()
        .enumerate()
        .map(|(i, section)| {
            let path = rule_path.key(key).index(i);
            let peers = CiliumPeers {
                endpoints: section
                    .get(&format!("{prefix}Endpoints"))
                    .map(Node::as_seq)
                    .unwrap_or_default()
                    .iter()
                    .map(|s| endpoint_selector(s, namespace, false))
                    .collect(),
                entities: section
                    .get(&format!("{prefix}Entities"))
                    .map(Node::as_seq)
                    .unwrap_or_default()
                    .iter()
                    .filter_map(Node::as_str)
                    .map(str::to_ascii_lowercase)
                    .collect(),
                cidrs: cidr_blocks(section, prefix),
            };
            let unmodelled: Vec<&'static str> = [
                "toFQDNs",
                "toServices",
                "toGroups",
                "toNodes",
                "fromNodes",
                "fromGroups",
                "fromRequires",
                "toRequires",
            ]
            .into_iter()
            .filter(|k| section.get(k).is_some())
            .collect();
            let (ports, layer7) = ports_of(section);
            // Layer 4 only (`toPorts` and no peer field): every peer, on those ports; `{}`, or
            // an empty peer list, nothing.
            let peer_fields = ["Endpoints", "Entities", "CIDR", "CIDRSet"]
                .iter()
                .any(|k| section.get(&format!("{prefix}{k}")).is_some());
            let every_peer =
                !peer_fields && unmodelled.is_empty() && section.get("toPorts").is_some();
            let peers = (!every_peer).then_some(peers);
            CiliumSection {
                peers,
                ports,
                layer7,
                unmodelled,
                source: Source::of(object, &path, false),
                path,
            }
        })
        .collect()
}

fn default_deny(rule: &Node, direction: &str, has_sections: bool) -> bool {
    rule.get("enableDefaultDeny")
        .and_then(|d| d.get(direction))
        .and_then(Node::as_bool)
        .unwrap_or(has_sections)
}

pub(crate) fn cilium_rules_of(object: &Object) -> Vec<CiliumRule> {
    if object.group() != "cilium.io" {
        return Vec::new();
    }
    let (kind, namespace) = match object.kind() {
        "CiliumNetworkPolicy" => (
            "CiliumNetworkPolicy",
            Some(crate::rbac::namespace_of(object)),
        ),
        "CiliumClusterwideNetworkPolicy" => ("CiliumClusterwideNetworkPolicy", None),
        _ => return Vec::new(),
    };
    let mut rules: Vec<(FieldPath, &Node)> = Vec::new();
    if let Some(spec) = object.root.get("spec").filter(|s| s.is_map()) {
        rules.push((FieldPath::root().key("spec"), spec));
    }
    for (i, spec) in object
        .root
        .get("specs")
        .map(Node::as_seq)
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        rules.push((FieldPath::root().key("specs").index(i), spec));
    }
    rules
        .into_iter()
        .map(|(path, rule)| {
            let ns = namespace.as_deref();
            let selector = rule
                .get("endpointSelector")
                .map(|s| endpoint_selector(s, ns, true));
            let ingress = sections(object, rule, &path, "ingress", "from", ns);
            let ingress_deny = sections(object, rule, &path, "ingressDeny", "from", ns);
            let egress = sections(object, rule, &path, "egress", "to", ns);
            let egress_deny = sections(object, rule, &path, "egressDeny", "to", ns);
            let selector_path = if rule.get("endpointSelector").is_some() {
                path.key("endpointSelector")
            } else {
                path.clone()
            };
            CiliumRule {
                kind,
                namespace: namespace.clone(),
                name: object.reference.name.clone(),
                default_deny_ingress: default_deny(
                    rule,
                    "ingress",
                    !ingress.is_empty() || !ingress_deny.is_empty(),
                ),
                default_deny_egress: default_deny(
                    rule,
                    "egress",
                    !egress.is_empty() || !egress_deny.is_empty(),
                ),
                selector,
                ingress,
                ingress_deny,
                egress,
                egress_deny,
                source: Source::of(object, &selector_path, false),
                path,
            }
        })
        .collect()
}
