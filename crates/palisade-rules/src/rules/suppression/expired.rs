use crate::meta::rule;
use crate::Check;

rule! {
    /// ## What it does
    /// Flags a suppression whose expiry date has passed. From the day after its expiry it no
    /// longer suppresses anything, so the findings it covered are reported again as well.
    ///
    /// ## Why is this bad?
    /// Temporary exceptions ("until the chart is upgraded") are how risk gets accepted for a
    /// while; an expiry makes the owner revisit the decision instead of carrying it forever.
    ///
    /// ## Example
    /// ```yaml
    /// image: registry.example.com/legacy:1.0
    /// securityContext:
    ///   privileged: true  # palisade:ignore PAL-PSS-002 expires=2025-01-31 until the CNI upgrade
    /// ```
    ///
    /// ## Remediation
    /// Fix the finding, or renew the suppression with a new date and a reason that still holds.
    ///
    /// ## References
    /// - Palisade README, "Suppressions"
    pub static RULE = {
        code: "PAL-SUP-002",
        name: "suppression-expired",
        severity: Medium,
        category: "suppression",
        controls: [],
        check: Check::Suppression,
    };
}
