use palisade_analysis::flags::Component;
use palisade_analysis::pss::Violation;
use palisade_model::PodView;

use crate::meta::rule;
use crate::rules::control_plane::{check_pod, Requirement, Want};
use crate::{Check, OptionValues};

rule! {
    /// ## What it does
    /// Flags kube-apiserver pods whose `--authorization-mode` includes `AlwaysAllow` (the
    /// default when the flag is missing) or lacks `Node` or `RBAC`.
    ///
    /// Clusters that configure authorization with `--authorization-config` (structured
    /// authorization, 1.30+) should ignore this rule: the modes then live in that file.
    ///
    /// ## Why is this bad?
    /// `AlwaysAllow` makes every authenticated user cluster-admin; without `Node`, a
    /// compromised kubelet can read every Secret; without `RBAC`, roles mean nothing.
    ///
    /// ## Example
    /// ```yaml
    /// - --authorization-mode=AlwaysAllow   # fails
    /// ```
    ///
    /// ## Remediation
    /// Set `--authorization-mode=Node,RBAC`.
    ///
    /// ## References
    /// - CIS Kubernetes Benchmark v1.9, section 1.2 (API Server)
    /// - kube-apiserver reference: <https://kubernetes.io/docs/reference/command-line-tools-reference/kube-apiserver/>
    pub static RULE = {
        code: "PAL-CP-002",
        name: "apiserver-authorization",
        severity: Critical,
        category: "control-plane",
        controls: ["CIS-1.2.6", "CIS-1.2.7", "CIS-1.2.8", "NSA:authentication", "MITRE:T1078"],
        check: Check::Pod(check),
    };
}

const REQUIREMENTS: &[Requirement] = &[
    Requirement {
        cis: "1.2.6",
        component: Component::ApiServer,
        flag: "authorization-mode",
        default: Some("AlwaysAllow"),
        want: Want::Lacks("AlwaysAllow"),
        why: "every authenticated request is allowed",
    },
    Requirement {
        cis: "1.2.7",
        component: Component::ApiServer,
        flag: "authorization-mode",
        default: Some("AlwaysAllow"),
        want: Want::Has("Node"),
        why: "kubelets are not limited to their own node's objects",
    },
    Requirement {
        cis: "1.2.8",
        component: Component::ApiServer,
        flag: "authorization-mode",
        default: Some("AlwaysAllow"),
        want: Want::Has("RBAC"),
        why: "RBAC roles and bindings are not enforced",
    },
];

fn check(pod: &PodView<'_>, _: &OptionValues) -> Vec<Violation> {
    check_pod(pod, REQUIREMENTS)
}
