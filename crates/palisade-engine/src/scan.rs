//! A scan over files: every input read in parallel, its results merged in input order, then
//! settled ([`crate::settle`]) into a report.

use std::collections::HashMap;
use std::sync::Arc;

use palisade_load::Input;
use palisade_model::{Finding, LoadError};
use palisade_report::{Report, SeverityCounts, Summary};
use palisade_rules::suppress::Suppressions;

use crate::read::{in_order, is_large, scan_input_placed, FileResult};
use crate::settle::{settle, Order, Settling};
use crate::{InventoryBuilder, Pipeline};

/// Scans every input in parallel and assembles the report; `discovery_errors` (paths that do not
/// exist, unreadable directories) come first.
pub fn scan(inputs: &[Input], pipeline: &Pipeline, discovery_errors: Vec<LoadError>) -> Report {
    scan_with_progress(inputs, pipeline, discovery_errors, &|| {})
}

/// [`scan`], calling `progress` after each input.
pub fn scan_with_progress(
    inputs: &[Input],
    pipeline: &Pipeline,
    discovery_errors: Vec<LoadError>,
    progress: &(dyn Fn() + Sync),
) -> Report {
    scan_with_extras(
        inputs,
        pipeline,
        discovery_errors,
        progress,
        Extras::default(),
    )
}

/// What a scan checks besides its input files: objects made from other formats (a kubelet's
/// flags) and node files (their modes and owners); and where the inputs' objects that name no
/// namespace are applied.
#[derive(Default)]
pub struct Extras {
    pub objects: Vec<palisade_model::Object>,
    pub files: Vec<palisade_model::NodeFile>,
    pub unset_namespaces: palisade_load::UnsetNamespaces,
}

/// [`scan_with_progress`], with `extras` checked alongside the inputs.
pub fn scan_with_extras(
    inputs: &[Input],
    pipeline: &Pipeline,
    discovery_errors: Vec<LoadError>,
    progress: &(dyn Fn() + Sync),
    extras: Extras,
) -> Report {
    let engine = &pipeline.engine;
    let mut collected = Collected::new(pipeline);
    collected.errors = discovery_errors;
    collected.summary.files = inputs.len();
    // Each file's results join the report as soon as the files before it are in: no moment
    // holds every file's findings twice.
    let each = |input: &Input| {
        let result = scan_input_placed(input, pipeline, extras.unset_namespaces.of(input));
        progress();
        result
    };
    // A large input is read piece by piece with every core: it runs from this thread, never
    // from a worker of the parallel loop over the other files (which would idle that worker).
    let (large, small): (Vec<&Input>, Vec<&Input>) = inputs.iter().partition(|i| is_large(i));
    let mut merge = |mut result: FileResult| {
        collected.summary.objects += result.objects;
        collected.summary.skipped += result.skipped;
        if collected.findings.is_empty() {
            // Moved, not copied: a large input's findings are most of what a scan holds, and
            // a copy beside them was the peak of the heap (freed at once, it never set the
            // resident peak, which comes later: the time of the copy is what it cost).
            std::mem::swap(&mut collected.findings, &mut result.findings);
        } else {
            collected.findings.append(&mut result.findings);
        }
        collected.errors.append(&mut result.errors);
        collected.warnings.append(&mut result.warnings);
        if result.stdin_text.is_some() {
            collected.stdin_text = result.stdin_text.take();
        }
        if let (Some(all), Some(part)) = (collected.inventory.as_mut(), result.inventory.take()) {
            all.merge(part);
        }
        for part in result.suppressions.drain(..) {
            collected.suppressions.merge(part);
        }
    };
    for input in large {
        merge(each(input));
    }
    in_order(small.into_iter(), each, merge);
    collected.summary.objects += extras.objects.len();
    for object in &extras.objects {
        collected.findings.extend(engine.check(object, None));
        if let Some(inventory) = collected.inventory.as_mut() {
            inventory.add(object);
        }
    }
    for file in &extras.files {
        collected.findings.extend(engine.check_file(file));
    }
    // Files in input order, each read top to bottom.
    let order: HashMap<Arc<str>, usize> = inputs
        .iter()
        .enumerate()
        .map(|(i, input)| (input.display_name(), i))
        .collect();
    collected.into_report(pipeline, &|file| {
        order.get(file).copied().unwrap_or(usize::MAX)
    })
}

