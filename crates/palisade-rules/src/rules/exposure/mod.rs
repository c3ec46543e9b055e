//! What the workloads expose, and where they live.

pub mod default_namespace;
pub mod external_ips;
pub mod ingress_without_tls;
pub mod load_balancer;
pub mod nginx_snippets;
pub mod node_port;

use palisade_model::Object;

/// A core `Service`'s `spec.type`, when `object` is one.
pub(crate) fn service_type(object: &Object) -> Option<&str> {
    if !(object.group().is_empty() && object.kind() == "Service") {
        return None;
    }
    Some(
        object
            .root
            .get("spec")
            .and_then(|s| s.str_of("type"))
            .unwrap_or("ClusterIP"),
    )
}
