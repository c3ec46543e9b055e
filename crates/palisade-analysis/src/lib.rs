//! Semantic engines shared by rules: each decides a question exactly as Kubernetes does.
//!
//! * [`pss`]: the Pod Security Standards, per level and per Kubernetes version, as the
//!   pod-security-admission library evaluates them.

pub mod pss;
