//! NetworkPolicies, workloads and namespaces as the NetworkPolicy engine sees them.

use std::net::IpAddr;

use palisade_model::{FieldPath, Node, Object, ObjectRef, PodView};

use crate::rbac::Source;
use crate::selector::{labels_of, LabelSelector};

/// A transport protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Protocol {
    Tcp,
    Udp,
    Sctp,
}

impl Protocol {
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_uppercase().as_str() {
            "TCP" => Some(Protocol::Tcp),
            "UDP" => Some(Protocol::Udp),
            "SCTP" => Some(Protocol::Sctp),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Tcp => "TCP",
            Protocol::Udp => "UDP",
            Protocol::Sctp => "SCTP",
        }
    }
}

/// A CIDR block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cidr {
    pub addr: IpAddr,
    pub prefix: u8,
}

impl Cidr {
    pub fn parse(s: &str) -> Option<Self> {
        let (addr, prefix) = s.split_once('/').unwrap_or((s, ""));
        let addr: IpAddr = addr.parse().ok()?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = if prefix.is_empty() {
            max
        } else {
            prefix.parse().ok()?
        };
        (prefix <= max).then_some(Cidr { addr, prefix })
    }

    /// The address left-aligned in 128 bits, the prefix length, and whether it is IPv4.
    fn bits(&self) -> (u128, u32, bool) {
        match self.addr {
            IpAddr::V4(a) => (u128::from(u32::from(a)) << 96, u32::from(self.prefix), true),
            IpAddr::V6(a) => (u128::from(a), u32::from(self.prefix), false),
        }
    }

    /// Whether `other` lies entirely inside this block.
    pub fn contains(&self, other: &Cidr) -> bool {
        let (a, a_prefix, a_v4) = self.bits();
        let (b, b_prefix, b_v4) = other.bits();
        if a_v4 != b_v4 || b_prefix < a_prefix {
            return false;
        }
        let mask = if a_prefix == 0 {
            0
        } else {
            u128::MAX << (128 - a_prefix)
        };
        (a & mask) == (b & mask)
    }

    /// Whether the two blocks share any address.
    pub fn overlaps(&self, other: &Cidr) -> bool {
        self.contains(other) || other.contains(self)
    }
}

impl std::fmt::Display for Cidr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// The port of a policy rule: a number or a container port name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PortRef {
    Number(u16),
    Name(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyPort {
    pub protocol: Protocol,
    /// `None`: every port of the protocol.
    pub port: Option<PortRef>,
    pub end_port: Option<u16>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IpBlock {
    pub cidr: Cidr,
    pub except: Vec<Cidr>,
}

impl IpBlock {
    /// `{cidr, except}`, as NetworkPolicy's `ipBlock` and Cilium's `CIDRSet` write it.
    pub(crate) fn from_node(node: &Node) -> Option<Self> {
        Some(IpBlock {
            cidr: Cidr::parse(node.str_of("cidr")?)?,
            except: node
                .get("except")
                .map(Node::as_seq)
                .unwrap_or_default()
                .iter()
                .filter_map(|e| e.as_str().and_then(Cidr::parse))
                .collect(),
        })
    }
}

/// One entry of `from` / `to`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Peer {
    pub pod_selector: Option<LabelSelector>,
    pub namespace_selector: Option<LabelSelector>,
    pub ip_block: Option<IpBlock>,
    pub path: FieldPath,
    pub source: Source,
}

/// One ingress or egress rule. `None` peers or ports mean "all" (the field is absent or empty).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyRule {
    pub peers: Option<Vec<Peer>>,
    pub ports: Option<Vec<PolicyPort>>,
    pub path: FieldPath,
    pub source: Source,
}

#[derive(Clone, Debug, PartialEq)]
pub struct NetworkPolicy {
    pub namespace: String,
    pub name: String,
    pub pod_selector: LabelSelector,
    /// Empty `podSelector` (selects every pod of the namespace).
    pub selects_all: bool,
    pub ingress_type: bool,
    pub egress_type: bool,
    pub ingress: Vec<PolicyRule>,
    pub egress: Vec<PolicyRule>,
    pub source: Source,
    /// The project of the input it comes from ([`palisade_model::Object::project`]).
    pub project: Option<std::sync::Arc<str>>,
}

