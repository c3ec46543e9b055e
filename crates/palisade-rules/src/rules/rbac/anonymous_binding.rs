use palisade_analysis::rbac::SubjectKind;
use palisade_analysis::Inventory;

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

fn check(inventory: &Inventory, out: &mut Emitter) {
    let inventory = &inventory.rbac;
    let policy = &inventory.policy;
    for binding in policy.input_bindings() {
        for (subject, at) in &binding.subjects {
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
            out.report(at, message, Vec::new());
        }
    }
}
