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

pub mod admin;
pub mod cilium;
pub mod diff;
pub mod generate;
pub mod ingress;
mod matrix;
mod model;
mod outside;
pub mod ports;
mod unevaluated;
pub mod validate;

pub use admin::{Action, AdminPeer, AdminPolicy, AdminRule, AdminTier, Subject};
pub use cilium::{CiliumPeers, CiliumRule, CiliumSection};
pub use matrix::{GroupSelections, Groups};
pub use model::{
    Cidr, IpBlock, NamedPort, NetNamespace, NetNode, NetService, NetWorkload, NetworkPolicy, Peer,
    PolicyPort, PolicyRule, PortRef, Protocol, ServicePort, TargetPort,
};
pub use outside::OutsideRange;
use std::collections::HashMap;

use palisade_model::{FieldPath, Object};

use crate::selector::LabelSelector;
pub use ports::{PortRange, PortSet};
pub use unevaluated::unevaluated;

/// Whether an `ipBlock` (or Cilium CIDR set) holds the whole of `cidr`: inside the block and
/// outside every exception.
fn block_holds(block: &IpBlock, cidr: &Cidr) -> bool {
    block.cidr.contains(cidr) && !block.except.iter().any(|e| e.overlaps(cidr))
}

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

/// The tiers a connection is judged in, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Tier {
    /// AdminNetworkPolicies, by priority.
    Admin,
    /// NetworkPolicies, and Cilium's policies, which Cilium enforces in the same tier.
    NetworkPolicy,
    /// The BaselineAdminNetworkPolicy: what NetworkPolicies leave open.
    Baseline,
}

impl Tier {
    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Admin => "AdminNetworkPolicy",
            Tier::NetworkPolicy => "NetworkPolicy",
            Tier::Baseline => "BaselineAdminNetworkPolicy",
        }
    }
}

/// A policy rule that decided part of a connection: the ports it allowed, denied or passed on.
#[derive(Clone, Debug)]
pub struct Decision {
    pub tier: Tier,
    pub action: Action,
    pub policy: String,
    pub rule: FieldPath,
    /// The rule's `name` (AdminNetworkPolicy rules have one).
    pub rule_name: Option<String>,
    pub ports: PortSet,
    /// What the engine did not evaluate (layer 7 filters, FQDN peers).
    pub note: Option<String>,
}

/// The verdict for one direction (the source's egress, or the destination's ingress).
#[derive(Clone, Debug)]
pub struct Verdict {
    /// Whether a NetworkPolicy (or a Cilium policy) selects the pod for this direction: then
    /// only what they allow passes that tier. `false` as well for an end outside the cluster.
    pub isolated: bool,
    /// The NetworkPolicies and Cilium policies that select the pod for this direction.
    pub selecting: Vec<String>,
    /// Every rule that decided some ports, in evaluation order.
    pub decisions: Vec<Decision>,
    /// Ports no rule decided, allowed because nothing isolates the pod.
    pub open_by_default: PortSet,
    pub ports: PortSet,
}

impl Verdict {
    /// The rules that allowed some ports.
    pub fn allowing(&self) -> impl Iterator<Item = &Decision> {
        self.decisions.iter().filter(|d| d.action == Action::Allow)
    }

    fn outside() -> Self {
        Verdict {
            isolated: false,
            selecting: Vec::new(),
            decisions: Vec::new(),
            open_by_default: PortSet::All,
            ports: PortSet::All,
        }
    }
}

/// The answer to "can A reach B".
#[derive(Clone, Debug)]
pub struct Reach {
    pub egress: Verdict,
    pub ingress: Verdict,
    /// Ports allowed both ways.
    pub ports: PortSet,
}

/// One direction being judged, tier by tier.
struct Judging<'e> {
    ingress: bool,
    peer: Endpoint<'e>,
    /// Where named ports resolve.
    destination: Endpoint<'e>,
    allowed: PortSet,
    /// Ports no rule has decided yet.
    undecided: PortSet,
    /// Ports an AdminNetworkPolicy passed on to the NetworkPolicy tier.
    passed: PortSet,
    explain: bool,
    decisions: Vec<Decision>,
}

impl Judging<'_> {
    /// Keeps `decision` (named by `policy`) for the explanation, if it decided any port.
    fn record(&mut self, mut decision: Decision, policy: impl FnOnce() -> String) {
        if self.explain && !decision.ports.is_empty() {
            decision.policy = policy();
            self.decisions.push(decision);
        }
    }
}

/// How much of a verdict [`Network::judge`] explains.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Detail {
    /// The ports alone.
    Ports,
    /// The ports and the decisions that gave them.
    Decisions,
    /// The decisions, and the policies that select the pod ([`Verdict::selecting`]).
    Full,
}

/// The policies of every tier that apply to one pod in one direction.
#[derive(Clone, Debug, Default)]
pub struct Selected<'n> {
    /// AdminNetworkPolicies, by priority (then name: same priorities have no defined order).
    pub admin: Vec<&'n AdminPolicy>,
    pub policies: Vec<&'n NetworkPolicy>,
    pub cilium: Vec<&'n CiliumRule>,
    pub baseline: Vec<&'n AdminPolicy>,
    /// Whether the NetworkPolicy tier isolates the pod (a NetworkPolicy of that type, or a
    /// Cilium rule in default deny).
    pub isolated: bool,
}

