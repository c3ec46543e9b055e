use palisade_analysis::flags::Component;
use palisade_analysis::pss::Violation;
use palisade_model::PodView;

use crate::meta::rule;
use crate::rules::control_plane::{check_pod, Requirement, Want};
use crate::{Check, OptionValues};

rule! {
    /// ## What it does
    /// Flags kube-apiserver pods without audit logging: no `--audit-log-path` or
    /// `--audit-policy-file`, or retention below the CIS minimums (`--audit-log-maxage` 30
    /// days, `--audit-log-maxbackup` 10 files, `--audit-log-maxsize` 100 MB). The policy's
    /// content is judged by the audit policy rules.
    ///
    /// ## Why is this bad?
    /// The audit log is the only record of who did what through the API: without it, an
    /// intrusion cannot be scoped, and short retention erases it before anyone looks.
    ///
    /// ## Example
    /// ```yaml
    /// - --audit-log-maxage=7   # fails: fewer than 30 days
    /// ```
    ///
    /// ## Remediation
    /// Set `--audit-policy-file`, `--audit-log-path` (or a webhook backend shipping to a
    /// SIEM) and retention flags at least at the CIS values.
    ///
    /// ## References
    /// - CIS Kubernetes Benchmark v1.9, 1.2.16-1.2.19 and 3.2.1
    /// - Kubernetes docs, Auditing: <https://kubernetes.io/docs/tasks/debug/debug-cluster/audit/>
    pub static RULE = {
        code: "PAL-CP-004",
        name: "apiserver-audit-log",
        severity: High,
        category: "control-plane",
        controls: ["CIS-1.2.16", "CIS-1.2.17", "CIS-1.2.18", "CIS-1.2.19", "CIS-3.2.1", "NSA:audit-logging"],
        check: Check::Pod(check),
    };
}

const REQUIREMENTS: &[Requirement] = &[
    Requirement {
        cis: "1.2.16",
        component: Component::ApiServer,
        flag: "audit-log-path",
        default: None,
        want: Want::Set,
        why: "API requests are not audited",
    },
    Requirement {
        cis: "1.2.17",
        component: Component::ApiServer,
        flag: "audit-log-maxage",
        default: None,
        want: Want::AtLeast(30),
        why: "audit logs are deleted before an incident is noticed",
    },
    Requirement {
        cis: "1.2.18",
        component: Component::ApiServer,
        flag: "audit-log-maxbackup",
        default: None,
        want: Want::AtLeast(10),
        why: "too few rotated audit logs are kept",
    },
    Requirement {
        cis: "1.2.19",
        component: Component::ApiServer,
        flag: "audit-log-maxsize",
        default: None,
        want: Want::AtLeast(100),
        why: "audit logs rotate too often to keep history",
    },
    Requirement {
        cis: "3.2.1",
        component: Component::ApiServer,
        flag: "audit-policy-file",
        default: None,
        want: Want::Set,
        why: "without a policy no event is recorded",
    },
];

fn check(pod: &PodView<'_>, _: &OptionValues) -> Vec<Violation> {
    check_pod(pod, REQUIREMENTS)
}
