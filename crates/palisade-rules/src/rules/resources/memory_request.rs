use palisade_analysis::resources::{Bound, Resource};
use palisade_analysis::Inventory;

use crate::meta::rule;
use crate::rules::resources::report_gaps;
use crate::{Check, Emitter};

rule! {
    /// ## What it does
    /// Flags containers without a memory request.
    ///
    /// Judged as the API server settles it: a request left out takes the container's limit,
    /// pod-level `spec.resources` cover every container, and a `LimitRange` of the namespace
    /// (in the input) that sets `default`, `defaultRequest`, `max` or `min` fills the gap at
    /// admission. Init containers count (the scheduler reserves for them too); ephemeral
    /// containers cannot set resources and are skipped.
    ///
    /// ## Why is this bad?
    /// Without a memory request the scheduler cannot tell whether the pod fits a node, and
    /// the pod is among the first the kubelet evicts under memory pressure.
    ///
    /// ## Example
    /// ```yaml
    /// resources:
    ///   requests: {cpu: 100m}   # fails: no memory request
    /// ```
    ///
    /// ## Remediation
    /// Set `resources.requests.memory` (and a memory limit, which also serves as the
    /// request), or give the namespace a LimitRange with a default.
    ///
    /// ## References
    /// - Kubernetes docs, Resource Management for Pods and Containers:
    ///   <https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/>
    /// - NSA/CISA Kubernetes Hardening Guide, "Resource policies"
    pub static RULE = {
        code: "PAL-RES-002",
        name: "memory-request-missing",
        severity: Medium,
        category: "resources",
        controls: ["NSA:resource-policies", "MITRE:T1499"],
        check: Check::Inventory(check),
    };
}

fn check(inventory: &Inventory, out: &mut Emitter) {
    report_gaps(inventory, out, Resource::Memory, Bound::Request);
}
