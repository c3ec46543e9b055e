//! The list of every rule. Adding a rule is its file plus one line here.

use crate::rules::{
    admission, api, audit, audit_log, control_plane, encryption, exposure, image, kubelet, mesh,
    namespace, netpol, node_files, paths, pss, rbac, resources, secrets, service_account,
    suppression, version, workload,
};
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
    &rbac::unbound_role::RULE,
    &netpol::default_deny_ingress::RULE,
    &netpol::default_deny_egress::RULE,
    &netpol::not_isolated::RULE,
    &netpol::dangling::RULE,
    &netpol::allow_all::RULE,
    &netpol::metadata_egress::RULE,
    &netpol::system_reachable::RULE,
    &netpol::host_network::RULE,
    &netpol::admin_priority::RULE,
    &netpol::invalid::RULE,
    &admission::policy_denies::RULE,
    &workload::read_only_root_filesystem::RULE,
    &workload::dangerous_capabilities::RULE,
    &workload::share_process_namespace::RULE,
    &workload::sensitive_host_path::RULE,
    &workload::writable_host_path::RULE,
    &workload::run_as_root_group::RULE,
    &resources::cpu_request::RULE,
    &resources::memory_request::RULE,
    &resources::memory_limit::RULE,
    &resources::cpu_limit::RULE,
    &image::registry_allowed::RULE,
    &image::mutable_tag::RULE,
    &image::not_pinned_by_digest::RULE,
    &image::pull_policy::RULE,
    &service_account::automount_token::RULE,
    &service_account::default_used::RULE,
    &service_account::deprecated_field::RULE,
    &service_account::legacy_token_secret::RULE,
    &service_account::long_lived_projected_token::RULE,
    &secrets::secret_in_manifest::RULE,
    &secrets::secret_in_env::RULE,
    &secrets::credential_in_configmap::RULE,
    &secrets::credential_in_env::RULE,
    &exposure::load_balancer::RULE,
    &exposure::node_port::RULE,
    &exposure::external_ips::RULE,
    &paths::from_internet::RULE,
    &version::end_of_life::RULE,
    &version::missing_fixes::RULE,
    &exposure::ingress_without_tls::RULE,
    &exposure::nginx_snippets::RULE,
    &exposure::default_namespace::RULE,
    &namespace::pss_enforce_missing::RULE,
    &namespace::pss_enforce_privileged::RULE,
    &namespace::pss_modes_weaker::RULE,
    &mesh::peer_authentication_not_strict::RULE,
    &mesh::destination_rule_tls_disabled::RULE,
    &mesh::authorization_allow_all::RULE,
    &admission::webhook_failure_policy::RULE,
    &admission::webhook_selector_bypass::RULE,
    &admission::webhook_timeout::RULE,
    &admission::runtime_class_required::RULE,
    &control_plane::apiserver_authentication::RULE,
    &control_plane::apiserver_authorization::RULE,
    &control_plane::apiserver_admission::RULE,
    &control_plane::apiserver_audit_log::RULE,
    &control_plane::apiserver_tls::RULE,
    &control_plane::apiserver_service_accounts::RULE,
    &control_plane::apiserver_encryption::RULE,
    &control_plane::apiserver_insecure_serving::RULE,
    &control_plane::profiling::RULE,
    &control_plane::bind_address::RULE,
    &control_plane::controller_manager::RULE,
    &control_plane::apiserver_oidc::RULE,
    &control_plane::etcd_tls::RULE,
    &kubelet::anonymous_auth::RULE,
    &kubelet::authorization::RULE,
    &kubelet::client_ca::RULE,
    &kubelet::read_only_port::RULE,
    &kubelet::hardening::RULE,
    &kubelet::tls::RULE,
    &encryption::secrets_plaintext::RULE,
    &encryption::weak_provider::RULE,
    &audit::logs_secret_values::RULE,
    &audit::policy_gaps::RULE,
    &api::removed_version::RULE,
    &audit_log::exec_into_pod::RULE,
    &audit_log::secret_read::RULE,
    &audit_log::secret_list::RULE,
    &audit_log::anonymous_allowed::RULE,
    &audit_log::rbac_escalation::RULE,
    &audit_log::impersonation::RULE,
    &audit_log::privileged_pod::RULE,
    &audit_log::token_for_other_account::RULE,
    &audit_log::csr_approval::RULE,
    &audit_log::nodes_proxy::RULE,
    &audit_log::webhook_change::RULE,
    &audit_log::auth_failure_burst::RULE,
    &audit_log::system_role_change::RULE,
    &audit_log::kube_system_create::RULE,
    &audit_log::configmap_credentials::RULE,
    &audit_log::nodeport_service::RULE,
    &node_files::permissions::RULE,
    &node_files::ownership::RULE,
    &suppression::invalid::RULE,
    &suppression::expired::RULE,
    &suppression::unused::RULE,
];

