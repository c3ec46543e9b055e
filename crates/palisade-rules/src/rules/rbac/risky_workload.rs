use palisade_analysis::rbac::{Subject, SubjectKind};
use palisade_analysis::Inventory;
use palisade_model::{FieldPath, Related};

use super::grants::risks_of;
use crate::meta::rule;
use crate::{Check, Emitter};

rule! {
    /// ## What it does
    /// Flags workloads (every kind that carries a pod) whose service account holds a risky
    /// permission: cluster-admin, reading Secrets, creating pods, exec, nodes/proxy, escalate,
    /// bind or impersonate, token creation, CSR approval, webhook or PersistentVolume writes.
    ///
    /// ## Why is this bad?
    /// Whoever compromises the workload (a remote code execution, a malicious dependency)
    /// holds its token, mounted in every pod, and with it those permissions.
    ///
    /// ## Example
    /// ```yaml
    /// kind: Deployment
    /// spec:
    ///   template:
    ///     spec:
    ///       serviceAccountName: deployer   # fails when deployer can read Secrets
    /// ```
    ///
    /// ## Remediation
    /// Give the workload its own service account with only the permissions it uses, or set
    /// `automountServiceAccountToken: false` if it does not talk to the API server.
    ///
    /// ## References
    /// - Kubernetes RBAC good practices:
    ///   <https://kubernetes.io/docs/concepts/security/rbac-good-practices/>
    pub static RULE = {
        code: "PAL-RBAC-014",
        name: "rbac-risky-workload-service-account",
        severity: High,
        category: "rbac",
        controls: ["CIS-5.1.6", "NSA:rbac", "MITRE:T1528"],
        check: Check::Inventory(check),
    };
}

fn check(inventory: &Inventory, out: &mut Emitter) {
    let inventory = &inventory.rbac;
    // Many workloads share a service account: judge each account once.
    let mut judged: foldhash::HashMap<(&str, &str), Vec<_>> = Default::default();
    let mut bindings_judged = super::grants::RiskMemo::default();
    for workload in inventory
        .workloads
        .iter()
        .filter(|w| w.namespace != "kube-system")
    {
        let account = Subject {
            kind: SubjectKind::ServiceAccount,
            name: workload.service_account.clone(),
            namespace: Some(workload.namespace.clone()),
        };
        let risks = judged
            .entry((&workload.namespace, &workload.service_account))
            .or_insert_with(|| risks_of(inventory, &account, &mut bindings_judged));
        if risks.is_empty() {
            continue;
        }
        let described: Vec<&str> = risks.iter().map(|(risk, _)| risk.describe()).collect();
        let message = format!(
            "{} {}/{} runs as {}, which {}",
            workload.object.kind,
            workload.namespace,
            workload.object.name,
            account.display(),
            described.join("; ")
        );
        let mut related: Vec<Related> = Vec::new();
        for (_, binding) in risks.iter() {
            if related.iter().any(|r| r.object == binding.source.object) {
                continue;
            }
            let (location, whose) = if binding.source.bootstrap {
                (None, ", part of Kubernetes' default RBAC policy")
            } else {
                (binding.source.location.clone(), "")
            };
            related.push(Related {
                object: binding.source.object.clone(),
                path: FieldPath::root().key("roleRef"),
                location,
                message: format!("{} grants {}{whose}", binding.display(), binding.role_ref.1),
            });
        }
        out.report(&workload.source, message, related);
    }
}
