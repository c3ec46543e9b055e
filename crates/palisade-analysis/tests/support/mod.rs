//! What the NetworkPolicy tests share.

use std::collections::HashMap;

use palisade_analysis::netpol::{Endpoint, Network, PortSet};

/// The pairs of workloads whose ports, judged alone, differ from what the matrix judged once
/// per group pair says (`from → to: alone X, by groups Y`), and the group pairs whose
/// explanation differs from their first members' judged alone.
pub fn pairs_the_groups_get_wrong(network: &Network) -> Vec<String> {
    let members: Vec<usize> = (0..network.workloads.len()).collect();
    let groups = network.matrix_groups(&members);
    let source_of = groups.source_of(network.workloads.len());
    let destination_of = groups.destination_of(network.workloads.len());
    let selections = network.group_selections(&groups);
    let mut by_groups = HashMap::new();
    network.for_each_group_pair(&groups, &selections, |a, b, ports| {
        by_groups.insert((a, b), ports);
    });
    let mut wrong = Vec::new();
    // The explanation of a group pair, judged with the groups' selections, is what judging
    // their first members alone explains.
    for &(a, b) in by_groups.keys() {
        let (from, to) = (
            &network.workloads[groups.sources[a][0]],
            &network.workloads[groups.destinations[b][0]],
        );
        let mut alone = network.reach(Endpoint::Workload(from), Endpoint::Workload(to));
        // Which policies select the pods is not part of a group pair's explanation.
        alone.egress.selecting.clear();
        alone.ingress.selecting.clear();
        let grouped = network.group_reach(&groups, &selections, a, b);
        if format!("{alone:?}") != format!("{grouped:?}") {
            wrong.push(format!(
                "{} → {}: explained alone {alone:?}, by groups {grouped:?}",
                from.id(),
                to.id()
            ));
        }
    }
    for (i, from) in network.workloads.iter().enumerate() {
        for (j, to) in network.workloads.iter().enumerate() {
            let alone = network
                .reach(Endpoint::Workload(from), Endpoint::Workload(to))
                .ports;
            let grouped = by_groups
                .get(&(source_of[i], destination_of[j]))
                .cloned()
                .unwrap_or_else(PortSet::none);
            if alone != grouped {
                wrong.push(format!(
                    "{} → {}: alone {alone}, by groups {grouped}",
                    from.id(),
                    to.id()
                ));
            }
        }
    }
    wrong
}
