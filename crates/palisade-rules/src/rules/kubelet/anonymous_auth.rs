use palisade_analysis::kubelet;
use palisade_analysis::Inventory;

use crate::meta::rule;
use crate::rules::control_plane::Want;
use crate::rules::kubelet::{check_kubelets, KubeletRequirement};
use crate::{Check, Emitter};

rule! {
    /// ## What it does
    /// Flags kubelets that accept anonymous requests on their API (port 10250):
    /// `authentication.anonymous.enabled` / `--anonymous-auth` effectively true.
    ///
    /// Judged on the effective setting: a flag overrides the config file; with neither, the
    /// config file's default applies when the kubelet has one, the flag default otherwise. A kubelet
    /// run on flags alone is anonymous by default; one with a config file is not.
    ///
    /// ## Why is this bad?
    /// The kubelet API runs commands in containers and reads their logs and Secrets: with
    /// anonymous access (and a permissive authorizer) anyone on the network owns every pod of the
    /// node.
    ///
    /// ## Example
    /// ```yaml
    /// kind: KubeletConfiguration
    /// authentication:
    ///   anonymous:
    ///     enabled: true   # fails
    /// ```
    ///
    /// ## Remediation
    /// Set `authentication.anonymous.enabled: false` (and remove `--anonymous-auth=true`).
    ///
    /// ## References
    /// - CIS Kubernetes Benchmark v1.9, 4.2.1
    /// - Kubelet authentication/authorization: <https://kubernetes.io/docs/reference/access-authn-authz/kubelet-authn-authz/>
    pub static RULE = {
        code: "PAL-KUBELET-001",
        name: "kubelet-anonymous-auth",
        severity: Critical,
        category: "kubelet",
        controls: ["CIS-4.2.1", "NSA:authentication", "MITRE:T1078"],
        check: Check::Inventory(check),
    };
}

const REQUIREMENTS: &[KubeletRequirement] = &[KubeletRequirement {
    cis: "4.2.1",
    setting: &kubelet::ANONYMOUS_AUTH,
    want: Want::Equals("false"),
    why: "anyone who reaches port 10250 is served as system:anonymous",
}];

fn check(inventory: &Inventory, out: &mut Emitter) {
    check_kubelets(inventory, out, REQUIREMENTS);
}
