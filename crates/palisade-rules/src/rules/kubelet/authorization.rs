use palisade_analysis::kubelet;
use palisade_analysis::Inventory;

use crate::meta::rule;
use crate::rules::control_plane::Want;
use crate::rules::kubelet::{check_kubelets, KubeletRequirement};
use crate::{Check, Emitter};

rule! {
    /// ## What it does
    /// Flags kubelets whose authorization mode is `AlwaysAllow` (the flag default) or whose
    /// webhook token authentication is off.
    ///
    /// Judged on the effective setting: a flag overrides the config file; with neither, the
    /// config file's default applies when the kubelet has one, the flag default otherwise.
    ///
    /// ## Why is this bad?
    /// With `AlwaysAllow`, every authenticated caller may exec into every container of the node;
    /// without webhook authentication and `Webhook` authorization, the API server's RBAC does not
    /// govern the kubelet at all.
    ///
    /// ## Example
    /// ```yaml
    /// kind: KubeletConfiguration
    /// authorization:
    ///   mode: AlwaysAllow   # fails
    /// ```
    ///
    /// ## Remediation
    /// Set `authorization.mode: Webhook` and `authentication.webhook.enabled: true`.
    ///
    /// ## References
    /// - CIS Kubernetes Benchmark v1.9, 4.2.2
    pub static RULE = {
        code: "PAL-KUBELET-002",
        name: "kubelet-authorization",
        severity: Critical,
        category: "kubelet",
        controls: ["CIS-4.2.2", "NSA:authentication", "MITRE:T1078"],
        check: Check::Inventory(check),
    };
}

const REQUIREMENTS: &[KubeletRequirement] = &[
    KubeletRequirement {
        cis: "4.2.2",
        setting: &kubelet::AUTHORIZATION_MODE,
        want: Want::NotEquals("AlwaysAllow"),
        why: "every request that authenticates may run commands in any container of the node",
    },
    KubeletRequirement {
        cis: "4.2.2",
        setting: &kubelet::WEBHOOK_AUTHENTICATION,
        want: Want::Equals("true"),
        why: "service account and user tokens cannot authenticate, so the API server cannot delegate decisions",
    },
];

fn check(inventory: &Inventory, out: &mut Emitter) {
    check_kubelets(inventory, out, REQUIREMENTS);
}
