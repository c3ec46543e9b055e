//! One file per rule, one folder per family.

pub mod admission;
pub mod api;
pub mod audit;
pub mod audit_log;
pub mod control_plane;
pub mod encryption;
pub mod exposure;
pub mod image;
pub mod kubelet;
pub mod mesh;
pub mod namespace;
pub mod netpol;
pub mod node_files;
pub mod pss;
pub mod rbac;
pub mod resources;
pub mod secrets;
pub mod service_account;
pub mod suppression;
pub mod workload;
