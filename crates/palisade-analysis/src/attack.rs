//! Attack paths: how far someone on the internet gets. Each hop is an edge Palisade can prove
//! from the input, with the place that makes it hold:
//!
//! 1. the internet → a Service it can reach: `type: LoadBalancer` or `NodePort`,
//!    `externalIPs`, or an Ingress rule that routes to it;
//! 2. the Service → each workload it sends to (its selector), when the NetworkPolicy tiers let
//!    that traffic in: from every internet address for a Service the internet reaches
//!    directly, from any pod for one behind an Ingress (the ingress controller's pods are not
//!    in the input);
//! 3. the workload → its ServiceAccount, when the account's token is mounted into its pods
//!    (`automountServiceAccountToken`, the pod's over the account's, true unless set false);
//!    or → its node, when the pod breaks the baseline Pod Security level (privileged, host
//!    namespaces, hostPath);
//! 4. from there, the escalation graph of [`crate::rbac::paths`]: what the account (or the
//!    node's credentials and the tokens of the other pods on it) leads to, up to cluster-admin.
//!
//! Paths are found breadth-first through the escalation graph, so each is the shortest from
//! its exposed workload; they are listed shortest first.

use std::collections::{BTreeMap, BTreeSet};

use palisade_model::{FieldPath, Object, ObjectRef};

use crate::netpol::{Cidr, Endpoint, NetWorkload, Network};
use crate::rbac::paths::{Graph, Identity, Step};
use crate::rbac::{Inventory, Source, Subject, SubjectKind, Workload};
use crate::vulns::{ImageReport, Vulnerability};

/// How the internet reaches a Service.
#[derive(Clone, Debug, PartialEq)]
pub struct Exposure {
    pub namespace: String,
    pub service: String,
    /// `type LoadBalancer`, `type NodePort`, `externalIPs`, or `Ingress shop/web`.
    pub how: String,
    /// Through an Ingress (the traffic arrives from the ingress controller's pods).
    pub via_ingress: bool,
    pub source: Source,
}

/// The Services of the input the internet can reach, read object by object.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Exposures {
    pub exposures: Vec<Exposure>,
}

impl Exposures {
    /// Takes what exposes a Service from `object`: a Service's type and external IPs, an
    /// Ingress's backends (its default backend and every rule's paths).
    pub fn add(&mut self, object: &Object) {
        let namespace = crate::rbac::namespace_of(object);
        match (object.group(), object.kind()) {
            ("", "Service") => {
                let Some(spec) = object.root.get("spec") else {
                    return;
                };
                let kind = spec.str_of("type").unwrap_or("ClusterIP");
                if matches!(kind, "LoadBalancer" | "NodePort") {
                    self.push(
                        object,
                        &namespace,
                        &object.reference.name,
                        format!("type {kind}"),
                        FieldPath::root().key("spec").key("type"),
                        false,
                    );
                }
                if spec
                    .get("externalIPs")
                    .is_some_and(|ips| !ips.as_seq().is_empty())
                {
                    self.push(
                        object,
                        &namespace,
                        &object.reference.name,
                        "externalIPs".to_string(),
                        FieldPath::root().key("spec").key("externalIPs"),
                        false,
                    );
                }
            }
            ("networking.k8s.io" | "extensions", "Ingress") => {
                let how = format!("Ingress {namespace}/{}", object.reference.name);
                let spec_path = FieldPath::root().key("spec");
                let Some(spec) = object.root.get("spec") else {
                    return;
                };
                if let Some(service) = spec
                    .at(&["defaultBackend", "service", "name"])
                    .and_then(|n| n.as_str())
                {
                    let path = spec_path.key("defaultBackend");
                    self.push(object, &namespace, service, how.clone(), path, true);
                }
                for (r, rule) in spec
                    .get("rules")
                    .map(|r| r.as_seq())
                    .unwrap_or_default()
                    .iter()
                    .enumerate()
                {
                    for (p, route) in rule
                        .at(&["http", "paths"])
                        .map(|p| p.as_seq())
                        .unwrap_or_default()
                        .iter()
                        .enumerate()
                    {
                        if let Some(service) = route
                            .at(&["backend", "service", "name"])
                            .and_then(|n| n.as_str())
                        {
                            let path = spec_path
                                .key("rules")
                                .index(r)
                                .key("http")
                                .key("paths")
                                .index(p)
                                .key("backend");
                            self.push(object, &namespace, service, how.clone(), path, true);
                        }
                    }
                }
            }
            _ => {}
        }
    }

