use palisade_analysis::flags::Component;
use palisade_analysis::pss::Violation;
use palisade_model::PodView;

use crate::meta::rule;
use crate::rules::control_plane::{check_pod, Requirement, Want};
use crate::{Check, OptionValues};

rule! {
    /// ## What it does
    /// Flags kube-apiserver pods that turn `--service-account-lookup` off or set no
    /// `--service-account-key-file`.
    ///
    /// ## Why is this bad?
    /// Without lookup, a token stays valid after its ServiceAccount is deleted; without a
    /// dedicated key file, token signing keys cannot be rotated on their own.
    ///
    /// ## Example
    /// ```yaml
    /// - --service-account-lookup=false   # fails
    /// ```
    ///
    /// ## Remediation
    /// Remove `--service-account-lookup=false`; set `--service-account-key-file` (and the
    /// matching `--service-account-signing-key-file`).
    ///
    /// ## References
    /// - CIS Kubernetes Benchmark v1.9, section 1.2 (API Server)
    /// - kube-apiserver reference: <https://kubernetes.io/docs/reference/command-line-tools-reference/kube-apiserver/>
    pub static RULE = {
        code: "PAL-CP-006",
        name: "apiserver-service-account-tokens",
        severity: Medium,
        category: "control-plane",
        controls: ["CIS-1.2.21", "CIS-1.2.22", "NSA:authentication", "MITRE:T1528"],
        check: Check::Pod(check),
    };
}

const REQUIREMENTS: &[Requirement] = &[
    Requirement {
        cis: "1.2.21",
        component: Component::ApiServer,
        flag: "service-account-lookup",
        default: Some("true"),
        want: Want::Equals("true"),
        why: "tokens of deleted service accounts keep working",
    },
    Requirement {
        cis: "1.2.22",
        component: Component::ApiServer,
        flag: "service-account-key-file",
        default: None,
        want: Want::Set,
        why: "service account tokens are verified with the serving key, which cannot be rotated separately",
    },
];

fn check(pod: &PodView<'_>, _: &OptionValues) -> Vec<Violation> {
    check_pod(pod, REQUIREMENTS)
}
