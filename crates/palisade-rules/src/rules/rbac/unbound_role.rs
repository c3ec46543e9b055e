use std::collections::HashSet;

use palisade_analysis::rbac::risk::{granting_rules, Reach, Risk};
use palisade_analysis::rbac::Role;
use palisade_analysis::selector::LabelSelector;
use palisade_analysis::Inventory;

use super::grants::{related_rules, version_suffix};
use crate::meta::rule;
use crate::{Check, Emitter};

rule! {
    /// ## What it does
    /// Judges a Role or ClusterRole that no binding in the input uses on its own: wildcards
    /// (`*` on `*`), Secret reads, `pods/exec`, `escalate`/`bind`/`impersonate`, creating pods
    /// or workloads, `nodes/proxy`, webhook writes, token creation and the other risks the
    /// `rbac-*` rules look for, as if it were bound (a ClusterRole by a ClusterRoleBinding, a
    /// Role in its namespace). Each finding points at the rule that grants the risk.
    ///
    /// A role bound in the input is reported through its bindings by the other `rbac-*` rules,
    /// not here; a ClusterRole that an aggregated role selects (`aggregate-to-admin`, ...) is
    /// used through that role. Kubernetes' own roles (the defaults and `system:` roles) are
    /// left out.
    ///
    /// ## Why is this bad?
    /// Charts often ship their roles while the bindings live elsewhere (another chart, a
    /// platform repository, a `kubectl create rolebinding` in a runbook). The role is where the
    /// permission is written, and where it should be reviewed. The severity is lower than a
    /// bound grant's: nothing holds the permission yet.
    ///
    /// ## Example
    /// ```yaml
    /// kind: ClusterRole
    /// metadata: {name: ci-deployer}
    /// rules:
    /// - apiGroups: ["*"]        # fails: bound, this is cluster-admin
    ///   resources: ["*"]
    ///   verbs: ["*"]
    /// ```
    ///
    /// ## Remediation
    /// Narrow the role to the verbs and resources its users need before anyone binds it; if it
    /// is bound elsewhere, scan that binding with it.
    ///
    /// ## References
    /// - Kubernetes RBAC good practices:
    ///   <https://kubernetes.io/docs/concepts/security/rbac-good-practices/>
    pub static RULE = {
        code: "PAL-RBAC-016",
        name: "rbac-unbound-risky-role",
        severity: Medium,
        category: "rbac",
        controls: ["NSA:rbac", "CIS-5.1.3"],
        check: Check::Inventory(check),
    };
}

fn check(inventory: &Inventory, out: &mut Emitter) {
    let rbac = &inventory.rbac;
    let policy = &rbac.policy;
    let bound: HashSet<(bool, Option<&str>, &str)> = policy
        .bindings()
        .iter()
        .map(|b| {
            let (cluster, name) = &b.role_ref;
            let namespace = if *cluster {
                None
            } else {
                b.namespace.as_deref()
            };
            (*cluster, namespace, name.as_str())
        })
        .collect();
    // Only the aggregating roles can pick a role: asking every role for every unbound one grew
    // with the square of the input.
    let aggregating: Vec<(&str, &[LabelSelector])> = policy
        .roles()
        .iter()
        .filter_map(|r| Some((r.name.as_str(), r.aggregation.as_deref()?)))
        .collect();
    let aggregated = |role: &Role| {
        role.cluster
            && aggregating.iter().any(|(name, selectors)| {
                *name != role.name
                    && selectors
                        .iter()
                        .any(|selector| selector.matches(&role.labels))
            })
    };
    // Kubernetes' own roles (the defaults, labelled `kubernetes.io/bootstrapping: rbac-defaults`
    // in a cluster, and components' `system:` roles) are not the input's to review.
    let own = |role: &Role| {
        role.source.bootstrap
            || role.name.starts_with("system:")
            || role
                .labels
                .iter()
                .any(|(k, v)| k == "kubernetes.io/bootstrapping" && v == "rbac-defaults")
    };
    for role in policy.roles().iter().filter(|r| !own(r)) {
        let key = (role.cluster, role.namespace.as_deref(), role.name.as_str());
        if bound.contains(&key) || aggregated(role) {
            continue;
        }
        let (reach, bound_as) = if role.cluster {
            (Reach::ClusterWide, "cluster-wide by a ClusterRoleBinding")
        } else {
            (Reach::Namespace, "by a RoleBinding in its namespace")
        };
        let version = rbac.kubernetes_version;
        let everything = granting_rules(policy, role, reach, Risk::ClusterAdmin, version);
        let risks: Vec<(Risk, Vec<_>)> = if everything.is_empty() {
            Risk::ALL
                .into_iter()
                .map(|risk| (risk, granting_rules(policy, role, reach, risk, version)))
                .filter(|(_, rules)| !rules.is_empty())
                .collect()
        } else {
            vec![(Risk::ClusterAdmin, everything)]
        };
        for (risk, rules) in risks {
            let Some(first) = rules.first() else {
                continue;
            };
            let message = format!(
                "{} {} is bound by no binding in the input; bound {bound_as}, whoever it is bound to {}{}",
                role.kind(),
                match &role.namespace {
                    Some(ns) => format!("{ns}/{}", role.name),
                    None => role.name.clone(),
                },
                risk.describe(),
                version_suffix(rbac, risk)
            );
            out.report(&first.source, message, related_rules(role, &rules[1..]));
        }
    }
}
