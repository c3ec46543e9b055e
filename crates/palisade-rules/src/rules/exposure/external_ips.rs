use palisade_analysis::pss::Violation;
use palisade_model::{FieldPath, Object};

use crate::meta::rule;
use crate::rules::exposure::service_type;
use crate::{Check, OptionValues};

rule! {
    /// ## What it does
    /// Flags Services that set `spec.externalIPs`.
    ///
    /// ## Why is this bad?
    /// kube-proxy routes traffic for every listed address to the Service, whoever owns the
    /// address: anyone who can create a Service can intercept traffic meant for another
    /// IP, inside or outside the cluster (CVE-2020-8554, unfixable in kube-proxy).
    ///
    /// ## Example
    /// ```yaml
    /// kind: Service
    /// spec:
    ///   externalIPs: [203.0.113.10]   # fails
    /// ```
    ///
    /// ## Remediation
    /// Use a LoadBalancer or Ingress instead. Block the field cluster-wide with the
    /// `DenyServiceExternalIPs` admission plugin or a policy.
    ///
    /// ## References
    /// - CVE-2020-8554: <https://github.com/kubernetes/kubernetes/issues/97076>
    /// - MITRE ATT&CK T1557 Adversary-in-the-Middle
    pub static RULE = {
        code: "PAL-EXP-003",
        name: "service-external-ips",
        severity: High,
        category: "exposure",
        controls: ["NSA:network-separation", "MITRE:T1557"],
        kinds: ["Service"],
        check: Check::Object(check),
    };
}

fn check(object: &Object, _: &OptionValues) -> Vec<Violation> {
    if service_type(object).is_none() {
        return Vec::new();
    }
    let count = object
        .root
        .at(&["spec", "externalIPs"])
        .map_or(0, |ips| ips.as_seq().len());
    if count == 0 {
        return Vec::new();
    }
    vec![Violation {
        severity: None,
        path: FieldPath::root().keys(&["spec", "externalIPs"]),
        message: format!(
            "Service claims {count} external IP(s): kube-proxy hijacks their traffic (CVE-2020-8554)"
        ),
    }]
}
