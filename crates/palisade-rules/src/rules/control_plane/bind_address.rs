use palisade_analysis::flags::Component;
use palisade_analysis::pss::Violation;
use palisade_model::PodView;

use crate::meta::rule;
use crate::rules::control_plane::{check_pod, Requirement, Want};
use crate::{Check, OptionValues};

rule! {
    /// ## What it does
    /// Flags kube-controller-manager and kube-scheduler pods that listen beyond loopback:
    /// `--bind-address` unset (default `0.0.0.0`) or not `127.0.0.1`.
    ///
    /// ## Why is this bad?
    /// These components run with powerful credentials; their secure port exposes health,
    /// metrics and (unless disabled) profiling endpoints, which should not be reachable from pods
    /// or other nodes.
    ///
    /// ## Example
    /// ```yaml
    /// - --bind-address=0.0.0.0   # fails
    /// ```
    ///
    /// ## Remediation
    /// Set `--bind-address=127.0.0.1` (kubeadm does).
    ///
    /// ## References
    /// - CIS Kubernetes Benchmark v1.9, 1.3.7 and 1.4.2
    pub static RULE = {
        code: "PAL-CP-010",
        name: "control-plane-bind-address",
        severity: Medium,
        category: "control-plane",
        controls: ["CIS-1.3.7", "CIS-1.4.2", "NSA:network-separation"],
        check: Check::Pod(check),
    };
}

const REQUIREMENTS: &[Requirement] = &[
    Requirement {
        cis: "1.3.7",
        component: Component::ControllerManager,
        flag: "bind-address",
        default: Some("0.0.0.0"),
        want: Want::Loopback,
        why: "its health, metrics and profiling port is reachable from the network",
    },
    Requirement {
        cis: "1.4.2",
        component: Component::Scheduler,
        flag: "bind-address",
        default: Some("0.0.0.0"),
        want: Want::Loopback,
        why: "its health, metrics and profiling port is reachable from the network",
    },
];

fn check(pod: &PodView<'_>, _: &OptionValues) -> Vec<Violation> {
    check_pod(pod, REQUIREMENTS)
}
