use palisade_analysis::pss::Violation;
use palisade_model::{Node, PodView};

use crate::meta::rule;
use crate::{Check, OptionValues};

rule! {
    /// ## What it does
    /// Flags pods and containers that run with the root group (GID 0): an effective
    /// `runAsGroup: 0` (the container's own setting, else the pod's), `fsGroup: 0`, or 0 in
    /// `supplementalGroups`. Init and ephemeral containers count.
    ///
    /// An unset `runAsGroup` is not flagged: the image decides, and most images use a
    /// non-zero group when they set a non-root user.
    ///
    /// ## Why is this bad?
    /// Group 0 owns much of a typical file system, including files on mounted volumes and
    /// host paths: a process with GID 0 can read and often write them even as a non-root
    /// user.
    ///
    /// ## Example
    /// ```yaml
    /// securityContext:
    ///   runAsUser: 10001
    ///   runAsGroup: 0   # fails
    /// ```
    ///
    /// ## Remediation
    /// Set `runAsGroup` and `fsGroup` to a dedicated non-zero GID.
    ///
    /// ## References
    /// - NSA/CISA Kubernetes Hardening Guide, "Use containers built to run applications as
    ///   non-root users"
    /// - CIS Kubernetes Benchmark 5.7.3: apply security context to your pods and containers
    pub static RULE = {
        code: "PAL-WL-006",
        name: "run-as-root-group",
        severity: Medium,
        category: "workload",
        controls: ["NSA:pod-security", "CIS-5.7.3"],
        about: crate::rules::pss::run_as_identity,
        fix: crate::fix::needs_decision,
        check: Check::Pod(check),
    };
}

fn check(pod: &PodView<'_>, _: &OptionValues) -> Vec<Violation> {
    let mut violations = Vec::new();
    let pod_sc = pod.security_context();
    let pod_sc_path = pod.security_context_path();
    if pod_sc
        .and_then(|sc| sc.get("fsGroup"))
        .and_then(Node::as_i64)
        == Some(0)
    {
        violations.push(Violation {
            severity: None,
            path: pod_sc_path.key("fsGroup"),
            message: "the pod's volumes are owned by group 0 (fsGroup: 0)".to_string(),
        });
    }
    let supplemental = pod_sc
        .and_then(|sc| sc.get("supplementalGroups"))
        .map(Node::as_seq)
        .unwrap_or_default();
    for (i, group) in supplemental.iter().enumerate() {
        if group.as_i64() == Some(0) {
            violations.push(Violation {
                severity: None,
                path: pod_sc_path.key("supplementalGroups").index(i),
                message: "every container of the pod is also in group 0 (supplementalGroups)"
                    .to_string(),
            });
        }
    }
    let mut pod_level_reported = false;
    for container in pod.containers() {
        let Some(group) = pod.effective_security_context(container).run_as_group else {
            continue;
        };
        if group.value != 0 {
            continue;
        }
        // The pod's setting is one finding, not one per container that inherits it.
        if group.from_pod {
            if pod_level_reported {
                continue;
            }
            pod_level_reported = true;
            violations.push(Violation {
                severity: None,
                path: group.path,
                message: "the pod's containers run as group 0 (runAsGroup: 0)".to_string(),
            });
        } else {
            violations.push(Violation {
                severity: None,
                path: group.path,
                message: format!("{} runs as group 0 (runAsGroup: 0)", container.describe()),
            });
        }
    }
    violations
}
