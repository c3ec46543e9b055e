//! The reachability matrix at cluster scale, over groups of workloads that every policy treats
//! alike.
//!
//! Whether A reaches B is the egress of A toward B and the ingress of B from A. A's egress
//! depends only on the policies that select A for egress and on which of their peers B
//! matches (and B's named ports); B's ingress only on the policies selecting B for ingress and
//! on which of their peers A matches. So workloads are grouped twice: as sources, by the
//! egress policies selecting them and the ingress peers (of any policy) they match; as
//! destinations, by the ingress policies selecting them, the egress peers they match and their
//! named ports. One judgement per (source group, destination group) holds for every member.
//! Most workloads match no peer and few policies: a cluster of 20,000 pods gives a few
//! thousand groups, not 400 million pairs.

use std::collections::HashMap;

/// Source groups whose rows are judged at once: enough for every core, few enough that the
/// rows waiting to be handed on stay small.
const ROWS_AT_ONCE: usize = 64;

use super::{
    Detail, Direction, Endpoint, NetWorkload, Network, NetworkPolicy, Peer, PortSet, Protocol,
    Reach, Selected,
};

/// Workloads (indexes into [`Network::workloads`]) grouped as sources and as destinations.
/// The peers of every policy in one direction, numbered (see [`Network::numbered_peers`]).
#[derive(Default)]
struct NumberedPeers<'n> {
    /// Peers with a pod selector alone, by their policy's namespace.
    in_namespace: HashMap<&'n str, Vec<(u32, &'n Peer)>>,
    /// Peers with a namespace selector, and their policy.
    across_namespaces: Vec<(u32, &'n Peer, &'n NetworkPolicy)>,
    /// The number of the first peer of an administrator or Cilium policy.
    others_from: u32,
}

#[derive(Clone, Debug, Default)]
pub struct Groups {
    pub sources: Vec<Vec<usize>>,
    pub destinations: Vec<Vec<usize>>,
}

/// A workload's ports as `(name, port, protocol)`, sorted: part of what tells its class and
/// its destination group (named ports resolve per workload).
fn named_ports(workload: &NetWorkload) -> Vec<(&str, u16, Protocol)> {
    let mut ports: Vec<(&str, u16, Protocol)> = workload
        .ports
        .iter()
        .map(|p| (p.name.as_str(), p.port, p.protocol))
        .collect();
    ports.sort_unstable();
    ports
}

/// The policies selecting each group (see [`Network::group_selections`]).
pub struct GroupSelections<'n> {
    egress: Vec<Selected<'n>>,
    ingress: Vec<Selected<'n>>,
}

impl Groups {
    /// For each of `workloads` workloads, the group it is in (`usize::MAX`: none, as for a
    /// workload left out of the matrix).
    fn group_of(groups: &[Vec<usize>], workloads: usize) -> Vec<usize> {
        let mut group_of = vec![usize::MAX; workloads];
        for (g, members) in groups.iter().enumerate() {
            for &m in members {
                group_of[m] = g;
            }
        }
        group_of
    }

    /// The source group of each workload (see [`Self::group_of`]).
    pub fn source_of(&self, workloads: usize) -> Vec<usize> {
        Self::group_of(&self.sources, workloads)
    }

    /// The destination group of each workload.
    pub fn destination_of(&self, workloads: usize) -> Vec<usize> {
        Self::group_of(&self.destinations, workloads)
    }
}

/// A policy set as pointers: equal sets, same key.
fn selected_key(selected: &Selected<'_>) -> Vec<usize> {
    let mut key = vec![usize::from(selected.isolated)];
    let address = |p: *const ()| p as usize;
    key.extend(
        selected
            .admin
            .iter()
            .map(|p| address(std::ptr::from_ref(*p).cast())),
    );
    key.push(0);
    key.extend(
        selected
            .policies
            .iter()
            .map(|p| address(std::ptr::from_ref(*p).cast())),
    );
    key.push(0);
    key.extend(
        selected
            .cilium
            .iter()
            .map(|p| address(std::ptr::from_ref(*p).cast())),
    );
    key.push(0);
    key.extend(
        selected
            .baseline
            .iter()
            .map(|p| address(std::ptr::from_ref(*p).cast())),
    );
    key
}

