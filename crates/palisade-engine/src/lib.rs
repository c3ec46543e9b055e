//! The scan pipeline behind `palisade scan`, the admission webhook, the operator and the
//! benchmarks: one engine that they all call.
//!
//! - [`pipeline`]: rules, suppressions and severities resolved from config and flags.
//! - [`read`]: inputs read and checked in parallel, one pass per file; each file's text and
//!   trees are dropped as soon as its findings are made, so memory follows the largest file,
//!   not the corpus.
//! - [`scan`] (files) and [`stream`] (one object at a time: clusters, the operator, audit
//!   logs) gather findings; [`settle`] puts them through the one order both share
//!   (suppressions, severities, folding, ordering).
//! - [`request`]: one scan request in, one report and its verdict out.
//! - [`judge`]: one object judged alone, for admission.
//! - [`inventory`] and [`policies`]: whole inputs read for the analyses and admission
//!   policies read ahead of a scan.

pub mod config;
pub mod export;
pub mod fix;
pub mod inventory;
pub mod judge;
pub mod node;
pub mod pipeline;
pub mod policies;
pub mod read;
pub mod request;
pub mod scan;
pub(crate) mod settle;
pub mod stream;

pub use inventory::{load_inventory, InventoryRead};
pub use judge::{judge_object, judge_object_under, judge_object_with};
pub use palisade_analysis::InventoryBuilder;
pub use pipeline::{
    build_pipeline, resolve_severity_overrides, Overrides, Pipeline, PipelineError,
};
pub use policies::load_admission_policies;
pub use read::{
    dedup_inputs, scan_input, scan_input_placed, scan_streamed, FileResult, STREAM_BYTES,
};
pub use request::{
    apply_baseline, finish, retain_namespaces, run, verdict, Keep, MoreInput, Outcome, Progress,
    Quiet, ScanRequest, Verdict,
};
pub use scan::{scan, scan_with_extras, scan_with_progress, Extras};
pub use stream::{
    config_exception_findings, scan_audit_logs, whole_input_findings, whole_input_part, StreamScan,
};