    fn push(
        &mut self,
        object: &Object,
        namespace: &str,
        service: &str,
        how: String,
        path: FieldPath,
        via_ingress: bool,
    ) {
        let exposure = Exposure {
            namespace: namespace.to_string(),
            service: service.to_string(),
            how,
            via_ingress,
            source: Source::of(object, &path, false),
        };
        // One Ingress routing several paths to one Service exposes it once.
        if !self.exposures.iter().any(|e| {
            e.namespace == exposure.namespace
                && e.service == exposure.service
                && e.how == exposure.how
        }) {
            self.exposures.push(exposure);
        }
    }
}

/// What a hop is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Edge {
    /// The internet reaches a Service.
    Exposed,
    /// The Service sends to a workload that the NetworkPolicy tiers let the traffic into.
    Reaches,
    /// The workload's pods hold its ServiceAccount's token.
    MountsToken,
    /// The workload's pods can take their node.
    EscapesToNode,
    /// A step of the escalation graph.
    Escalates,
    /// An image the workload runs has a vulnerability an attacker uses to run code in it.
    Exploits,
}

impl Edge {
    pub fn as_str(self) -> &'static str {
        match self {
            Edge::Exposed => "exposed",
            Edge::Reaches => "reaches",
            Edge::MountsToken => "mounts-token",
            Edge::EscapesToNode => "escapes-to-node",
            Edge::Escalates => "escalates",
            Edge::Exploits => "exploits",
        }
    }
}

/// One hop of a path: what is reached, why, and where the input says so.
#[derive(Clone, Debug)]
pub struct Hop {
    pub edge: Edge,
    /// What this hop reaches (`Service shop/web`, `Deployment shop/web`, `cluster-admin`).
    pub reached: String,
    pub explanation: String,
    pub source: Option<Source>,
}

/// A chain from the internet to the goal.
#[derive(Clone, Debug)]
pub struct AttackPath {
    pub to: Identity,
    pub hops: Vec<Hop>,
}

/// Every internet address at once: a NetworkPolicy that lets in only part of the internet
/// does not count as letting the internet in.
fn internet() -> Cidr {
    Cidr::parse("0.0.0.0/0").unwrap_or(Cidr {
        addr: std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED),
        prefix: 0,
    })
}

/// The goal of a search.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Goal {
    ClusterAdmin,
    Node,
}

impl Goal {
    fn identity(self) -> Identity {
        match self {
            Goal::ClusterAdmin => Identity::ClusterAdmin,
            Goal::Node => Identity::Node,
        }
    }
}

/// A workload as both analyses see it.
struct Entry<'a> {
    net: &'a NetWorkload,
    exposure: &'a Exposure,
    ports: String,
}

/// Where an attacker starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Start {
    /// Anyone on the internet.
    Internet,
    /// Code running in a workload's pods (`namespace`, kind, name), as after a compromise.
    Workload {
        namespace: String,
        kind: String,
        name: String,
    },
    /// A user, group or service account's credentials.
    Subject(Subject),
    /// Every workload running an image with a vulnerability that lets an attacker in
    /// (critical with a fix, or known exploited), by the vulnerability reports given.
    Vulnerable,
}

impl Start {
    pub fn display(&self) -> String {
        match self {
            Start::Internet => "the internet".to_string(),
            Start::Workload {
                namespace,
                kind,
                name,
            } => format!("{kind} {namespace}/{name}"),
            Start::Subject(subject) => subject.display(),
            Start::Vulnerable => "a vulnerable image".to_string(),
        }
    }
}

