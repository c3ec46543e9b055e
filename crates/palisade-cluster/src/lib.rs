//! Palisade's cluster IO: kubeconfig resolution as kubectl does it, discovery of what to read,
//! and paginated, concurrent lists whose items arrive as plain JSON values.
//!
//! kube-rs, tokio and HTTP types stay in this crate: callers get [`serde_json::Value`] items and
//! turn them into [`palisade_model::Object`]s with [`to_object`] (from palisade-load), so a rule never knows whether
//! its object came from a file or a cluster.
//!
//! Secrets are listed as metadata only (`PartialObjectMetadataList`): their values never reach
//! this process. `managedFields` and the `kubectl.kubernetes.io/last-applied-configuration`
//! annotation (a copy of what was applied, Secret data included) are dropped on arrival.

mod connect;
mod convert;
mod kinds;
mod read;
mod snapshot;

pub use connect::{client, Cluster, ClusterOptions, ServerVersion};
pub use convert::strip_arrival;
pub use kinds::{
    component_config_map, component_network_policies, read_only_role, reader_role, Resource,
    ADMISSION_KINDS, DEFAULT_API_SERVER_CIDRS, DEFAULT_COMPONENT_CONFIG, DEFAULT_IMAGE, READ_KINDS,
};
pub use palisade_load::json::{to_node, to_object};
pub use read::{owned_by_workload, Message, ReadOptions};
pub use snapshot::{SnapshotFormat, SnapshotWriter};

/// What went wrong talking to a cluster; each names the context, and the kind when there is one.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// The kubeconfig (or in-cluster configuration) could not be resolved.
    #[error("kubeconfig: {0}")]
    Config(String),
    /// The API server could not be reached or did not accept the credentials.
    #[error("cluster `{context}` ({server}): {message}")]
    Connect {
        context: String,
        server: String,
        message: String,
    },
    /// One kind could not be read; the others still are.
    #[error("cluster `{context}`: {resource}: {message}")]
    Kind {
        context: String,
        resource: String,
        /// The HTTP status the API server answered with, when it answered.
        status: Option<u16>,
        message: String,
    },
}
