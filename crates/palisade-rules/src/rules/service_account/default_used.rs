use palisade_analysis::pss::Violation;
use palisade_model::PodView;

use crate::meta::rule;
use crate::{Check, OptionValues};

rule! {
    /// ## What it does
    /// Flags pods that run as their namespace's `default` service account: no
    /// `serviceAccountName` (nor the deprecated `serviceAccount`), or the name `default`.
    ///
    /// ## Why is this bad?
    /// The default account is shared by every pod that does not choose one, so any role
    /// granted to it reaches them all, and audit logs cannot tell the workloads apart.
    ///
    /// ## Example
    /// ```yaml
    /// kind: Deployment
    /// spec:
    ///   template:
    ///     spec:            # fails: no serviceAccountName
    ///       containers: [...]
    /// ```
    ///
    /// ## Remediation
    /// Create a ServiceAccount per workload (with `automountServiceAccountToken: false`
    /// unless it calls the API) and set `serviceAccountName`.
    ///
    /// ## References
    /// - CIS Kubernetes Benchmark 5.1.5: ensure that default service accounts are not actively
    ///   used
    pub static RULE = {
        code: "PAL-SA-002",
        name: "default-service-account-used",
        severity: Low,
        category: "service-accounts",
        controls: ["CIS-5.1.5", "NSA:rbac"],
        check: Check::Pod(check),
    };
}

fn check(pod: &PodView<'_>, _: &OptionValues) -> Vec<Violation> {
    let named = |key: &str| pod.spec.str_of(key).filter(|n| !n.is_empty());
    let (name, path) = match (named("serviceAccountName"), named("serviceAccount")) {
        (Some(name), _) => (name, pod.spec_path.key("serviceAccountName")),
        (None, Some(name)) => (name, pod.spec_path.key("serviceAccount")),
        (None, None) => {
            return vec![Violation {
            severity: None,
            path: pod.spec_path.clone(),
            message:
                "the pod runs as the namespace's default service account (no serviceAccountName)"
                    .to_string(),
        }]
        }
    };
    if name != "default" {
        return Vec::new();
    }
    vec![Violation {
        severity: None,
        path,
        message: "the pod runs as the namespace's default service account".to_string(),
    }]
}
