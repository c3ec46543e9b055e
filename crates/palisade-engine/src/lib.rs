//! The scan pipeline behind `palisade scan`, the admission webhook and the benchmark: inputs are read and checked in
//! parallel, one pass per file, and each file's text and trees are dropped as soon as its
//! findings are made, so memory follows the largest file, not the corpus.

pub mod config;
pub mod export;
pub mod fix;
pub mod node;

use std::sync::Arc;

pub use palisade_analysis::InventoryBuilder;
use palisade_load::{decode, load_text, read_input, Input, Loaded};
use std::collections::HashMap;

use palisade_analysis::pss::{Level, Version};
use palisade_model::{fingerprint, Finding, Fingerprint, LoadError, ObjectRef, Severity};
use palisade_report::{Report, SeverityCounts, Summary};
use palisade_rules::suppress::{Date, FileSuppressions, SuppressionSettings, Suppressions};
use palisade_rules::{Engine, Selection, Settings, Source};
use rayon::prelude::*;

/// What a scan runs and how it judges the results: the rules, the suppressions and the
/// severity overrides, resolved once from flags and config.
pub struct Pipeline {
    pub engine: Engine,
    pub suppression: SuppressionSettings,
    /// Rule code to the severity the config gives it.
    pub severity: HashMap<&'static str, Severity>,
    /// Keep each finding's source line for code frames. Reports that show none (JSON, JUnit,
    /// Markdown) turn this off and hold a line less per finding.
    pub code_frames: bool,
}

impl Pipeline {
    /// A pipeline with the engine's rules and no suppressions or overrides beyond annotations
    /// and comments in the manifests.
    pub fn new(engine: Engine) -> Self {
        Pipeline {
            engine,
            suppression: SuppressionSettings::default(),
            severity: HashMap::new(),
            code_frames: true,
        }
    }
}

/// What command-line flags set over the config file.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    pub pss_level: Option<Level>,
    pub pss_version: Option<Version>,
    pub kubernetes_version: Option<Version>,
    /// Replaces the config's `select` when not empty.
    pub select: Vec<String>,
    /// Added to the config's `ignore`.
    pub ignore: Vec<String>,
    pub strict: bool,
    pub fail_on: Option<Severity>,
    pub no_bootstrap: bool,
    /// Admission policies every object is judged against ([`load_admission_policies`]).
    pub admission: Option<Arc<palisade_analysis::admission::Policies>>,
    /// Kubernetes release data read from `--k8s-data` (else the bundled data).
    pub releases: Option<Arc<palisade_analysis::releases::ReleaseData>>,
    /// `--as-of`: the day end-of-life dates are judged on.
    pub as_of: Option<Date>,
    /// `--vulnerabilities`: the images' vulnerability reports (besides trivy-operator's in
    /// the input).
    pub image_reports: Arc<Vec<palisade_analysis::vulns::ImageReport>>,
}

/// Why a pipeline could not be built.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error(transparent)]
    Selection(#[from] palisade_rules::SelectionError),
    #[error("pss.version in the config: {0}")]
    PssVersion(String),
    #[error("kubernetes-version in the config: {0}")]
    KubernetesVersion(String),
}

/// The pipeline and fail threshold that a config and flags describe: flags over config over
/// defaults (restricted, the latest Pod Security version, every rule, fail on any finding).
pub fn build_pipeline(
    loaded: &config::LoadedConfig,
    flags: &Overrides,
) -> Result<(Pipeline, Severity), PipelineError> {
    let config = &loaded.config;
    let pss_level = flags.pss_level.unwrap_or(match config.pss.level {
        Some(config::PssLevelName::Baseline) => Level::Baseline,
        _ => Level::Restricted,
    });
    let kubernetes_version = match (flags.kubernetes_version, &config.kubernetes_version) {
        (Some(version), _) => Some(version),
        (None, Some(text)) => Some(
            text.parse::<Version>()
                .map_err(PipelineError::KubernetesVersion)?,
        ),
        (None, None) => None,
    };
    // The Pod Security version follows the Kubernetes version unless it is set itself.
    let pss_version = match (flags.pss_version, &config.pss.version) {
        (Some(version), _) => version,
        (None, Some(text)) => text.parse::<Version>().map_err(PipelineError::PssVersion)?,
        (None, None) => kubernetes_version.unwrap_or(Version::LATEST),
    };
    let select = if flags.select.is_empty() {
        config.select.clone()
    } else {
        flags.select.clone()
    };
    let mut ignore = config.ignore.clone();
    ignore.extend(flags.ignore.iter().cloned());
    let settings = Settings {
        pss_level,
        pss_version,
        selection: Selection { select, ignore },
        rbac_bootstrap: !flags.no_bootstrap && config.rbac.bootstrap.unwrap_or(true),
        kubernetes_version: kubernetes_version.unwrap_or(Version::LATEST),
        options: loaded.options.clone(),
        admission: flags.admission.clone(),
        custom_rules: loaded.custom_rules.clone(),
        releases: flags.releases.clone(),
        as_of: flags.as_of,
        image_reports: flags.image_reports.clone(),
    };
    let engine = Engine::new(&settings)?;
    let overrides: Vec<(String, Severity)> = config
        .severity
        .iter()
        .map(|(token, severity)| (token.clone(), Severity::from(*severity)))
        .collect();
    let config_name = loaded
        .file
        .as_ref()
        .map_or(".palisade.yaml".to_string(), |f| f.display().to_string());
    let suppression = SuppressionSettings {
        strict: flags.strict || config.strict,
        exceptions: loaded.exceptions(),
        config_object: Arc::new(ObjectRef {
            api_version: "palisade.dev/v1".into(),
            kind: "PalisadeConfig".into(),
            namespace: None,
            name: config_name,
        }),
        today: Date::today(),
    };
    let fail_on = flags
        .fail_on
        .or(config.fail_on.map(Severity::from))
        .unwrap_or(Severity::Info);
    let pipeline = Pipeline {
        engine,
        suppression,
        severity: resolve_severity_overrides(&overrides, &loaded.custom_rules),
        code_frames: true,
    };
    Ok((pipeline, fail_on))
}

