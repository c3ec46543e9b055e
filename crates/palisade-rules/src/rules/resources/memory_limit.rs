use palisade_analysis::resources::{Bound, Resource};
use palisade_analysis::Inventory;

use crate::meta::rule;
use crate::rules::resources::report_gaps;
use crate::{Check, Emitter};

rule! {
    /// ## What it does
    /// Flags containers without a memory limit.
    ///
    /// Judged as the API server settles it: a request left out takes the container's limit,
    /// pod-level `spec.resources` cover every container, and a `LimitRange` of the namespace
    /// (in the input) that sets `default`, `defaultRequest`, `max` or `min` fills the gap at
    /// admission. Init containers count (the scheduler reserves for them too); ephemeral
    /// containers cannot set resources and are skipped.
    ///
    /// ## Why is this bad?
    /// A container without a memory limit can take all of the node's memory: a leak or a
    /// denial-of-service attack then gets other pods OOM-killed and can destabilise the
    /// kubelet itself.
    ///
    /// ## Example
    /// ```yaml
    /// resources:
    ///   requests: {cpu: 100m, memory: 128Mi}   # fails: no memory limit
    /// ```
    ///
    /// ## Remediation
    /// Set `resources.limits.memory`, or give the namespace a LimitRange with a `default`
    /// memory limit.
    ///
    /// ## References
    /// - Kubernetes docs, Resource Management for Pods and Containers:
    ///   <https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/>
    /// - NSA/CISA Kubernetes Hardening Guide, "Resource policies"
    pub static RULE = {
        code: "PAL-RES-003",
        name: "memory-limit-missing",
        severity: Medium,
        category: "resources",
        controls: ["NSA:resource-policies", "MITRE:T1499"],
        // One missing `resources` block is one root cause: the other gaps of the container
        // are listed under this finding.
        subsumes: ["PAL-RES-001", "PAL-RES-002", "PAL-RES-004"],
        check: Check::Inventory(check),
    };
}

fn check(inventory: &Inventory, out: &mut Emitter) {
    report_gaps(inventory, out, Resource::Memory, Bound::Limit);
}
