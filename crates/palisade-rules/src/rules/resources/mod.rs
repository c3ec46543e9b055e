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
    let what = match bound {
        Bound::Request => "request",
        Bound::Limit => "limit",
    };
    for gap in inventory.resources.gaps(resource, bound) {
        let message = format!(
            "{} has no {} {what}, and no LimitRange of {} sets a default",
            gap.container,
            resource.key(),
            crate::rules::namespace_phrase(&gap.source.object, &gap.namespace)
        );
        out.report(&gap.source, message, Vec::new());
    }
}
