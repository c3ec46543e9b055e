use crate::meta::rule;
use crate::Check;

rule! {
    /// ## What it does
    /// Flags a suppression that suppressed no finding in this scan, although at least one of
    /// the rules it names ran. Suppressions for rules that were not selected are not judged.
    ///
    /// ## Why is this bad?
    /// Suppressions rot: the container they were written for is renamed or fixed, and the
    /// stale exception waits to hide the next, unrelated problem on that object.
    ///
    /// ## Example
    /// ```yaml
    /// metadata:
    ///   annotations:
    ///     palisade.dev/ignore: pss-privileged       # fails when nothing here is privileged
    ///     palisade.dev/ignore-reason: needed for the CNI
    /// ```
    ///
    /// ## Remediation
    /// Delete the suppression.
    ///
    /// ## References
    /// - ruff's unused-noqa (RUF100), the same idea for Python
    pub static RULE = {
        code: "PAL-SUP-003",
        name: "suppression-unused",
        severity: Low,
        category: "suppression",
        controls: [],
        check: Check::Suppression,
    };
}
