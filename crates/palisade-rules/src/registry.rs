//! The list of every rule. Adding a rule is its file plus one line here.

use crate::rules::{pss, rbac};
use crate::Rule;

/// Every rule, in code order.
pub static RULES: &[&Rule] = &[
    &pss::host_namespaces::RULE,
    &pss::privileged::RULE,
    &pss::capabilities_baseline::RULE,
    &pss::host_path_volumes::RULE,
    &pss::host_ports::RULE,
    &pss::app_armor_profile::RULE,
    &pss::se_linux_options::RULE,
    &pss::proc_mount::RULE,
    &pss::seccomp_profile_baseline::RULE,
    &pss::sysctls::RULE,
    &pss::windows_host_process::RULE,
    &pss::host_probes_and_lifecycle::RULE,
    &pss::restricted_volumes::RULE,
    &pss::allow_privilege_escalation::RULE,
    &pss::run_as_non_root::RULE,
    &pss::run_as_user::RULE,
    &pss::seccomp_profile_restricted::RULE,
    &pss::capabilities_restricted::RULE,
    &pss::proc_mount_restricted::RULE,
    &rbac::cluster_admin::RULE,
    &rbac::read_secrets::RULE,
    &rbac::create_workloads::RULE,
    &rbac::pod_exec::RULE,
    &rbac::nodes_proxy::RULE,
    &rbac::escalate_bind_impersonate::RULE,
    &rbac::create_tokens::RULE,
    &rbac::approve_csr::RULE,
    &rbac::webhook_write::RULE,
    &rbac::create_persistent_volumes::RULE,
    &rbac::service_ip_write::RULE,
    &rbac::anonymous_binding::RULE,
    &rbac::default_service_account::RULE,
    &rbac::risky_workload::RULE,
    &rbac::escalation_path::RULE,
];