/// Resolves severity overrides (`token -> severity`) to rule codes; a code or name beats a
/// prefix, category or tag.
pub fn resolve_severity_overrides(
    overrides: &[(String, Severity)],
    custom_rules: &[&'static palisade_rules::Rule],
) -> HashMap<&'static str, Severity> {
    let mut resolved = HashMap::new();
    for rule in palisade_rules::registry::RULES.iter().chain(custom_rules) {
        let meta = &rule.meta;
        let exact = overrides.iter().find(|(token, _)| {
            token.eq_ignore_ascii_case(meta.info.code) || token.eq_ignore_ascii_case(meta.info.name)
        });
        let broad = || {
            overrides
                .iter()
                .find(|(token, _)| palisade_rules::matches(meta, token))
        };
        if let Some((_, severity)) = exact.or_else(broad) {
            resolved.insert(meta.info.code, *severity);
        }
    }
    resolved
}

/// What one input produced.
#[derive(Default)]
pub struct FileResult {
    pub findings: Vec<Finding>,
    pub errors: Vec<LoadError>,
    pub warnings: Vec<LoadError>,
    pub objects: usize,
    pub skipped: usize,
    pub bytes: usize,
    /// What whole-input rules need from this file, when any selected rule needs it.
    pub inventory: Option<InventoryBuilder>,
    pub suppressions: Vec<FileSuppressions>,
    /// The text of standard input, kept for the code frames of whole-input findings (a file
    /// is read again instead; stdin cannot be).
    pub stdin_text: Option<String>,
}

impl FileResult {
    /// An empty result that collects what the pipeline's whole-input rules need.
    fn for_pipeline(pipeline: &Pipeline) -> Self {
        FileResult {
            inventory: pipeline
                .engine
                .needs_inventory()
                .then(InventoryBuilder::default),
            ..FileResult::default()
        }
    }

    /// Takes one loaded document or list item: an object is checked (with code frames from
    /// `source`) and what suppressions and whole-input rules need of it is kept.
    fn take(
        &mut self,
        loaded: Loaded,
        pipeline: &Pipeline,
        source: Option<&Source<'_>>,
        suppressions: &mut FileSuppressions,
    ) {
        match loaded {
            Loaded::Object(object) => {
                self.objects += 1;
                self.warnings.extend(analysis_warnings(&object));
                self.findings.extend(pipeline.engine.check(&object, source));
                suppressions.add_object(&object, &pipeline.suppression);
                if let Some(inventory) = self.inventory.as_mut() {
                    inventory.add(&object);
                }
            }
            Loaded::Skipped => self.skipped += 1,
            Loaded::Error(e) => self.errors.push(e),
            Loaded::Warning(w) => self.warnings.push(w),
        }
    }

    /// Keeps what a file's suppressions say, when they say anything.
    fn keep_suppressions(&mut self, suppressions: FileSuppressions) {
        let suppressions = suppressions.finish();
        if !suppressions.is_empty() {
            self.suppressions.push(suppressions);
        }
    }

    /// Adds what another part of the same input produced (a piece of a streamed file).
    fn absorb(&mut self, part: FileResult) {
        self.findings.extend(part.findings);
        self.errors.extend(part.errors);
        self.warnings.extend(part.warnings);
        self.objects += part.objects;
        self.skipped += part.skipped;
        if let (Some(all), Some(piece)) = (self.inventory.as_mut(), part.inventory) {
            all.merge(piece);
        }
        self.suppressions.extend(part.suppressions);
    }
}

/// Files larger than this are read piece by piece ([`scan_streamed`]): a `List` item by item,
/// other documents one at a time, in parallel, without holding the file. Smaller files are
/// read whole, which gives their findings code frames and comment suppressions.
pub const STREAM_BYTES: u64 = 32 << 20;

