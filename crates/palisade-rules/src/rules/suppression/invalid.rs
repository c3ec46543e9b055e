use crate::meta::rule;
use crate::Check;

rule! {
    /// ## What it does
    /// Flags a suppression (annotation, `# palisade:ignore` comment or config exception) that
    /// cannot be honoured: it has no reason, names a rule that does not exist, or has an
    /// expiry that is not a `YYYY-MM-DD` date. Such a suppression suppresses nothing.
    ///
    /// ## Why is this bad?
    /// An exception nobody can explain is an exception nobody can review. A misspelt rule code
    /// silently suppresses nothing, so the author believes a finding is handled when it is not.
    ///
    /// ## Example
    /// ```yaml
    /// metadata:
    ///   annotations:
    ///     palisade.dev/ignore: PAL-PSS-002   # fails: no palisade.dev/ignore-reason
    /// ```
    ///
    /// ## Remediation
    /// Add the reason (`palisade.dev/ignore-reason`, the text after the codes in a comment, or
    /// `reason:` in the config), fix the rule code (`palisade rules` lists them) and write
    /// expiry dates as `2027-01-31`.
    ///
    /// ## References
    /// - Palisade README, "Suppressions"
    pub static RULE = {
        code: "PAL-SUP-001",
        name: "suppression-invalid",
        severity: Medium,
        category: "suppression",
        controls: [],
        check: Check::Suppression,
    };
}
