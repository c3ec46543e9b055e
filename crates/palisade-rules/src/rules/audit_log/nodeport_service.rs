use palisade_audit::{is_control_plane, AuditEvent};
use palisade_model::FieldPath;

use super::{target, when};
use crate::meta::{rule, AuditHit};
use crate::Check;

rule! {
    /// ## What it does
    /// Reports Services created or changed to type `NodePort`, naming the node ports. The
    /// audit policy must log Service writes at the `Request` level.
    ///
    /// ## Why is this bad?
    /// A NodePort Service opens its port on every node of the cluster, past the load balancers
    /// and Ingress where access is usually controlled: a way in, or out, that few watch
    /// (MITRE T1133).
    ///
    /// ## Example
    /// ```json
    /// {"verb":"create","objectRef":{"resource":"services"},
    ///  "requestObject":{"spec":{"type":"NodePort","ports":[{"port":22,"nodePort":30022}]}}}
    /// ```
    ///
    /// ## Remediation
    /// Expose the workload through an Ingress or a load balancer with access control; if a
    /// node port is needed, restrict it with firewall rules and NetworkPolicies.
    ///
    /// ## References
    /// - Falco Kubernetes audit rules ("Create NodePort Service"):
    ///   <https://github.com/falcosecurity/plugins/tree/main/plugins/k8saudit/rules>
    pub static RULE = {
        code: "PAL-AL-016",
        name: "audit-nodeport-service",
        severity: Medium,
        category: "audit-log",
        controls: ["MITRE:T1133", "NSA:network-separation", "NSA:logging"],
        check: Check::AuditEvent(check),
    };
}

fn check(event: &AuditEvent) -> Vec<AuditHit> {
    if event.api_group() != ""
        || event.resource() != "services"
        || !event.subresource().is_empty()
        || !matches!(event.verb.as_str(), "create" | "update" | "patch")
        || !event.allowed()
        || is_control_plane(event.acting_user())
    {
        return Vec::new();
    }
    let Some(spec) = event.request_object.as_ref().and_then(|b| b.get("spec")) else {
        return Vec::new();
    };
    if spec.get("type").and_then(serde_json::Value::as_str) != Some("NodePort") {
        return Vec::new();
    }
    let ports: Vec<String> = spec
        .get("ports")
        .and_then(serde_json::Value::as_array)
        .into_iter()
        .flatten()
        .map(
            |port| match port.get("nodePort").and_then(serde_json::Value::as_u64) {
                Some(node_port) => node_port.to_string(),
                None => "picked by the server".to_string(),
            },
        )
        .collect();
    let ports = match ports.as_slice() {
        [] => String::new(),
        [one] => format!(" (node port {one})"),
        many => format!(" (node ports {})", many.join(", ")),
    };
    vec![AuditHit {
        path: FieldPath::root().keys(&["spec", "type"]),
        message: format!(
            "{} exposed {} on every node{ports}{}",
            event.who(),
            target(event),
            when(event)
        ),
    }]
}
