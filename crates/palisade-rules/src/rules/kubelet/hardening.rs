use palisade_analysis::kubelet;
use palisade_analysis::Inventory;

use crate::meta::rule;
use crate::rules::control_plane::Want;
use crate::rules::kubelet::{check_kubelets, KubeletRequirement};
use crate::{Check, Emitter};

rule! {
    /// ## What it does
    /// Flags kubelets with a weakened runtime configuration: `streamingConnectionIdleTimeout` of 0
    /// (sessions never time out), `makeIPTablesUtilChains: false`, `--hostname-override` set,
    /// `protectKernelDefaults` off (CIS v1.8 4.2.6), and no pod PID limit (`podPidsLimit` /
    /// `--pod-max-pids` unset or negative).
    ///
    /// Judged on the effective setting: a flag overrides the config file; with neither, the
    /// config file's default applies when the kubelet has one, the flag default otherwise.
    ///
    /// ## Why is this bad?
    /// Each one loosens the node's defences: idle exec sessions stay open for whoever hijacks
    /// them, a mismatched hostname breaks certificate checks, unprotected kernel defaults and
    /// unlimited PIDs let one pod degrade the node.
    ///
    /// ## Example
    /// ```yaml
    /// kind: KubeletConfiguration
    /// streamingConnectionIdleTimeout: 0   # fails
    /// ```
    ///
    /// ## Remediation
    /// Keep the defaults for the first two, remove `--hostname-override`, set
    /// `protectKernelDefaults: true` (after tuning the node's sysctls) and `podPidsLimit` to a few
    /// thousand.
    ///
    /// ## References
    /// - CIS Kubernetes Benchmark v1.9, 4.2.5-4.2.7 and 4.2.13
    pub static RULE = {
        code: "PAL-KUBELET-005",
        name: "kubelet-hardening",
        severity: Medium,
        category: "kubelet",
        controls: ["CIS-4.2.5", "CIS-4.2.6", "CIS-4.2.7", "CIS-4.2.13", "NSA:pod-security"],
        check: Check::Inventory(check),
    };
}

const REQUIREMENTS: &[KubeletRequirement] = &[
    KubeletRequirement {
        cis: "4.2.5",
        setting: &kubelet::STREAMING_IDLE_TIMEOUT,
        want: Want::NotZeroDuration,
        why: "exec and port-forward sessions never time out",
    },
    KubeletRequirement {
        cis: "4.2.6",
        setting: &kubelet::MAKE_IPTABLES_UTIL_CHAINS,
        want: Want::Equals("true"),
        why: "the iptables rules the kubelet relies on are left to others",
    },
    KubeletRequirement {
        cis: "4.2.7",
        setting: &kubelet::HOSTNAME_OVERRIDE,
        want: Want::Unset,
        why: "the node name no longer matches its certificate, breaking TLS verification between kubelet and API server",
    },
    KubeletRequirement {
        cis: "v1.8 4.2.6",
        setting: &kubelet::PROTECT_KERNEL_DEFAULTS,
        want: Want::Equals("true"),
        why: "pods can run with kernel settings that differ from what the kubelet expects",
    },
    KubeletRequirement {
        cis: "4.2.13",
        setting: &kubelet::POD_PIDS_LIMIT,
        want: Want::Positive,
        why: "a fork bomb in one pod exhausts the node's process IDs",
    },
];

fn check(inventory: &Inventory, out: &mut Emitter) {
    check_kubelets(inventory, out, REQUIREMENTS);
}
