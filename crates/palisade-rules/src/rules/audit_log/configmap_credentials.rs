use palisade_analysis::credentials::{suspect, suspect_in_text};
use palisade_audit::{is_control_plane, AuditEvent};
use palisade_model::FieldPath;

use super::{target, when};
use crate::meta::{rule, AuditHit};
use crate::Check;

rule! {
    /// ## What it does
    /// Reports ConfigMaps written with what looks like a credential in their `data`: a
    /// private key, a token of a known service, a URL with a password, or a value under a
    /// credential's name (`password`, `api_key`, ...), judged by the same detectors as `scan`'s
    /// `credential-in-configmap` on the request body. The finding names the key and what the
    /// value looks like, never the value. The audit policy must log ConfigMap writes at the
    /// `Request` level.
    ///
    /// ## Why is this bad?
    /// A ConfigMap is readable by everyone who can read configuration, is not encrypted at
    /// rest like Secrets can be, and is copied into logs and backups (MITRE T1552.007).
    ///
    /// ## Example
    /// ```json
    /// {"verb":"create","objectRef":{"resource":"configmaps"},
    ///  "requestObject":{"data":{"DATABASE_URL":"postgres://app:...@db:5432/app"}}}
    /// ```
    ///
    /// ## Remediation
    /// Rotate the credential; move it into a Secret (or an external secret store) and mount
    /// that instead.
    ///
    /// ## References
    /// - Falco Kubernetes audit rules ("Create/Modify Configmap With Private Credentials"):
    ///   <https://github.com/falcosecurity/plugins/tree/main/plugins/k8saudit/rules>
    pub static RULE = {
        code: "PAL-AL-015",
        name: "audit-configmap-credentials",
        severity: High,
        category: "audit-log",
        controls: ["MITRE:T1552.007", "NSA:secrets", "NSA:logging"],
        sensitive: true,
        check: Check::AuditEvent(check),
    };
}

fn check(event: &AuditEvent) -> Vec<AuditHit> {
    if event.api_group() != ""
        || event.resource() != "configmaps"
        || !matches!(event.verb.as_str(), "create" | "update" | "patch")
        || !event.allowed()
        || is_control_plane(event.acting_user())
    {
        return Vec::new();
    }
    let Some(data) = event
        .request_object
        .as_ref()
        .and_then(|body| body.get("data"))
        .and_then(serde_json::Value::as_object)
    else {
        return Vec::new();
    };
    data.iter()
        .filter_map(|(key, value)| {
            let value = value.as_str()?;
            let found = suspect(key, value)
                .map(|what| what.to_string())
                .or_else(|| {
                    suspect_in_text(value).map(|(line, what)| format!("{what} (line {line})"))
                })?;
            Some(AuditHit {
                path: FieldPath::root().key("data").key(key),
                message: format!(
                    "{} wrote {}{} with {found} under `{key}`",
                    event.who(),
                    target(event),
                    when(event)
                ),
            })
        })
        .collect()
}