impl NetworkPolicy {
    pub fn display(&self) -> String {
        format!("NetworkPolicy {}/{}", self.namespace, self.name)
    }
}

/// A named container port of a workload's pods.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NamedPort {
    pub name: String,
    pub port: u16,
    pub protocol: Protocol,
}

/// A workload (or bare pod): its pods' labels and ports.
#[derive(Clone, Debug, PartialEq)]
pub struct NetWorkload {
    pub object: std::sync::Arc<ObjectRef>,
    pub namespace: String,
    pub labels: Vec<(String, String)>,
    pub ports: Vec<NamedPort>,
    pub source: Source,
    /// Where the pods ask for the node's network (`hostNetwork: true`): NetworkPolicies do not
    /// apply to them.
    pub host_network: Option<Source>,
    /// What controls these pods (the controller `ownerReference`: kind and name, in the same
    /// namespace), as a cluster dump holds both a Deployment and the ReplicaSet and pods it
    /// made. Shown as that owner when the input holds it ([`super::Network::shown_as`]).
    pub owner: Option<(String, String)>,
    /// Where the pods may run: `spec.nodeName` and `spec.nodeSelector` (for `nodes` peers,
    /// which hold host-network pods on the nodes they select).
    pub node_name: Option<String>,
    pub node_selector: Vec<(String, String)>,
    /// The containers' images (an Ingress controller is known by its image).
    pub images: Vec<String>,
}

/// A Node of the input: its labels (for `nodes` peers) and addresses (`status.addresses`).
#[derive(Clone, Debug, PartialEq)]
pub struct NetNode {
    pub name: String,
    pub labels: Vec<(String, String)>,
    pub addresses: Vec<std::net::IpAddr>,
}

pub(crate) fn node_of(object: &Object) -> Option<NetNode> {
    if (object.group(), object.kind()) != ("", "Node") {
        return None;
    }
    let addresses = object
        .root
        .get("status")
        .and_then(|s| s.get("addresses"))
        .map(Node::as_seq)
        .unwrap_or_default()
        .iter()
        .filter(|a| matches!(a.str_of("type"), Some("InternalIP" | "ExternalIP")))
        .filter_map(|a| a.str_of("address")?.parse().ok())
        .collect();
    Some(NetNode {
        name: object.reference.name.clone(),
        labels: labels_of(object.metadata().and_then(|m| m.get("labels"))),
        addresses,
    })
}

impl NetWorkload {
    /// The namespace of [`NetWorkload::stranger`].
    pub const STRANGER_NAMESPACE: &'static str = "palisade-any-namespace";

    /// A pod without labels in a namespace nobody has labelled: what "any pod" can do, and
    /// what a policy meant for everyone must catch.
    pub fn stranger() -> Self {
        Self::probe(Self::STRANGER_NAMESPACE)
    }

    /// A pod without labels or ports in `namespace`.
    pub fn probe(namespace: &str) -> Self {
        let reference = std::sync::Arc::new(ObjectRef {
            api_version: "v1".into(),
            kind: "Pod".into(),
            namespace: Some(namespace.to_string()),
            name: "any".into(),
        });
        NetWorkload {
            object: std::sync::Arc::clone(&reference),
            namespace: namespace.to_string(),
            labels: Vec::new(),
            ports: Vec::new(),
            source: Source {
                object: reference,
                path: FieldPath::root(),
                location: None,
                bootstrap: false,
            },
            host_network: None,
            owner: None,
            node_name: None,
            node_selector: Vec::new(),
            images: Vec::new(),
        }
    }

