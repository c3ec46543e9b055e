use palisade_audit::{is_control_plane, AuditEvent};
use palisade_model::FieldPath;
use serde_json::Value;

use super::{target, when};
use crate::meta::{rule, AuditHit};
use crate::Check;

rule! {
    /// ## What it does
    /// Reports RBAC writes that hand out power: a RoleBinding or ClusterRoleBinding created or
    /// changed to bind `cluster-admin`, and a Role or ClusterRole created or changed to grant
    /// `escalate`, `bind` or `impersonate`, `*` verbs on `*` resources, or the partial
    /// wildcards that come to much the same: `*` resources with a read verb (which reads every
    /// Secret), `*` verbs on pods, and `create` (or `get`, before Kubernetes 1.31) on
    /// `pods/exec` or `pods/attach`. It reads the request
    /// body, so the audit policy must log RBAC writes at the `Request` level or above; at
    /// `Metadata` level only the write itself is known, and nothing is reported.
    ///
    /// ## Why is this bad?
    /// Binding cluster-admin is the last step of most escalation paths; creating a role with
    /// `escalate`, `bind` or `impersonate` is the step before (MITRE T1098). The control plane's
    /// own reconciliation is left out.
    ///
    /// ## Example
    /// ```json
    /// {"verb":"create","objectRef":{"resource":"clusterrolebindings","name":"backdoor"},
    ///  "requestObject":{"roleRef":{"kind":"ClusterRole","name":"cluster-admin"}, ...}}
    /// ```
    ///
    /// ## Remediation
    /// Confirm the change was intended; revert it otherwise, and find how its author got the
    /// right to make it (`palisade rbac paths`).
    ///
    /// ## References
    /// - Falco Kubernetes audit rules ("Attach to cluster-admin Role", "ClusterRole With
    ///   Wildcard Created"): <https://github.com/falcosecurity/plugins/tree/main/plugins/k8saudit/rules>
    pub static RULE = {
        code: "PAL-AL-005",
        name: "audit-rbac-escalation",
        severity: Critical,
        category: "audit-log",
        controls: ["MITRE:T1098", "NSA:logging"],
        check: Check::AuditEvent(check),
    };
}

fn strings(value: Option<&Value>) -> Vec<&str> {
    value
        .and_then(Value::as_array)
        .map(|items| items.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

/// What a rule hands out that this rule reports, if anything: `escalate`, `bind` or
/// `impersonate`; `*` on `*`; and the partial wildcards that amount to much the same: `*`
/// resources with a read verb (every Secret), `*` verbs on pods, and a way into running
/// containers (`pods/exec`, `pods/attach`).
fn power_of(verbs: &[&str], resources: &[&str], groups: &[&str]) -> Option<String> {
    let any_verb = verbs.contains(&"*");
    let any_resource = resources.contains(&"*");
    if any_verb && any_resource {
        return Some("`*` on `*`".to_string());
    }
    let powerful: Vec<&str> = verbs
        .iter()
        .copied()
        .filter(|v| matches!(*v, "escalate" | "bind" | "impersonate"))
        .collect();
    if !powerful.is_empty() {
        return Some(format!("`{}`", powerful.join("`, `")));
    }
    let core = groups.iter().any(|g| g.is_empty() || *g == "*");
    let reads: Vec<&str> = verbs
        .iter()
        .copied()
        .filter(|v| matches!(*v, "get" | "list" | "watch"))
        .collect();
    if any_resource && core && !reads.is_empty() {
        return Some(format!(
            "`{}` on `*` resources, which reads every Secret",
            reads.join("`, `")
        ));
    }
    if any_verb && core && resources.contains(&"pods") {
        return Some("`*` verbs on pods (exec and attach included)".to_string());
    }
    let into_containers: Vec<&str> = resources
        .iter()
        .copied()
        .filter(|r| matches!(*r, "pods/exec" | "pods/attach" | "pods/*"))
        .collect();
    let opens = any_verb || verbs.contains(&"create") || verbs.contains(&"get");
    if core && opens && !into_containers.is_empty() {
        return Some(format!(
            "a shell in running containers (`{}` on `{}`)",
            verbs.join("`, `"),
            into_containers.join("`, `")
        ));
    }
    None
}

fn check(event: &AuditEvent) -> Vec<AuditHit> {
    if event.api_group() != "rbac.authorization.k8s.io"
        || !matches!(event.verb.as_str(), "create" | "update" | "patch")
        || !event.allowed()
        || is_control_plane(event.acting_user())
    {
        return Vec::new();
    }
    let Some(body) = &event.request_object else {
        return Vec::new();
    };
    let who = || format!("{}{}", event.who(), when(event));
    match event.resource() {
        "rolebindings" | "clusterrolebindings" => {
            let role = body.pointer("/roleRef/name").and_then(Value::as_str);
            if role != Some("cluster-admin") {
                return Vec::new();
            }
            vec![AuditHit {
                path: FieldPath::root().key("roleRef").key("name"),
                message: format!("{} bound cluster-admin ({})", who(), target(event)),
            }]
        }
        "roles" | "clusterroles" => {
            let rules = body.get("rules").and_then(Value::as_array);
            let mut hits = Vec::new();
            for (i, rule) in rules.into_iter().flatten().enumerate() {
                let verbs = strings(rule.get("verbs"));
                let resources = strings(rule.get("resources"));
                let Some(what) = power_of(&verbs, &resources, &strings(rule.get("apiGroups")))
                else {
                    continue;
                };
                hits.push(AuditHit {
                    path: FieldPath::root().key("rules").index(i),
                    message: format!("{} wrote {} granting {what}", who(), target(event)),
                });
            }
            hits
        }
        _ => Vec::new(),
    }
}
