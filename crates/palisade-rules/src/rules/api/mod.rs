//! API versions: objects written against APIs the target Kubernetes version no longer serves.

pub mod removed_version;
