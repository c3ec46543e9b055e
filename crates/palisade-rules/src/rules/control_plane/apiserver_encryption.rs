use palisade_analysis::flags::Component;
use palisade_analysis::pss::Violation;
use palisade_model::PodView;

use crate::meta::rule;
use crate::rules::control_plane::{check_pod, Requirement, Want};
use crate::{Check, OptionValues};

rule! {
    /// ## What it does
    /// Flags kube-apiserver pods without `--encryption-provider-config`. The configuration
    /// itself is judged by the encryption rules (`PAL-ENC`).
    ///
    /// ## Why is this bad?
    /// Without encryption at rest, every Secret is readable from etcd's data files, its
    /// backups and snapshots.
    ///
    /// ## Example
    /// ```yaml
    /// command:
    /// - kube-apiserver   # fails: no --encryption-provider-config
    /// ```
    ///
    /// ## Remediation
    /// Write an `EncryptionConfiguration` (KMS v2 preferred) and pass it with
    /// `--encryption-provider-config`.
    ///
    /// ## References
    /// - CIS Kubernetes Benchmark v1.9, 1.2.27
    /// - Kubernetes docs, Encrypting data at rest: <https://kubernetes.io/docs/tasks/administer-cluster/encrypt-data/>
    pub static RULE = {
        code: "PAL-CP-007",
        name: "apiserver-encryption-at-rest",
        severity: High,
        category: "control-plane",
        controls: ["CIS-1.2.27", "NSA:secrets", "MITRE:T1552"],
        check: Check::Pod(check),
    };
}

const REQUIREMENTS: &[Requirement] = &[Requirement {
    cis: "1.2.27",
    component: Component::ApiServer,
    flag: "encryption-provider-config",
    default: None,
    want: Want::Set,
    why: "Secrets are stored in etcd in plain text",
}];

fn check(pod: &PodView<'_>, _: &OptionValues) -> Vec<Violation> {
    check_pod(pod, REQUIREMENTS)
}
