//! NetworkPolicy coverage: default deny, isolation, dangling selectors, allow-all rules,
//! metadata egress, reachable system workloads, host-network pods, AdminNetworkPolicy priorities.

mod common;

pub mod admin_priority;
pub mod allow_all;
pub mod dangling;
pub mod default_deny_egress;
pub mod default_deny_ingress;
pub mod host_network;
pub mod invalid;
pub mod metadata_egress;
pub mod not_isolated;
pub mod system_reachable;