/// Every path from `start` to `goal`, shortest first (then by where it starts).
pub fn paths(
    inventory: &Inventory,
    network: &Network,
    exposures: &Exposures,
    reports: &[ImageReport],
    start: &Start,
    goal: Goal,
) -> Vec<AttackPath> {
    let graph = inventory.escalation_graph();
    let target = goal.identity();
    let mut found = match start {
        Start::Internet => {
            let entries = entries(network, exposures);
            let workloads = workloads_by_object(inventory);
            let prefixes: Vec<(&ObjectRef, Vec<Hop>)> = entries
                .iter()
                .map(|entry| {
                    let mut hops = entry_hops(entry);
                    // What the scanners found in what it runs: how the attacker gets in.
                    let way_in = workloads
                        .get(entry.net.object.as_ref())
                        .and_then(|w| way_in(w, reports));
                    if let (Some((image, vulnerability, _)), Some(reaches)) =
                        (way_in, hops.last_mut())
                    {
                        reaches.explanation.push_str(&format!(
                            "; it runs {image}, with {}",
                            vulnerability.describe()
                        ));
                    }
                    (entry.net.object.as_ref(), hops)
                })
                .collect();
            beyond_workloads(inventory, graph, goal, &prefixes)
        }
        Start::Vulnerable => {
            let starts: Vec<(&ObjectRef, Vec<Hop>)> = inventory
                .workloads
                .iter()
                .filter_map(|w| {
                    let (image, vulnerability, at) = way_in(w, reports)?;
                    let hop = Hop {
                        edge: Edge::Exploits,
                        reached: describe(&w.object),
                        explanation: format!(
                            "it runs {image}, with {}: whoever exploits it runs code in its pods",
                            vulnerability.describe()
                        ),
                        source: Some(at.clone()),
                    };
                    Some((w.object.as_ref(), vec![hop]))
                })
                .collect();
            beyond_workloads(inventory, graph, goal, &starts)
        }
        Start::Workload {
            namespace,
            kind,
            name,
        } => {
            let chosen: Vec<(&ObjectRef, Vec<Hop>)> = inventory
                .workloads
                .iter()
                .filter(|w| {
                    &w.namespace == namespace
                        && w.object.kind.eq_ignore_ascii_case(kind)
                        && &w.object.name == name
                })
                .map(|w| (w.object.as_ref(), Vec::new()))
                .collect();
            beyond_workloads(inventory, graph, goal, &chosen)
        }
        Start::Subject(subject) => graph
            .paths_to(&target, |s| s == subject)
            .into_iter()
            .map(|path| AttackPath {
                to: target.clone(),
                hops: path.steps.iter().map(escalation_hop).collect(),
            })
            .collect(),
    };
    // Keys made once per path, not twice per comparison (they copy two names each).
    found.sort_by_cached_key(|p| {
        (
            p.hops.len(),
            p.hops.get(1).map(|h| h.reached.clone()),
            p.hops.first().map(|h| h.reached.clone()),
        )
    });
    found
}

/// Every path from the internet to `goal`, shortest first (then by where it starts).
pub fn from_internet(
    inventory: &Inventory,
    network: &Network,
    exposures: &Exposures,
    goal: Goal,
) -> Vec<AttackPath> {
    paths(inventory, network, exposures, &[], &Start::Internet, goal)
}

/// A workload the internet's traffic gets into that runs an image with a vulnerability that
/// lets an attacker in: every finding on it is a step closer than the same finding elsewhere.
#[derive(Clone, Debug, PartialEq)]
pub struct ExposedVulnerable {
    pub workload: std::sync::Arc<ObjectRef>,
    /// `Service shop/web (type LoadBalancer) routes the internet to it, and it runs
    /// shop/web:1.4, with CVE-... (critical, fixed in ...)`.
    pub reason: String,
    /// The image field of the vulnerable container.
    pub at: Source,
}