/// Reads, parses and checks one input.
pub fn scan_input(input: &Input, pipeline: &Pipeline) -> FileResult {
    let mut result = FileResult::for_pipeline(pipeline);
    let name: Arc<str> = input.display_name();
    let bytes = match reading(input) {
        Ok(Reading::Whole(bytes)) => bytes,
        Ok(Reading::Streamed(reader)) => return scan_streamed(&name, reader, pipeline),
        Err(e) => {
            result.errors.push(e);
            return result;
        }
    };
    result.bytes = bytes.len();
    let text = match decode(&name, &bytes) {
        Ok(text) => text,
        Err(e) => {
            result.errors.push(e);
            return result;
        }
    };
    let source = Source::new(text);
    let frames = pipeline.code_frames.then_some(&source);
    let mut suppressions = FileSuppressions::new(&name, text, &pipeline.suppression);
    load_text(&name, text, &mut |loaded| {
        result.take(loaded, pipeline, frames, &mut suppressions)
    });
    result.keep_suppressions(suppressions);
    if pipeline.code_frames && matches!(input, Input::Stdin) && result.inventory.is_some() {
        result.stdin_text = Some(text.to_string());
    }
    result
}

/// Runs `each` on every item, in parallel, and hands the results to `merge` in the items' order
/// as they complete (so that everything assembled from them is deterministic, and no more than
/// a few results wait at a time).
fn in_order<I: Send, T: Send>(
    items: impl Iterator<Item = I> + Send,
    each: impl Fn(I) -> T + Sync + Send,
    mut merge: impl FnMut(T),
) {
    let (sender, receiver) = std::sync::mpsc::sync_channel::<(usize, T)>(16);
    std::thread::scope(|scope| {
        let each = &each;
        scope.spawn(move || {
            items
                .enumerate()
                .par_bridge()
                .for_each_with(sender, |sender, (sequence, item)| {
                    // The receiver only stops when every item is in.
                    let _ = sender.send((sequence, each(item)));
                });
        });
        let mut next = 0usize;
        let mut waiting: std::collections::BTreeMap<usize, T> = Default::default();
        // Never called on a rayon worker (large inputs are read from the calling thread), so
        // blocking here takes no thread from the work.
        for (sequence, result) in receiver {
            waiting.insert(sequence, result);
            while let Some(result) = waiting.remove(&next) {
                merge(result);
                next += 1;
            }
        }
    });
}

/// [`in_order`] over the pieces of a large input, handed out in batches of about 256 KiB of
/// text: one hand-off per piece would spend more time waking threads than parsing small
/// objects.
fn in_pieces<T: Send>(
    name: &Arc<str>,
    reader: Box<dyn std::io::BufRead + Send>,
    each: impl Fn(Result<palisade_load::Piece, LoadError>) -> T + Sync + Send,
    mut merge: impl FnMut(T),
) {
    let batches = palisade_load::Splitter::new(Arc::clone(name), reader).batches();
    in_order(
        batches,
        |batch: Vec<_>| batch.into_iter().map(&each).collect::<Vec<T>>(),
        |results| results.into_iter().for_each(&mut merge),
    );
}

/// Reads, parses and checks one input piece by piece (see [`palisade_load::stream`]): each
/// document, and each item of a large `List`, is parsed and checked on its own, in parallel,
/// and dropped; memory follows the largest piece and what the findings and whole-input rules
/// keep, not the file. Results are assembled in file order, so the report is the same as for a
/// whole read, without code frames (the file's text is not kept) and without `#
/// palisade:ignore` comments (annotations and config exceptions still apply).
pub fn scan_streamed(
    name: &Arc<str>,
    reader: Box<dyn std::io::BufRead + Send>,
    pipeline: &Pipeline,
) -> FileResult {
    let each = |piece: Result<palisade_load::Piece, LoadError>| {
        let mut part = FileResult::for_pipeline(pipeline);
        let piece = match piece {
            Ok(piece) => piece,
            Err(e) => {
                part.errors.push(e);
                return part;
            }
        };
        let mut suppressions = FileSuppressions::new(name, "", &pipeline.suppression);
        // No rule reads what the server writes into an object (its managedFields and status,
        // as a live scan drops them too): not parsed.
        let piece = piece.without_server_fields();
        palisade_load::load_piece(name, &piece, &mut |loaded| {
            part.take(loaded, pipeline, None, &mut suppressions)
        });
        part.keep_suppressions(suppressions);
        part
    };
    let mut result = FileResult::for_pipeline(pipeline);
    in_pieces(name, reader, each, |part: FileResult| result.absorb(part));
    result
}

/// Whether `input` will be read piece by piece: a file over [`STREAM_BYTES`], or stdin (which
/// may be).
fn is_large(input: &Input) -> bool {
    match input {
        Input::Stdin => true,
        Input::File(path) => std::fs::metadata(path).is_ok_and(|m| m.len() > STREAM_BYTES),
    }
}

/// How an input is read: whole, or piece by piece when it is larger than [`STREAM_BYTES`] (a
/// file by its size; stdin when more than that arrives, what was read so far coming first).
enum Reading {
    Whole(Vec<u8>),
    Streamed(Box<dyn std::io::BufRead + Send>),
}

