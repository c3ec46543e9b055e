//! One file per rule, one folder per family.

pub mod pss;
pub mod rbac;
