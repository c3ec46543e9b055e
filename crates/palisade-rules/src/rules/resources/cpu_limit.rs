use palisade_analysis::resources::{Bound, Resource};
use palisade_analysis::Inventory;

use crate::meta::rule;
use crate::rules::resources::report_gaps;
use crate::{Check, Emitter};

rule! {
    /// ## What it does
    /// Flags containers without a CPU limit.
    ///
    /// Judged as the API server settles it: a request left out takes the container's limit,
    /// pod-level `spec.resources` cover every container, and a `LimitRange` of the namespace
    /// (in the input) that sets `default`, `defaultRequest`, `max` or `min` fills the gap at
    /// admission. Init containers count (the scheduler reserves for them too); ephemeral
    /// containers cannot set resources and are skipped.
    ///
    /// Low severity on purpose: CPU is compressible, and many teams leave CPU limits off
    /// to avoid throttling; ignore this rule if that is your policy.
    ///
    /// ## Why is this bad?
    /// Without a CPU limit a busy or compromised container (a crypto miner is the classic)
    /// can use every idle core of the node, slowing everything that requested little.
    ///
    /// ## Example
    /// ```yaml
    /// resources:
    ///   requests: {cpu: 100m, memory: 128Mi}
    ///   limits: {memory: 128Mi}   # fails: no cpu limit
    /// ```
    ///
    /// ## Remediation
    /// Set `resources.limits.cpu`, or give the namespace a LimitRange with a `default` CPU
    /// limit.
    ///
    /// ## References
    /// - Kubernetes docs, Resource Management for Pods and Containers:
    ///   <https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/>
    /// - MITRE ATT&CK T1496 Resource Hijacking
    pub static RULE = {
        code: "PAL-RES-004",
        name: "cpu-limit-missing",
        severity: Low,
        category: "resources",
        controls: ["NSA:resource-policies", "MITRE:T1496"],
        check: Check::Inventory(check),
    };
}

fn check(inventory: &Inventory, out: &mut Emitter) {
    report_gaps(inventory, out, Resource::Cpu, Bound::Limit);
}
