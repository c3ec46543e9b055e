//! API server audit logs (`palisade audit detect`): what an attacker's requests look like
//! there. Every finding points at the event (file:line), names the object, the user and the
//! source addresses, and never prints a logged request or response body.

use palisade_audit::AuditEvent;

pub mod anonymous_allowed;
pub mod auth_failure_burst;
pub mod configmap_credentials;
pub mod csr_approval;
pub mod exec_into_pod;
pub mod impersonation;
pub mod kube_system_create;
pub mod nodeport_service;
pub mod nodes_proxy;
pub mod privileged_pod;
pub mod rbac_escalation;
pub mod secret_list;
pub mod secret_read;
pub mod system_role_change;
pub mod token_for_other_account;
pub mod webhook_change;

/// `at 2026-11-30T04:45:56Z`, when the event says.
pub(crate) fn when(event: &AuditEvent) -> String {
    if event.request_received_timestamp.is_empty() {
        String::new()
    } else {
        format!(" at {}", event.request_received_timestamp)
    }
}

/// `Pod shop/web-0`, or the resource when the request named no object.
pub(crate) fn target(event: &AuditEvent) -> String {
    event.object().display_name()
}

/// ` (answered 400)` when the request failed after it was allowed.
pub(crate) fn outcome(event: &AuditEvent) -> String {
    match event.status_code() {
        Some(code) if code >= 300 => format!(" (answered {code})"),
        _ => String::new(),
    }
}
