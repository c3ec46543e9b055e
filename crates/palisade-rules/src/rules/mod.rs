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
pub mod paths;
pub mod pss;
pub mod rbac;
pub mod resources;
pub mod secrets;
pub mod service_account;
pub mod suppression;
pub mod version;
pub mod workload;

/// How a message names the namespace of `object` (`namespace` is the one the analyses assumed):
/// an object that sets none lands in the namespace it is applied to (`kubectl -n`, or the
/// context's), which is not always `default`.
pub(crate) fn namespace_phrase(object: &palisade_model::ObjectRef, namespace: &str) -> String {
    if object.namespace.is_some() || object.kind == "Namespace" {
        format!("namespace {namespace}")
    } else {
        "the namespace it is applied to".to_string()
    }
}
