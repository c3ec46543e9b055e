use std::collections::BTreeMap;

use palisade_analysis::audit_policy::{evaluate, rule_matches, Level, Match};
use palisade_analysis::pss::Violation;
use palisade_model::{FieldPath, Node, Object};

use crate::meta::rule;
use crate::rules::audit::{rule_path, rules_of};
use crate::{Check, OptionValues};

/// Requests an audit trail must show: (group, resource, what it is).
const MUST_LOG: &[(&str, &str, &str)] = &[
    ("", "pods/exec", "exec into pods"),
    ("", "pods/attach", "attach to pods"),
    ("", "pods/portforward", "port-forward to pods"),
    ("rbac.authorization.k8s.io", "roles", "Role changes"),
    (
        "rbac.authorization.k8s.io",
        "clusterroles",
        "ClusterRole changes",
    ),
    (
        "rbac.authorization.k8s.io",
        "rolebindings",
        "RoleBinding changes",
    ),
    (
        "rbac.authorization.k8s.io",
        "clusterrolebindings",
        "ClusterRoleBinding changes",
    ),
];

rule! {
    /// ## What it does
    /// Flags audit policies that leave the events that matter unlogged or unreachable:
    /// - exec, attach and port-forward, and changes to RBAC roles and bindings, whose
    ///   deciding rule (the first that matches all such requests) is `None`, or that no rule
    ///   matches (unmatched requests are not logged);
    /// - a catch-all rule (no users, verbs, resources or URLs) before other rules: the rules
    ///   after it never apply;
    /// - a policy with no rules (nothing is logged);
    /// - a policy-wide `omitStages` that drops `ResponseComplete`, the event that records
    ///   how every request ended.
    ///
    /// ## Why is this bad?
    /// Exec into a pod and a new ClusterRoleBinding are the first steps of most cluster
    /// intrusions; a policy that misses them leaves incident response blind.
    ///
    /// ## Example
    /// ```yaml
    /// kind: Policy
    /// rules:
    /// - level: None   # fails: a catch-all before the rules below, which never apply
    /// - level: Metadata
    ///   resources: [{group: "", resources: [pods/exec]}]
    /// ```
    ///
    /// ## Remediation
    /// Order rules from specific to general, log exec/attach/port-forward and RBAC at
    /// `Metadata` or more (never bodies of Secrets), and end with a catch-all `Metadata` rule.
    ///
    /// ## References
    /// - CIS Kubernetes Benchmark v1.9, 3.2.1 and 3.2.2
    /// - NSA/CISA Kubernetes Hardening Guide, "Audit logging and threat detection"
    pub static RULE = {
        code: "PAL-AUDIT-002",
        name: "audit-policy-gaps",
        severity: Medium,
        category: "audit",
        controls: ["CIS-3.2.1", "CIS-3.2.2", "NSA:audit-logging", "MITRE:T1562"],
        kinds: ["Policy"],
        check: Check::Object(check),
    };
}

fn is_catch_all(rule: &Node) -> bool {
    rule_matches(rule, "", "pods") == Match::All
        && rule.get("resources").is_none_or(|r| r.as_seq().is_empty())
        && rule
            .get("nonResourceURLs")
            .is_none_or(|r| r.as_seq().is_empty())
}

fn check(object: &Object, _: &OptionValues) -> Vec<Violation> {
    let Some(rules) = rules_of(object) else {
        return Vec::new();
    };
    let mut violations = Vec::new();
    if rules.is_empty() {
        violations.push(Violation {
            severity: None,
            path: FieldPath::root().key("kind"),
            message: "CIS 3.2.1: the audit policy has no rules: nothing is logged".to_string(),
        });
        return violations;
    }
    if let Some(index) = rules.iter().position(is_catch_all) {
        if index + 1 < rules.len() {
            violations.push(Violation {
                severity: None,
                path: rule_path(index),
                message: format!(
                    "rule {index} matches every request: the {} rule(s) after it never apply",
                    rules.len() - index - 1
                ),
            });
        }
    }
    // Unlogged events, grouped by the rule that drops them (`None`: no rule matches them).
    let mut unlogged: BTreeMap<Option<usize>, Vec<&str>> = BTreeMap::new();
    for (group, resource, what) in MUST_LOG {
        let outcome = evaluate(rules, group, resource);
        if outcome.level() == Level::None {
            let decisive = outcome.decisive.map(|(i, _)| i);
            unlogged.entry(decisive).or_default().push(what);
        }
    }
    for (decisive, whats) in unlogged {
        let (path, why) = match decisive {
            Some(i) => (
                rule_path(i).key("level"),
                format!("rule {i} logs them at None"),
            ),
            None => (
                FieldPath::root().key("rules"),
                "no rule matches them".to_string(),
            ),
        };
        violations.push(Violation {
            severity: None,
            path,
            message: format!("CIS 3.2.2: {} are not audited: {why}", whats.join(", ")),
        });
    }
    let omitted = object
        .root
        .get("omitStages")
        .map(Node::as_seq)
        .unwrap_or_default()
        .iter()
        .position(|s| s.as_str() == Some("ResponseComplete"));
    if let Some(i) = omitted {
        violations.push(Violation {
            severity: None,
            path: FieldPath::root().key("omitStages").index(i),
            message: "omitStages drops ResponseComplete for every request: the log no longer shows how requests ended".to_string(),
        });
    }
    violations
}
