//! Namespaces and their Pod Security Admission labels.

pub mod pss_enforce_missing;
pub mod pss_enforce_privileged;
pub mod pss_modes_weaker;

use palisade_model::Object;

pub(crate) const LABEL_PREFIX: &str = "pod-security.kubernetes.io/";

/// Pod Security levels from least to most strict.
pub(crate) const LEVELS: &[&str] = &["privileged", "baseline", "restricted"];

pub(crate) fn is_namespace(object: &Object) -> bool {
    object.group().is_empty() && object.kind() == "Namespace"
}

/// The rank of a level label's value; `None` for values Pod Security Admission rejects.
pub(crate) fn strictness(level: &str) -> Option<usize> {
    LEVELS.iter().position(|l| *l == level)
}
