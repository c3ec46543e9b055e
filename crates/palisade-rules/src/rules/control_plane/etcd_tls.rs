use palisade_analysis::flags::Component;
use palisade_analysis::pss::Violation;
use palisade_model::PodView;

use crate::meta::rule;
use crate::rules::control_plane::{check_pod, Requirement, Want};
use crate::{Check, OptionValues};

rule! {
    /// ## What it does
    /// Flags etcd pods (static pods or any pod running the binary) without full TLS: client and
    /// peer certificates and keys, client certificate authentication on both ports, a trusted
    /// CA, and no self-signed `--auto-tls`/`--peer-auto-tls`.
    ///
    /// ## Why is this bad?
    /// etcd holds the whole cluster state, every Secret included. Plain text or unauthenticated
    /// access to its ports is full cluster compromise.
    ///
    /// ## Example
    /// ```yaml
    /// command:
    /// - etcd
    /// - --client-cert-auth=false   # fails
    /// ```
    ///
    /// ## Remediation
    /// Set the certificate flags as kubeadm does and `--client-cert-auth=true`,
    /// `--peer-client-cert-auth=true`; remove the auto-TLS flags; use a CA dedicated to etcd.
    ///
    /// ## References
    /// - CIS Kubernetes Benchmark v1.9, section 2 (etcd)
    /// - etcd security model: <https://etcd.io/docs/v3.5/op-guide/security/>
    pub static RULE = {
        code: "PAL-ETCD-001",
        name: "etcd-tls",
        severity: Critical,
        category: "control-plane",
        controls: ["CIS-2.1", "CIS-2.2", "CIS-2.3", "CIS-2.4", "CIS-2.5", "CIS-2.6", "CIS-2.7", "NSA:secrets", "MITRE:T1552"],
        check: Check::Pod(check),
    };
}

const REQUIREMENTS: &[Requirement] = &[
    Requirement {
        cis: "2.1",
        component: Component::Etcd,
        flag: "cert-file",
        default: None,
        want: Want::Set,
        why: "clients talk to etcd in plain text",
    },
    Requirement {
        cis: "2.1",
        component: Component::Etcd,
        flag: "key-file",
        default: None,
        want: Want::Set,
        why: "clients talk to etcd in plain text",
    },
    Requirement {
        cis: "2.2",
        component: Component::Etcd,
        flag: "client-cert-auth",
        default: Some("false"),
        want: Want::Equals("true"),
        why: "anyone who reaches the client port reads and writes every object, Secrets included",
    },
    Requirement {
        cis: "2.3",
        component: Component::Etcd,
        flag: "auto-tls",
        default: Some("false"),
        want: Want::NotEquals("true"),
        why: "self-signed certificates authenticate nobody",
    },
    Requirement {
        cis: "2.4",
        component: Component::Etcd,
        flag: "peer-cert-file",
        default: None,
        want: Want::Set,
        why: "etcd members replicate in plain text",
    },
    Requirement {
        cis: "2.4",
        component: Component::Etcd,
        flag: "peer-key-file",
        default: None,
        want: Want::Set,
        why: "etcd members replicate in plain text",
    },
    Requirement {
        cis: "2.5",
        component: Component::Etcd,
        flag: "peer-client-cert-auth",
        default: Some("false"),
        want: Want::Equals("true"),
        why: "anyone who reaches the peer port can join the cluster",
    },
    Requirement {
        cis: "2.6",
        component: Component::Etcd,
        flag: "peer-auto-tls",
        default: Some("false"),
        want: Want::NotEquals("true"),
        why: "self-signed peer certificates authenticate nobody",
    },
    Requirement {
        cis: "2.7",
        component: Component::Etcd,
        flag: "trusted-ca-file",
        default: None,
        want: Want::Set,
        why: "client certificates are not verified against a CA",
    },
];

fn check(pod: &PodView<'_>, _: &OptionValues) -> Vec<Violation> {
    check_pod(pod, REQUIREMENTS)
}
