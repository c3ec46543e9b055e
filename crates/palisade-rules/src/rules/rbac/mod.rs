//! RBAC: risky grants, subjects that should not hold roles, escalation paths.

mod grants;

pub mod anonymous_binding;
pub mod approve_csr;
pub mod cluster_admin;
pub mod create_persistent_volumes;
pub mod create_tokens;
pub mod create_workloads;
pub mod default_service_account;
pub mod escalate_bind_impersonate;
pub mod escalation_path;
pub mod nodes_proxy;
pub mod pod_exec;
pub mod read_secrets;
pub mod risky_workload;
pub mod service_ip_write;
pub mod unbound_role;
pub mod webhook_write;
