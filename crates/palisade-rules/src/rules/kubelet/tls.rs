use palisade_analysis::kubelet;
use palisade_analysis::Inventory;

use crate::meta::rule;
use crate::rules::control_plane::Want;
use crate::rules::kubelet::{check_kubelets, KubeletRequirement};
use crate::{Check, Emitter};

rule! {
    /// ## What it does
    /// Flags kubelets with weak TLS: no serving certificate (neither `tlsCertFile` and
    /// `tlsPrivateKeyFile` nor `serverTLSBootstrap`, so the kubelet serves a self-signed
    /// certificate nobody can verify), client certificate rotation off (`rotateCertificates`),
    /// the `RotateKubeletServerCertificate` feature gate turned off, or weak cipher suites.
    ///
    /// Judged on the effective setting: a flag overrides the config file; with neither, the
    /// config file's default applies when the kubelet has one, the flag default otherwise.
    ///
    /// ## Why is this bad?
    /// A self-signed serving certificate means the API server cannot verify the kubelet it sends
    /// exec and log requests to; certificates that are never rotated stay valid after a node is
    /// compromised.
    ///
    /// ## Example
    /// ```yaml
    /// kind: KubeletConfiguration
    /// rotateCertificates: false   # fails
    /// ```
    ///
    /// ## Remediation
    /// Set `rotateCertificates: true` and `serverTLSBootstrap: true` (approving the serving CSRs),
    /// or provide `tlsCertFile`/`tlsPrivateKeyFile`; restrict `tlsCipherSuites` to AEAD suites.
    ///
    /// ## References
    /// - CIS Kubernetes Benchmark v1.9, 4.2.9-4.2.12
    pub static RULE = {
        code: "PAL-KUBELET-006",
        name: "kubelet-tls",
        severity: High,
        category: "kubelet",
        controls: ["CIS-4.2.9", "CIS-4.2.10", "CIS-4.2.11", "CIS-4.2.12", "NSA:network-separation", "MITRE:T1557"],
        check: Check::Inventory(check),
    };
}

const REQUIREMENTS: &[KubeletRequirement] = &[
    KubeletRequirement {
        cis: "4.2.10",
        setting: &kubelet::ROTATE_CERTIFICATES,
        want: Want::Equals("true"),
        why: "the kubelet's client certificate expires and is not renewed",
    },
    KubeletRequirement {
        cis: "4.2.11",
        setting: &kubelet::FEATURE_GATES,
        want: Want::GateNotFalse("RotateKubeletServerCertificate"),
        why: "the serving certificate is never rotated",
    },
    KubeletRequirement {
        cis: "4.2.12",
        setting: &kubelet::TLS_CIPHER_SUITES,
        want: Want::StrongCiphers,
        why: "weak ciphers allow downgrade attacks",
    },
];

fn check(inventory: &Inventory, out: &mut Emitter) {
    check_kubelets(inventory, out, REQUIREMENTS);
    for kubelet in &inventory.kubelets {
        let bootstrap = kubelet
            .resolve(&kubelet::SERVER_TLS_BOOTSTRAP)
            .value
            .as_deref()
            == Some("true");
        let cert = kubelet.resolve(&kubelet::TLS_CERT_FILE);
        let key = kubelet.resolve(&kubelet::TLS_PRIVATE_KEY_FILE);
        if bootstrap || (cert.value.is_some() && key.value.is_some()) {
            continue;
        }
        out.report(
            kubelet.anchor(),
            format!(
                "CIS 4.2.9: {} has no serving certificate (tlsCertFile and tlsPrivateKeyFile, or serverTLSBootstrap): it serves a self-signed one the API server cannot verify",
                kubelet.describe()
            ),
            Vec::new(),
        );
    }
}
