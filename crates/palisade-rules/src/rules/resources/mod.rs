//! CPU and memory requests and limits, judged after Kubernetes' own defaulting.

pub mod cpu_limit;
pub mod cpu_request;
pub mod memory_limit;
pub mod memory_request;

use palisade_analysis::resources::{Bound, Resource};
use palisade_analysis::Inventory;

use crate::Emitter;

/// Reports every container that ends up without `bound` for `resource`.
pub(crate) fn report_gaps(
    inventory: &Inventory,
    out: &mut Emitter,
    resource: Resource,
    bound: Bound,
) {
    let what = bound_name(bound);
    for gap in inventory.resources.gaps(resource, bound) {
        // The memory limit's finding is the one the others fold into (PAL-RES-003 restates
        // them): it lists everything the container lacks, so one finding says it all.
        let others: Vec<String> = if (resource, bound) == (Resource::Memory, Bound::Limit) {
            [
                (Resource::Memory, Bound::Request),
                (Resource::Cpu, Bound::Request),
                (Resource::Cpu, Bound::Limit),
            ]
            .into_iter()
            .filter(|(r, b)| gap.lacks(*r, *b))
            .map(|(r, b)| format!("{} {}", r.key(), bound_name(b)))
            .collect()
        } else {
            Vec::new()
        };
        let nor = match others.as_slice() {
            [] => String::new(),
            [one] => format!(" (nor a {one})"),
            [rest @ .., last] => format!(" (nor a {} or {last})", rest.join(", ")),
        };
        let message = format!(
            "{} has no {} {what}{nor}, and no LimitRange of {} sets a default",
            gap.container,
            resource.key(),
            crate::rules::namespace_phrase(&gap.source.object, &gap.namespace)
        );
        out.report(&gap.source, message, Vec::new());
    }
}

fn bound_name(bound: Bound) -> &'static str {
    match bound {
        Bound::Request => "request",
        Bound::Limit => "limit",
    }
}
