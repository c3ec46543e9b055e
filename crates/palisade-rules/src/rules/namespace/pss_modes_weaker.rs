use palisade_analysis::pss::Violation;
use palisade_model::{FieldPath, Object};

use crate::meta::rule;
use crate::rules::namespace::{is_namespace, strictness, LABEL_PREFIX};
use crate::{Check, OptionValues};

rule! {
    /// ## What it does
    /// Flags Namespaces whose Pod Security `audit` or `warn` level is less strict than their
    /// `enforce` level, and level labels with a value Pod Security Admission does not know
    /// (it then applies `restricted`, which is rarely what the author meant).
    ///
    /// ## Why is this bad?
    /// `warn` and `audit` exist to show what a stricter level would reject before enforcing
    /// it. Set below `enforce`, they report nothing enforce does not already block: the
    /// namespace gets no warning about its path to `restricted`.
    ///
    /// ## Example
    /// ```yaml
    /// labels:
    ///   pod-security.kubernetes.io/enforce: baseline
    ///   pod-security.kubernetes.io/warn: privileged   # fails: weaker than enforce
    /// ```
    ///
    /// ## Remediation
    /// Set `warn` and `audit` to `restricted` (at least to the enforce level).
    ///
    /// ## References
    /// - Kubernetes docs, Pod Security Admission modes:
    ///   <https://kubernetes.io/docs/concepts/security/pod-security-admission/#pod-security-admission-labels-for-namespaces>
    pub static RULE = {
        code: "PAL-NS-003",
        name: "namespace-pss-modes-weaker",
        severity: Low,
        category: "namespaces",
        controls: ["CIS-5.2.1", "NSA:pod-security"],
        kinds: ["Namespace"],
        check: Check::Object(check),
    };
}

fn check(object: &Object, _: &OptionValues) -> Vec<Violation> {
    if !is_namespace(object) {
        return Vec::new();
    }
    let label_path = |mode: &str| {
        FieldPath::root().keys(&["metadata", "labels", &format!("{LABEL_PREFIX}{mode}")])
    };
    let level_of = |mode: &str| object.label(&format!("{LABEL_PREFIX}{mode}"));
    let mut violations = Vec::new();
    for mode in ["enforce", "audit", "warn"] {
        if let Some(level) = level_of(mode).filter(|l| strictness(l).is_none()) {
            violations.push(Violation {
                severity: None,
                path: label_path(mode),
                message: format!(
                    "Pod Security {mode} level `{level}` is not privileged, baseline or restricted"
                ),
            });
        }
    }
    let Some(enforce) = level_of("enforce").and_then(strictness) else {
        return violations;
    };
    for mode in ["audit", "warn"] {
        let Some(level) = level_of(mode) else {
            continue;
        };
        if strictness(level).is_some_and(|rank| rank < enforce) {
            violations.push(Violation {
                severity: None,
                path: label_path(mode),
                message: format!(
                    "Pod Security {mode} level {level} is weaker than the enforce level {}",
                    crate::rules::namespace::LEVELS[enforce]
                ),
            });
        }
    }
    violations
}