fn reading(input: &Input) -> Result<Reading, LoadError> {
    use std::io::Read;
    let name = input.display_name();
    let error = |message: String| LoadError {
        file: name.to_string(),
        document: None,
        line: None,
        column: None,
        message,
    };
    match input {
        Input::File(path) => {
            let size = std::fs::metadata(path)
                .map_err(|e| error(e.to_string()))?
                .len();
            if size <= STREAM_BYTES {
                return read_input(input).map(Reading::Whole);
            }
            let file = std::fs::File::open(path).map_err(|e| error(e.to_string()))?;
            Ok(Reading::Streamed(Box::new(
                std::io::BufReader::with_capacity(1 << 20, file),
            )))
        }
        Input::Stdin => {
            let mut prefix = Vec::new();
            std::io::stdin()
                .take(STREAM_BYTES + 1)
                .read_to_end(&mut prefix)
                .map_err(|e| error(e.to_string()))?;
            if prefix.len() as u64 <= STREAM_BYTES {
                return Ok(Reading::Whole(prefix));
            }
            let rest = std::io::BufReader::with_capacity(1 << 20, std::io::stdin());
            Ok(Reading::Streamed(Box::new(
                std::io::Cursor::new(prefix).chain(rest),
            )))
        }
    }
}

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
/// flags) and node files (their modes and owners).
#[derive(Default)]
pub struct Extras {
    pub objects: Vec<palisade_model::Object>,
    pub files: Vec<palisade_model::NodeFile>,
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
        let result = scan_input(input, pipeline);
        progress();
        result
    };
    // A large input is read piece by piece with every core: it runs from this thread, never
    // from a worker of the parallel loop over the other files (which would idle that worker).
    let (large, small): (Vec<&Input>, Vec<&Input>) = inputs.iter().partition(|i| is_large(i));
    let mut merge = |mut result: FileResult| {
        collected.summary.objects += result.objects;
        collected.summary.skipped += result.skipped;
        collected.findings.append(&mut result.findings);
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
struct Collected {
    findings: Vec<Finding>,
    errors: Vec<LoadError>,
    warnings: Vec<LoadError>,
    summary: Summary,
    inventory: Option<InventoryBuilder>,
    suppressions: Suppressions,
    /// Standard input's text, for code frames (see [`FileResult::stdin_text`]).
    stdin_text: Option<String>,
    /// Part of a larger input: the config file's exceptions are judged over all its parts
    /// ([`config_exception_findings`]), not here.
    partial: bool,
}

impl Collected {
    fn new(pipeline: &Pipeline) -> Self {
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
    fn into_report(self, pipeline: &Pipeline, file_rank: &dyn Fn(&Arc<str>) -> usize) -> Report {
        self.into_report_and_use(pipeline, file_rank).0
    }

    /// [`Self::into_report`], and which of the config file's exceptions suppressed a finding.
    fn into_report_and_use(
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
        }
        let active: Vec<&'static palisade_rules::Rule> = engine.rules().collect();
        let mut used = suppressions.mark(&mut findings);
        let judged = if partial {
            suppressions.config_directives()..used.len()
        } else {
            0..used.len()
        };
        findings.extend(suppressions.report(&used, &active, judged));
        used.truncate(suppressions.config_directives());
        for finding in &mut findings {
            if let Some(&severity) = pipeline.severity.get(finding.rule.code) {
                finding.severity = severity;
            }
        }
        palisade_rules::fold_restated(&mut findings);
        palisade_rules::mark_on_paths(&mut findings);
        palisade_rules::raise_exposed_vulnerable(&mut findings, &exposed_vulnerable);
        findings.shrink_to_fit();
        if pipeline.code_frames {
            add_snippets(&mut findings, stdin_text.as_deref());
        }
        // Keys of a few words (a file's rank is looked up once per finding); findings without a
        // place, which share the key `(None, rule)`, are then ordered by object, path and
        // message, without copies.
        findings.sort_by_cached_key(|f| {
            let place = f
                .location
                .as_ref()
                .map(|l| (file_rank(&l.file), l.line, l.column));
            (place, f.rule.code)
        });
        for unplaced in findings.chunk_by_mut(|a, b| {
            a.location.is_none() && b.location.is_none() && a.rule.code == b.rule.code
        }) {
            unplaced.sort_by(|a, b| {
                (&a.object, a.path.as_str(), &a.message).cmp(&(
                    &b.object,
                    b.path.as_str(),
                    &b.message,
                ))
            });
        }
        // A part's findings go into PolicyReports, which carry no fingerprints (they identify
        // a finding across a report's runs, and a part is never a whole report).
        if !partial {
            set_fingerprints(&mut findings);
        }
        summary.errors = errors.len();
        summary.warnings = warnings.len();
        summary.findings = SeverityCounts::count(&findings);
        summary.suppressed = findings.iter().filter(|f| f.suppressed.is_some()).count();
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
        let StreamScan {
            pipeline,
            mut collected,
            suppressions,
        } = self;
        collected.suppressions.merge(suppressions.finish());
        collected.into_report_and_use(pipeline, &|_| usize::MAX)
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
        let StreamScan {
            pipeline,
            mut collected,
            suppressions,
        } = self;
        collected.suppressions.merge(suppressions.finish());
        let rank = |file: &Arc<str>| files.iter().position(|f| f == file).unwrap_or(usize::MAX);
        collected.into_report(pipeline, &rank)
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
    for finding in &mut findings {
        if let Some(&severity) = pipeline.severity.get(finding.rule.code) {
            finding.severity = severity;
        }
    }
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
    report
}

/// The findings on one object judged alone, as admission judges it: its object and pod rules,
/// with suppression annotations (ignored in strict mode), config exceptions and severity
/// overrides applied as in a scan, ordered by field path. Rules over the whole inventory
/// (RBAC, NetworkPolicy coverage) need the other objects and do not run here; findings about the
/// suppressions themselves are left to `scan`.
pub fn judge_object(pipeline: &Pipeline, object: &palisade_model::Object) -> Vec<Finding> {
    judge_object_with(pipeline, object, Vec::new())
}

/// [`judge_object`], with findings of whole-inventory rules that the object brings about
/// (`extra`, from the cluster's state) judged alongside: the object's suppressions cover them.
pub fn judge_object_with(
    pipeline: &Pipeline,
    object: &palisade_model::Object,
    extra: Vec<Finding>,
) -> Vec<Finding> {
    judge_object_under(pipeline, &pipeline.suppression, object, extra)
}

/// [`judge_object_with`] under other suppression settings: the admission webhook's, which
/// honour an object's own annotations only where its config allows.
pub fn judge_object_under(
    pipeline: &Pipeline,
    suppression: &palisade_rules::suppress::SuppressionSettings,
    object: &palisade_model::Object,
    extra: Vec<Finding>,
) -> Vec<Finding> {
    let no_file: Arc<str> = Arc::from(palisade_rules::suppress::NO_FILE);
    let mut file = FileSuppressions::new(&no_file, "", suppression);
    file.add_object(object, suppression);
    let mut suppressions = Suppressions::new(suppression);
    suppressions.merge(file.finish());
    let mut findings = pipeline.engine.check(object, None);
    findings.extend(extra);
    let active: Vec<&'static palisade_rules::Rule> = pipeline.engine.rules().collect();
    let _about_suppressions = suppressions.apply(&mut findings, &active);
    for finding in &mut findings {
        if let Some(&severity) = pipeline.severity.get(finding.rule.code) {
            finding.severity = severity;
        }
    }
    palisade_rules::fold_restated(&mut findings);
    findings.sort_by(|a, b| {
        a.path
            .as_str()
            .cmp(b.path.as_str())
            .then(a.rule.code.cmp(b.rule.code))
    });
    findings
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

/// Gives every finding its fingerprint; findings that share one are numbered in report order.
fn set_fingerprints(findings: &mut [Finding]) {
    let mut seen: HashMap<u64, std::num::NonZeroU32> = HashMap::with_capacity(findings.len());
    for finding in findings {
        let hash = fingerprint(finding);
        let occurrence = *seen
            .entry(hash)
            .and_modify(|n| *n = n.saturating_add(1))
            .or_insert(std::num::NonZeroU32::MIN);
        finding.fingerprint = Some(Fingerprint { hash, occurrence });
    }
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

/// Code frames for findings made after their files were dropped (whole-input rules): each file
/// with such findings is read once more. Secrets, and findings that point at a suspected
/// credential, never get one.
fn add_snippets(findings: &mut [Finding], stdin_text: Option<&str>) {
    let mut by_file: std::collections::BTreeMap<String, Vec<usize>> = Default::default();
    for (i, finding) in findings.iter().enumerate() {
        if finding.snippet.is_some() || finding.sensitive {
            continue;
        }
        if let Some(location) = &finding.location {
            if !palisade_rules::holds_secrets(&finding.object.kind) {
                by_file
                    .entry(location.file.to_string())
                    .or_default()
                    .push(i);
            }
        }
    }
    for (file, indexes) in by_file {
        let bytes;
        let text = if file == "-" {
            let Some(text) = stdin_text else { continue };
            text
        } else {
            // The text of a file read piece by piece is not kept, nor read again.
            let large = std::fs::metadata(&file).is_ok_and(|m| m.len() > STREAM_BYTES);
            if large {
                continue;
            }
            let Ok(read) = read_input(&Input::File(file.clone().into())) else {
                continue;
            };
            bytes = read;
            let Ok(text) = decode(&file, &bytes) else {
                continue;
            };
            text
        };
        let source = Source::new(text);
        for i in indexes {
            let line = findings[i].location.as_ref().map(|l| l.line);
            findings[i].snippet = line
                .and_then(|l| source.line(l))
                .map(String::into_boxed_str);
        }
    }
}

/// What an analysis reads otherwise than the API server would (it would refuse it), located:
/// a ClusterRole's malformed aggregation selectors.
fn analysis_warnings(object: &palisade_model::Object) -> Vec<LoadError> {
    palisade_analysis::rbac::aggregation_problems(object)
        .into_iter()
        .map(|(path, message)| {
            let (pos, _) = path.locate(&object.root);
            let origin = object.origin.as_ref();
            LoadError {
                file: origin.map_or_else(|| object.reference.display_name(), |o| o.file.to_string()),
                document: origin.map(|o| o.document),
                line: origin.map(|_| pos.line),
                column: origin.map(|_| pos.column),
                message: format!(
                    "{}: `{}`: {message}: the API server would refuse this ClusterRole; its aggregation is read as far as it can be (a selector that cannot be read selects every labelled ClusterRole), which may overstate what it grants",
                    object.reference.display_name(),
                    path.as_str()
                ),
            }
        })
        .collect()
}

/// What whole-input analyses read of some inputs, and what could not be read.
#[derive(Default)]
struct InventoryPart {
    builder: InventoryBuilder,
    errors: Vec<LoadError>,
    warnings: Vec<LoadError>,
}

impl InventoryPart {
    fn take(&mut self, loaded: Loaded) {
        match loaded {
            Loaded::Object(object) => {
                self.warnings.extend(analysis_warnings(&object));
                self.builder.add(&object)
            }
            Loaded::Skipped => {}
            Loaded::Error(e) => self.errors.push(e),
            Loaded::Warning(w) => self.warnings.push(w),
        }
    }

    fn absorb(&mut self, part: InventoryPart) {
        self.builder.merge(part.builder);
        self.errors.extend(part.errors);
        self.warnings.extend(part.warnings);
    }
}

/// The ValidatingAdmissionPolicies and bindings under `paths`, with the Namespaces and the
/// parameter objects they can see, read before a scan so that every object is judged against
/// them wherever they stand in the input. Files that do not mention a policy are read only
/// when some policy was found. Standard input is not read (it can be read once only).
pub fn load_admission_policies(
    paths: &[String],
    kubernetes_version: Option<Version>,
) -> (palisade_analysis::admission::Policies, Vec<LoadError>) {
    let mut policies =
        palisade_analysis::admission::Policies::for_kubernetes(kubernetes_version.map(|v| v.minor));
    let mut errors = Vec::new();
    let (inputs, _) = palisade_load::discover(paths);
    let policy_kinds = [
        "ValidatingAdmissionPolicy".to_string(),
        "ValidatingAdmissionPolicyBinding".to_string(),
    ];
    objects_of_kinds(&inputs, &policy_kinds, &|_, _| true, &mut |object| {
        policies.add_policy_or_binding(&object)
    });
    // A binding without its policy enforces nothing: an error of the input, since a team
    // that wrote it means to enforce something.
    for (at, message) in policies.dangling_bindings() {
        policies.problems.push((at, message));
    }
    if !policies.is_empty() {
        // The second pass parses only what a policy can see (Namespaces, parameter kinds):
        // small files first, then the large ones only if a policy still needs something
        // (splitting a gigabyte snapshot is most of the pass).
        let kinds = policies.context_kinds();
        let (large, small): (Vec<Input>, Vec<Input>) = inputs.iter().cloned().partition(is_large);
        for part in [small, large] {
            if !policies.needs_context() {
                break;
            }
            let mut seen: Vec<palisade_model::Object> = Vec::new();
            objects_of_kinds(
                &part,
                &kinds,
                &|kind, text| policies.may_see(kind, text),
                &mut |object| seen.push(object),
            );
            for object in &seen {
                policies.add_context(object);
            }
        }
    }
    for (at, message) in std::mem::take(&mut policies.problems) {
        errors.push(located_error(&at, message));
    }
    (policies, errors)
}

/// Every object of `kinds` in the files of `inputs`, a file at a time: a file that does not
/// name one of them is skipped after a text search, and in the others every piece whose kind
/// is another, or that `keep` refuses on its kind and text, is skipped unparsed. Files over [`STREAM_BYTES`] are searched and split as they
/// are read, so a gigabyte snapshot is never held whole. Unreadable files are left to the scan
/// that follows, which reports them.
fn objects_of_kinds(
    inputs: &[Input],
    kinds: &[String],
    keep: &(dyn Fn(&str, &str) -> bool + Sync),
    sink: &mut dyn FnMut(palisade_model::Object),
) {
    let wanted = |piece: &palisade_load::Piece| match piece.kind_hint() {
        Some(hint) => kinds.iter().any(|k| k == hint) && keep(hint, &piece.text),
        None => true,
    };
    for input in inputs {
        let Input::File(path) = input else { continue };
        let name = input.display_name();
        // Pieces are parsed in parallel a batch at a time and handed on in file order.
        let mut each_piece = |reader: &mut (dyn std::io::BufRead + Send)| {
            for batch in palisade_load::Splitter::new(Arc::clone(&name), reader).batches() {
                let parsed: Vec<Vec<palisade_model::Object>> = batch
                    .into_par_iter()
                    .flatten()
                    .filter(|piece| wanted(piece))
                    .map(|piece| {
                        let mut objects = Vec::new();
                        palisade_load::load_piece(&name, &piece, &mut |loaded| {
                            if let Loaded::Object(object) = loaded {
                                objects.push(*object);
                            }
                        });
                        objects
                    })
                    .collect();
                parsed.into_iter().flatten().for_each(&mut *sink);
            }
        };
        if is_large(input) {
            if file_mentions(path, kinds) {
                if let Ok(file) = std::fs::File::open(path) {
                    each_piece(&mut std::io::BufReader::with_capacity(1 << 20, file));
                }
            }
            continue;
        }
        let Ok(bytes) = std::fs::read(path) else {
            continue;
        };
        let Ok(text) = decode(&name, &bytes) else {
            continue;
        };
        if kinds.iter().any(|k| text.contains(k.as_str())) {
            each_piece(&mut text.as_bytes());
        }
    }
}

/// Whether the file at `path` contains one of `needles`, read a megabyte at a time.
fn file_mentions(path: &std::path::Path, needles: &[String]) -> bool {
    use std::io::Read;
    let Ok(mut file) = std::fs::File::open(path) else {
        return false;
    };
    let finders: Vec<_> = needles
        .iter()
        .map(|n| memchr::memmem::Finder::new(n.as_bytes()))
        .collect();
    let overlap = needles.iter().map(String::len).max().unwrap_or(0);
    let mut buffer = vec![0u8; (1 << 20) + overlap];
    let mut kept = 0;
    loop {
        let read = match file.read(&mut buffer[kept..]) {
            Ok(0) | Err(_) => return false,
            Ok(read) => read,
        };
        let filled = kept + read;
        if finders.iter().any(|f| f.find(&buffer[..filled]).is_some()) {
            return true;
        }
        // A needle split across two reads is found in the next window.
        kept = overlap.min(filled);
        buffer.copy_within(filled - kept..filled, 0);
    }
}

/// An error of the input at `at` (its file and place when it has one).
fn located_error(at: &palisade_analysis::rbac::Source, message: String) -> LoadError {
    LoadError {
        file: at
            .location
            .as_ref()
            .map_or_else(|| at.object.display_name(), |l| l.file.to_string()),
        document: at.location.as_ref().map(|l| l.document),
        line: at.location.as_ref().map(|l| l.line),
        column: at.location.as_ref().map(|l| l.column),
        message,
    }
}

/// An inventory read from files, with what could not be read (errors) and what was read as
/// kubectl reads it rather than as written (warnings).
pub struct InventoryRead {
    pub inventory: palisade_analysis::Inventory,
    pub errors: Vec<LoadError>,
    pub warnings: Vec<LoadError>,
}

/// Loads everything under `paths` into an inventory (RBAC, network) (in parallel, one pass per file).
pub fn load_inventory(paths: &[String], bootstrap: bool) -> InventoryRead {
    let (inputs, errors) = palisade_load::discover(paths);
    let inputs = dedup_inputs(inputs);
    let each = |input: &Input| {
        let mut part = InventoryPart::default();
        let name = input.display_name();
        match reading(input) {
            Err(e) => part.errors.push(e),
            Ok(Reading::Whole(bytes)) => match decode(&name, &bytes) {
                Err(e) => part.errors.push(e),
                Ok(text) => load_text(&name, text, &mut |loaded| part.take(loaded)),
            },
            Ok(Reading::Streamed(reader)) => {
                let each = |piece: Result<palisade_load::Piece, LoadError>| {
                    let mut part = InventoryPart::default();
                    match piece {
                        Err(e) => part.errors.push(e),
                        // Kinds no analysis reads are not even parsed.
                        Ok(piece)
                            if piece
                                .kind_hint()
                                .is_some_and(InventoryBuilder::ignores_kind) => {}
                        Ok(piece) => {
                            // Nor what the server writes into each object.
                            let piece = piece.without_server_fields();
                            palisade_load::load_piece(&name, &piece, &mut |loaded| {
                                part.take(loaded)
                            })
                        }
                    }
                    part
                };
                in_pieces(&name, reader, each, |piece| part.absorb(piece));
            }
        }
        part
    };
    // Large inputs from this thread (they use every core themselves), then the rest in
    // parallel; both in input order.
    let (large, small): (Vec<&Input>, Vec<&Input>) = inputs.iter().partition(|i| is_large(i));
    let mut parts: Vec<InventoryPart> = large.into_iter().map(each).collect();
    parts.extend(
        small
            .par_iter()
            .map(|input| each(input))
            .collect::<Vec<_>>(),
    );
    let mut all = InventoryPart {
        errors,
        ..InventoryPart::default()
    };
    for part in parts {
        all.absorb(part);
    }
    InventoryRead {
        inventory: all.builder.build(bootstrap),
        errors: all.errors,
        warnings: all.warnings,
    }
}

/// Removes repeated inputs, keeping the first occurrence.
pub fn dedup_inputs(inputs: Vec<Input>) -> Vec<Input> {
    let mut seen = std::collections::HashSet::new();
    inputs
        .into_iter()
        .filter(|i| seen.insert(i.clone()))
        .collect()
}

/// One rule's documentation as `palisade explain` prints it.
pub fn explain_text(rule: &palisade_rules::Rule) -> String {
    let meta = &rule.meta;
    format!(
        "{} {}\n\nSeverity: {}\nCategory: {}\nTarget: {}\nControls: {}\n{}{}\n{}\n",
        meta.info.code,
        meta.info.name,
        meta.severity,
        meta.info.category,
        rule.check.target(),
        meta.info.controls.join(", "),
        options_text(meta),
        overlap_text(rule),
        meta.docs()
    )
}

/// How a rule shares findings with others, one sentence a line: the rules whose findings it
/// lists with its own (`subsumes`), the rules that list its findings, and, for a restricted
/// Pod Security rule, the baseline rules whose fields it leaves to them.
fn overlap_text(rule: &palisade_rules::Rule) -> String {
    use palisade_rules::registry::RULES;
    let name_of = |code: &str| {
        palisade_rules::registry::find(code).map_or(code.to_string(), |r| {
            format!("{} ({})", r.meta.info.code, r.meta.info.name)
        })
    };
    let meta = &rule.meta;
    let mut out = String::new();
    if !meta.subsumes.is_empty() {
        let listed: Vec<String> = meta.subsumes.iter().map(|c| name_of(c)).collect();
        out.push_str(&format!(
            "Lists with its findings: {}, about the same field (the most severe finding is kept).\n",
            listed.join(", ")
        ));
    }
    let by: Vec<String> = RULES
        .iter()
        .filter(|r| r.meta.subsumes.contains(&meta.info.code))
        .map(|r| name_of(r.meta.info.code))
        .collect();
    if !by.is_empty() {
        out.push_str(&format!(
            "Listed with the findings of: {}, about the same field (the most severe finding is kept).\n",
            by.join(", ")
        ));
    }
    if let palisade_rules::Check::Pss(id) = rule.check {
        let overridden: Vec<&str> = palisade_analysis::pss::check(id)
            .into_iter()
            .flat_map(|c| c.versions.iter().flat_map(|v| v.overrides.iter().copied()))
            .collect();
        let baseline: Vec<String> = RULES
            .iter()
            .filter(|r| matches!(r.check, palisade_rules::Check::Pss(b) if overridden.contains(&b)))
            .map(|r| name_of(r.meta.info.code))
            .collect();
        if !baseline.is_empty() {
            out.push_str(&format!(
                "Leaves to {}: what that baseline rule reports at a field, this rule does not report again.\n",
                baseline.join(", ")
            ));
        }
    }
    out
}

/// `Options:` lines for a rule that takes any (config: `rules: {CODE: {NAME: VALUE}}`).
fn options_text(meta: &palisade_rules::RuleMeta) -> String {
    meta.options
        .iter()
        .map(|o| format!("Option: {} ({}): {}\n", o.name, o.kind.describe(), o.doc))
        .collect()
}

/// The rule reference (`docs/rules.md`), generated from the rules' own docs.
pub fn markdown_reference(rules: &[&palisade_rules::Rule]) -> String {
    let mut out = String::from(
        "# Rule reference\n\n<!-- Generated by `palisade rules --format markdown`; do not edit. -->\n\n\
         | Code | Name | Severity | Category | Controls |\n|---|---|---|---|---|\n",
    );
    for rule in rules {
        let meta = &rule.meta;
        out.push_str(&format!(
            "| [{code}](#{anchor}) | {name} | {sev} | {cat} | {controls} |\n",
            code = meta.info.code,
            anchor = meta.info.code.to_ascii_lowercase(),
            name = meta.info.name,
            sev = meta.severity,
            cat = meta.info.category,
            controls = meta.info.controls.join(", ")
        ));
    }
    for rule in rules {
        let meta = &rule.meta;
        // Rule docs use `##` sections; nest them under the rule's own heading.
        let docs = meta.docs().replace("\n## ", "\n#### ");
        let docs = docs
            .strip_prefix("## ")
            .map_or(docs.clone(), |d| format!("#### {d}"));
        out.push_str(&format!(
            "\n## {code}\n\n`{name}` · severity **{sev}** · category `{cat}` · target: {target}\n\n\
             Controls: {controls}\n\n{options}{overlap}{docs}\n",
            code = meta.info.code,
            name = meta.info.name,
            sev = meta.severity,
            cat = meta.info.category,
            target = rule.check.target(),
            controls = meta.info.controls.join(", "),
            overlap = overlap_text(rule)
                .lines()
                .map(|l| format!("{l}\n\n"))
                .collect::<String>(),
            options = options_text(meta)
                .lines()
                .map(|l| format!("{}\n\n", l.replacen("Option: ", "Option `", 1).replacen(" (", "` (", 1)))
                .collect::<String>(),
        ));
    }
    out
}
