//! `palisade operator`: watches every kind Palisade reads, keeps each namespace's findings
//! current as a `wgpolicyk8s.io/v1alpha2` PolicyReport (and cluster-scoped objects' as a
//! ClusterPolicyReport), and writes only what changed.
//!
//! * [`watch`]: reflectors over the kinds Palisade reads (Secrets as metadata only);
//! * [`reports`]: findings grouped into reports, compared with what was written;
//! * [`lease`]: leader election, so that of several replicas one writes;
//! * [`manifests`]: the CRDs, RBAC and Deployment a cluster needs.

mod admission;
mod evaluate;
pub mod lease;
pub mod manifests;
pub mod reports;
mod retry;
mod run;
pub mod watch;

pub use evaluate::{Evaluation, Evaluator, Group};
pub use run::{run, OperatorError, OperatorOptions};
