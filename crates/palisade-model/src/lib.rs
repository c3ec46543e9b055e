//! Palisade's data model: pure types and no IO.
//!
//! * [`Node`]: a YAML/JSON value tree in which every node keeps its source position;
//! * [`FieldPath`]: a JSON pointer into an object, resolvable to a position;
//! * [`Object`]: one Kubernetes object with its identity and origin;
//! * [`PodView`]: one view of a pod spec over every kind that carries one, with containers,
//!   init and ephemeral containers, and effective (inherited) security contexts;
//! * [`Finding`], [`Severity`], [`LoadError`]: what analyses produce;
//! * [`kinds`]: which kinds the built-in API groups define.

mod date;
mod finding;
pub mod kinds;
mod node;
mod object;
mod path;
mod pod;
mod shared;
pub mod suggest;

pub use date::Date;
pub use finding::{
    fingerprint, printable, About, AdmissionVerdict, Extra, Finding, Fingerprint, LoadError,
    Location, Related, Restated, RuleRef, Severity, Suppression,
};
pub use node::{Entry, Node, Pos, Value};
pub use object::{unset_namespace_of_project, FileRole, NodeFile, Object, ObjectRef, Origin};
pub use path::FieldPath;
pub use pod::{
    ContainerKind, ContainerView, EffectiveSecurityContext, Inherited, PodView, SeccompSource,
    TEMPLATE_KINDS,
};
pub use shared::{shared_message, shared_words, Word};
