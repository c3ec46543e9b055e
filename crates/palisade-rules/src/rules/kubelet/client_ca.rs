use palisade_analysis::kubelet;
use palisade_analysis::Inventory;

use crate::meta::rule;
use crate::rules::control_plane::Want;
use crate::rules::kubelet::{check_kubelets, KubeletRequirement};
use crate::{Check, Emitter};

rule! {
    /// ## What it does
    /// Flags kubelets without a client CA (`authentication.x509.clientCAFile` /
    /// `--client-ca-file`).
    ///
    /// Judged on the effective setting: a flag overrides the config file; with neither, the
    /// config file's default applies when the kubelet has one, the flag default otherwise.
    ///
    /// ## Why is this bad?
    /// Without it, the kubelet cannot verify the API server's client certificate, so requests for
    /// exec, logs and port-forward are authenticated by weaker means or not at all.
    ///
    /// ## Example
    /// ```yaml
    /// kind: KubeletConfiguration
    /// authentication:
    ///   x509: {}   # fails: no clientCAFile
    /// ```
    ///
    /// ## Remediation
    /// Set `authentication.x509.clientCAFile: /etc/kubernetes/pki/ca.crt`.
    ///
    /// ## References
    /// - CIS Kubernetes Benchmark v1.9, 4.2.3
    pub static RULE = {
        code: "PAL-KUBELET-003",
        name: "kubelet-client-ca",
        severity: High,
        category: "kubelet",
        controls: ["CIS-4.2.3", "NSA:authentication"],
        check: Check::Inventory(check),
    };
}

const REQUIREMENTS: &[KubeletRequirement] = &[KubeletRequirement {
    cis: "4.2.3",
    setting: &kubelet::CLIENT_CA_FILE,
    want: Want::Set,
    why: "client certificates (the API server's included) cannot authenticate",
}];

fn check(inventory: &Inventory, out: &mut Emitter) {
    check_kubelets(inventory, out, REQUIREMENTS);
}
