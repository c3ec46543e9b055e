use palisade_analysis::rbac::risk::Risk;
use palisade_analysis::Inventory;

use super::grants::report_risk;
use crate::meta::rule;
use crate::{Check, Emitter};

rule! {
    /// ## What it does
    /// Flags bindings that let a non-system subject write `services/status` (load-balancer IPs) or
    /// create and update Services (whose `externalIPs` can claim any address), CVE-2020-8554.
    ///
    /// ## Why is this bad?
    /// A Service can intercept traffic for any IP it claims, from every pod of the cluster, unless
    /// an admission policy restricts `externalIPs`.
    ///
    /// ## Example
    /// ```yaml
    /// kind: Role
    /// rules:
    /// - apiGroups: [""]
    ///   resources: ["services/status"]   # fails
    ///   verbs: ["patch"]
    /// ```
    ///
    /// ## Remediation
    /// Block `externalIPs` with an admission policy (or the DenyServiceExternalIPs plugin) and
    /// grant `services/status` only to load-balancer controllers.
    ///
    /// ## References
    /// - Kubernetes RBAC good practices:
    ///   <https://kubernetes.io/docs/concepts/security/rbac-good-practices/>
    pub static RULE = {
        code: "PAL-RBAC-011",
        name: "rbac-service-ip-write",
        severity: Low,
        category: "rbac",
        controls: ["NSA:rbac", "MITRE:T1557"],
        check: Check::Inventory(check),
    };
}

fn check(inventory: &Inventory, out: &mut Emitter) {
    report_risk(&inventory.rbac, out, Risk::ServiceIpWrite);
}
