use palisade_analysis::pss::Violation;
use palisade_model::{FieldPath, Object};

use crate::meta::rule;
use crate::{Check, OptionValues};

rule! {
    /// ## What it does
    /// Flags Secrets of type `kubernetes.io/service-account-token`: legacy, long-lived service
    /// account tokens.
    ///
    /// Live clusters (`scan --cluster`, snapshots): Secrets are read as metadata only, which
    /// has no `type`; Palisade asks the API server for the names of the Secrets of this type
    /// (a field selector, again metadata only) and sees exactly these, never a token.
    ///
    /// ## Why is this bad?
    /// These tokens never expire and are not bound to a pod: anyone who can read the Secret
    /// (or find it in a backup or a log) holds the account's permissions until the Secret is
    /// deleted. Since Kubernetes 1.24 pods get short-lived projected tokens instead, and
    /// 1.29+ clean up unused legacy tokens.
    ///
    /// ## Example
    /// ```yaml
    /// kind: Secret
    /// type: kubernetes.io/service-account-token   # fails
    /// metadata:
    ///   annotations:
    ///     kubernetes.io/service-account.name: ci-deployer
    /// ```
    ///
    /// ## Remediation
    /// Delete the Secret. Pods get projected tokens automatically; external systems should
    /// request short-lived tokens (`kubectl create token`, the TokenRequest API) or use
    /// workload identity federation.
    ///
    /// ## References
    /// - Kubernetes docs, legacy ServiceAccount token cleaner:
    ///   <https://kubernetes.io/docs/reference/access-authn-authz/service-accounts-admin/#legacy-serviceaccount-token-cleaner>
    pub static RULE = {
        code: "PAL-SA-004",
        name: "legacy-service-account-token",
        severity: Medium,
        category: "service-accounts",
        controls: ["NSA:authentication", "MITRE:T1528"],
        kinds: ["Secret"],
        check: Check::Object(check),
    };
}

fn check(object: &Object, _: &OptionValues) -> Vec<Violation> {
    if !(object.group().is_empty() && object.kind() == "Secret") {
        return Vec::new();
    }
    if object.root.str_of("type") != Some("kubernetes.io/service-account-token") {
        return Vec::new();
    }
    let account = object
        .annotation("kubernetes.io/service-account.name")
        .unwrap_or("?");
    vec![Violation {
        severity: None,
        path: FieldPath::root().key("type"),
        message: format!("long-lived token Secret for service account {account}: it never expires"),
    }]
}