/// Everything the NetworkPolicy engine reads from the input.
#[derive(Clone, Default, PartialEq)]
pub struct Network {
    pub policies: Vec<NetworkPolicy>,
    pub workloads: Vec<NetWorkload>,
    pub namespaces: Vec<NetNamespace>,
    /// Namespaced custom resources (`Prometheus monitoring/k8s`) and the operators the input
    /// installs (by their CustomResourceDefinitions): they may create pods at runtime that the
    /// input does not hold.
    pub pod_makers: Vec<PodMaker>,
    /// Services: the pods they send to and how their ports map (`reach` to a Service).
    pub services: Vec<NetService>,
    /// AdminNetworkPolicies and BaselineAdminNetworkPolicies.
    pub admin: Vec<AdminPolicy>,
    /// The rules of CiliumNetworkPolicies and CiliumClusterwideNetworkPolicies.
    pub cilium: Vec<CiliumRule>,
    /// Policies the API server would refuse, left out of the analysis as the cluster leaves
    /// them out.
    pub invalid: Vec<InvalidPolicy>,
    /// Nodes: administrator `nodes` peers select them by label, and hold their addresses and
    /// the host-network pods that run on them.
    pub nodes: Vec<NetNode>,
    /// Ingresses and HTTPRoutes: traffic from their controllers to the Services they name.
    pub routes: Vec<ingress::Route>,
    pub ingress_classes: Vec<ingress::IngressClass>,
    /// `namespaces` by name and `policies` by namespace, built on first use.
    index: Index,
}

/// Lookups asked once per workload (of tens of thousands, against thousands of policies): a
/// cache, equal whatever it holds, emptied whenever what it indexes changes.
#[derive(Default)]
struct Index {
    /// The first Namespace object of each name.
    namespaces: std::sync::OnceLock<foldhash::HashMap<String, usize>>,
    /// The NetworkPolicies of each namespace, in input order.
    policies: std::sync::OnceLock<foldhash::HashMap<String, Vec<usize>>>,
    /// The workloads of each namespace, in input order.
    workloads: std::sync::OnceLock<foldhash::HashMap<String, Vec<usize>>>,
    /// The first Service of each (namespace, name).
    services: std::sync::OnceLock<foldhash::HashMap<(String, String), usize>>,
    /// Pod makers: those of each namespace (custom resources), and those of each project.
    pod_makers: std::sync::OnceLock<PodMakerIndex>,
}

#[derive(Default)]
struct PodMakerIndex {
    in_namespace: foldhash::HashMap<String, Vec<usize>>,
    of_project: foldhash::HashMap<Option<std::sync::Arc<str>>, Vec<usize>>,
}

/// Positions of `items` by the key `of` gives each, in order.
fn positions<T>(items: &[T], of: impl Fn(&T) -> &str) -> foldhash::HashMap<String, Vec<usize>> {
    let mut index: foldhash::HashMap<String, Vec<usize>> = Default::default();
    for (i, item) in items.iter().enumerate() {
        index.entry(of(item).to_string()).or_default().push(i);
    }
    index
}

impl Clone for Index {
    fn clone(&self) -> Self {
        Index::default()
    }
}

impl PartialEq for Index {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

/// A policy the API server would refuse: where, and why.
#[derive(Clone, Debug, PartialEq)]
pub struct InvalidPolicy {
    /// `NetworkPolicy shop/web`.
    pub policy: String,
    /// At the first refused field.
    pub source: crate::rbac::Source,
    /// Every reason, `path: message`, joined.
    pub message: String,
}

impl InvalidPolicy {
    /// What leaving the policy out changes, for a warning.
    pub fn consequence(&self) -> &'static str {
        "the cluster would refuse it, so the analysis leaves it out: the pods it means to isolate or admit are judged without it"
    }
}

/// Something the input holds that may create pods at runtime.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PodMaker {
    /// The namespace of a custom resource; `None` for an operator (its CRD), which makes pods
    /// wherever it is told.
    pub namespace: Option<String>,
    /// The project of the input it comes from ([`palisade_model::Object::project`]).
    pub project: Option<std::sync::Arc<str>>,
    /// The file it was read from.
    pub file: Option<std::sync::Arc<str>>,
    /// Who makes the pods, for messages: `the operator of Prometheus monitoring/k8s`.
    pub maker: String,
}

impl PodMaker {
    /// `object` (a CRD, or a custom resource of `namespace`) as what may make pods.
    fn of(object: &Object, namespace: Option<String>) -> Self {
        PodMaker {
            namespace,
            project: object.project().cloned(),
            file: object
                .origin
                .as_ref()
                .map(|o| std::sync::Arc::clone(&o.file)),
            maker: format!("the operator of {}", object.reference.display_name()),
        }
    }
}

