use palisade_analysis::flags::{component_flags, Component};
use palisade_analysis::pss::Violation;
use palisade_model::PodView;

use crate::meta::rule;
use crate::{Check, OptionValues};

rule! {
    /// ## What it does
    /// Flags kube-apiserver pods with no authenticator for people: neither OIDC
    /// (`--oidc-issuer-url`) nor structured authentication (`--authentication-config`, which
    /// holds JWT issuers since 1.30). Clusters that authenticate people through a webhook
    /// (`--authentication-token-webhook-config-file`) or a managed provider pass.
    ///
    /// ## Why is this bad?
    /// Without one, people get client certificates (kubeconfigs from `kubeadm`), which cannot
    /// be revoked, carry their groups forever, and are usually shared. The CIS Benchmark says
    /// client certificate authentication should not be used for users.
    ///
    /// ## Example
    /// ```yaml
    /// command:
    /// - kube-apiserver   # fails: no --oidc-issuer-url or --authentication-config
    /// ```
    ///
    /// ## Remediation
    /// Connect the API server to your identity provider with `--authentication-config` (or
    /// the `--oidc-*` flags) and hand out kubeconfigs that log in through it.
    ///
    /// ## References
    /// - CIS Kubernetes Benchmark v1.9, 3.1.1: client certificate authentication should not
    ///   be used for users
    /// - Kubernetes docs, OpenID Connect tokens:
    ///   <https://kubernetes.io/docs/reference/access-authn-authz/authentication/#openid-connect-tokens>
    pub static RULE = {
        code: "PAL-CP-012",
        name: "apiserver-no-user-identity-provider",
        severity: Low,
        category: "control-plane",
        controls: ["CIS-3.1.1", "NSA:authentication"],
        check: Check::Pod(check),
    };
}

const PROVIDERS: &[&str] = &[
    "oidc-issuer-url",
    "authentication-config",
    "authentication-token-webhook-config-file",
];

fn check(pod: &PodView<'_>, _: &OptionValues) -> Vec<Violation> {
    let Some(flags) = component_flags(pod, Component::ApiServer) else {
        return Vec::new();
    };
    if PROVIDERS
        .iter()
        .any(|p| flags.get(p).is_some_and(|f| !f.value.is_empty()))
    {
        return Vec::new();
    }
    vec![Violation {
        severity: None,
        path: flags.command_path.clone(),
        message: "CIS 3.1.1: kube-apiserver has no identity provider for people (--oidc-issuer-url, --authentication-config): users end up with unrevocable client certificates".to_string(),
    }]
}
