//! One scan request in, one report and its verdict out: what the CLI fills in from its flags
//! (and the benchmarks from theirs). The binary parses flags and renders; reading, checking,
//! settling, namespace filtering and baselines happen here.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use palisade_load::Input;
use palisade_model::{LoadError, Severity};
use palisade_report::Report;

use crate::{Extras, Pipeline};

/// How a long scan tells its progress (a progress bar in a terminal).
pub trait Progress: Sync {
    /// The scan is about to read `inputs` inputs.
    fn start(&self, _inputs: usize) {}
    /// One more input was read and checked.
    fn advance(&self) {}
}

/// No progress shown.
pub struct Quiet;
impl Progress for Quiet {}

/// One scan of files.
pub struct ScanRequest<'a> {
    /// Files, directories (walked as `scan` walks them) and `-` for standard input, as given.
    pub paths: Vec<String>,
    /// Inputs made elsewhere (a rendered Helm chart or kustomization), read after `paths`.
    pub more_inputs: Vec<MoreInput>,
    /// Where objects that name no namespace are applied (`--default-namespace`); when unset,
    /// each project of the input is its own ([`palisade_load::unset_namespaces`]).
    pub default_namespace: Option<String>,
    /// Objects and node files made from other formats (a kubelet's flags, file modes).
    pub extras: Extras,
    /// Errors found before the scan (admission policies that could not be read).
    pub errors: Vec<LoadError>,
    /// Drops the discovery notes about these inputs' sources (an overlay that is scanned
    /// rendered is judged as deployed, so the note that it is not would be wrong).
    pub rendered_from: &'a dyn Fn(&LoadError) -> bool,
    /// Puts findings about rendered inputs back at their sources, before fingerprints are
    /// taken (a baseline names the source file, never a temporary one).
    pub relocate: &'a dyn Fn(&mut Report),
    pub keep: Keep,
    pub progress: &'a dyn Progress,
}

/// An input made elsewhere, and the directory it was made from (a chart's or kustomization's:
/// its project), when it was.
pub struct MoreInput {
    pub input: Input,
    pub project: Option<PathBuf>,
}

impl From<Input> for MoreInput {
    fn from(input: Input) -> Self {
        MoreInput {
            input,
            project: None,
        }
    }
}

/// What a report keeps of a scan, however it was made (files, a cluster, audit logs).
#[derive(Clone, Debug, Default)]
pub struct Keep {
    /// Only findings on objects in these namespaces (and on these Namespaces); all when empty.
    pub namespaces: Vec<String>,
    /// Fingerprints of findings already accepted (a baseline): left out of the report.
    pub baseline: Option<HashSet<String>>,
    /// Also return the report before the baseline applies (to write a new baseline from).
    pub unbaselined: bool,
}

/// What a scan produced.
pub struct Outcome {
    /// The report: findings settled and ordered, filtered as [`Keep`] asks, rules listed.
    pub report: Report,
    /// The report before the baseline, when [`Keep::unbaselined`] asked for it.
    pub unbaselined: Option<Report>,
}

/// How a scan ended, for its exit code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Nothing at or above the fail threshold.
    Clean,
    /// An unsuppressed finding at or above the fail threshold.
    Findings,
    /// Some input could not be read.
    Errors,
    /// Nothing was read to judge.
    Empty,
}

/// Runs `request` through `pipeline`.
pub fn run(pipeline: &Pipeline, request: ScanRequest<'_>) -> Outcome {
    let (inputs, mut errors, notes) = palisade_load::discover_with_notes(&request.paths);
    errors.extend(request.errors);
    let mut inputs = inputs;
    let mut made_from = HashMap::new();
    for more in request.more_inputs {
        if let Some(project) = more.project {
            made_from.insert(more.input.clone(), project);
        }
        inputs.push(more.input);
    }
    let inputs = crate::dedup_inputs(inputs);
    let mut extras = request.extras;
    extras.unset_namespaces = match &request.default_namespace {
        Some(namespace) => palisade_load::UnsetNamespaces::all_in(namespace, &inputs),
        None => palisade_load::unset_namespaces(
            &request.paths,
            &inputs
                .iter()
                .map(|input| palisade_load::ProjectInput {
                    input,
                    project: made_from.get(input).map(PathBuf::as_path),
                })
                .collect::<Vec<_>>(),
        ),
    };
    request.progress.start(inputs.len());
    let advance = || request.progress.advance();
    let mut report = crate::scan_with_extras(&inputs, pipeline, errors, &advance, extras);
    let notes: Vec<LoadError> = notes
        .into_iter()
        .filter(|note| !(request.rendered_from)(note))
        .collect();
    report.summary.warnings += notes.len();
    report.warnings.extend(notes);
    let before = report_fingerprints(&report);
    (request.relocate)(&mut report);
    if report_fingerprints(&report) != before {
        crate::settle::refingerprint(&mut report.findings);
    }
    finish(pipeline, report, &request.keep)
}

/// The places fingerprints are taken from, to see whether relocating changed them.
fn report_fingerprints(report: &Report) -> Vec<Option<std::sync::Arc<str>>> {
    report
        .findings
        .iter()
        .map(|f| f.location.as_ref().map(|l| std::sync::Arc::clone(&l.file)))
        .collect()
}

/// Applies what `keep` asks to a report made by any scan, and lists the pipeline's rules in it.
pub fn finish(pipeline: &Pipeline, mut report: Report, keep: &Keep) -> Outcome {
    report.rules = pipeline.rule_infos();
    if !keep.namespaces.is_empty() {
        retain_namespaces(&mut report, &keep.namespaces);
    }
    let unbaselined = keep.unbaselined.then(|| report.clone());
    if let Some(baseline) = &keep.baseline {
        apply_baseline(&mut report, baseline);
    }
    Outcome {
        report,
        unbaselined,
    }
}

/// How `report` ends: errors first (an input that did not load is never a pass), then an
/// empty input (unless `allow_empty`), then any unsuppressed finding at or above `fail_on`
/// (unless `accept_findings`: writing a baseline accepts today's findings).
pub fn verdict(
    report: &Report,
    fail_on: Severity,
    accept_findings: bool,
    allow_empty: bool,
) -> Verdict {
    let empty =
        report.summary.objects == 0 && report.errors.is_empty() && report.findings.is_empty();
    if !report.errors.is_empty() {
        Verdict::Errors
    } else if empty && !allow_empty {
        Verdict::Empty
    } else if !accept_findings
        && report
            .findings
            .iter()
            .any(|f| f.suppressed().is_none() && f.severity >= fail_on)
    {
        Verdict::Findings
    } else {
        Verdict::Clean
    }
}

/// Keeps the findings on objects in `namespaces` (and on those Namespaces themselves), and
/// counts again.
pub fn retain_namespaces(report: &mut Report, namespaces: &[String]) {
    let wanted = |name: &str| namespaces.iter().any(|ns| ns == name);
    report.findings.retain(|f| match &f.object.namespace {
        Some(ns) => wanted(ns),
        None => f.object.kind == "Namespace" && wanted(&f.object.name),
    });
    report.recount();
}

/// Drops the findings whose fingerprints are in `baseline` (a previous report's), returning how
/// many were dropped.
pub fn apply_baseline(report: &mut Report, baseline: &std::collections::HashSet<String>) -> usize {
    let before = report.findings.len();
    report.findings.retain(|f| {
        f.fingerprint
            .is_none_or(|fingerprint| !baseline.contains(&fingerprint.to_string()))
    });
    let hidden = before - report.findings.len();
    report.recount();
    report.summary.baseline = hidden;
    hidden
}
