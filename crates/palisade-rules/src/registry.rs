//! The list of every rule. Adding a rule is its file plus one line here.

use crate::rules::pss;
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
];