impl Network {
    /// Takes the object if it is a NetworkPolicy, a Namespace or carries pods.
    pub fn add(&mut self, object: &Object) {
        let problems = validate::problems(object);
        if let Some(first) = problems.first() {
            let policy = match &object.reference.namespace {
                Some(ns) => format!("{} {ns}/{}", object.kind(), object.reference.name),
                None => format!("{} {}", object.kind(), object.reference.name),
            };
            let message = problems
                .iter()
                .map(|p| format!("`{}`: {}", p.path.as_str(), p.message))
                .collect::<Vec<_>>()
                .join("; ");
            self.invalid.push(InvalidPolicy {
                policy,
                source: crate::rbac::Source::of(object, &first.path, false),
                message,
            });
            return;
        }
        if let Some(policy) = model::policy_of(object) {
            self.policies.push(policy);
            self.index = Index::default();
        } else if let Some(namespace) = model::namespace_of(object) {
            self.namespaces.push(namespace);
            self.index = Index::default();
        } else if let Some(workload) = model::workload_of(object) {
            self.workloads.push(workload);
            self.index = Index::default();
        } else if let Some(node) = model::node_of(object) {
            self.nodes.push(node);
        } else if let Some(route) = ingress::route_of(object) {
            self.routes.push(route);
        } else if let Some(class) = ingress::ingress_class_of(object) {
            self.ingress_classes.push(class);
        } else if let Some(service) = model::service_of(object) {
            self.services.push(service);
            self.index = Index::default();
        } else if let Some(admin) = admin::admin_policy_of(object) {
            self.admin.push(admin);
        } else if object.group() == "cilium.io" && object.kind().ends_with("NetworkPolicy") {
            self.cilium.extend(cilium::cilium_rules_of(object));
        } else if object.kind() == "CustomResourceDefinition" {
            // An operator ships its CRDs; the pods it makes for them run wherever it is told,
            // but only its own project's policies are written with them in mind.
            self.pod_makers.push(PodMaker::of(object, None));
            self.index = Index::default();
        } else if let Some(namespace) = &object.reference.namespace {
            let custom = palisade_model::kinds::status(object.group(), object.kind())
                == palisade_model::kinds::KindStatus::Custom;
            if custom {
                self.pod_makers
                    .push(PodMaker::of(object, Some(namespace.clone())));
                self.index = Index::default();
            }
        }
    }

    pub fn merge(&mut self, other: Network) {
        // Taken apart whole, so that a field added later cannot be forgotten here (and its
        // contents silently dropped from every parallel read).
        let Network {
            policies,
            workloads,
            namespaces,
            pod_makers,
            services,
            admin,
            cilium,
            invalid,
            nodes,
            routes,
            ingress_classes,
            index: _,
        } = other;
        self.nodes.extend(nodes);
        self.routes.extend(routes);
        self.ingress_classes.extend(ingress_classes);
        self.policies.extend(policies);
        self.workloads.extend(workloads);
        self.namespaces.extend(namespaces);
        self.index = Index::default();
        self.pod_makers.extend(pod_makers);
        self.services.extend(services);
        self.admin.extend(admin);
        self.cilium.extend(cilium);
        self.invalid.extend(invalid);
    }

    /// The Service `namespace/name`.
    pub fn service(&self, namespace: &str, name: &str) -> Option<&NetService> {
        let index = self.index.services.get_or_init(|| {
            let mut index = foldhash::HashMap::default();
            for (i, service) in self.services.iter().enumerate() {
                index
                    .entry((service.namespace.clone(), service.name.clone()))
                    .or_insert(i);
            }
            index
        });
        index
            .get(&(namespace.to_string(), name.to_string()))
            .and_then(|&i| self.services.get(i))
    }

    /// The workloads (indexes into `workloads`) whose pods `service` sends to: those of its
    /// namespace whose labels carry every label of its selector.
    pub fn backends(&self, service: &NetService) -> Vec<usize> {
        let Some(selector) = &service.selector else {
            return Vec::new();
        };
        // Through the namespace index: a Service picks pods of its own namespace only.
        self.index
            .workloads
            .get_or_init(|| positions(&self.workloads, |w| &w.namespace))
            .get(&service.namespace)
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .copied()
            .filter(|&i| {
                self.workloads
                    .get(i)
                    .is_some_and(|w| selector.matches(&w.labels))
            })
            .collect()
    }

    /// What may create pods at runtime for `policy`'s pods in `namespace` (any namespace when
    /// `None`): a custom resource in that namespace, else an operator the policy's own file
    /// installs, else one of its project; what makes "no pod in the input" unknowable. Another
    /// project's operator says nothing about this one's pods.
    pub fn pod_maker_for(&self, policy: &NetworkPolicy, namespace: Option<&str>) -> Option<&str> {
        // First a custom resource of the namespace (any project's), then, of the policy's own
        // project, an operator the policy's file installs, then any other that may make pods
        // there; the first of each kind in input order. Found through an index: asked for
        // every policy and peer, a scan of every maker was quadratic in large inputs.
        let index = self.index.pod_makers.get_or_init(|| {
            let mut index = PodMakerIndex::default();
            for (i, maker) in self.pod_makers.iter().enumerate() {
                if let Some(namespace) = &maker.namespace {
                    index
                        .in_namespace
                        .entry(namespace.clone())
                        .or_default()
                        .push(i);
                }
                index
                    .of_project
                    .entry(maker.project.clone())
                    .or_default()
                    .push(i);
            }
            index
        });
        let maker = |i: &usize| self.pod_makers.get(*i);
        if let Some(found) = namespace
            .and_then(|wanted| index.in_namespace.get(wanted))
            .and_then(|makers| makers.first())
            .and_then(maker)
        {
            return Some(&found.maker);
        }
        let file = policy.source.location.as_ref().map(|l| &l.file);
        let mut elsewhere = None;
        for found in index
            .of_project
            .get(&policy.project)
            .into_iter()
            .flatten()
            .filter_map(maker)
        {
            // A custom resource of another namespace makes no pods in this one.
            if found.namespace.is_some() && namespace.is_some() {
                continue;
            }
            if file.is_some() && found.file.as_ref() == file {
                return Some(&found.maker);
            }
            elsewhere.get_or_insert(&found.maker);
        }
        elsewhere.map(String::as_str)
    }

