//! What changed in connectivity between two versions of an input: the workload pairs and the
//! outside address ranges whose allowed ports differ, with what allows them now (for what
//! opened) and what allowed them before (for what closed). Workloads are matched by
//! `NS/KIND/NAME`; pods a workload of the input controls are that workload.

use std::collections::{BTreeMap, BTreeSet};

use super::outside::adjacent;
use super::{Direction, Endpoint, NetWorkload, Network, OutsideRange, PortSet, Verdict};

/// One end of a changed connection.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum End {
    Workload(String),
    /// Outside addresses, as [`OutsideRange::label`] writes them.
    Outside(String),
}

impl std::fmt::Display for End {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            End::Workload(id) | End::Outside(id) => f.write_str(id),
        }
    }
}

/// A connection whose allowed ports changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    pub from: End,
    pub to: End,
    /// Ports allowed now and not before.
    pub opened: PortSet,
    /// Ports allowed before and not now.
    pub closed: PortSet,
    /// What allows the opened ports now, and what allowed the closed ones before: policy
    /// rules ("NetworkPolicy ns/name /spec/ingress/0"), or that nothing isolated an end.
    pub opened_by: Vec<String>,
    pub closed_by: Vec<String>,
}

impl Change {
    /// The change between `ends` whose ports went from `before` to `after`, with the reasons
    /// each version's reach (`was`, `is`) gives.
    fn of(
        (from, to): (End, End),
        (was, is): (Option<&super::Reach>, Option<&super::Reach>),
        (before, after): (&PortSet, &PortSet),
    ) -> Change {
        let opened = after.subtract(before);
        let closed = before.subtract(after);
        Change {
            opened_by: reasons(is, was, &opened, (&from, &to)),
            closed_by: reasons(was, is, &closed, (&from, &to)),
            from,
            to,
            opened,
            closed,
        }
    }
}

/// The workloads each version shows (pods under their controllers), by id.
fn shown(network: &Network) -> BTreeMap<String, &NetWorkload> {
    let shown_as = network.shown_as();
    network
        .workloads
        .iter()
        .enumerate()
        .filter(|(i, _)| shown_as[*i] == *i)
        .map(|(_, w)| (w.id(), w))
        .collect()
}

/// What in `verdict` allows some of `ports`: the rules, or that nothing isolates `end`'s
/// `direction` (it is open by default).
fn allowing(verdict: &Verdict, ports: &PortSet, end: &str, direction: &str) -> Vec<String> {
    let mut by: Vec<String> = verdict
        .allowing()
        .filter(|d| !d.ports.intersect(ports).is_empty())
        .map(|d| format!("{} {}", d.policy, d.rule))
        .collect();
    if !verdict.open_by_default.intersect(ports).is_empty() {
        by.push(format!("nothing isolates the {direction} of {end}"));
    }
    by
}

/// Why `ports` are allowed in `now` and not in `then`: what allows them on each side of the
/// connection whose verdict on them changed (the side that did not change is no reason).
fn reasons(
    now: Option<&super::Reach>,
    then: Option<&super::Reach>,
    ports: &PortSet,
    (from, to): (&End, &End),
) -> Vec<String> {
    let Some(now) = now else {
        return Vec::new();
    };
    if ports.is_empty() {
        return Vec::new();
    }
    let changed = |side: fn(&super::Reach) -> &Verdict| {
        then.is_none_or(|then| {
            side(then).ports.intersect(ports) != side(now).ports.intersect(ports)
        })
    };
    let mut by = Vec::new();
    if let End::Workload(id) = from {
        if changed(|r| &r.egress) {
            by.extend(allowing(&now.egress, ports, id, "egress"));
        }
    }
    if let End::Workload(id) = to {
        if changed(|r| &r.ingress) {
            by.extend(allowing(&now.ingress, ports, id, "ingress"));
        }
    }
    by.sort();
    by.dedup();
    by
}

