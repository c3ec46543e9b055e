use palisade_analysis::flags::Component;
use palisade_analysis::pss::Violation;
use palisade_model::PodView;

use crate::meta::rule;
use crate::rules::control_plane::{check_pod, Requirement, Want};
use crate::{Check, OptionValues};

rule! {
    /// ## What it does
    /// Flags kube-apiserver, kube-controller-manager and kube-scheduler pods that leave profiling
    /// on (`--profiling`, default `true`).
    ///
    /// ## Why is this bad?
    /// The `/debug/pprof` endpoints reveal the program's internals and let a caller trigger
    /// expensive CPU and heap profiles: information disclosure and a denial-of-service lever.
    ///
    /// ## Example
    /// ```yaml
    /// command:
    /// - kube-scheduler   # fails: --profiling defaults to true
    /// ```
    ///
    /// ## Remediation
    /// Add `--profiling=false` to each component.
    ///
    /// ## References
    /// - CIS Kubernetes Benchmark v1.9, 1.2.15, 1.3.2 and 1.4.1
    pub static RULE = {
        code: "PAL-CP-009",
        name: "control-plane-profiling",
        severity: Medium,
        category: "control-plane",
        controls: ["CIS-1.2.15", "CIS-1.3.2", "CIS-1.4.1", "NSA:network-separation"],
        check: Check::Pod(check),
    };
}

const REQUIREMENTS: &[Requirement] = &[
    Requirement {
        cis: "1.2.15",
        component: Component::ApiServer,
        flag: "profiling",
        default: Some("true"),
        want: Want::Equals("false"),
        why: "pprof endpoints expose internals and can be used to exhaust the server",
    },
    Requirement {
        cis: "1.3.2",
        component: Component::ControllerManager,
        flag: "profiling",
        default: Some("true"),
        want: Want::Equals("false"),
        why: "pprof endpoints expose internals and can be used to exhaust the server",
    },
    Requirement {
        cis: "1.4.1",
        component: Component::Scheduler,
        flag: "profiling",
        default: Some("true"),
        want: Want::Equals("false"),
        why: "pprof endpoints expose internals and can be used to exhaust the server",
    },
];

fn check(pod: &PodView<'_>, _: &OptionValues) -> Vec<Violation> {
    check_pod(pod, REQUIREMENTS)
}
