//! Semantic engines shared by rules: each decides a question exactly as Kubernetes does.
//!
//! * [`pss`]: the Pod Security Standards, per level and per Kubernetes version, as the
//!   pod-security-admission library evaluates them;
//! * [`rbac`]: effective permissions as the RBAC authorizer computes them, can-i / who-can,
//!   risky grants and escalation paths;
//! * [`netpol`]: NetworkPolicy isolation and reachability;
//! * [`selector`]: label selectors;
//! * [`image`]: container image references;
//! * [`resources`]: container requests and limits after defaulting and LimitRanges;
//! * [`credentials`]: values that look like credentials, judged without ever showing them;
//! * [`attack`]: attack paths from the internet, joining exposure, reachability, mounted
//!   tokens, node escapes and RBAC escalation.

pub mod admission;
pub mod attack;
pub mod audit_policy;
pub mod credentials;
pub mod custom;
pub mod flags;
pub mod image;
mod inventory;
pub mod kubelet;
pub mod mesh;
pub mod netpol;
pub mod pss;
pub mod rbac;
pub mod releases;
pub mod resources;
pub mod selector;
pub mod vulns;
pub use inventory::{Inventory, InventoryBuilder};