/// The changes from `old` to `new`, workload pairs first (by source, then destination), then
/// outside ranges per workload.
pub fn changes(old: &Network, new: &Network) -> Vec<Change> {
    let (old_side, new_side) = (shown(old), shown(new));
    let ids: BTreeSet<&String> = old_side.keys().chain(new_side.keys()).collect();
    let mut changes = Vec::new();
    for from in &ids {
        for to in &ids {
            if from == to {
                continue;
            }
            let reach = |side: &BTreeMap<String, &NetWorkload>, network: &Network| {
                let (a, b) = (side.get(*from)?, side.get(*to)?);
                Some(network.reach(Endpoint::Workload(a), Endpoint::Workload(b)))
            };
            let (was, is) = (reach(&old_side, old), reach(&new_side, new));
            let ports =
                |r: &Option<super::Reach>| r.as_ref().map_or(PortSet::none(), |r| r.ports.clone());
            let (was_ports, is_ports) = (ports(&was), ports(&is));
            if was_ports == is_ports {
                continue;
            }
            let ends = (End::Workload((*from).clone()), End::Workload((*to).clone()));
            changes.push(Change::of(
                ends,
                (was.as_ref(), is.as_ref()),
                (&was_ports, &is_ports),
            ));
        }
    }
    // Outside: both versions judged on the cuts either draws, piece by piece.
    let mut cuts = old.address_cuts();
    for (mine, theirs) in cuts.iter_mut().zip(new.address_cuts()) {
        mine.extend(theirs);
    }
    for id in &ids {
        for direction in [Direction::Egress, Direction::Ingress] {
            let pieces = |side: &BTreeMap<String, &NetWorkload>, network: &Network| {
                side.get(*id)
                    .map(|w| network.outside_pieces(w, direction, &cuts))
            };
            let (was, is) = (pieces(&old_side, old), pieces(&new_side, new));
            let count = was.as_ref().or(is.as_ref()).map_or(0, Vec::len);
            // (range, ports before, ports after), joined where both agree.
            let mut runs: Vec<(OutsideRange, PortSet, PortSet)> = Vec::new();
            for i in 0..count {
                let piece = |p: &Option<Vec<OutsideRange>>| {
                    p.as_ref().and_then(|p| p.get(i)).map(|r| r.ports.clone())
                };
                let Some(range) = was.as_ref().or(is.as_ref()).and_then(|p| p.get(i)) else {
                    continue;
                };
                let before = piece(&was).unwrap_or_else(PortSet::none);
                let after = piece(&is).unwrap_or_else(PortSet::none);
                match runs.last_mut() {
                    Some((run, b, a))
                        if *b == before && *a == after && adjacent(&run.last, &range.first) =>
                    {
                        run.last = range.last;
                    }
                    _ => runs.push((range.clone(), before, after)),
                }
            }
            for (range, before, after) in runs {
                if before == after {
                    continue;
                }
                let workload = End::Workload((*id).clone());
                let outside = End::Outside(range.label());
                let (from, to) = match direction {
                    Direction::Egress => (workload, outside),
                    Direction::Ingress => (outside, workload),
                };
                let probe = range.blocks().into_iter().next();
                let reach = |side: &BTreeMap<String, &NetWorkload>, network: &Network| {
                    let (w, cidr) = (side.get(*id)?, probe.as_ref()?);
                    Some(match direction {
                        Direction::Egress => {
                            network.reach(Endpoint::Workload(w), Endpoint::External(cidr))
                        }
                        Direction::Ingress => {
                            network.reach(Endpoint::External(cidr), Endpoint::Workload(w))
                        }
                    })
                };
                let (was, is) = (reach(&old_side, old), reach(&new_side, new));
                changes.push(Change::of(
                    (from, to),
                    (was.as_ref(), is.as_ref()),
                    (&before, &after),
                ));
            }
        }
    }
    changes
}
