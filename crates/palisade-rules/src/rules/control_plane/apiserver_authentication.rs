use palisade_analysis::flags::Component;
use palisade_analysis::pss::Violation;
use palisade_model::PodView;

use crate::meta::rule;
use crate::rules::control_plane::{check_pod, Requirement, Want};
use crate::{Check, OptionValues};

rule! {
    /// ## What it does
    /// Flags kube-apiserver pods (static pods or any pod running the binary) whose
    /// authentication accepts anonymous requests (`--anonymous-auth`, default `true`) or static
    /// credential files (`--token-auth-file`, `--basic-auth-file`).
    ///
    /// ## Why is this bad?
    /// Anonymous requests are authorized as `system:anonymous`, so one careless binding opens
    /// the API to the network; static token and password files hold long-lived credentials
    /// in clear text on the control-plane node.
    ///
    /// ## Example
    /// ```yaml
    /// command:
    /// - kube-apiserver
    /// - --token-auth-file=/etc/kubernetes/tokens.csv   # fails
    /// ```
    ///
    /// ## Remediation
    /// Set `--anonymous-auth=false` (health checks use `/livez` with authentication, or
    /// keep anonymous access limited with an `--authentication-config`), and replace file
    /// credentials with client certificates, OIDC or webhook token authentication.
    ///
    /// ## References
    /// - CIS Kubernetes Benchmark v1.9, section 1.2 (API Server)
    /// - kube-apiserver reference: <https://kubernetes.io/docs/reference/command-line-tools-reference/kube-apiserver/>
    pub static RULE = {
        code: "PAL-CP-001",
        name: "apiserver-authentication",
        severity: High,
        category: "control-plane",
        controls: ["CIS-1.2.1", "CIS-1.2.2", "NSA:authentication", "MITRE:T1078"],
        check: Check::Pod(check),
    };
}

const REQUIREMENTS: &[Requirement] = &[
    Requirement {
        cis: "1.2.1",
        component: Component::ApiServer,
        flag: "anonymous-auth",
        default: Some("true"),
        want: Want::Equals("false"),
        why: "unauthenticated requests reach the API as system:anonymous",
    },
    Requirement {
        cis: "1.2.2",
        component: Component::ApiServer,
        flag: "token-auth-file",
        default: None,
        want: Want::Unset,
        why: "static bearer tokens in a file never expire and cannot be revoked without a restart",
    },
    Requirement {
        cis: "1.2.2",
        component: Component::ApiServer,
        flag: "basic-auth-file",
        default: None,
        want: Want::Unset,
        why: "static passwords in a file are sent with every request",
    },
];

fn check(pod: &PodView<'_>, _: &OptionValues) -> Vec<Violation> {
    check_pod(pod, REQUIREMENTS)
}
