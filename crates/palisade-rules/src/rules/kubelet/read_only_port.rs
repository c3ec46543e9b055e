use palisade_analysis::kubelet;
use palisade_analysis::Inventory;

use crate::meta::rule;
use crate::rules::control_plane::Want;
use crate::rules::kubelet::{check_kubelets, KubeletRequirement};
use crate::{Check, Emitter};

rule! {
    /// ## What it does
    /// Flags kubelets whose read-only port is open: `readOnlyPort` / `--read-only-port` other
    /// than 0.
    ///
    /// Judged on the effective setting: a flag overrides the config file; with neither, the
    /// config file's default applies when the kubelet has one, the flag default otherwise. The flag default is 10255 (open); the config file default is 0.
    ///
    /// ## Why is this bad?
    /// Port 10255 answers without authentication: it lists every pod of the node with its
    /// environment variables, images and volumes, a map (and sometimes the credentials) an
    /// attacker needs.
    ///
    /// ## Example
    /// ```yaml
    /// kind: KubeletConfiguration
    /// readOnlyPort: 10255   # fails
    /// ```
    ///
    /// ## Remediation
    /// Set `readOnlyPort: 0` and scrape metrics from the authenticated port 10250.
    ///
    /// ## References
    /// - CIS Kubernetes Benchmark v1.9, 4.2.4
    pub static RULE = {
        code: "PAL-KUBELET-004",
        name: "kubelet-read-only-port",
        severity: High,
        category: "kubelet",
        controls: ["CIS-4.2.4", "NSA:network-separation", "MITRE:T1046"],
        check: Check::Inventory(check),
    };
}

const REQUIREMENTS: &[KubeletRequirement] = &[KubeletRequirement {
    cis: "4.2.4",
    setting: &kubelet::READ_ONLY_PORT,
    want: Want::Equals("0"),
    why: "the read-only port serves pod specs and metrics without any authentication",
}];

fn check(inventory: &Inventory, out: &mut Emitter) {
    check_kubelets(inventory, out, REQUIREMENTS);
}
