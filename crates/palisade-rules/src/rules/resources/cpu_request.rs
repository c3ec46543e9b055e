use palisade_analysis::resources::{Bound, Resource};
use palisade_analysis::Inventory;

use crate::meta::rule;
use crate::rules::resources::report_gaps;
use crate::{Check, Emitter};

rule! {
    /// ## What it does
    /// Flags containers without a CPU request.
    ///
    /// Judged as the API server settles it: a request left out takes the container's limit,
    /// pod-level `spec.resources` cover every container, and a `LimitRange` of the namespace
    /// (in the input) that sets `default`, `defaultRequest`, `max` or `min` fills the gap at
    /// admission. Init containers count (the scheduler reserves for them too); ephemeral
    /// containers cannot set resources and are skipped.
    ///
    /// ## Why is this bad?
    /// The scheduler places a pod by its requests: without one the pod may land on a full
    /// node and be starved of CPU by its neighbours, and its namespace's quota cannot account
    /// for it.
    ///
    /// ## Example
    /// ```yaml
    /// resources:
    ///   limits: {memory: 256Mi}   # fails: no cpu request (nor limit to default from)
    /// ```
    ///
    /// ## Remediation
    /// Set `resources.requests.cpu` to the container's usual usage, or give the namespace a
    /// LimitRange with a `defaultRequest`.
    ///
    /// ## References
    /// - Kubernetes docs, Resource Management for Pods and Containers:
    ///   <https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/>
    /// - NSA/CISA Kubernetes Hardening Guide, "Resource policies"
    pub static RULE = {
        code: "PAL-RES-001",
        name: "cpu-request-missing",
        severity: Low,
        category: "resources",
        controls: ["NSA:resource-policies", "MITRE:T1499"],
        check: Check::Inventory(check),
    };
}

fn check(inventory: &Inventory, out: &mut Emitter) {
    report_gaps(inventory, out, Resource::Cpu, Bound::Request);
}
