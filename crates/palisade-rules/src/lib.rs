//! Rules and the engine that runs them.
//!
//! A rule is data: a [`Rule`] value with its metadata (stable code, kebab-case name, severity,
//! category, framework controls) and its docs, taken from the doc comment of the file that
//! declares it (`rules/<category>/<rule>.rs`). The engine dispatches on what a rule's
//! [`Check`] targets; adding a rule is its file plus one line in [`registry::RULES`].

pub mod docs;
mod engine;
pub mod fix;
mod fold;
mod meta;
mod on_paths;
pub mod registry;
mod rules;
mod selection;
pub mod suppress;

pub use engine::AuditSession;
pub use engine::{holds_secrets, Engine, Settings, Source};
pub use fold::fold_restated;
pub use meta::{
    AuditDetector, AuditHit, Check, Emitter, OptionKind, OptionValue, OptionValues, Rule, RuleMeta,
    RuleOption,
};
pub use on_paths::{mark_on_paths, raise_exposed_vulnerable};
pub use selection::{did_you_mean, matches, Selection, SelectionError};