    /// The same answer as [`Self::pod_maker_for`], by asking every maker in turn: what the
    /// index must agree with.
    #[cfg(test)]
    fn pod_maker_for_by_scan(
        &self,
        policy: &NetworkPolicy,
        namespace: Option<&str>,
    ) -> Option<&str> {
        let file = policy.source.location.as_ref().map(|l| &l.file);
        self.pod_makers
            .iter()
            .filter_map(|maker| {
                let same_project = maker.project == policy.project;
                let rank = match (&maker.namespace, namespace) {
                    (Some(made_in), Some(wanted)) if made_in == wanted => 0,
                    _ if !same_project => return None,
                    (Some(_), Some(_)) => return None,
                    _ if file.is_some() && maker.file.as_ref() == file => 1,
                    _ => 2,
                };
                Some((rank, maker))
            })
            .min_by_key(|(rank, _)| *rank)
            .map(|(_, maker)| maker.maker.as_str())
    }

    /// The workloads of namespace `name`, in input order.
    pub fn workloads_in(&self, name: &str) -> impl Iterator<Item = &NetWorkload> {
        self.index
            .workloads
            .get_or_init(|| positions(&self.workloads, |w| &w.namespace))
            .get(name)
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .filter_map(|&i| self.workloads.get(i))
    }

    /// The Namespace object `name` of the input (the first, if it holds several).
    pub fn namespace(&self, name: &str) -> Option<&NetNamespace> {
        let index = self.index.namespaces.get_or_init(|| {
            let mut index = foldhash::HashMap::default();
            for (i, namespace) in self.namespaces.iter().enumerate() {
                index.entry(namespace.name.clone()).or_insert(i);
            }
            index
        });
        index.get(name).map(|&i| &self.namespaces[i])
    }

    /// The labels of namespace `name`, and whether the input holds it (otherwise only the
    /// automatic `kubernetes.io/metadata.name` label is known).
    pub fn namespace_labels(&self, name: &str) -> (Vec<(String, String)>, bool) {
        match self.namespace(name) {
            Some(ns) => (ns.labels.clone(), true),
            None => (
                vec![("kubernetes.io/metadata.name".to_string(), name.to_string())],
                false,
            ),
        }
    }