impl Network {
    /// The peers of one direction, numbered as [`Self::peers_matched`] numbers them: a
    /// NetworkPolicy peer that names only a pod selector picks pods of its policy's namespace
    /// alone, so those are filed by namespace and a workload is held against its own
    /// namespace's only (held against every peer, a large input made grouping quadratic).
    fn numbered_peers(&self, direction: Direction) -> NumberedPeers<'_> {
        let ingress = direction == Direction::Ingress;
        let mut numbered = NumberedPeers::default();
        let mut number = 0u32;
        for policy in &self.policies {
            let rules = if ingress {
                &policy.ingress
            } else {
                &policy.egress
            };
            for peer in rules.iter().flat_map(|r| r.peers.iter().flatten()) {
                match (&peer.pod_selector, &peer.namespace_selector) {
                    // An address block: never a workload.
                    (None, None) => {}
                    (Some(_), None) => numbered
                        .in_namespace
                        .entry(policy.namespace.as_str())
                        .or_default()
                        .push((number, peer)),
                    (_, Some(_)) => numbered.across_namespaces.push((number, peer, policy)),
                }
                number += 1;
            }
        }
        numbered.others_from = number;
        numbered
    }

    /// The numbers of the peers (of every policy, in one direction) that `endpoint` matches.
    fn peers_matched(
        &self,
        direction: Direction,
        numbered: &NumberedPeers<'_>,
        endpoint: Endpoint<'_>,
    ) -> Vec<u32> {
        let ingress = direction == Direction::Ingress;
        let mut matched = Vec::new();
        if let Endpoint::Workload(w) = endpoint {
            for &(number, peer) in numbered
                .in_namespace
                .get(w.namespace.as_str())
                .map(Vec::as_slice)
                .unwrap_or_default()
            {
                if self.peer_matches(peer, &w.namespace, endpoint) {
                    matched.push(number);
                }
            }
        }
        for &(number, peer, policy) in &numbered.across_namespaces {
            if self.peer_matches(peer, &policy.namespace, endpoint) {
                matched.push(number);
            }
        }
        let mut number = numbered.others_from;
        let mut note = |hit: bool| {
            if hit {
                matched.push(number);
            }
            number += 1;
        };
        for policy in &self.admin {
            let rules = if ingress {
                &policy.ingress
            } else {
                &policy.egress
            };
            for rule in rules {
                for peer in &rule.peers {
                    note(self.admin_peer_matches(peer, rule.action, endpoint));
                }
            }
        }
        for rule in &self.cilium {
            let sections = if ingress {
                rule.ingress.iter().chain(&rule.ingress_deny)
            } else {
                rule.egress.iter().chain(&rule.egress_deny)
            };
            for section in sections {
                note(self.cilium_peer_matches(section.peers.as_ref(), endpoint));
            }
        }
        matched.sort_unstable();
        matched
    }

    /// Groups `members` (indexes into `workloads`) as sources and as destinations: members of
    /// one group are judged alike by every policy of the input.
    pub fn matrix_groups(&self, members: &[usize]) -> Groups {
        type SourceKey = (Vec<usize>, Vec<u32>);
        type DestinationKey<'n> = (Vec<usize>, Vec<u32>, Vec<(&'n str, u16, Protocol)>);
        let mut sources: HashMap<SourceKey, usize> = HashMap::new();
        let mut destinations: HashMap<DestinationKey<'_>, usize> = HashMap::new();
        let mut groups = Groups::default();
        // Workloads with the same namespace, selector-visible labels, named ports and network
        // have the same keys: compute them once per such class.
        let keys = self.selector_keys();
        let (ingress_peers, egress_peers) = (
            self.numbered_peers(Direction::Ingress),
            self.numbered_peers(Direction::Egress),
        );
        type ClassKey<'a> = (
            &'a str,
            Vec<(&'a str, &'a str)>,
            Vec<(&'a str, u16, Protocol)>,
            bool,
        );
        // Each member's class, the classes numbered in order of first member.
        let mut classes: HashMap<ClassKey<'_>, usize> = HashMap::new();
        let mut firsts: Vec<usize> = Vec::new();
        let class_of: Vec<usize> = members
            .iter()
            .map(|&i| {
                let w = &self.workloads[i];
                let mut labels: Vec<(&str, &str)> = w
                    .labels
                    .iter()
                    .filter(|(k, _)| keys.contains(k.as_str()))
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect();
                labels.sort_unstable();
                let class = (
                    w.namespace.as_str(),
                    labels,
                    named_ports(w),
                    w.host_network.is_some(),
                );
                *classes.entry(class).or_insert_with(|| {
                    firsts.push(i);
                    firsts.len() - 1
                })
            })
            .collect();
        // What each class selects and is selected by, judged for its first member on every
        // core: thousands of classes made this a long stretch on one.
        use rayon::prelude::*;
        let class_keys: Vec<(SourceKey, DestinationKey)> = firsts
            .par_iter()
            .map(|&i| {
                let w = &self.workloads[i];
                let source_key = (
                    selected_key(&self.selected(w, Direction::Egress)),
                    self.peers_matched(Direction::Ingress, &ingress_peers, Endpoint::Workload(w)),
                );
                let destination_key = (
                    selected_key(&self.selected(w, Direction::Ingress)),
                    self.peers_matched(Direction::Egress, &egress_peers, Endpoint::Workload(w)),
                    named_ports(w),
                );
                (source_key, destination_key)
            })
            .collect();
        // Groups numbered in order of first member, as classes are.
        let mut group_of_class: Vec<(usize, usize)> = Vec::with_capacity(class_keys.len());
        for (source_key, destination_key) in class_keys {
            let next = sources.len();
            let source = *sources.entry(source_key).or_insert(next);
            if source == groups.sources.len() {
                groups.sources.push(Vec::new());
            }
            let next = destinations.len();
            let destination = *destinations.entry(destination_key).or_insert(next);
            if destination == groups.destinations.len() {
                groups.destinations.push(Vec::new());
            }
            group_of_class.push((source, destination));
        }
        for (&i, &class) in members.iter().zip(&class_of) {
            let (source, destination) = group_of_class[class];
            groups.sources[source].push(i);
            groups.destinations[destination].push(i);
        }
        groups
    }

    /// The policies selecting each group's first member: each source group's for egress, each
    /// destination group's for ingress (what every member of the group shares).
    pub fn group_selections(&self, groups: &Groups) -> GroupSelections<'_> {
        use rayon::prelude::*;
        let of = |list: &Vec<Vec<usize>>, direction: Direction| -> Vec<Selected<'_>> {
            list.par_iter()
                .map(|members| self.selected(&self.workloads[members[0]], direction))
                .collect()
        };
        GroupSelections {
            egress: of(&groups.sources, Direction::Egress),
            ingress: of(&groups.destinations, Direction::Ingress),
        }
    }

    /// Why source group `a` reaches destination group `b`: both directions judged for their
    /// first members, with the deciding rules (what [`Network::reach`] says of those two,
    /// without selecting their policies again, and without the list of them: each
    /// `Verdict::selecting` is empty).
    pub fn group_reach(
        &self,
        groups: &Groups,
        selections: &GroupSelections<'_>,
        a: usize,
        b: usize,
    ) -> Reach {
        let source = &self.workloads[groups.sources[a][0]];
        let destination = &self.workloads[groups.destinations[b][0]];
        let egress = self.judge(
            source,
            Direction::Egress,
            Endpoint::Workload(destination),
            &selections.egress[a],
            Detail::Decisions,
        );
        let ingress = self.judge(
            destination,
            Direction::Ingress,
            Endpoint::Workload(source),
            &selections.ingress[b],
            Detail::Decisions,
        );
        let ports = egress.ports.intersect(&ingress.ports);
        Reach {
            egress,
            ingress,
            ports,
        }
    }

    /// Calls `found` with every (source group, destination group) pair that some port
    /// connects, in group order. Holds the connected pairs of a batch of [`ROWS_AT_ONCE`]
    /// source groups.
    pub fn for_each_group_pair(
        &self,
        groups: &Groups,
        selections: &GroupSelections<'_>,
        mut found: impl FnMut(usize, usize, PortSet),
    ) {
        let representative = |members: &Vec<usize>| &self.workloads[members[0]];
        let sources: Vec<&NetWorkload> = groups.sources.iter().map(representative).collect();
        let destinations: Vec<&NetWorkload> =
            groups.destinations.iter().map(representative).collect();
        let (egress, ingress) = (&selections.egress, &selections.ingress);
        // Nothing selects it: open whatever the other end is.
        let open = |s: &Selected<'_>| {
            !s.isolated && s.admin.is_empty() && s.cilium.is_empty() && s.baseline.is_empty()
        };
        // One source's row: the destinations its traffic reaches, with the ports.
        let row = |a: usize| -> Vec<(usize, PortSet)> {
            let source = sources[a];
            let source_open = open(&egress[a]);
            let mut reached = Vec::new();
            for (b, destination) in destinations.iter().enumerate() {
                let out_ports = if source_open {
                    PortSet::All
                } else {
                    self.judge(
                        source,
                        Direction::Egress,
                        Endpoint::Workload(destination),
                        &egress[a],
                        Detail::Ports,
                    )
                    .ports
                };
                if out_ports.is_empty() {
                    continue;
                }
                let in_ports = if open(&ingress[b]) {
                    PortSet::All
                } else {
                    self.judge(
                        destination,
                        Direction::Ingress,
                        Endpoint::Workload(source),
                        &ingress[b],
                        Detail::Ports,
                    )
                    .ports
                };
                let ports = out_ports.intersect(&in_ports);
                if !ports.is_empty() {
                    reached.push((b, ports));
                }
            }
            reached
        };
        // Rows are judged a batch at a time on every core and handed on in order: a cluster
        // dump's thousands of groups made this the longest stretch on one core.
        use rayon::prelude::*;
        for batch in (0..sources.len()).collect::<Vec<_>>().chunks(ROWS_AT_ONCE) {
            let rows: Vec<Vec<(usize, PortSet)>> = batch.par_iter().map(|&a| row(a)).collect();
            for (&a, reached) in batch.iter().zip(rows) {
                for (b, ports) in reached {
                    found(a, b, ports);
                }
            }
        }
    }
}