/// Every exposed workload running a vulnerable image, by the reports given, in input order.
pub fn exposed_vulnerable(
    inventory: &Inventory,
    network: &Network,
    exposures: &Exposures,
    reports: &[ImageReport],
) -> Vec<ExposedVulnerable> {
    if reports.is_empty() {
        return Vec::new();
    }
    let workloads = workloads_by_object(inventory);
    let mut found: Vec<ExposedVulnerable> = Vec::new();
    for entry in entries(network, exposures) {
        let Some(workload) = workloads.get(entry.net.object.as_ref()) else {
            continue;
        };
        if found.iter().any(|f| f.workload == workload.object) {
            continue;
        }
        let Some((image, vulnerability, at)) = way_in(workload, reports) else {
            continue;
        };
        found.push(ExposedVulnerable {
            workload: workload.object.clone(),
            reason: format!(
                "Service {}/{} ({}) lets the internet in, and it runs {image}, with {}",
                entry.exposure.namespace,
                entry.exposure.service,
                entry.exposure.how,
                vulnerability.describe()
            ),
            at: at.clone(),
        });
    }
    found
}

fn workloads_by_object(inventory: &Inventory) -> foldhash::HashMap<&ObjectRef, &Workload> {
    inventory
        .workloads
        .iter()
        .map(|w| (w.object.as_ref(), w))
        .collect()
}

/// The first image of `workload` with a vulnerability that lets an attacker in, the worst
/// such vulnerability (known exploited first), and the image's field.
fn way_in<'w, 'r>(
    workload: &'w Workload,
    reports: &'r [ImageReport],
) -> Option<(&'w str, &'r Vulnerability, &'w Source)> {
    workload.images.iter().find_map(|(image, at)| {
        let report = crate::vulns::report_for(reports, image)?;
        let worst = report
            .vulnerabilities
            .iter()
            .filter(|v| v.is_entry())
            .max_by_key(|v| (v.known_exploited, v.severity == "critical", v.id.clone()))?;
        Some((image.as_str(), worst, at))
    })
}

/// The exposed workloads the internet's traffic gets into.
fn entries<'a>(network: &'a Network, exposures: &'a Exposures) -> Vec<Entry<'a>> {
    let internet = internet();
    let stranger = NetWorkload::stranger();
    let mut entries: Vec<Entry<'a>> = Vec::new();
    for exposure in &exposures.exposures {
        let Some(service) = network.service(&exposure.namespace, &exposure.service) else {
            continue;
        };
        for index in network.backends(service) {
            let Some(net) = network.workloads.get(index) else {
                continue;
            };
            let from = if exposure.via_ingress {
                Endpoint::Workload(&stranger)
            } else {
                Endpoint::External(&internet)
            };
            let reach = network.reach(from, Endpoint::Workload(net));
            if reach.ports.is_empty() {
                continue;
            }
            entries.push(Entry {
                net,
                exposure,
                ports: reach.ports.to_string(),
            });
        }
    }
    entries
}

/// Whether the pods of `workload` hold its account's token, and where the input says so.
fn mounted_token(inventory: &Inventory, workload: &Workload) -> Option<(Source, String)> {
    let account = inventory.service_account(&workload.namespace, &workload.service_account);
    match (
        &workload.automount,
        account.and_then(|a| a.automount.as_ref()),
    ) {
        (Some((pod, at)), _) => pod.then(|| {
            (
                at.clone(),
                "the pod sets automountServiceAccountToken: true".to_string(),
            )
        }),
        (None, Some((account_setting, at))) => account_setting.then(|| {
            (
                at.clone(),
                "its ServiceAccount sets automountServiceAccountToken: true".to_string(),
            )
        }),
        (None, None) => Some((
            workload.source.clone(),
            "nothing sets automountServiceAccountToken: false, so the token is mounted".to_string(),
        )),
    }
}

