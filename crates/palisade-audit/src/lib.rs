//! Kubernetes API server audit logs: a streaming reader for what `--audit-log-path` writes,
//! the event vocabulary the audit-log rules judge, and least privilege from observed use
//! (`palisade audit roles` and `palisade audit unused`). No kube-rs, HTTP or tokio here.

pub mod event;
pub mod observed;
pub mod read;

pub use event::{is_control_plane, AuditEvent, Decision, EventObject, EventUser, ResponseName};
pub use read::{read_events, At, ReadSummary};
