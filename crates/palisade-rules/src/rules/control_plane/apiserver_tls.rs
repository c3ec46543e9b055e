use palisade_analysis::flags::Component;
use palisade_analysis::pss::Violation;
use palisade_model::PodView;

use crate::meta::rule;
use crate::rules::control_plane::{check_pod, Requirement, Want};
use crate::{Check, OptionValues};

rule! {
    /// ## What it does
    /// Flags kube-apiserver pods missing a TLS setting the CIS Benchmark requires: its own
    /// serving certificate and key, the client CA, client certificates towards kubelets and
    /// etcd, the CAs that verify kubelets and etcd, and strong cipher suites (when
    /// `--tls-cipher-suites` is set; Go's defaults are strong).
    ///
    /// ## Why is this bad?
    /// Every control-plane connection carries credentials or Secrets: an unauthenticated or
    /// unverified hop lets anyone on the network read or forge them.
    ///
    /// ## Example
    /// ```yaml
    /// - --tls-cipher-suites=TLS_RSA_WITH_3DES_EDE_CBC_SHA   # fails
    /// ```
    ///
    /// ## Remediation
    /// Set the certificate flags (kubeadm does) and restrict `--tls-cipher-suites` to
    /// AEAD suites with forward secrecy.
    ///
    /// ## References
    /// - CIS Kubernetes Benchmark v1.9, section 1.2 (API Server)
    /// - kube-apiserver reference: <https://kubernetes.io/docs/reference/command-line-tools-reference/kube-apiserver/>
    pub static RULE = {
        code: "PAL-CP-005",
        name: "apiserver-tls",
        severity: High,
        category: "control-plane",
        controls: ["CIS-1.2.4", "CIS-1.2.5", "CIS-1.2.23", "CIS-1.2.24", "CIS-1.2.25", "CIS-1.2.26", "CIS-1.2.29", "NSA:network-separation", "MITRE:T1557"],
        check: Check::Pod(check),
    };
}

const REQUIREMENTS: &[Requirement] = &[
    Requirement {
        cis: "1.2.4",
        component: Component::ApiServer,
        flag: "kubelet-client-certificate",
        default: None,
        want: Want::Set,
        why: "the API server cannot authenticate to kubelets",
    },
    Requirement {
        cis: "1.2.4",
        component: Component::ApiServer,
        flag: "kubelet-client-key",
        default: None,
        want: Want::Set,
        why: "the API server cannot authenticate to kubelets",
    },
    Requirement {
        cis: "1.2.5",
        component: Component::ApiServer,
        flag: "kubelet-certificate-authority",
        default: None,
        want: Want::Set,
        why: "kubelet serving certificates are not verified (man-in-the-middle on exec and logs)",
    },
    Requirement {
        cis: "1.2.23",
        component: Component::ApiServer,
        flag: "etcd-certfile",
        default: None,
        want: Want::Set,
        why: "the API server does not authenticate to etcd",
    },
    Requirement {
        cis: "1.2.23",
        component: Component::ApiServer,
        flag: "etcd-keyfile",
        default: None,
        want: Want::Set,
        why: "the API server does not authenticate to etcd",
    },
    Requirement {
        cis: "1.2.24",
        component: Component::ApiServer,
        flag: "tls-cert-file",
        default: None,
        want: Want::Set,
        why: "the API server serves a self-signed certificate",
    },
    Requirement {
        cis: "1.2.24",
        component: Component::ApiServer,
        flag: "tls-private-key-file",
        default: None,
        want: Want::Set,
        why: "the API server serves a self-signed certificate",
    },
    Requirement {
        cis: "1.2.25",
        component: Component::ApiServer,
        flag: "client-ca-file",
        default: None,
        want: Want::Set,
        why: "client certificates are not accepted, so kubelets and components cannot authenticate",
    },
    Requirement {
        cis: "1.2.26",
        component: Component::ApiServer,
        flag: "etcd-cafile",
        default: None,
        want: Want::Set,
        why: "the etcd server certificate is not verified",
    },
    Requirement {
        cis: "1.2.29",
        component: Component::ApiServer,
        flag: "tls-cipher-suites",
        default: None,
        want: Want::StrongCiphers,
        why: "weak ciphers allow downgrade attacks",
    },
];

fn check(pod: &PodView<'_>, _: &OptionValues) -> Vec<Violation> {
    check_pod(pod, REQUIREMENTS)
}
