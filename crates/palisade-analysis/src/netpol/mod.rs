//! NetworkPolicy, evaluated exactly as Kubernetes defines it.
//!
//! * A pod is isolated for ingress (egress) only if some policy of its namespace selects it and
//!   has that policy type; otherwise all traffic in that direction is allowed.
//! * `policyTypes` defaults to `Ingress`, plus `Egress` when the policy has egress rules.
//! * An absent or empty `from`/`to` allows every peer; absent or empty `ports` every port; an
//!   empty selector (`{}`) selects everything.
//! * `namespaceSelector` and `podSelector` in one peer must both match (AND); separate peers
//!   are alternatives (OR); a `podSelector` alone selects pods of the policy's own namespace.
//! * `ipBlock` matches addresses inside `cidr` and outside every `except`; it is meant for
//!   traffic from and to outside the cluster, so it never matches pods here.
//! * Ports match by number, by range (`endPort`) or by name (resolved against the destination
//!   pod's container ports); the protocol defaults to TCP.
//! * Policies are additive: traffic is allowed if any selecting policy allows it, and a
//!   connection needs both the source's egress and the destination's ingress.
//! * Namespace labels come from Namespace objects in the input, plus the automatic
//!   `kubernetes.io/metadata.name`; a namespace absent from the input is said to be.

mod model;
pub mod ports;

pub use model::{
    Cidr, IpBlock, NamedPort, NetNamespace, NetService, NetWorkload, NetworkPolicy, Peer,
    PolicyPort, PolicyRule, PortRef, Protocol, ServicePort, TargetPort,
};
use palisade_model::{FieldPath, Object};
pub use ports::{PortRange, PortSet};

/// One end of a connection.
#[derive(Clone, Copy, Debug)]
pub enum Endpoint<'n> {
    Workload(&'n NetWorkload),
    External(&'n Cidr),
}

/// Which direction of a connection a verdict is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    Ingress,
    Egress,
}

/// A policy rule that allowed part of a connection.
#[derive(Clone, Debug)]
pub struct Allowing {
    pub policy: String,
    pub rule: FieldPath,
    pub ports: PortSet,
}

/// The verdict for one direction (the source's egress, or the destination's ingress).
#[derive(Clone, Debug)]
pub struct Verdict {
    /// `false` when no policy selects the pod for this direction (all traffic allowed), or when
    /// the endpoint is outside the cluster (no policy applies).
    pub isolated: bool,
    /// The policies that select the pod for this direction.
    pub selecting: Vec<String>,
    pub allowing: Vec<Allowing>,
    pub ports: PortSet,
}

/// The answer to "can A reach B".
#[derive(Clone, Debug)]
pub struct Reach {
    pub egress: Verdict,
    pub ingress: Verdict,
    /// Ports allowed both ways.
    pub ports: PortSet,
}

/// Everything the NetworkPolicy engine reads from the input.
#[derive(Clone, Default, PartialEq)]
pub struct Network {
    pub policies: Vec<NetworkPolicy>,
    pub workloads: Vec<NetWorkload>,
    pub namespaces: Vec<NetNamespace>,
    /// Namespaced custom resources (`Prometheus monitoring/k8s`), by namespace, and the
    /// operators the input installs (by their CustomResourceDefinitions, in every namespace:
    /// `""`): they may create pods at runtime that the input does not hold.
    pub pod_makers: Vec<(String, String)>,
    /// Services: the pods they send to and how their ports map (`reach` to a Service).
    pub services: Vec<NetService>,
}

impl Network {
    /// Takes the object if it is a NetworkPolicy, a Namespace or carries pods.
    pub fn add(&mut self, object: &Object) {
        if let Some(policy) = model::policy_of(object) {
            self.policies.push(policy);
        } else if let Some(namespace) = model::namespace_of(object) {
            self.namespaces.push(namespace);
        } else if let Some(workload) = model::workload_of(object) {
            self.workloads.push(workload);
        } else if let Some(service) = model::service_of(object) {
            self.services.push(service);
        } else if object.kind() == "CustomResourceDefinition" {
            // An operator ships its CRDs; the pods it makes for them run wherever it is told.
            self.pod_makers.push((
                String::new(),
                format!("the operator of {}", object.reference.display_name()),
            ));
        } else if let Some(namespace) = &object.reference.namespace {
            let custom = palisade_model::kinds::status(object.group(), object.kind())
                == palisade_model::kinds::KindStatus::Custom;
            if custom {
                self.pod_makers
                    .push((namespace.clone(), object.reference.display_name()));
            }
        }
    }

    pub fn merge(&mut self, other: Network) {
        self.policies.extend(other.policies);
        self.workloads.extend(other.workloads);
        self.namespaces.extend(other.namespaces);
        self.pod_makers.extend(other.pod_makers);
        self.services.extend(other.services);
    }

    /// The Service `namespace/name`.
    pub fn service(&self, namespace: &str, name: &str) -> Option<&NetService> {
        self.services
            .iter()
            .find(|s| s.namespace == namespace && s.name == name)
    }

