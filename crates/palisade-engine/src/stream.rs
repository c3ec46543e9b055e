//! A scan fed one object at a time (a cluster's lists, the operator's namespaces, audit
//! events), settled like a scan of files.

use std::sync::Arc;

use palisade_model::{Finding, LoadError, ObjectRef};
use palisade_report::Report;
use palisade_rules::suppress::{FileSuppressions, Suppressions};

use crate::scan::Collected;
use crate::{InventoryBuilder, Pipeline};

/// A scan fed one object at a time, as a cluster's lists deliver them: each object is checked
/// when it arrives and then dropped, so memory follows the findings and what the whole-input
/// rules keep, not the cluster.
pub struct StreamScan<'a> {
    pipeline: &'a Pipeline,
    collected: Collected,
    suppressions: FileSuppressions,
}

impl<'a> StreamScan<'a> {
    pub fn new(pipeline: &'a Pipeline) -> Self {
        let no_file: Arc<str> = Arc::from(palisade_rules::suppress::NO_FILE);
        StreamScan {
            pipeline,
            collected: Collected::new(pipeline),
            suppressions: FileSuppressions::new(&no_file, "", &pipeline.suppression),
        }
    }

    /// A scan of one part of a larger input (the operator scans a cluster namespace by
    /// namespace): no whole-input rules ([`whole_input_findings`] runs them over all parts, and
    /// their findings about this part come in through [`Self::add_findings`]) and no judgement
    /// of the config file's exceptions ([`Self::finish_part`] says which it used).
    pub fn part(pipeline: &'a Pipeline) -> Self {
        let mut scan = StreamScan::new(pipeline);
        scan.collected.inventory = None;
        scan.collected.partial = true;
        scan
    }

    /// Ends a [`Self::part`]: its report, and which of the config file's exceptions
    /// suppressed a finding in it.
    pub fn finish_part(self) -> (Report, Vec<bool>) {
        self.settled(&|_| usize::MAX)
    }

    /// The report and which of the config file's exceptions were used, files ranked by
    /// `file_rank`.
    fn settled(self, file_rank: &dyn Fn(&Arc<str>) -> usize) -> (Report, Vec<bool>) {
        let StreamScan {
            pipeline,
            mut collected,
            suppressions,
        } = self;
        collected.suppressions.merge(suppressions.finish());
        collected.into_report_and_use(pipeline, file_rank)
    }

    /// Checks one object.
    pub fn add(&mut self, object: &palisade_model::Object) {
        let collected = &mut self.collected;
        collected.summary.objects += 1;
        collected
            .findings
            .extend(self.pipeline.engine.check(object, None));
        self.suppressions
            .add_object(object, &self.pipeline.suppression);
        if let Some(inventory) = collected.inventory.as_mut() {
            inventory.add(object);
        }
    }

    /// The version a live API server reports (`/version`), for the version rules; findings
    /// about it name the API server of the kubeconfig context `context`.
    pub fn add_server_version(&mut self, git_version: &str, context: &str) {
        if let Some(inventory) = self.collected.inventory.as_mut() {
            let at = palisade_analysis::rbac::Source {
                object: Arc::new(ObjectRef {
                    api_version: "version".into(),
                    kind: "APIServer".into(),
                    namespace: None,
                    name: context.to_string(),
                }),
                path: palisade_model::FieldPath::root().key("gitVersion"),
                location: None,
                bootstrap: false,
            };
            inventory.add_server_version(git_version, at);
        }
    }

    /// Adds findings about something that is not an object of the input (an audit event).
    pub fn add_findings(&mut self, findings: Vec<Finding>) {
        self.collected.findings.extend(findings);
    }

    /// Records an input that could not be read.
    pub fn error(&mut self, error: LoadError) {
        self.collected.errors.push(error);
    }

    /// The report: whole-input rules, suppressions, severities and order, as for files.
    pub fn finish(self) -> Report {
        self.finish_in_order(&[])
    }

    /// [`Self::finish`], with findings in the order of `files` (then line and column).
    pub fn finish_in_order(self, files: &[Arc<str>]) -> Report {
        let rank = |file: &Arc<str>| files.iter().position(|f| f == file).unwrap_or(usize::MAX);
        self.settled(&rank).0
    }
}

/// What the whole-input rules read of `objects` (nothing when none is selected): parts of an
/// input collected apart, merged later for [`whole_input_findings`].
pub fn whole_input_part<'o>(
    pipeline: &Pipeline,
    objects: impl IntoIterator<Item = &'o palisade_model::Object>,
) -> InventoryBuilder {
    let mut builder = InventoryBuilder::default();
    if pipeline.engine.needs_inventory() {
        for object in objects {
            builder.add(object);
        }
    }
    builder
}

/// The whole-input rules' findings over the merged parts (before suppressions and severity
/// overrides, which the scan of each part applies).
pub fn whole_input_findings(pipeline: &Pipeline, whole: InventoryBuilder) -> Vec<Finding> {
    let engine = &pipeline.engine;
    if !engine.needs_inventory() {
        return Vec::new();
    }
    engine.check_inventory(&engine.build_inventory(whole))
}

/// The findings about the config file's exceptions (invalid, expired, unused) when `used`
/// says which of them suppressed a finding in any part of the input.
pub fn config_exception_findings(pipeline: &Pipeline, used: &[bool]) -> Vec<Finding> {
    let suppressions = Suppressions::new(&pipeline.suppression);
    let active: Vec<&'static palisade_rules::Rule> = pipeline.engine.rules().collect();
    let mut findings = suppressions.report(used, &active, 0..suppressions.config_directives());
    pipeline.apply_severities(&mut findings);
    findings
}

/// Runs the selected audit-log rules over audit logs (files, directories, `.gz`, `-`), one
/// event at a time, into a report like a scan's: `objects` counts the events read.
pub fn scan_audit_logs(paths: &[String], pipeline: &Pipeline) -> Report {
    let mut stream = StreamScan::new(pipeline);
    let mut session = pipeline.engine.audit_session();
    let mut files: Vec<Arc<str>> = Vec::new();
    let (read, errors) = palisade_audit::read_events(paths, &mut |event, at| {
        if files.last() != Some(&at.file) {
            files.push(Arc::clone(&at.file));
        }
        stream.add_findings(session.observe(&event, at));
    });
    for error in errors {
        stream.error(error);
    }
    let mut report = stream.finish_in_order(&files);
    report.summary.files = read.files;
    report.summary.objects = read.events;
    report.summary.warnings += read.skipped.len();
    report.warnings.extend(read.skipped);
    report
}
