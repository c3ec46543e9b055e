//! `palisade admit`: a validating admission webhook that runs the scan engine on each object the
//! API server is about to store.
//!
//! * [`review`]: AdmissionReview in, verdict out (pure: no HTTP or kube types);
//! * [`server`]: the HTTPS server (axum + rustls): `/validate`, `/healthz`, `/readyz`,
//!   `/metrics`, reloading its certificate, key and config when their files change;
//! * [`certs`] and [`manifests`]: what installing it takes; [`arm`]: how a ready webhook
//!   turns its registration from `Ignore` to `Fail`.

pub mod arm;
pub mod backlog;
pub mod certs;
mod cluster_view;
pub mod guard;
pub mod manifests;
mod metrics;
pub mod review;
pub mod server;

pub use review::{ClusterView, Judge, Mode, MODE_LABEL};
