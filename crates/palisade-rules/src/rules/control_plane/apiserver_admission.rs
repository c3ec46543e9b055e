use palisade_analysis::flags::Component;
use palisade_analysis::pss::Violation;
use palisade_model::PodView;

use crate::meta::rule;
use crate::rules::control_plane::{check_pod, Requirement, Want};
use crate::{Check, OptionValues};

rule! {
    /// ## What it does
    /// Flags kube-apiserver pods whose admission plugins miss a CIS requirement:
    /// `NodeRestriction`, `AlwaysPullImages`, `EventRateLimit` and `DenyServiceExternalIPs`
    /// enabled; `AlwaysAdmit` not enabled; `ServiceAccount`, `NamespaceLifecycle` and
    /// `PodSecurity` (on by default) not disabled.
    ///
    /// ## Why is this bad?
    /// Admission plugins are where the API server enforces node isolation (`NodeRestriction`),
    /// Pod Security levels, image pull authorization and rate limits; each missing one
    /// reopens a known attack path.
    ///
    /// ## Example
    /// ```yaml
    /// - --enable-admission-plugins=AlwaysAdmit   # fails
    /// ```
    ///
    /// ## Remediation
    /// `--enable-admission-plugins=NodeRestriction,AlwaysPullImages,EventRateLimit,DenyServiceExternalIPs`
    /// (EventRateLimit needs an `--admission-control-config-file`), and remove
    /// `--disable-admission-plugins` entries for the defaults.
    ///
    /// ## References
    /// - CIS Kubernetes Benchmark v1.9, section 1.2 (API Server)
    /// - kube-apiserver reference: <https://kubernetes.io/docs/reference/command-line-tools-reference/kube-apiserver/>
    pub static RULE = {
        code: "PAL-CP-003",
        name: "apiserver-admission-plugins",
        severity: High,
        category: "control-plane",
        controls: ["CIS-1.2.3", "CIS-1.2.9", "CIS-1.2.10", "CIS-1.2.11", "CIS-1.2.12", "CIS-1.2.13", "CIS-1.2.14", "NSA:pod-security"],
        check: Check::Pod(check),
    };
}

const REQUIREMENTS: &[Requirement] = &[
    Requirement {
        cis: "1.2.3",
        component: Component::ApiServer,
        flag: "enable-admission-plugins",
        default: None,
        want: Want::Has("DenyServiceExternalIPs"),
        why: "any Service may claim external IPs (CVE-2020-8554)",
    },
    Requirement {
        cis: "1.2.9",
        component: Component::ApiServer,
        flag: "enable-admission-plugins",
        default: None,
        want: Want::Has("EventRateLimit"),
        why: "event floods can overload the API server and etcd",
    },
    Requirement {
        cis: "1.2.10",
        component: Component::ApiServer,
        flag: "enable-admission-plugins",
        default: None,
        want: Want::Lacks("AlwaysAdmit"),
        why: "admission control is switched off",
    },
    Requirement {
        cis: "1.2.11",
        component: Component::ApiServer,
        flag: "enable-admission-plugins",
        default: None,
        want: Want::Has("AlwaysPullImages"),
        why: "pods can run private images cached on a node without pull credentials",
    },
    Requirement {
        cis: "1.2.12",
        component: Component::ApiServer,
        flag: "disable-admission-plugins",
        default: None,
        want: Want::Lacks("ServiceAccount"),
        why: "pods are not tied to service accounts",
    },
    Requirement {
        cis: "1.2.13",
        component: Component::ApiServer,
        flag: "disable-admission-plugins",
        default: None,
        want: Want::Lacks("NamespaceLifecycle"),
        why: "objects can be created in terminating or missing namespaces",
    },
    Requirement {
        cis: "1.2.14",
        component: Component::ApiServer,
        flag: "enable-admission-plugins",
        default: None,
        want: Want::Has("NodeRestriction"),
        why: "kubelets can modify other nodes and pods",
    },
    Requirement {
        cis: "5.2.1",
        component: Component::ApiServer,
        flag: "disable-admission-plugins",
        default: None,
        want: Want::Lacks("PodSecurity"),
        why: "Pod Security Admission is off: namespace labels enforce nothing",
    },
];

fn check(pod: &PodView<'_>, _: &OptionValues) -> Vec<Violation> {
    check_pod(pod, REQUIREMENTS)
}