    /// The workloads (indexes into `workloads`) whose pods `service` sends to: those of its
    /// namespace whose labels carry every label of its selector.
    pub fn backends(&self, service: &NetService) -> Vec<usize> {
        let Some(selector) = &service.selector else {
            return Vec::new();
        };
        self.workloads
            .iter()
            .enumerate()
            .filter(|(_, w)| w.namespace == service.namespace && selector.matches(&w.labels))
            .map(|(i, _)| i)
            .collect()
    }

    /// A custom resource in `namespace` (any namespace when `None`) that an operator may
    /// create pods for: what makes "no pod in the input" unknowable.
    pub fn pod_maker_in(&self, namespace: Option<&str>) -> Option<&str> {
        self.pod_makers
            .iter()
            .find(|(ns, _)| ns.is_empty() || namespace.is_none_or(|n| n == ns))
            .map(|(_, name)| name.as_str())
    }

    /// The labels of namespace `name`, and whether the input holds it (otherwise only the
    /// automatic `kubernetes.io/metadata.name` label is known).
    pub fn namespace_labels(&self, name: &str) -> (Vec<(String, String)>, bool) {
        match self.namespaces.iter().find(|n| n.name == name) {
            Some(ns) => (ns.labels.clone(), true),
            None => (
                vec![("kubernetes.io/metadata.name".to_string(), name.to_string())],
                false,
            ),
        }
    }

    /// Finds a workload by `NS/KIND/NAME` (kind case-insensitive).
    pub fn workload(&self, id: &str) -> Option<&NetWorkload> {
        let mut parts = id.splitn(3, '/');
        let (ns, kind, name) = (parts.next()?, parts.next()?, parts.next()?);
        self.workloads.iter().find(|w| {
            w.namespace == ns && w.object.kind.eq_ignore_ascii_case(kind) && w.object.name == name
        })
    }

    /// Whether `peer` of a policy in `policy_ns` matches `endpoint`.
    pub fn peer_matches(&self, peer: &Peer, policy_ns: &str, endpoint: Endpoint<'_>) -> bool {
        match endpoint {
            Endpoint::External(cidr) => peer.ip_block.as_ref().is_some_and(|b| {
                b.cidr.contains(cidr) && !b.except.iter().any(|e| e.overlaps(cidr))
            }),
            Endpoint::Workload(w) => match (&peer.pod_selector, &peer.namespace_selector) {
                (None, None) => false,
                (Some(pods), None) => w.namespace == policy_ns && pods.matches(&w.labels),
                (pods, Some(namespaces)) => {
                    namespaces.matches(&self.namespace_labels(&w.namespace).0)
                        && pods.as_ref().is_none_or(|p| p.matches(&w.labels))
                }
            },
        }
    }

    /// The ports a rule allows toward `destination` (named ports resolve against its pods).
    fn rule_ports(rule: &PolicyRule, destination: Endpoint<'_>) -> PortSet {
        let Some(ports) = &rule.ports else {
            return PortSet::All;
        };
        let mut ranges = Vec::new();
        for port in ports {
            match &port.port {
                None => ranges.push(PortRange {
                    protocol: port.protocol,
                    start: 1,
                    end: u16::MAX,
                }),
                Some(PortRef::Number(n)) => ranges.push(PortRange {
                    protocol: port.protocol,
                    start: *n,
                    end: port.end_port.filter(|e| e >= n).unwrap_or(*n),
                }),
                Some(PortRef::Name(name)) => {
                    if let Endpoint::Workload(w) = destination {
                        for named in w
                            .ports
                            .iter()
                            .filter(|p| &p.name == name && p.protocol == port.protocol)
                        {
                            ranges.push(PortRange {
                                protocol: named.protocol,
                                start: named.port,
                                end: named.port,
                            });
                        }
                    }
                }
            }
        }
        PortSet::ranges(ranges)
    }

    /// The policies of `pod`'s namespace that select it for `direction`.
    pub fn selecting(&self, pod: &NetWorkload, direction: Direction) -> Vec<&NetworkPolicy> {
        self.policies
            .iter()
            .filter(|p| p.namespace == pod.namespace)
            .filter(|p| match direction {
                Direction::Ingress => p.ingress_type,
                Direction::Egress => p.egress_type,
            })
            .filter(|p| p.pod_selector.matches(&pod.labels))
            .collect()
    }

    /// The verdict for `pod`'s `direction` toward `peer` (the other end of the connection).
    pub fn verdict(&self, pod: &NetWorkload, direction: Direction, peer: Endpoint<'_>) -> Verdict {
        let selecting = self.selecting(pod, direction);
        self.verdict_among(pod, direction, peer, &selecting, true)
    }