    pub fn id(&self) -> String {
        format!(
            "{}/{}/{}",
            self.namespace,
            self.object.kind.to_ascii_lowercase(),
            self.object.name
        )
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct NetNamespace {
    pub name: String,
    pub labels: Vec<(String, String)>,
    pub source: Option<Source>,
}

fn selector(node: Option<&Node>) -> Option<LabelSelector> {
    node.filter(|n| !n.is_null()).map(LabelSelector::from_node)
}

fn rules(object: &Object, key: &str, peer_key: &str) -> Vec<PolicyRule> {
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
            let peers = rule
                .get(peer_key)
                .map(Node::as_seq)
                .filter(|p| !p.is_empty())
                .map(|peers| {
                    peers
                        .iter()
                        .enumerate()
                        .map(|(j, peer)| Peer {
                            pod_selector: selector(peer.get("podSelector")),
                            namespace_selector: selector(peer.get("namespaceSelector")),
                            ip_block: peer.get("ipBlock").and_then(IpBlock::from_node),
                            source: Source::of(object, &path.key(peer_key).index(j), false),
                            path: path.key(peer_key).index(j),
                        })
                        .collect()
                });
            let ports = rule
                .get("ports")
                .map(Node::as_seq)
                .filter(|p| !p.is_empty())
                .map(|ports| {
                    ports
                        .iter()
                        .map(|p| PolicyPort {
                            protocol: p
                                .str_of("protocol")
                                .and_then(Protocol::parse)
                                .unwrap_or(Protocol::Tcp),
                            port: p.get("port").and_then(|port| match port.as_i64() {
                                Some(n) => u16::try_from(n).ok().map(PortRef::Number),
                                None => port.as_str().map(|s| PortRef::Name(s.to_string())),
                            }),
                            end_port: p
                                .get("endPort")
                                .and_then(Node::as_i64)
                                .and_then(|n| u16::try_from(n).ok()),
                        })
                        .collect()
                });
            PolicyRule {
                peers,
                ports,
                source: Source::of(object, &path, false),
                path,
            }
        })
        .collect()
}

pub(crate) fn policy_of(object: &Object) -> Option<NetworkPolicy> {
    if (object.group(), object.kind()) != ("networking.k8s.io", "NetworkPolicy") {
        return None;
    }
    let spec = object.root.get("spec");
    let pod_selector_node = spec.and_then(|s| s.get("podSelector"));
    let pod_selector = pod_selector_node
        .map(LabelSelector::from_node)
        .unwrap_or_default();
    let ingress = rules(object, "ingress", "from");
    let egress = rules(object, "egress", "to");
    let types: Option<Vec<&str>> = spec
        .and_then(|s| s.get("policyTypes"))
        .map(|t| t.as_seq().iter().filter_map(Node::as_str).collect());
    // Kubernetes defaults policyTypes to Ingress, plus Egress when egress rules exist.
    let (ingress_type, egress_type) = match &types {
        Some(types) if !types.is_empty() => (types.contains(&"Ingress"), types.contains(&"Egress")),
        _ => (true, !egress.is_empty()),
    };
    Some(NetworkPolicy {
        project: object.project().cloned(),
        namespace: crate::rbac::namespace_of(object),
        name: object.reference.name.clone(),
        selects_all: pod_selector.requirements.is_empty(),
        pod_selector,
        ingress_type,
        egress_type,
        ingress,
        egress,
        source: Source::of(
            object,
            &FieldPath::root().keys(&["spec", "podSelector"]),
            false,
        ),
    })
}

pub(crate) fn workload_of(object: &Object) -> Option<NetWorkload> {
    let pod = PodView::of(object)?;
    let labels = labels_of(pod.metadata.and_then(|m| m.get("labels")));
    let ports = pod
        .containers()
        .flat_map(|c| {
            c.node
                .get("ports")
                .map(Node::as_seq)
                .unwrap_or_default()
                .to_vec()
        })
        .filter_map(|p| {
            Some(NamedPort {
                name: p.str_of("name")?.to_string(),
                port: u16::try_from(p.get("containerPort")?.as_i64()?).ok()?,
                protocol: p
                    .str_of("protocol")
                    .and_then(Protocol::parse)
                    .unwrap_or(Protocol::Tcp),
            })
        })
        .collect();
    Some(NetWorkload {
        object: object.reference.clone(),
        namespace: crate::rbac::namespace_of(object),
        labels,
        ports,
        source: Source::of(object, &pod.metadata_path.key("labels"), false),
        host_network: pod
            .spec
            .flag("hostNetwork")
            .then(|| Source::of(object, &pod.spec_path.key("hostNetwork"), false)),
        owner: controller_of(object),
        node_name: pod.spec.str_of("nodeName").map(str::to_string),
        node_selector: labels_of(pod.spec.get("nodeSelector")),
        images: pod
            .containers()
            .filter_map(|c| c.node.str_of("image").map(str::to_string))
            .collect(),
    })
}

