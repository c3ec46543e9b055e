use palisade_analysis::flags::Component;
use palisade_analysis::pss::Violation;
use palisade_model::PodView;

use crate::meta::rule;
use crate::rules::control_plane::{check_pod, Requirement, Want};
use crate::{Check, OptionValues};

rule! {
    /// ## What it does
    /// Flags kube-apiserver pods that open the insecure HTTP port: `--insecure-port` other than 0,
    /// or an `--insecure-bind-address`. Both flags were removed in Kubernetes 1.24 (and the CIS
    /// Benchmark dropped its checks, 1.2.18/1.2.19 in v1.6), but manifests for older clusters and
    /// copied snippets still carry them.
    ///
    /// ## Why is this bad?
    /// The insecure port skips authentication and authorization entirely: whoever reaches it is
    /// cluster-admin.
    ///
    /// ## Example
    /// ```yaml
    /// - --insecure-port=8080   # fails
    /// ```
    ///
    /// ## Remediation
    /// Remove both flags (and upgrade: Kubernetes 1.24+ refuses them).
    ///
    /// ## References
    /// - CIS Kubernetes Benchmark v1.6, 1.2.18 and 1.2.19
    /// - Kubernetes 1.24 release notes: insecure serving removed
    pub static RULE = {
        code: "PAL-CP-008",
        name: "apiserver-insecure-port",
        severity: Critical,
        category: "control-plane",
        controls: ["NSA:network-separation", "MITRE:T1190"],
        check: Check::Pod(check),
    };
}

const REQUIREMENTS: &[Requirement] = &[
    Requirement {
        cis: "v1.6 1.2.19",
        component: Component::ApiServer,
        flag: "insecure-port",
        default: None,
        want: Want::ZeroOrUnset,
        why: "the API is served over plain HTTP with no authentication or authorization",
    },
    Requirement {
        cis: "v1.6 1.2.18",
        component: Component::ApiServer,
        flag: "insecure-bind-address",
        default: None,
        want: Want::Unset,
        why: "the insecure HTTP port is bound to a reachable address",
    },
];

fn check(pod: &PodView<'_>, _: &OptionValues) -> Vec<Violation> {
    check_pod(pod, REQUIREMENTS)
}
