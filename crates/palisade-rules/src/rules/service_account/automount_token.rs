use std::collections::HashSet;

use palisade_analysis::rbac::SubjectKind;
use palisade_analysis::Inventory;
use palisade_model::Severity;

use crate::fix::{self, Remedy};
use crate::meta::rule;
use crate::{Check, Emitter};
use palisade_model::{FieldPath, Object};

rule! {
    /// ## What it does
    /// Flags pod-carrying objects whose pods get a service account token mounted
    /// automatically. Decided as the kubelet decides: the pod's
    /// `automountServiceAccountToken` wins when set; otherwise the ServiceAccount's field
    /// (when the ServiceAccount is in the input); otherwise the token is mounted.
    ///
    /// A pod that sets `automountServiceAccountToken: true` itself (even over its
    /// ServiceAccount's `false`) made a decision rather than missed a default: it is reported
    /// at low severity, so the decision is reviewed without drowning the oversights.
    ///
    /// A pod whose account the input binds to a Role or ClusterRole calls the API and needs
    /// its token: not reported (what the account may do is the RBAC rules' to judge).
    ///
    /// A pod that runs as its namespace's `default` account and mounts its token is one
    /// finding of this rule, with `PAL-SA-002` (default account used) listed with it: one pod
    /// spec, one decision to make.
    ///
    /// ## Why is this bad?
    /// Most applications never call the Kubernetes API, yet every pod gets a token that
    /// does: whoever compromises the container can use the account's permissions (and the
    /// default account's, which grow when someone binds a role to it).
    ///
    /// ## Example
    /// ```yaml
    /// kind: Deployment
    /// spec:
    ///   template:
    ///     spec:
    ///       serviceAccountName: web   # fails unless web's ServiceAccount or the pod sets
    ///                                 # automountServiceAccountToken: false
    /// ```
    ///
    /// ## Remediation
    /// Set `automountServiceAccountToken: false` on the ServiceAccount (for every pod using
    /// it) or on the pod. Pods that need the API can mount a projected token explicitly.
    ///
    /// ## Fix
    /// Unsafe (`--unsafe`): sets `automountServiceAccountToken: false` on the pod; a
    /// program that calls the API loses its credentials.
    ///
    /// ## References
    /// - CIS Kubernetes Benchmark 5.1.6: ensure that Service Account Tokens are only mounted
    ///   where necessary
    /// - Kubernetes docs: <https://kubernetes.io/docs/tasks/configure-pod-container/configure-service-account/#opt-out-of-api-credential-automounting>
    pub static RULE = {
        code: "PAL-SA-001",
        name: "service-account-token-automount",
        severity: Medium,
        category: "service-accounts",
        controls: ["CIS-5.1.6", "NSA:rbac", "MITRE:T1528"],
        subsumes: ["PAL-SA-002"],
        fix: repair,
        check: Check::Inventory(check),
    };
}

fn check(inventory: &Inventory, out: &mut Emitter) {
    let rbac = &inventory.rbac;
    // Accounts the input binds to a role: their pods call the API, and need the token.
    let bound: HashSet<(&str, &str)> = rbac
        .policy
        .input_bindings()
        .flat_map(|binding| &binding.subjects)
        .filter(|(subject, _)| subject.kind == SubjectKind::ServiceAccount)
        .filter_map(|(subject, _)| Some((subject.namespace.as_deref()?, subject.name.as_str())))
        .collect();
    for workload in &rbac.workloads {
        if bound.contains(&(
            workload.namespace.as_str(),
            workload.service_account.as_str(),
        )) {
            continue;
        }
        let account = rbac.service_account(&workload.namespace, &workload.service_account);
        let message = match (&workload.automount, account.and_then(|a| a.automount.as_ref())) {
            // The pod asks for the token itself: a decision, reported at low severity so it is
            // reviewed, not as an oversight.
            (Some((true, at)), account_says) => {
                let overriding = match account_says {
                    Some((false, _)) => format!(
                        ", overriding its ServiceAccount {}'s automountServiceAccountToken: false",
                        workload.service_account
                    ),
                    _ => String::new(),
                };
                out.report_at(
                    at,
                    Severity::Low,
                    format!(
                        "{} sets automountServiceAccountToken: true{overriding}: its pods carry service account {}'s token (a deliberate choice: check that they call the API)",
                        workload.object.display_name(),
                        workload.service_account
                    ),
                );
                continue;
            }
            (Some((false, _)), _) | (None, Some((false, _))) => continue,
            (None, Some((true, _))) => format!(
                "the pods of {} mount service account {}'s token: its ServiceAccount sets automountServiceAccountToken: true",
                workload.object.display_name(),
                workload.service_account
            ),
            (None, None) => format!(
                "the pods of {} mount service account {}'s token: neither the pod nor the ServiceAccount sets automountServiceAccountToken: false",
                workload.object.display_name(),
                workload.service_account
            ),
        };
        out.report(&workload.spec, message, Vec::new());
    }
}

/// `automountServiceAccountToken: false` on the pod (unsafe: a program that calls the API
/// loses its credentials).
fn repair(object: &Object, path: &FieldPath) -> Option<Remedy> {
    let spec = fix::pod_spec_path(object)?;
    let target = if path.as_str().ends_with("/automountServiceAccountToken") {
        path.clone()
    } else {
        spec.key("automountServiceAccountToken")
    };
    fix::set(
        fix::Safety::Unsafe,
        "set automountServiceAccountToken: false",
        target,
        "false",
    )
}
