//! One file per rule, one folder per family.

pub mod image;
pub mod netpol;
pub mod pss;
pub mod rbac;
pub mod suppression;