/// What a scan gathered before the whole-input rules, suppressions and ordering.
pub(crate) struct Collected {
    pub(crate) findings: Vec<Finding>,
    pub(crate) errors: Vec<LoadError>,
    pub(crate) warnings: Vec<LoadError>,
    pub(crate) summary: Summary,
    pub(crate) inventory: Option<InventoryBuilder>,
    pub(crate) suppressions: Suppressions,
    /// Standard input's text, for code frames (see [`FileResult::stdin_text`]).
    pub(crate) stdin_text: Option<String>,
    /// Part of a larger input: the config file's exceptions are judged over all its parts
    /// ([`config_exception_findings`]), not here.
    pub(crate) partial: bool,
}

impl Collected {
    pub(crate) fn new(pipeline: &Pipeline) -> Self {
        Collected {
            findings: Vec::new(),
            errors: Vec::new(),
            warnings: Vec::new(),
            summary: Summary::default(),
            inventory: pipeline
                .engine
                .needs_inventory()
                .then(InventoryBuilder::default),
            suppressions: Suppressions::new(&pipeline.suppression),
            stdin_text: None,
            partial: false,
        }
    }

    /// Runs the whole-input rules, applies suppressions and severity overrides, and orders the
    /// findings: by file (`file_rank`), line and column; findings without a file by object and
    /// field path.
    pub(crate) fn into_report(
        self,
        pipeline: &Pipeline,
        file_rank: &dyn Fn(&Arc<str>) -> usize,
    ) -> Report {
        self.into_report_and_use(pipeline, file_rank).0
    }

    /// [`Self::into_report`], and which of the config file's exceptions suppressed a finding.
    pub(crate) fn into_report_and_use(
        self,
        pipeline: &Pipeline,
        file_rank: &dyn Fn(&Arc<str>) -> usize,
    ) -> (Report, Vec<bool>) {
        let engine = &pipeline.engine;
        let Collected {
            mut findings,
            errors,
            warnings,
            mut summary,
            inventory,
            suppressions,
            stdin_text,
            partial,
        } = self;
        // The array grew by doubling while files came in: its spare half is given back before
        // the whole-input rules, the scan's peak.
        findings.shrink_to_fit();
        let mut exposed_vulnerable = Vec::new();
        if let Some(inventory) = inventory {
            let inventory = engine.build_inventory(inventory);
            // Appended in place, sized exactly: the findings of a large input are most of the
            // memory a scan keeps, and a second array of them would be the peak.
            engine.check_inventory_into(&inventory, &mut findings);
            exposed_vulnerable = palisade_analysis::attack::exposed_vulnerable(
                &inventory.rbac,
                &inventory.network,
                &inventory.exposures,
                &inventory.image_reports,
            );
            // Freed beside the settling below rather than before it: on a large input, taking
            // apart the inventory (every role, binding, workload and policy) took a core's
            // second while the other idled.
            rayon::spawn(move || drop(inventory));
        }
        let active: Vec<&'static palisade_rules::Rule> = engine.rules().collect();
        let mut used = Vec::new();
        settle(
            pipeline,
            &mut findings,
            |findings| {
                used = suppressions.mark(findings);
                // A part judges the exceptions of the config file over all the parts, not here.
                let judged = if partial {
                    suppressions.config_directives()..used.len()
                } else {
                    0..used.len()
                };
                findings.extend(suppressions.report(&used, &active, judged));
                used.truncate(suppressions.config_directives());
            },
            Settling {
                exposed_vulnerable: &exposed_vulnerable,
                stdin_text: stdin_text.as_deref(),
                // A part's findings go into PolicyReports, which carry no fingerprints (they
                // identify a finding across a report's runs, and a part is never a whole report).
                fingerprints: !partial,
                order: Order::ByPlace(file_rank),
            },
        );
        summary.errors = errors.len();
        summary.warnings = warnings.len();
        summary.findings = SeverityCounts::count(&findings);
        summary.suppressed = findings.iter().filter(|f| f.suppressed().is_some()).count();
        let report = Report {
            findings,
            errors,
            warnings,
            summary,
            ..Report::default()
        };
        (report, used)
    }
}