    /// The verdict given the selecting policies; `explain` records the allowing rules.
    fn verdict_among(
        &self,
        pod: &NetWorkload,
        direction: Direction,
        peer: Endpoint<'_>,
        selecting: &[&NetworkPolicy],
        explain: bool,
    ) -> Verdict {
        if selecting.is_empty() {
            return Verdict {
                isolated: false,
                selecting: Vec::new(),
                allowing: Vec::new(),
                ports: PortSet::All,
            };
        }
        let destination = match direction {
            Direction::Ingress => Endpoint::Workload(pod),
            Direction::Egress => peer,
        };
        let mut ports = PortSet::none();
        let mut allowing = Vec::new();
        for policy in selecting {
            let rules = match direction {
                Direction::Ingress => &policy.ingress,
                Direction::Egress => &policy.egress,
            };
            for rule in rules {
                let peer_ok = rule.peers.as_ref().is_none_or(|peers| {
                    peers
                        .iter()
                        .any(|p| self.peer_matches(p, &policy.namespace, peer))
                });
                if !peer_ok {
                    continue;
                }
                let rule_ports = Self::rule_ports(rule, destination);
                if rule_ports.is_empty() {
                    continue;
                }
                ports = ports.union(&rule_ports);
                if explain {
                    allowing.push(Allowing {
                        policy: policy.display(),
                        rule: rule.path.clone(),
                        ports: rule_ports,
                    });
                }
            }
        }
        Verdict {
            isolated: true,
            selecting: if explain {
                selecting.iter().map(|p| p.display()).collect()
            } else {
                Vec::new()
            },
            allowing,
            ports,
        }
    }

    /// Which ports `from` may open to `to`: the source's egress and the destination's ingress.
    pub fn reach(&self, from: Endpoint<'_>, to: Endpoint<'_>) -> Reach {
        let outside = || Verdict {
            isolated: false,
            selecting: Vec::new(),
            allowing: Vec::new(),
            ports: PortSet::All,
        };
        let egress = match from {
            Endpoint::Workload(w) => self.verdict(w, Direction::Egress, to),
            Endpoint::External(_) => outside(),
        };
        let ingress = match to {
            Endpoint::Workload(w) => self.verdict(w, Direction::Ingress, from),
            Endpoint::External(_) => outside(),
        };
        let ports = egress.ports.intersect(&ingress.ports);
        Reach {
            egress,
            ingress,
            ports,
        }
    }

    /// Workloads grouped by everything policies can see (namespace, the labels that some
    /// selector mentions, named ports): each group reaches and is reached exactly like each of
    /// its members, so the matrix is computed per group.
    pub fn equivalence_classes(&self) -> Vec<Vec<usize>> {
        let mut keys: std::collections::BTreeSet<&str> = Default::default();
        for policy in &self.policies {
            keys.extend(policy.pod_selector.keys());
            for rule in policy.ingress.iter().chain(&policy.egress) {
                for peer in rule.peers.iter().flatten() {
                    if let Some(selector) = &peer.pod_selector {
                        keys.extend(selector.keys());
                    }
                }
            }
        }
        type ClassKey = (String, Vec<(String, String)>, Vec<(String, u16, Protocol)>);
        let mut keyed: std::collections::BTreeMap<ClassKey, Vec<usize>> = Default::default();
        for (i, w) in self.workloads.iter().enumerate() {
            let mut labels: Vec<(String, String)> = w
                .labels
                .iter()
                .filter(|(k, _)| keys.contains(k.as_str()))
                .cloned()
                .collect();
            labels.sort();
            let mut ports: Vec<(String, u16, Protocol)> = w
                .ports
                .iter()
                .map(|p| (p.name.clone(), p.port, p.protocol))
                .collect();
            ports.sort();
            keyed
                .entry((w.namespace.clone(), labels, ports))
                .or_default()
                .push(i);
        }
        keyed.into_values().collect()
    }

    /// The reachability matrix between equivalence classes: (from class, to class, ports) for
    /// every pair with at least one allowed port.
    pub fn class_matrix(&self, classes: &[Vec<usize>]) -> Vec<(usize, usize, PortSet)> {
        let representatives: Vec<&NetWorkload> =
            classes.iter().map(|c| &self.workloads[c[0]]).collect();
        let egress: Vec<Vec<&NetworkPolicy>> = representatives
            .iter()
            .map(|w| self.selecting(w, Direction::Egress))
            .collect();
        let ingress: Vec<Vec<&NetworkPolicy>> = representatives
            .iter()
            .map(|w| self.selecting(w, Direction::Ingress))
            .collect();
        let mut out = Vec::new();
        for (a, source) in representatives.iter().enumerate() {
            for (b, destination) in representatives.iter().enumerate() {
                let out_ports = self
                    .verdict_among(
                        source,
                        Direction::Egress,
                        Endpoint::Workload(destination),
                        &egress[a],
                        false,
                    )
                    .ports;
                if out_ports.is_empty() {
                    continue;
                }
                let in_ports = self
                    .verdict_among(
                        destination,
                        Direction::Ingress,
                        Endpoint::Workload(source),
                        &ingress[b],
                        false,
                    )
                    .ports;
                let ports = out_ports.intersect(&in_ports);
                if !ports.is_empty() {
                    out.push((a, b, ports));
                }
            }
        }
        out
    }
}
