use palisade_analysis::rbac::SubjectKind;
use palisade_analysis::Inventory;

use crate::meta::rule;
use crate::{Check, Emitter};

rule! {
    /// ## What it does
    /// Flags bindings that grant a role to a namespace's `default` service account.
    ///
    /// ## Why is this bad?
    /// Every pod that does not name a service account runs as `default`, so a role bound to it
    /// is silently given to every such pod of the namespace, including ones added later.
    ///
    /// ## Example
    /// ```yaml
    /// kind: RoleBinding
    /// subjects:
    /// - kind: ServiceAccount
    ///   name: default   # fails
    ///   namespace: shop
    /// ```
    ///
    /// ## Remediation
    /// Create a dedicated service account for the workload that needs the role, bind the role
    /// to it and set `serviceAccountName`.
    ///
    /// ## References
    /// - CIS Kubernetes Benchmark 5.1.5: ensure default service accounts are not actively used.
    pub static RULE = {
        code: "PAL-RBAC-013",
        name: "rbac-default-service-account",
        severity: Medium,
        category: "rbac",
        controls: ["CIS-5.1.5", "NSA:rbac"],
        check: Check::Inventory(check),
    };
}

fn check(inventory: &Inventory, out: &mut Emitter) {
    let inventory = &inventory.rbac;
    for binding in inventory.policy.input_bindings() {
        for (subject, at) in &binding.subjects {
            if subject.kind == SubjectKind::ServiceAccount && subject.name == "default" {
                let ns = subject.namespace.as_deref().unwrap_or("?");
                let (_, role) = &binding.role_ref;
                let message = format!(
                    "{} grants {role} to the default service account of namespace {ns}, which every pod there without serviceAccountName runs as",
                    binding.display()
                );
                out.report(at, message, Vec::new());
            }
        }
    }
}
