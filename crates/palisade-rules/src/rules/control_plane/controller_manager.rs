use palisade_analysis::flags::Component;
use palisade_analysis::pss::Violation;
use palisade_model::PodView;

use crate::meta::rule;
use crate::rules::control_plane::{check_pod, Requirement, Want};
use crate::{Check, OptionValues};

rule! {
    /// ## What it does
    /// Flags kube-controller-manager pods that miss a CIS setting: `--terminated-pod-gc-threshold`,
    /// `--use-service-account-credentials=true`, `--service-account-private-key-file`,
    /// `--root-ca-file`, and the `RotateKubeletServerCertificate` feature gate not turned off.
    ///
    /// ## Why is this bad?
    /// Without per-controller credentials, one compromised controller holds every controller's
    /// permissions and audit logs cannot tell them apart; the other settings keep tokens signed
    /// with a managed key, pods able to verify the API server, and kubelet certificates fresh.
    ///
    /// ## Example
    /// ```yaml
    /// - --use-service-account-credentials=false   # fails
    /// ```
    ///
    /// ## Remediation
    /// Set the flags as kubeadm does: `--use-service-account-credentials=true`,
    /// `--service-account-private-key-file=/etc/kubernetes/pki/sa.key`,
    /// `--root-ca-file=/etc/kubernetes/pki/ca.crt`, and a `--terminated-pod-gc-threshold`.
    ///
    /// ## References
    /// - CIS Kubernetes Benchmark v1.9, 1.3.1 and 1.3.3-1.3.6
    pub static RULE = {
        code: "PAL-CP-011",
        name: "controller-manager-settings",
        severity: Medium,
        category: "control-plane",
        controls: ["CIS-1.3.1", "CIS-1.3.3", "CIS-1.3.4", "CIS-1.3.5", "CIS-1.3.6", "NSA:authentication"],
        check: Check::Pod(check),
    };
}

const REQUIREMENTS: &[Requirement] = &[
    Requirement {
        cis: "1.3.1",
        component: Component::ControllerManager,
        flag: "terminated-pod-gc-threshold",
        default: None,
        // 0 or below turns the garbage collection of terminated pods off.
        want: Want::Positive,
        why: "terminated pods pile up until etcd and the API slow down",
    },
    Requirement {
        cis: "1.3.3",
        component: Component::ControllerManager,
        flag: "use-service-account-credentials",
        default: Some("false"),
        want: Want::Equals("true"),
        why: "every controller runs with the controller manager's own, combined permissions",
    },
    Requirement {
        cis: "1.3.4",
        component: Component::ControllerManager,
        flag: "service-account-private-key-file",
        default: None,
        want: Want::Set,
        why: "service account tokens cannot be signed with a key you rotate",
    },
    Requirement {
        cis: "1.3.5",
        component: Component::ControllerManager,
        flag: "root-ca-file",
        default: None,
        want: Want::Set,
        why: "pods cannot verify the API server they talk to",
    },
    Requirement {
        cis: "1.3.6",
        component: Component::ControllerManager,
        flag: "feature-gates",
        default: None,
        want: Want::GateNotFalse("RotateKubeletServerCertificate"),
        why: "kubelet serving certificates are never rotated",
    },
];

fn check(pod: &PodView<'_>, _: &OptionValues) -> Vec<Violation> {
    check_pod(pod, REQUIREMENTS)
}