    /// Finds a workload by `NS/KIND/NAME` (kind case-insensitive).
    /// For each workload, the one it is shown as: itself, or the top of its chain of
    /// controllers that the input holds (a pod of a ReplicaSet of a Deployment is shown as the
    /// Deployment, whose template describes it). A workload is shown as itself when its
    /// controller is not in the input.
    pub fn shown_as(&self) -> Vec<usize> {
        let by_name: HashMap<(&str, &str, &str), usize> = self
            .workloads
            .iter()
            .enumerate()
            .map(|(i, w)| {
                (
                    (
                        w.namespace.as_str(),
                        w.object.kind.as_str(),
                        w.object.name.as_str(),
                    ),
                    i,
                )
            })
            .collect();
        (0..self.workloads.len())
            .map(|start| {
                let mut at = start;
                // Owner chains are short (pod, ReplicaSet, Deployment); the bound stops a cycle.
                for _ in 0..8 {
                    let workload = &self.workloads[at];
                    let Some((kind, name)) = &workload.owner else {
                        break;
                    };
                    match by_name.get(&(workload.namespace.as_str(), kind.as_str(), name.as_str()))
                    {
                        Some(&owner) if owner != at => at = owner,
                        _ => break,
                    }
                }
                at
            })
            .collect()
    }

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
            Endpoint::External(cidr) => {
                peer.ip_block.as_ref().is_some_and(|b| block_holds(b, cidr))
            }
            Endpoint::Workload(w) => match (&peer.pod_selector, &peer.namespace_selector) {
                (None, None) => false,
                (Some(pods), None) => w.namespace == policy_ns && pods.matches(&w.labels),
                (pods, Some(namespaces)) => {
                    self.namespace_selected(namespaces, &w.namespace)
                        && pods.as_ref().is_none_or(|p| p.matches(&w.labels))
                }
            },
        }
    }

    /// Whether the labels of namespace `name` (as far as the input knows them) match.
    fn namespace_selected(&self, selector: &LabelSelector, name: &str) -> bool {
        match self.namespace(name) {
            Some(ns) => selector.matches(&ns.labels),
            None => selector
                .matches_lookup(|key| (key == "kubernetes.io/metadata.name").then_some(name)),
        }
    }

    /// The label `key` of namespace `name`.
    fn namespace_label<'a>(&'a self, name: &'a str, key: &str) -> Option<&'a str> {
        match self.namespace(name) {
            Some(ns) => ns
                .labels
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.as_str()),
            None => (key == "kubernetes.io/metadata.name").then_some(name),
        }
    }

    /// Whether a subject or peer of an admin policy (namespace selector, and pod selector when
    /// given) holds `pod`. Host-network pods are never held.
    fn admin_holds(
        &self,
        namespaces: &LabelSelector,
        pods: Option<&LabelSelector>,
        pod: &NetWorkload,
    ) -> bool {
        pod.host_network.is_none()
            && self.namespace_selected(namespaces, &pod.namespace)
            && pods.is_none_or(|p| p.matches(&pod.labels))
    }

    /// Whether a `nodes` peer holds `pod`: a host-network pod is its node, so it is held when
    /// a node the selector picks may run it (its `nodeName`, else a node its `nodeSelector`
    /// admits). Every node (an empty selector) holds every host-network pod. Which node runs
    /// it unknown (no Node in the input it could run on), the peer fails closed: it matches
    /// for Deny and Pass, not for Allow.
    fn nodes_hold_pod(&self, selector: &LabelSelector, action: Action, pod: &NetWorkload) -> bool {
        if pod.host_network.is_none() {
            return false;
        }
        if selector.requirements.is_empty() {
            return true;
        }
        let could_run = |node: &NetNode| {
            pod.node_name.as_ref().is_none_or(|name| *name == node.name)
                && pod
                    .node_selector
                    .iter()
                    .all(|(k, v)| node.labels.iter().any(|(nk, nv)| nk == k && nv == v))
        };
        let candidates: Vec<&NetNode> = self.nodes.iter().filter(|n| could_run(n)).collect();
        if candidates.is_empty() {
            return action != Action::Allow;
        }
        candidates.iter().any(|n| selector.matches(&n.labels))
    }

    /// Whether `policy`'s subject holds `pod`.
    pub fn admin_subject_holds(&self, policy: &AdminPolicy, pod: &NetWorkload) -> bool {
        match &policy.subject {
            Subject::Namespaces(namespaces) => self.admin_holds(namespaces, None, pod),
            Subject::Pods { namespaces, pods } => self.admin_holds(namespaces, Some(pods), pod),
            Subject::Unknown => false,
        }
    }

    fn admin_peer_matches(&self, peer: &AdminPeer, action: Action, endpoint: Endpoint<'_>) -> bool {
        match (peer, endpoint) {
            // A field this version does not know: fail closed.
            (AdminPeer::Unknown, _) => action != Action::Allow,
            (AdminPeer::Namespaces(namespaces), Endpoint::Workload(w)) => {
                self.admin_holds(namespaces, None, w)
            }
            (AdminPeer::Pods { namespaces, pods }, Endpoint::Workload(w)) => {
                self.admin_holds(namespaces, Some(pods), w)
            }
            (AdminPeer::Networks(cidrs), Endpoint::External(cidr)) => {
                cidrs.iter().any(|c| c.contains(cidr))
            }
            (AdminPeer::Nodes(selector), Endpoint::Workload(w)) => {
                self.nodes_hold_pod(selector, action, w)
            }
            // A node's own address: the Nodes of the input with it, by their labels.
            (AdminPeer::Nodes(selector), Endpoint::External(cidr)) => self.nodes.iter().any(|n| {
                selector.matches(&n.labels)
                    && n.addresses.iter().any(|a| {
                        Cidr {
                            addr: *a,
                            prefix: if a.is_ipv4() { 32 } else { 128 },
                        }
                        .contains(cidr)
                    })
            }),
            // Pod addresses are not in the input; a network of every address holds them all.
            (AdminPeer::Networks(cidrs), Endpoint::Workload(_)) => {
                cidrs.iter().any(|c| c.prefix == 0)
            }
            _ => false,
        }
    }

    /// The labels Cilium sees on `pod`: its own, its namespace, and its namespace's labels.
    fn cilium_label<'a>(&'a self, pod: &'a NetWorkload, key: &str) -> Option<&'a str> {
        if key == cilium::NAMESPACE_LABEL {
            return Some(&pod.namespace);
        }
        if let Some(namespace_key) = key.strip_prefix(cilium::NAMESPACE_LABELS_PREFIX) {
            return self.namespace_label(&pod.namespace, namespace_key);
        }
        pod.labels
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    fn cilium_selects(&self, selector: &LabelSelector, pod: &NetWorkload) -> bool {
        selector.matches_lookup(|key| self.cilium_label(pod, key))
    }

    fn cilium_peer_matches(&self, peers: Option<&CiliumPeers>, endpoint: Endpoint<'_>) -> bool {
        let Some(peers) = peers else {
            return true;
        };
        let entity = |names: &[&str]| peers.entities.iter().any(|e| names.contains(&e.as_str()));
        match endpoint {
            Endpoint::Workload(w) => {
                entity(&["all", "cluster"])
                    || peers.endpoints.iter().any(|s| self.cilium_selects(s, w))
            }
            Endpoint::External(cidr) => {
                entity(&["all", "world", "world-ipv4", "world-ipv6"])
                    || peers.cidrs.iter().any(|b| block_holds(b, cidr))
            }
        }
    }

    /// The ports `ports` names toward `destination` (named ports resolve against its pods);
    /// `None` is every port.
    fn listed_ports(ports: Option<&[PolicyPort]>, destination: Endpoint<'_>) -> PortSet {
        let Some(ports) = ports else {
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

    /// The NetworkPolicies of namespace `name`, in input order.
    pub fn policies_in(&self, name: &str) -> impl Iterator<Item = &NetworkPolicy> {
        self.index
            .policies
            .get_or_init(|| positions(&self.policies, |p| &p.namespace))
            .get(name)
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .filter_map(|&i| self.policies.get(i))
    }

    /// The policies of `pod`'s namespace that select it for `direction`.
    pub fn selecting(&self, pod: &NetWorkload, direction: Direction) -> Vec<&NetworkPolicy> {
        self.policies_in(&pod.namespace)
            .filter(|p| match direction {
                Direction::Ingress => p.ingress_type,
                Direction::Egress => p.egress_type,
            })
            .filter(|p| p.pod_selector.matches(&pod.labels))
            .collect()
    }

    /// The policies of every tier that apply to `pod` in `direction`.
    pub fn selected(&self, pod: &NetWorkload, direction: Direction) -> Selected<'_> {
        let ingress = direction == Direction::Ingress;
        let admin_rules = |p: &AdminPolicy| {
            let rules = if ingress { &p.ingress } else { &p.egress };
            !rules.is_empty() && self.admin_subject_holds(p, pod)
        };
        let mut admin: Vec<&AdminPolicy> = self
            .admin
            .iter()
            .filter(|p| matches!(p.tier, AdminTier::Admin(_)) && admin_rules(p))
            .collect();
        admin.sort_by(|a, b| (a.tier, &a.name).cmp(&(b.tier, &b.name)));
        let mut baseline: Vec<&AdminPolicy> = self
            .admin
            .iter()
            .filter(|p| p.is_baseline() && admin_rules(p))
            .collect();
        baseline.sort_by(|a, b| (a.tier, &a.name).cmp(&(b.tier, &b.name)));
        let cilium: Vec<&CiliumRule> = self
            .cilium
            .iter()
            .filter(|r| {
                r.selector
                    .as_ref()
                    .is_some_and(|s| self.cilium_selects(s, pod))
            })
            .collect();
        let policies = self.selecting(pod, direction);
        let isolated = !policies.is_empty()
            || cilium.iter().any(|r| {
                if ingress {
                    r.default_deny_ingress
                } else {
                    r.default_deny_egress
                }
            });
        Selected {
            admin,
            policies,
            cilium,
            baseline,
            isolated,
        }
    }

    /// What isolates `pod` in `direction`, named: the NetworkPolicies (and Cilium rules) that
    /// select it for that direction, or else the administrator policies that leave a stranger
    /// (an unlabelled pod of an unlabelled namespace; for egress, the internet too) no port.
    /// Empty when its traffic in that direction is open by default.
    pub fn isolation(&self, pod: &NetWorkload, direction: Direction) -> Vec<String> {
        let selected = self.selected(pod, direction);
        if selected.isolated {
            let ingress = direction == Direction::Ingress;
            let mut names: Vec<String> = selected.policies.iter().map(|p| p.display()).collect();
            names.extend(
                selected
                    .cilium
                    .iter()
                    .filter(|r| {
                        if ingress {
                            r.default_deny_ingress
                        } else {
                            r.default_deny_egress
                        }
                    })
                    .map(|r| r.display()),
            );
            return names;
        }
        if selected.admin.is_empty() && selected.baseline.is_empty() {
            return Vec::new();
        }
        let stranger = NetWorkload::stranger();
        let internet = Cidr::parse("0.0.0.0/0");
        let mut peers = vec![Endpoint::Workload(&stranger)];
        if let (Direction::Egress, Some(internet)) = (direction, &internet) {
            peers.push(Endpoint::External(internet));
        }
        let mut names = Vec::new();
        for peer in peers {
            let verdict = self.judge(pod, direction, peer, &selected, Detail::Full);
            if !verdict.ports.is_empty() {
                return Vec::new();
            }
            names.extend(verdict.decisions.into_iter().map(|d| d.policy));
        }
        names.sort();
        names.dedup();
        names
    }

    /// The verdict for `pod`'s `direction` toward `peer` (the other end of the connection).
    pub fn verdict(&self, pod: &NetWorkload, direction: Direction, peer: Endpoint<'_>) -> Verdict {
        let selected = self.selected(pod, direction);
        self.judge(pod, direction, peer, &selected, Detail::Full)
    }

    /// Judges one direction through the tiers: AdminNetworkPolicy rules by priority (the first
    /// matching rule decides its ports; Pass hands them on), then the NetworkPolicy tier
    /// (NetworkPolicies and Cilium policies: if they isolate the pod, only what they allow,
    /// minus Cilium denies), then the BaselineAdminNetworkPolicy, then allowed.
    /// `detail` says how much of the verdict is explained.
    pub fn judge(
        &self,
        pod: &NetWorkload,
        direction: Direction,
        peer: Endpoint<'_>,
        selected: &Selected<'_>,
        detail: Detail,
    ) -> Verdict {
        let explain = detail != Detail::Ports;
        let ingress = direction == Direction::Ingress;
        let mut state = Judging {
            ingress,
            peer,
            destination: if ingress {
                Endpoint::Workload(pod)
            } else {
                peer
            },
            allowed: PortSet::none(),
            undecided: PortSet::All,
            passed: PortSet::none(),
            explain,
            decisions: Vec::new(),
        };
        self.judge_admin_tier(&selected.admin, Tier::Admin, &mut state);
        // What a tier passes goes on to the next: the NetworkPolicy tier after the admin
        // tier, the default (allowed) after the baseline tier.
        let passed = std::mem::replace(&mut state.passed, PortSet::none());
        state.undecided = state.undecided.union(&passed);
        self.judge_network_policy_tier(selected, &mut state);
        self.judge_admin_tier(&selected.baseline, Tier::Baseline, &mut state);
        let passed = std::mem::replace(&mut state.passed, PortSet::none());
        state.undecided = state.undecided.union(&passed);
        let open_by_default = std::mem::replace(&mut state.undecided, PortSet::none());
        let mut selecting = Vec::new();
        if detail == Detail::Full {
            selecting.extend(selected.policies.iter().map(|p| p.display()));
            selecting.extend(selected.cilium.iter().map(|r| r.display()));
        }
        Verdict {
            isolated: selected.isolated,
            selecting,
            decisions: state.decisions,
            ports: state.allowed.union(&open_by_default),
            open_by_default,
        }
    }

    /// An administrator tier: ordered rules, the first that matches decides its ports.
    fn judge_admin_tier(&self, policies: &[&AdminPolicy], tier: Tier, state: &mut Judging<'_>) {
        for policy in policies {
            let rules = if state.ingress {
                &policy.ingress
            } else {
                &policy.egress
            };
            for rule in rules {
                if state.undecided.is_empty() {
                    return;
                }
                if !rule
                    .peers
                    .iter()
                    .any(|p| self.admin_peer_matches(p, rule.action, state.peer))
                {
                    continue;
                }
                let listed = Self::listed_ports(rule.ports.as_deref(), state.destination);
                let ports = state.undecided.intersect(&listed);
                match rule.action {
                    Action::Allow => state.allowed = state.allowed.union(&ports),
                    Action::Pass => state.passed = state.passed.union(&ports),
                    Action::Deny => {}
                }
                state.undecided = state.undecided.subtract(&listed);
                state.record(
                    Decision {
                        tier,
                        action: rule.action,
                        policy: String::new(),
                        rule: rule.path.clone(),
                        rule_name: rule.name.clone(),
                        ports,
                        note: None,
                    },
                    || policy.display(),
                );
            }
        }
    }

    /// NetworkPolicies and Cilium policies: Cilium denies win; if they isolate the pod, only
    /// what some of them allow passes, and nothing is left to the baseline.
    fn judge_network_policy_tier(&self, selected: &Selected<'_>, state: &mut Judging<'_>) {
        if state.undecided.is_empty() {
            return;
        }
        let mut denied = PortSet::none();
        for rule in &selected.cilium {
            let denies = if state.ingress {
                &rule.ingress_deny
            } else {
                &rule.egress_deny
            };
            for section in denies {
                if self.cilium_peer_matches(section.peers.as_ref(), state.peer) {
                    let listed = Self::listed_ports(section.ports.as_deref(), state.destination);
                    let ports = state.undecided.intersect(&listed).subtract(&denied);
                    denied = denied.union(&listed);
                    state.record(
                        Decision {
                            tier: Tier::NetworkPolicy,
                            action: Action::Deny,
                            policy: String::new(),
                            rule: section.path.clone(),
                            rule_name: None,
                            ports,
                            note: None,
                        },
                        || rule.display(),
                    );
                }
            }
        }
        state.undecided = state.undecided.subtract(&denied);
        if !selected.isolated {
            return;
        }
        let remaining = std::mem::replace(&mut state.undecided, PortSet::none());
        for policy in &selected.policies {
            let rules = if state.ingress {
                &policy.ingress
            } else {
                &policy.egress
            };
            for rule in rules {
                let peer_ok = rule.peers.as_ref().is_none_or(|peers| {
                    peers
                        .iter()
                        .any(|p| self.peer_matches(p, &policy.namespace, state.peer))
                });
                if !peer_ok {
                    continue;
                }
                let ports = Self::listed_ports(rule.ports.as_deref(), state.destination)
                    .intersect(&remaining);
                state.allowed = state.allowed.union(&ports);
                state.record(
                    Decision {
                        tier: Tier::NetworkPolicy,
                        action: Action::Allow,
                        policy: String::new(),
                        rule: rule.path.clone(),
                        rule_name: None,
                        ports,
                        note: None,
                    },
                    || policy.display(),
                );
            }
        }
        for rule in &selected.cilium {
            let allows = if state.ingress {
                &rule.ingress
            } else {
                &rule.egress
            };
            for section in allows {
                if !self.cilium_peer_matches(section.peers.as_ref(), state.peer) {
                    continue;
                }
                let ports = Self::listed_ports(section.ports.as_deref(), state.destination)
                    .intersect(&remaining);
                state.allowed = state.allowed.union(&ports);
                let mut notes = Vec::new();
                if section.layer7 {
                    notes.push(
                        "layer 7 rules filter requests on these ports (not evaluated: counted as allowed)"
                            .to_string(),
                    );
                }
                if !section.unmodelled.is_empty() {
                    notes.push(format!("not evaluated: {}", section.unmodelled.join(", ")));
                }
                state.record(
                    Decision {
                        tier: Tier::NetworkPolicy,
                        action: Action::Allow,
                        policy: String::new(),
                        rule: section.path.clone(),
                        rule_name: None,
                        ports,
                        note: (!notes.is_empty()).then(|| notes.join("; ")),
                    },
                    || rule.display(),
                );
            }
        }
    }

    /// Which ports `from` may open to `to`: the source's egress and the destination's ingress.
    pub fn reach(&self, from: Endpoint<'_>, to: Endpoint<'_>) -> Reach {
        let egress = match from {
            Endpoint::Workload(w) => self.verdict(w, Direction::Egress, to),
            Endpoint::External(_) => Verdict::outside(),
        };
        let ingress = match to {
            Endpoint::Workload(w) => self.verdict(w, Direction::Ingress, from),
            Endpoint::External(_) => Verdict::outside(),
        };
        let ports = egress.ports.intersect(&ingress.ports);
        Reach {
            egress,
            ingress,
            ports,
        }
    }

    /// The pod label keys some policy's selector looks at: pods that differ only in other
    /// labels are judged alike.
    pub fn selector_keys(&self) -> std::collections::BTreeSet<&str> {
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
        for policy in &self.admin {
            if let Subject::Pods { pods, .. } = &policy.subject {
                keys.extend(pods.keys());
            }
            for rule in policy.ingress.iter().chain(&policy.egress) {
                for peer in &rule.peers {
                    if let AdminPeer::Pods { pods, .. } = peer {
                        keys.extend(pods.keys());
                    }
                }
            }
        }
        for rule in &self.cilium {
            keys.extend(rule.selector.iter().flat_map(LabelSelector::keys));
            for section in rule.sections() {
                for selector in section.peers.iter().flat_map(|p| &p.endpoints) {
                    keys.extend(selector.keys());
                }
            }
        }
        keys
    }
}

#[cfg(test)]
mod pod_maker_tests {
    use std::sync::Arc;

    use palisade_load::{load_text, Loaded};

    use super::Network;

    fn crd(name: &str) -> String {
        format!(
            "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {{name: {name}.example.com}}\n---\n"
        )
    }

    fn custom(namespace: &str, name: &str) -> String {
        format!("apiVersion: example.com/v1\nkind: Cluster\nmetadata: {{name: {name}, namespace: {namespace}}}\n---\n")
    }

    fn policy(namespace: &str, name: &str) -> String {
        format!(
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: {name}, namespace: {namespace}}}\nspec: {{podSelector: {{matchLabels: {{app: {name}}}}}}}\n---\n"
        )
    }

    /// Files of three projects (and of none), each with operators, custom resources and
    /// policies: the index answers as asking every maker in turn does, for every policy and
    /// every namespace (or none).
    #[test]
    fn the_index_finds_the_maker_a_scan_finds() {
        let files: &[(&str, Option<&str>, String)] = &[
            ("a/operator.yaml", Some("a"), crd("alpha") + &crd("beta")),
            (
                "a/app.yaml",
                Some("a"),
                custom("shop", "one") + &policy("shop", "web") + &policy("data", "db"),
            ),
            (
                "b/app.yaml",
                Some("b"),
                crd("gamma") + &policy("api", "api") + &custom("api", "two"),
            ),
            (
                "b/more.yaml",
                Some("b"),
                policy("shop", "cache") + &custom("data", "three"),
            ),
            (
                "c.yaml",
                None,
                crd("delta") + &policy("tools", "lone") + &custom("shop", "four"),
            ),
            ("d.yaml", None, policy("empty", "empty")),
            ("e/app.yaml", Some("e"), policy("tools", "solo")),
        ];
        let mut network = Network::default();
        for (file, project, text) in files {
            load_text(&Arc::from(*file), text, &mut |loaded| match loaded {
                Loaded::Object(mut object) => {
                    if let Some(project) = project {
                        object.place_in(&Arc::from(*project));
                    }
                    network.add(&object);
                }
                Loaded::Skipped => {}
                Loaded::Error(e) | Loaded::Warning(e) => panic!("{e}"),
            });
        }
        assert_eq!(network.pod_makers.len(), 8);
        let mut answered = 0;
        for policy in &network.policies {
            for namespace in [
                None,
                Some("shop"),
                Some("api"),
                Some("data"),
                Some("tools"),
                Some("empty"),
            ] {
                let indexed = network.pod_maker_for(policy, namespace);
                assert_eq!(
                    indexed,
                    network.pod_maker_for_by_scan(policy, namespace),
                    "{} in {namespace:?}",
                    policy.name
                );
                answered += usize::from(indexed.is_some());
            }
        }
        // Both kinds of answer are asked about.
        assert!(
            answered > 0 && answered < network.policies.len() * 6,
            "{answered}"
        );
    }
}