/// What a custom rule says of itself (from the config: `custom-rules`).
#[derive(Clone, Debug)]
pub struct CustomRuleSpec {
    pub code: String,
    pub name: String,
    pub severity: palisade_model::Severity,
    pub category: String,
    pub description: String,
    pub controls: Vec<String>,
    /// How to repair what it finds, in words.
    pub fix: Option<String>,
    /// Its validations' expressions, for its documentation.
    pub expressions: Vec<String>,
}

/// Custom rules made so far in this process, by code: a suppression or a severity override
/// may name them like built-in rules.
static CUSTOM: std::sync::RwLock<Vec<&'static Rule>> = std::sync::RwLock::new(Vec::new());

fn leak(text: String) -> &'static str {
    Box::leak(text.into_boxed_str())
}

/// A rule made from the config's `custom-rules`. Rules are `'static` (findings refer to them),
/// so a custom rule lives as long as the process: configs are read once. Making the same code
/// again returns the rule made first when it is the same rule.
pub fn custom_rule(
    spec: CustomRuleSpec,
    check: palisade_analysis::custom::CustomCheck,
) -> &'static Rule {
    let mut docs = format!(
        " ## What it does\n {}\n",
        spec.description.trim().replace('\n', "\n ")
    );
    docs.push_str(" \n A custom rule (the config's `custom-rules`), in CEL:\n \n");
    for expression in &spec.expressions {
        docs.push_str(&format!(" - `{expression}`\n"));
    }
    if let Some(fix) = &spec.fix {
        docs.push_str(&format!(
            " \n ## Remediation\n {}\n",
            fix.trim().replace('\n', "\n ")
        ));
    }
    let controls: Vec<&'static str> = spec.controls.into_iter().map(leak).collect();
    let rule: &'static Rule = Box::leak(Box::new(Rule {
        meta: crate::RuleMeta {
            info: palisade_model::RuleRef {
                code: leak(spec.code),
                name: leak(spec.name),
                category: leak(spec.category),
                controls: Box::leak(controls.into_boxed_slice()),
            },
            severity: spec.severity,
            raw_docs: leak(docs),
            options: &[],
            sensitive: false,
            subsumes: &[],
            about: None,
            fix: None,
            cel: &[],
            kinds: &[],
        },
        check: crate::Check::Custom(Box::leak(Box::new(check))),
    }));
    if let Ok(mut custom) = CUSTOM.write() {
        custom.push(rule);
    }
    rule
}

/// The rule in `rules` that `token` names by code or name, in any letter case.
pub fn named<'r>(
    rules: impl IntoIterator<Item = &'r &'static Rule>,
    token: &str,
) -> Option<&'static Rule> {
    rules.into_iter().copied().find(|r| {
        r.meta.info.code.eq_ignore_ascii_case(token) || r.meta.info.name.eq_ignore_ascii_case(token)
    })
}

/// The built-in rule that `token` names by code or name, in any letter case.
pub fn built_in(token: &str) -> Option<&'static Rule> {
    named(RULES.iter(), token)
}

/// The rule with `code`: a built-in one, else a custom rule made in this process.
pub fn find(code: &str) -> Option<&'static Rule> {
    static BY_CODE: std::sync::OnceLock<std::collections::HashMap<&'static str, &'static Rule>> =
        std::sync::OnceLock::new();
    let built_in = BY_CODE.get_or_init(|| RULES.iter().map(|r| (r.meta.info.code, *r)).collect());
    built_in.get(code).copied().or_else(|| {
        CUSTOM
            .read()
            .ok()?
            .iter()
            .copied()
            .find(|r| r.meta.info.code == code)
    })
}

/// The kinds the built-in rules judge on their own: the kinds object rules declare and the
/// kinds that carry a pod spec (any other kind with `spec.template` does too).
pub fn judged_kinds() -> Vec<&'static str> {
    let mut kinds: Vec<&'static str> = RULES
        .iter()
        .flat_map(|rule| rule.meta.kinds.iter().copied())
        .filter(|kind| *kind != "*")
        .chain(["Pod", "PodTemplate", "CronJob"])
        .chain(palisade_model::TEMPLATE_KINDS.iter().copied())
        .collect();
    kinds.sort_unstable();
    kinds.dedup();
    kinds
}

/// Every built-in rule and every custom rule made in this process, for checking what a
/// suppression or an override names.
pub fn known() -> Vec<&'static Rule> {
    let custom = CUSTOM.read().map(|c| c.clone()).unwrap_or_default();
    RULES.iter().copied().chain(custom).collect()
}
