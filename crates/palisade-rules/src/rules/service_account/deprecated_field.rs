use palisade_analysis::pss::Violation;
use palisade_model::PodView;

use crate::meta::rule;
use crate::{Check, OptionValues};

rule! {
    /// ## What it does
    /// Flags pod specs that set the deprecated `serviceAccount` field, alone or to another name
    /// than `serviceAccountName`.
    ///
    /// Both set to the same name pass: the API server writes `serviceAccount` from
    /// `serviceAccountName` on every pod spec it stores, so that is what every live object
    /// (`scan --cluster`, snapshots) shows, and it is unambiguous.
    ///
    /// ## Why is this bad?
    /// `serviceAccount` is a deprecated alias of `serviceAccountName`. When both are set and
    /// differ, `serviceAccountName` wins: a reviewer reading `serviceAccount` sees the wrong
    /// identity, and tools that read only one of them get the wrong answer.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   serviceAccount: web   # fails: use serviceAccountName
    /// ```
    ///
    /// ## Remediation
    /// Rename the field to `serviceAccountName`.
    ///
    /// ## References
    /// - Kubernetes API reference, PodSpec:
    ///   <https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/pod-v1/>
    pub static RULE = {
        code: "PAL-SA-003",
        name: "deprecated-service-account-field",
        severity: Low,
        category: "service-accounts",
        controls: ["NSA:rbac"],
        check: Check::Pod(check),
    };
}

fn check(pod: &PodView<'_>, _: &OptionValues) -> Vec<Violation> {
    let Some(old) = pod.spec.str_of("serviceAccount").filter(|n| !n.is_empty()) else {
        return Vec::new();
    };
    let message = match pod.spec.str_of("serviceAccountName") {
        Some(name) if name == old => return Vec::new(),
        Some(name) if !name.is_empty() => format!(
            "deprecated serviceAccount `{old}` is ignored: the pod runs as serviceAccountName `{name}`"
        ),
        _ => format!("deprecated field serviceAccount `{old}`: use serviceAccountName"),
    };
    vec![Violation {
        severity: None,
        path: pod.spec_path.key("serviceAccount"),
        message,
    }]
}
