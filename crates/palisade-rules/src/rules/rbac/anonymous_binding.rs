use palisade_analysis::rbac::{Binding, Policy, SubjectKind};
use palisade_analysis::Inventory;
use palisade_model::Severity;
use palisade_model::Word;

use crate::meta::rule;
use crate::{Check, Emitter};

rule! {
    /// ## What it does
    /// Flags bindings whose subjects are `system:anonymous`, `system:unauthenticated` or
    /// `system:authenticated`: everyone who can reach the API server, with or without
    /// credentials, or with any credentials at all.
    ///
    /// ## Why is this bad?
    /// A role bound to these identities is granted to the internet (anonymous) or to every
    /// service account and user of every identity provider the cluster trusts (authenticated).
    /// Kubernetes' own defaults bind them only to discovery and health endpoints.
    ///
    /// Kubernetes' default bindings are not reported, in files or live: a live cluster's own
    /// are recognised when they grant no more than the default of their name, so a fresh
    /// cluster is not a list of findings and a subject the cluster added is. A binding whose
    /// role only reads health, version and discovery URLs (what the defaults grant) is `low`.
    ///
    /// ## Example
    /// ```yaml
    /// kind: ClusterRoleBinding
    /// roleRef: {kind: ClusterRole, name: view}
    /// subjects:
    /// - kind: Group
    ///   name: system:authenticated   # fails
    /// ```
    ///
    /// ## Remediation
    /// Bind the role to the groups of the people or workloads that need it.
    ///
    /// ## References
    /// - Kubernetes RBAC good practices:
    ///   <https://kubernetes.io/docs/concepts/security/rbac-good-practices/>
    pub static RULE = {
        code: "PAL-RBAC-012",
        name: "rbac-anonymous-binding",
        severity: High,
        category: "rbac",
        controls: ["CIS-5.1.7", "NSA:rbac", "MITRE:T1078"],
        check: Check::Inventory(check),
    };
}

/// URLs the default policy lets everyone read: health, version, API discovery, and the
/// service-account issuer's public discovery documents.
const PUBLIC_URLS: &[&str] = &[
    "/healthz",
    "/livez",
    "/readyz",
    "/version",
    "/version/",
    "/api",
    "/api/*",
    "/apis",
    "/apis/*",
    "/openapi",
    "/openapi/*",
    "/.well-known",
    "/.well-known/*",
    "/.well-known/openid-configuration",
    "/openid/v1/jwks",
];

/// The URLs `binding`'s role grants when it grants only reading health, version and
/// discovery URLs; `None` when it grants anything else (or nothing is known of it).
fn only_reads_public_urls(policy: &Policy, binding: &Binding) -> Option<String> {
    let role = policy.role_of(binding)?;
    let mut urls: Vec<&str> = Vec::new();
    for rule in policy.rules_of(role) {
        let reads = rule.verbs.iter().all(|v| v == "get" || v == "head");
        let public = !rule.non_resource_urls.is_empty()
            && rule.resources.is_empty()
            && rule
                .non_resource_urls
                .iter()
                .all(|u| PUBLIC_URLS.contains(&u.as_str()));
        if !(reads && public) {
            return None;
        }
        urls.extend(rule.non_resource_urls.iter().map(Word::as_str));
    }
    (!urls.is_empty()).then(|| urls.join(", "))
}

fn check(inventory: &Inventory, out: &mut Emitter) {
    let inventory = &inventory.rbac;
    let policy = &inventory.policy;
    for binding in policy.input_bindings() {
        // A default binding's own subjects are Kubernetes' (a subject the cluster added is not).
        for (subject, at) in binding.subjects.iter().filter(|(_, at)| !at.bootstrap) {
            let who = match (subject.kind, subject.name.as_str()) {
                (SubjectKind::User, "system:anonymous") => "anonymous requests",
                (SubjectKind::Group, "system:unauthenticated") => "unauthenticated requests",
                (SubjectKind::Group, "system:authenticated") => {
                    "every authenticated user and service account"
                }
                _ => continue,
            };
            let (is_cluster_role, role) = &binding.role_ref;
            let kind = if *is_cluster_role {
                "ClusterRole"
            } else {
                "Role"
            };
            let message = format!(
                "{} grants {kind} {role} to {who} ({})",
                binding.display(),
                subject.name
            );
            match only_reads_public_urls(policy, binding) {
                Some(urls) => out.report_at(
                    at,
                    Severity::Low,
                    format!("{message}: it only reads {urls}"),
                ),
                None => out.report(at, message, Vec::new()),
            }
        }
    }
}