/// The paths onward from workloads an attacker runs code in (each with the hops that got
/// there): through the token their pods hold, or through their node.
fn beyond_workloads(
    inventory: &Inventory,
    graph: &Graph,
    goal: Goal,
    reached: &[(&ObjectRef, Vec<Hop>)],
) -> Vec<AttackPath> {
    let target = goal.identity();
    let workloads = workloads_by_object(inventory);
    let mut accounts: BTreeSet<Subject> = BTreeSet::new();
    let mut tokens: Vec<(usize, Subject, Source, String)> = Vec::new();
    let mut escapes: Vec<(usize, Source)> = Vec::new();
    for (i, (object, _)) in reached.iter().enumerate() {
        let Some(workload) = workloads.get(object) else {
            continue;
        };
        if workload.privileged {
            escapes.push((i, workload.spec.clone()));
        }
        if let Some((at, why)) = mounted_token(inventory, workload) {
            let subject = Subject {
                kind: SubjectKind::ServiceAccount,
                name: workload.service_account.clone(),
                namespace: Some(workload.namespace.clone()),
            };
            accounts.insert(subject.clone());
            tokens.push((i, subject, at, why));
        }
    }
    let escalations: BTreeMap<Subject, Vec<Step>> = graph
        .paths_to(&target, |s| accounts.contains(s))
        .into_iter()
        .map(|path| (path.start, path.steps))
        .collect();
    let from_node: Option<Vec<Step>> = match goal {
        Goal::Node => Some(Vec::new()),
        Goal::ClusterAdmin => graph.path_from(&Identity::Node, &target),
    };

    let mut paths = Vec::new();
    for (i, subject, at, why) in &tokens {
        let Some(steps) = escalations.get(subject) else {
            continue;
        };
        let mut hops = reached[*i].1.clone();
        hops.push(Hop {
            edge: Edge::MountsToken,
            reached: subject.display(),
            explanation: format!("its pods hold the account's token: {why}"),
            source: Some(at.clone()),
        });
        hops.extend(steps.iter().map(escalation_hop));
        paths.push(AttackPath {
            to: target.clone(),
            hops,
        });
    }
    if let Some(after_node) = &from_node {
        for (i, spec) in &escapes {
            let mut hops = reached[*i].1.clone();
            hops.push(Hop {
                edge: Edge::EscapesToNode,
                reached: "a node".to_string(),
                explanation: "its pods break the baseline Pod Security level (privileged, host namespaces or hostPath): a process in them is root on the node".to_string(),
                source: Some(spec.clone()),
            });
            hops.extend(after_node.iter().map(escalation_hop));
            paths.push(AttackPath {
                to: target.clone(),
                hops,
            });
        }
    }
    paths
}

fn describe(object: &ObjectRef) -> String {
    match &object.namespace {
        Some(ns) => format!("{} {ns}/{}", object.kind, object.name),
        None => format!("{} {}", object.kind, object.name),
    }
}

/// The first two hops: the internet to the Service, the Service to the workload.
fn entry_hops(entry: &Entry<'_>) -> Vec<Hop> {
    let exposure = entry.exposure;
    let from = if exposure.via_ingress {
        "any pod (the ingress controller's)"
    } else {
        "every internet address"
    };
    vec![
        Hop {
            edge: Edge::Exposed,
            reached: format!("Service {}/{}", exposure.namespace, exposure.service),
            explanation: format!("the internet reaches it through {}", exposure.how),
            source: Some(exposure.source.clone()),
        },
        Hop {
            edge: Edge::Reaches,
            reached: describe(&entry.net.object),
            explanation: format!(
                "the Service's selector picks its pods, and the NetworkPolicy tiers let {from} in on {}",
                entry.ports
            ),
            source: Some(entry.net.source.clone()),
        },
    ]
}

fn escalation_hop(step: &Step) -> Hop {
    Hop {
        edge: Edge::Escalates,
        reached: step.to.display(),
        explanation: format!("{} {}", step.from.display(), step.reason),
        source: step.granted_by.clone(),
    }
}