/// The controller among the object's `ownerReferences` (kind, name).
fn controller_of(object: &Object) -> Option<(String, String)> {
    object
        .metadata()?
        .get("ownerReferences")?
        .as_seq()
        .iter()
        .find(|owner| {
            owner
                .get("controller")
                .is_some_and(|c| c.as_bool() == Some(true))
        })
        .and_then(|owner| {
            Some((
                owner.str_of("kind")?.to_string(),
                owner.str_of("name")?.to_string(),
            ))
        })
}

pub(crate) fn namespace_of(object: &Object) -> Option<NetNamespace> {
    if (object.group(), object.kind()) != ("", "Namespace") {
        return None;
    }
    let mut labels = labels_of(object.metadata().and_then(|m| m.get("labels")));
    let name = object.reference.name.clone();
    if !labels
        .iter()
        .any(|(k, _)| k == "kubernetes.io/metadata.name")
    {
        labels.push(("kubernetes.io/metadata.name".into(), name.clone()));
    }
    Some(NetNamespace {
        name,
        labels,
        source: Some(Source::of(
            object,
            &FieldPath::root().key("metadata"),
            false,
        )),
    })
}

/// Where a Service port sends traffic on its pods: a number, or a container port's name,
/// resolved per pod.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TargetPort {
    Number(u16),
    Name(String),
}

/// One port of a Service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServicePort {
    pub name: Option<String>,
    pub port: u16,
    pub protocol: Protocol,
    pub target: TargetPort,
}

/// A Service, as far as reachability goes: which pods it sends to, and how its ports map.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NetService {
    pub namespace: String,
    pub name: String,
    /// `None` for a Service without a selector (its endpoints are managed by hand).
    pub selector: Option<LabelSelector>,
    pub ports: Vec<ServicePort>,
}

impl NetService {
    /// The port a client names: a number (the Service port) or a Service port's name, of
    /// `protocol` when given.
    pub fn port(&self, wanted: &str, protocol: Option<Protocol>) -> Option<&ServicePort> {
        let number = wanted.parse::<u16>().ok();
        self.ports.iter().find(|p| {
            let named = match number {
                Some(n) => p.port == n,
                None => p.name.as_deref() == Some(wanted),
            };
            named && protocol.is_none_or(|proto| proto == p.protocol)
        })
    }
}

impl ServicePort {
    /// The port this Service port reaches on `workload`'s pods: the number, or the container
    /// port of that name (`None` when the pods have none: the endpoint is not ready).
    pub fn target_on(&self, workload: &NetWorkload) -> Option<(Protocol, u16)> {
        match &self.target {
            TargetPort::Number(n) => Some((self.protocol, *n)),
            TargetPort::Name(name) => workload
                .ports
                .iter()
                .find(|p| &p.name == name && p.protocol == self.protocol)
                .map(|p| (p.protocol, p.port)),
        }
    }
}

pub(crate) fn service_of(object: &Object) -> Option<NetService> {
    if (object.group(), object.kind()) != ("", "Service") {
        return None;
    }
    let spec = object.root.get("spec");
    let selector = spec
        .and_then(|s| s.get("selector"))
        .filter(|s| !s.as_map().is_empty())
        .map(LabelSelector::from_map);
    let ports = spec
        .and_then(|s| s.get("ports"))
        .map(Node::as_seq)
        .unwrap_or_default()
        .iter()
        .filter_map(|p| {
            let port = u16::try_from(p.get("port")?.as_i64()?).ok()?;
            let protocol = p
                .str_of("protocol")
                .and_then(Protocol::parse)
                .unwrap_or(Protocol::Tcp);
            let target = match p.get("targetPort") {
                Some(t) => match t.as_i64() {
                    Some(n) => TargetPort::Number(u16::try_from(n).ok()?),
                    None => match t.as_str() {
                        Some(s) => match s.parse::<u16>() {
                            Ok(n) => TargetPort::Number(n),
                            Err(_) => TargetPort::Name(s.to_string()),
                        },
                        None => TargetPort::Number(port),
                    },
                },
                None => TargetPort::Number(port),
            };
            Some(ServicePort {
                name: p.str_of("name").map(str::to_string),
                port,
                protocol,
                target,
            })
        })
        .collect();
    Some(NetService {
        namespace: crate::rbac::namespace_of(object),
        name: object.reference.name.clone(),
        selector,
        ports,
    })
}
