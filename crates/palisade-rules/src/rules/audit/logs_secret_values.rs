use palisade_analysis::audit_policy::{evaluate, Level};
use palisade_analysis::pss::Violation;
use palisade_model::Object;

use crate::meta::rule;
use crate::rules::audit::{rule_path, rules_of};
use crate::{Check, OptionValues};

/// Resources whose request or response bodies carry secret values: (group, resource).
const SENSITIVE: &[(&str, &str)] = &[
    ("", "secrets"),
    ("", "configmaps"),
    ("authentication.k8s.io", "tokenreviews"),
    ("", "serviceaccounts/token"),
];

rule! {
    /// ## What it does
    /// Flags audit policy rules that log Secrets, ConfigMaps, TokenReviews or service
    /// account token requests at `Request` or `RequestResponse`. Rules are evaluated as the
    /// API server does: the first rule that matches a request decides, so a broad
    /// `RequestResponse` rule is reported for these resources only when no earlier rule
    /// caps them at `Metadata`; a narrower earlier rule (some users, verbs or names) that
    /// logs bodies is reported too.
    ///
    /// ## Why is this bad?
    /// `Request` and `RequestResponse` write the objects themselves into the audit log:
    /// every Secret value and every bearer token that passes through the API ends up in a
    /// file shipped to a log pipeline with far wider access than the Secrets had.
    ///
    /// ## Example
    /// ```yaml
    /// kind: Policy
    /// rules:
    /// - level: RequestResponse   # fails: secrets included
    /// ```
    ///
    /// ## Remediation
    /// Put a rule early that logs these resources at `Metadata`:
    /// ```yaml
    /// - level: Metadata
    ///   resources:
    ///   - {group: "", resources: [secrets, configmaps, serviceaccounts/token]}
    ///   - {group: authentication.k8s.io, resources: [tokenreviews]}
    /// ```
    ///
    /// ## References
    /// - CIS Kubernetes Benchmark v1.9, 3.2.2: ensure that the audit policy covers key
    ///   security concerns
    /// - Kubernetes docs, Audit policy: <https://kubernetes.io/docs/tasks/debug/debug-cluster/audit/#audit-policy>
    pub static RULE = {
        code: "PAL-AUDIT-001",
        name: "audit-logs-secret-values",
        severity: High,
        category: "audit",
        controls: ["CIS-3.2.2", "NSA:audit-logging", "MITRE:T1552"],
        kinds: ["Policy"],
        check: Check::Object(check),
    };
}

fn check(object: &Object, _: &OptionValues) -> Vec<Violation> {
    let Some(rules) = rules_of(object) else {
        return Vec::new();
    };
    // One finding per rule, naming every sensitive resource it logs in full.
    let mut by_rule: Vec<(usize, Level, Vec<&str>)> = Vec::new();
    for (group, resource) in SENSITIVE {
        let outcome = evaluate(rules, group, resource);
        let logged = outcome.partial.iter().chain(outcome.decisive.iter());
        for &(index, level) in logged.filter(|(_, l)| *l >= Level::Request) {
            match by_rule.iter_mut().find(|(i, _, _)| *i == index) {
                Some((_, _, names)) => names.push(resource),
                None => by_rule.push((index, level, vec![resource])),
            }
        }
    }
    by_rule.sort_by_key(|(i, _, _)| *i);
    by_rule
        .into_iter()
        .map(|(index, level, names)| Violation {
            severity: None,
            path: rule_path(index).key("level"),
            message: format!(
                "CIS 3.2.2: rule {index} logs {} at {}: their values are written into the audit log",
                names.join(", "),
                level.as_str()
            ),
        })
        .collect()
}
