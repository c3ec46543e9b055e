use std::sync::OnceLock;

use std::collections::HashMap;

use palisade_analysis::pss::{self, Level, Version, VersionedCheck, Violation};
use palisade_analysis::{Inventory, InventoryBuilder};
use palisade_audit::{At, AuditEvent};

use crate::meta::{AuditDetector, AuditHit};
use palisade_model::{Finding, Location, NodeFile, Object, PodView};

use crate::meta::{Emitter, OptionValues};

use crate::registry::RULES;
use crate::{Check, Rule, Selection, SelectionError};

/// What a scan is configured to check.
#[derive(Clone, Debug)]
pub struct Settings {
    pub pss_level: Level,
    pub pss_version: Version,
    pub selection: Selection,
    /// Assume Kubernetes' default RBAC roles and bindings exist (`edit`, `cluster-admin`, ...).
    pub rbac_bootstrap: bool,
    /// The Kubernetes version whose semantics apply where they changed between versions.
    pub kubernetes_version: Version,
    /// Configured rule options, by rule code.
    pub options: HashMap<&'static str, OptionValues>,
    /// ValidatingAdmissionPolicies (and their bindings and parameters) every object is judged
    /// against.
    pub admission: Option<std::sync::Arc<palisade_analysis::admission::Policies>>,
    /// The config's custom rules ([`crate::registry::custom_rule`]), selected like the others.
    pub custom_rules: Vec<&'static Rule>,
    /// Kubernetes releases and their vulnerabilities (`--k8s-data`); the bundled data if unset.
    pub releases: Option<std::sync::Arc<palisade_analysis::releases::ReleaseData>>,
    /// The day end-of-life dates are judged on (`--as-of`); today if unset.
    pub as_of: Option<palisade_model::Date>,
    /// Vulnerability reports of images given as files (`--vulnerabilities`).
    pub image_reports: std::sync::Arc<Vec<palisade_analysis::vulns::ImageReport>>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            pss_level: Level::Restricted,
            pss_version: Version::LATEST,
            selection: Selection::default(),
            rbac_bootstrap: true,
            kubernetes_version: Version::LATEST,
            options: HashMap::new(),
            admission: None,
            custom_rules: Vec::new(),
            releases: None,
            as_of: None,
            image_reports: std::sync::Arc::default(),
        }
    }
}

/// A per-object rule that runs, with what the engine resolved for it.
struct Active {
    rule: &'static Rule,
    check: PodCheck,
    /// For a restricted Pod Security check: the active baseline checks (indexes into the
    /// engine's `active`) it overrides. What they report at a field, it does not repeat.
    overrides: Vec<usize>,
}

enum PodCheck {
    Pss(&'static VersionedCheck),
    WithOptions(
        fn(&PodView<'_>, &OptionValues) -> Vec<Violation>,
        OptionValues,
    ),
    Object(fn(&Object, &OptionValues) -> Vec<Violation>, OptionValues),
    Versioned(fn(&Object, Version) -> Vec<Violation>, Version),
    Custom(&'static palisade_analysis::custom::CustomCheck),
}

/// A node file rule's function.
type FileCheck = fn(&NodeFile) -> Option<String>;

/// An audit-log rule's function, or the detector it starts per run.
#[derive(Clone, Copy)]
enum AuditCheck {
    Event(fn(&AuditEvent) -> Vec<AuditHit>),
    Stream(fn() -> Box<dyn AuditDetector>),
}

/// An inventory rule that runs.
struct ActiveInventory {
    rule: &'static Rule,
    check: fn(&Inventory, &mut Emitter),
    options: OptionValues,
}

/// The selected rules, ready to run on objects and on the whole input. Rules never see where
/// an object came from.
pub struct Engine {
    active: Vec<Active>,
    inventory: Vec<ActiveInventory>,
    /// Rules the suppression pass reports.
    suppression: Vec<&'static Rule>,
    /// Rules on node files.
    files: Vec<(&'static Rule, FileCheck)>,
    /// Rules on audit events.
    audit: Vec<(&'static Rule, AuditCheck)>,
    rbac_bootstrap: bool,
    kubernetes_version: Version,
    releases: Option<std::sync::Arc<palisade_analysis::releases::ReleaseData>>,
    as_of: Option<palisade_model::Date>,
    image_reports: std::sync::Arc<Vec<palisade_analysis::vulns::ImageReport>>,
    /// The admission policy rule, with the policies it judges against.
    admission: Option<(
        &'static Rule,
        std::sync::Arc<palisade_analysis::admission::Policies>,
        OptionValues,
    )>,
}

/// The text of the file an object came from, for code frames.
pub struct Source<'a> {
    text: &'a str,
    line_starts: OnceLock<Vec<usize>>,
}

/// Code frames show at most this many characters of a line.
const SNIPPET_CHARS: usize = 240;

impl<'a> Source<'a> {
    pub fn new(text: &'a str) -> Self {
        Source {
            text,
            line_starts: OnceLock::new(),
        }
    }

    /// Line `line` (1-based) without its newline, cut to a readable length.
    pub fn line(&self, line: u32) -> Option<String> {
        let starts = self.line_starts.get_or_init(|| {
            std::iter::once(0)
                .chain(self.text.match_indices('\n').map(|(i, _)| i + 1))
                .collect()
        });
        let index = usize::try_from(line).ok()?.checked_sub(1)?;
        let start = *starts.get(index)?;
        let end = starts.get(index + 1).map_or(self.text.len(), |&e| e);
        let text = self.text.get(start..end)?.trim_end_matches(['\n', '\r']);
        Some(text.chars().take(SNIPPET_CHARS).collect())
    }
}

impl Engine {
    pub fn new(settings: &Settings) -> Result<Self, SelectionError> {
        let pss_checks = pss::checks_reported(settings.pss_level, settings.pss_version);
        let mut active = Vec::new();
        let mut inventory = Vec::new();
        let mut suppression = Vec::new();
        let mut files = Vec::new();
        let mut audit = Vec::new();
        let mut admission = None;
        let rules: Vec<&'static Rule> = RULES
            .iter()
            .copied()
            .chain(settings.custom_rules.iter().copied())
            .collect();
        for rule in settings.selection.resolve(&rules)? {
            match rule.check {
                Check::Pss(id) => {
                    if let Some((_, versioned)) = pss_checks.iter().find(|(c, _)| c.id == id) {
                        active.push(Active {
                            rule,
                            check: PodCheck::Pss(versioned),
                            overrides: Vec::new(),
                        });
                    }
                }
                Check::Inventory(check) => inventory.push(ActiveInventory {
                    rule,
                    check,
                    options: options_of(settings, rule),
                }),
                Check::Suppression => suppression.push(rule),
                Check::Admission => {
                    admission = settings
                        .admission
                        .as_ref()
                        .filter(|p| !p.is_empty())
                        .map(|p| (rule, std::sync::Arc::clone(p), options_of(settings, rule)))
                }
                Check::File(check) => files.push((rule, check)),
                Check::Custom(check) => active.push(Active {
                    rule,
                    check: PodCheck::Custom(check),
                    overrides: Vec::new(),
                }),
                Check::Pod(check) => active.push(Active {
                    rule,
                    check: PodCheck::WithOptions(check, options_of(settings, rule)),
                    overrides: Vec::new(),
                }),
                Check::Object(check) => active.push(Active {
                    rule,
                    check: PodCheck::Object(check, options_of(settings, rule)),
                    overrides: Vec::new(),
                }),
                Check::AuditEvent(check) => audit.push((rule, AuditCheck::Event(check))),
                Check::AuditStream(start) => audit.push((rule, AuditCheck::Stream(start))),
                Check::Versioned(check) => active.push(Active {
                    rule,
                    check: PodCheck::Versioned(check, settings.kubernetes_version),
                    overrides: Vec::new(),
                }),
            }
        }
        let pss_id = |a: &Active| match (&a.rule.check, &a.check) {
            (Check::Pss(id), PodCheck::Pss(_)) => Some(*id),
            _ => None,
        };
        for i in 0..active.len() {
            let PodCheck::Pss(versioned) = active[i].check else {
                continue;
            };
            let overridden: Vec<usize> = (0..active.len())
                .filter(|&j| pss_id(&active[j]).is_some_and(|id| versioned.overrides.contains(&id)))
                .collect();
            active[i].overrides = overridden;
        }
        Ok(Engine {
            active,
            inventory,
            suppression,
            files,
            audit,
            rbac_bootstrap: settings.rbac_bootstrap,
            kubernetes_version: settings.kubernetes_version,
            releases: settings.releases.clone(),
            as_of: settings.as_of,
            image_reports: settings.image_reports.clone(),
            admission,
        })
    }

    /// Whether a selected rule judges `object` on its own, as admission sees it: a pod spec
    /// rule and the object carries one, an object rule that declares its kind, the admission
    /// policies the engine was given, or a custom rule that matches it. Whole-input rules
    /// judge no object alone.
    pub fn judges(&self, object: &Object) -> bool {
        let carries_pod = std::cell::OnceCell::new();
        let carries_pod = || *carries_pod.get_or_init(|| PodView::of(object).is_some());
        self.admission.is_some()
            || self.active.iter().any(|active| match active.check {
                PodCheck::Pss(_) | PodCheck::WithOptions(..) => carries_pod(),
                PodCheck::Object(..) | PodCheck::Versioned(..) => {
                    active.rule.judges_kind(object.kind())
                }
                PodCheck::Custom(check) => check.matches(object),
            })
            || self
                .inventory
                .iter()
                .any(|active| active.rule.judges_kind(object.kind()))
    }

    /// The findings of the whole-input rules that an object of its kind brings about on its
    /// own (those that declare `kinds`), over an input of that object alone: what admission,
    /// which sees one object, can judge of them.
    pub fn check_alone(&self, object: &Object) -> Vec<Finding> {
        let kind = object.kind();
        if !self.inventory.iter().any(|a| a.rule.judges_kind(kind)) {
            return Vec::new();
        }
        let mut alone = InventoryBuilder::default();
        alone.add(object);
        let inventory = self.build_inventory(alone);
        let mut all = Vec::new();
        append_all(
            &mut all,
            self.check_inventory_where(&inventory, &|rule| rule.judges_kind(kind)),
        );
        all
    }

    /// Whether one of the config's custom rules judges `object` (the webhook judges the kinds
    /// they name besides those Palisade's own rules know).
    pub fn custom_rules_judge(&self, object: &Object) -> bool {
        self.active.iter().any(|active| match active.check {
            PodCheck::Custom(check) => check.matches(object),
            _ => false,
        })
    }

    /// The rules this engine runs.
    pub fn rules(&self) -> impl Iterator<Item = &'static Rule> + '_ {
        self.active
            .iter()
            .map(|a| a.rule)
            .chain(self.inventory.iter().map(|a| a.rule))
            .chain(self.files.iter().map(|(rule, _)| *rule))
            .chain(self.audit.iter().map(|(rule, _)| *rule))
            .chain(self.suppression.iter().copied())
    }

    /// Runs the node file rules on `file`.
    pub fn check_file(&self, file: &NodeFile) -> Vec<Finding> {
        let object = std::sync::Arc::new(palisade_model::ObjectRef {
            api_version: "v1".to_string(),
            kind: "File".to_string(),
            namespace: None,
            name: file.path.to_string(),
        });
        self.files
            .iter()
            .filter_map(|(rule, check)| {
                let message = check(file)?;
                let meta = &rule.meta;
                // A node file's first line is not worth quoting (and may be a key).
                Some(Finding {
                    sensitive: true,
                    ..meta.finding(
                        message,
                        std::sync::Arc::clone(&object),
                        palisade_model::FieldPath::root(),
                        Some(Location {
                            file: std::sync::Arc::clone(&file.path),
                            document: 1,
                            line: 1,
                            column: 1,
                        }),
                    )
                })
            })
            .collect()
    }

    /// Whether any selected rule needs the whole input (so the scan must collect it).
    pub fn needs_inventory(&self) -> bool {
        !self.inventory.is_empty()
    }

    /// Whether to assume Kubernetes' default RBAC policy when building the inventory.
    /// Whether any audit-log rule is selected.
    pub fn checks_audit_events(&self) -> bool {
        !self.audit.is_empty()
    }

    /// A run of the audit-log rules over one log (or several, in order).
    pub fn audit_session(&self) -> AuditSession<'_> {
        AuditSession {
            rules: self
                .audit
                .iter()
                .map(|&(rule, check)| {
                    let state = match check {
                        AuditCheck::Event(check) => AuditState::Event(check),
                        AuditCheck::Stream(start) => AuditState::Stream(start()),
                    };
                    (rule, state)
                })
                .collect(),
            _engine: std::marker::PhantomData,
        }
    }

    pub fn rbac_bootstrap(&self) -> bool {
        self.rbac_bootstrap
    }

    /// The whole-input view the inventory rules judge, as this engine is configured: with or
    /// without the default RBAC policy, at its Kubernetes version.
    pub fn build_inventory(&self, builder: InventoryBuilder) -> Inventory {
        let mut inventory = builder.build(self.rbac_bootstrap);
        inventory.rbac.kubernetes_version = self.kubernetes_version;
        if let Some(releases) = &self.releases {
            inventory.releases = std::sync::Arc::clone(releases);
        }
        if let Some(day) = self.as_of {
            inventory.today = day;
        }
        inventory
            .image_reports
            .extend(self.image_reports.iter().cloned());
        inventory
    }

    /// Runs the inventory rules.
    pub fn check_inventory(&self, inventory: &Inventory) -> Vec<Finding> {
        let mut all = Vec::new();
        self.check_inventory_into(inventory, &mut all);
        all
    }

    /// Runs the inventory rules of one category (`rbac`).
    pub fn check_inventory_in(&self, inventory: &Inventory, category: &str) -> Vec<Finding> {
        let mut all = Vec::new();
        append_all(
            &mut all,
            self.check_inventory_where(inventory, &|rule| rule.meta.info.category == category),
        );
        all
    }

    fn check_inventory_where(
        &self,
        inventory: &Inventory,
        wanted: &dyn Fn(&Rule) -> bool,
    ) -> Vec<Vec<Finding>> {
        use rayon::prelude::*;
        let active: Vec<&ActiveInventory> =
            self.inventory.iter().filter(|a| wanted(a.rule)).collect();
        // Independent analyses over a shared, read-only inventory: one per core, results in
        // rule order.
        active
            .par_iter()
            .map(|active| run_inventory_rule(active, inventory))
            .collect()
    }

    /// Runs the inventory rules, their findings appended to `out`: on a large input these are
    /// tens of thousands, so the rules run a few at a time (two per core), each group's
    /// findings moved into `out` before the next starts, rather than all at once with every
    /// rule's array alive beside `out`.
    pub fn check_inventory_into(&self, inventory: &Inventory, out: &mut Vec<Finding>) {
        use rayon::prelude::*;
        let width = 2 * rayon::current_num_threads().max(1);
        for group in self.inventory.chunks(width) {
            let per_rule: Vec<Vec<Finding>> = group
                .par_iter()
                .map(|active| run_inventory_rule(active, inventory))
                .collect();
            append_all(out, per_rule);
        }
    }

    /// Runs every active rule on `object`; `source` is the text of its file, if any.
    pub fn check(&self, object: &Object, source: Option<&Source<'_>>) -> Vec<Finding> {
        let pod = PodView::of(object);
        let mut found: Vec<Vec<Violation>> = self
            .active
            .iter()
            .map(|active| match (&active.check, &pod) {
                (PodCheck::Pss(versioned), Some(pod)) => (versioned.check)(pod),
                (PodCheck::WithOptions(check, options), Some(pod)) => check(pod, options),
                // Object rules run on the kinds they declare only.
                (PodCheck::Object(check, options), _) if active.rule.judges_kind(object.kind()) => {
                    check(object, options)
                }
                (PodCheck::Versioned(check, version), _)
                    if active.rule.judges_kind(object.kind()) =>
                {
                    check(object, *version)
                }
                (PodCheck::Object(..) | PodCheck::Versioned(..), _) => Vec::new(),
                (PodCheck::Custom(check), _) => check
                    .judge(object)
                    .into_iter()
                    .map(|f| Violation {
                        severity: None,
                        path: f.path,
                        message: f.message,
                    })
                    .collect(),
                (PodCheck::Pss(_) | PodCheck::WithOptions(..), None) => Vec::new(),
            })
            .collect();
        for (i, active) in self.active.iter().enumerate() {
            if active.overrides.is_empty() || found[i].is_empty() {
                continue;
            }
            let reported: Vec<palisade_model::FieldPath> = active
                .overrides
                .iter()
                .flat_map(|&j| found[j].iter().map(|v| v.path.clone()))
                .collect();
            found[i].retain(|v| !reported.contains(&v.path));
        }
        let mut findings = Vec::new();
        for (active, violations) in self.active.iter().zip(found) {
            for violation in violations {
                findings.push(self.finding(active.rule, object, violation, source));
            }
        }
        if let Some((rule, policies, options)) = &self.admission {
            findings.extend(self.admission_findings(
                rule,
                policies,
                options,
                object,
                pod.as_ref(),
                source,
            ));
        }
        findings
    }

    /// What the admission policies say of `object`: a finding per failed validation and
    /// action, at the object (or its pod template), pointing at the validation.
    fn admission_findings(
        &self,
        rule: &'static Rule,
        policies: &palisade_analysis::admission::Policies,
        options: &OptionValues,
        object: &Object,
        pod: Option<&PodView<'_>>,
        source: Option<&Source<'_>>,
    ) -> Vec<Finding> {
        use palisade_analysis::admission::Action;
        policies
            .judge(object)
            .into_iter()
            .map(|verdict| {
                use palisade_model::Severity;
                let (severity, verb) = match verdict.action {
                    Action::Deny => (options.severity("deny-severity", Severity::High), "denies"),
                    Action::Warn => (
                        options.severity("warn-severity", Severity::Medium),
                        "warns about",
                    ),
                    Action::Audit => (options.severity("audit-severity", Severity::Low), "audits"),
                };
                let subject = object.reference.display_name();
                let (message, path) = match (verdict.target, pod) {
                    ("pod-template", Some(pod)) => (
                        format!(
                            "the pods of {subject}: ValidatingAdmissionPolicy {} (binding {}) {verb} them: {}",
                            verdict.policy, verdict.binding, verdict.message
                        ),
                        pod.spec_path.clone(),
                    ),
                    _ => (
                        format!(
                            "ValidatingAdmissionPolicy {} (binding {}) {verb} {subject}: {}",
                            verdict.policy, verdict.binding, verdict.message
                        ),
                        palisade_model::FieldPath::root(),
                    ),
                };
                let mut finding = self.finding(rule, object, Violation { path, message, severity: None }, source);
                finding.severity = severity;
                finding.extra_mut().related = vec![palisade_model::Related {
                    object: std::sync::Arc::clone(&verdict.at.object),
                    path: verdict.at.path.clone(),
                    location: verdict.at.location.clone(),
                    message: match verdict.validation {
                        Some(i) => format!("validation {i} of ValidatingAdmissionPolicy {}", verdict.policy),
                        None => format!("ValidatingAdmissionPolicy {}", verdict.policy),
                    },
                }]
                .into();
                finding.extra_mut().admission = Some(Box::new(palisade_model::AdmissionVerdict {
                    policy: verdict.policy,
                    binding: verdict.binding,
                    action: verdict.action.as_str(),
                    validation: verdict.validation,
                    target: verdict.target,
                    audit_annotations: verdict.audit_annotations.into_iter().collect(),
                }));
                finding
            })
            .collect()
    }

    fn finding(
        &self,
        rule: &'static Rule,
        object: &Object,
        violation: Violation,
        source: Option<&Source<'_>>,
    ) -> Finding {
        let location = object.origin.as_ref().map(|origin| {
            let (pos, _) = violation.path.locate(&object.root);
            Location {
                file: std::sync::Arc::clone(&origin.file),
                document: origin.document,
                line: pos.line,
                column: pos.column,
            }
        });
        // A Secret's lines, and the lines credential rules point at, may hold secret values:
        // never quote them.
        let sensitive = rule.meta.sensitive;
        let about = rule
            .meta
            .about
            .and_then(|about| about(object, &violation.path))
            .map(|path| palisade_model::About {
                object: std::sync::Arc::clone(&object.reference),
                file: location.as_ref().map(|l| std::sync::Arc::clone(&l.file)),
                path,
                aspect: "",
            });
        let snippet = match (&location, source) {
            (Some(loc), Some(source)) if !holds_secrets(object.kind()) && !sensitive => {
                source.line(loc.line).map(String::into_boxed_str)
            }
            _ => None,
        };
        let severity = violation.severity;
        let mut finding = Finding {
            snippet,
            sensitive,
            extra: about.map(|about| {
                Box::new(palisade_model::Extra {
                    about: Some(Box::new(about)),
                    ..Default::default()
                })
            }),
            ..rule.meta.finding(
                violation.message,
                std::sync::Arc::clone(&object.reference),
                violation.path,
                location,
            )
        };
        if let Some(severity) = severity {
            finding.severity = severity;
        }
        finding
    }
}

/// Options one rule reads as another rule is configured: (reader, owner, option). The
/// stale-pull-policy rule judges tags as the mutable-tag rule is told to.
const SHARED_OPTIONS: &[(&str, &str, &str)] = &[("PAL-IMG-004", "PAL-IMG-002", "mutable-tags")];

fn options_of(settings: &Settings, rule: &Rule) -> OptionValues {
    let code = rule.meta.info.code;
    let mut values = settings.options.get(code).cloned().unwrap_or_default();
    for &(reader, owner, option) in SHARED_OPTIONS {
        if reader != code || values.0.contains_key(option) {
            continue;
        }
        if let Some(value) = settings.options.get(owner).and_then(|o| o.0.get(option)) {
            values.0.insert(option, value.clone());
        }
    }
    values
}

/// Kinds whose lines may hold secret values or keys: never quoted.
pub fn holds_secrets(kind: &str) -> bool {
    matches!(
        kind,
        "Secret" | "EncryptionConfiguration" | "EncryptionConfig"
    )
}

enum AuditState {
    Event(fn(&AuditEvent) -> Vec<AuditHit>),
    Stream(Box<dyn AuditDetector>),
}

/// The audit-log rules of one run, with the state of the stream detectors.
pub struct AuditSession<'e> {
    rules: Vec<(&'static Rule, AuditState)>,
    _engine: std::marker::PhantomData<&'e Engine>,
}

impl AuditSession<'_> {
    /// The findings on one event, which was read `at`. Audit findings never quote their line:
    /// a logged request body may hold what should not be printed.
    pub fn observe(&mut self, event: &AuditEvent, at: &At) -> Vec<Finding> {
        let mut findings = Vec::new();
        for (rule, state) in &mut self.rules {
            let hits = match state {
                AuditState::Event(check) => check(event),
                AuditState::Stream(detector) => detector.observe(event),
            };
            if hits.is_empty() {
                continue;
            }
            let object = std::sync::Arc::new(event.object());
            let meta = &rule.meta;
            findings.extend(hits.into_iter().map(|hit| {
                let location = Location {
                    file: std::sync::Arc::clone(&at.file),
                    document: at.index,
                    line: at.line,
                    column: 1,
                };
                Finding {
                    sensitive: true,
                    ..meta.finding(
                        hit.message,
                        std::sync::Arc::clone(&object),
                        hit.path,
                        Some(location),
                    )
                }
            }));
        }
        findings
    }
}

/// Runs one inventory rule: its findings, in the order it reported them.
fn run_inventory_rule(active: &ActiveInventory, inventory: &Inventory) -> Vec<Finding> {
    let mut emitter = Emitter {
        hits: Vec::new(),
        options: active.options.clone(),
    };
    (active.check)(inventory, &mut emitter);
    let meta = &active.rule.meta;
    emitter
        .hits
        .into_iter()
        .map(|hit| Finding {
            severity: hit.severity.unwrap_or(meta.severity),
            extra: (!hit.related.is_empty() || hit.about.is_some()).then(|| {
                Box::new(palisade_model::Extra {
                    related: hit.related.into(),
                    about: hit.about.map(Box::new),
                    ..Default::default()
                })
            }),
            ..meta.finding(hit.message, hit.at.object, hit.at.path, hit.at.location)
        })
        .collect()
}

/// Moves every rule's findings into `out`, sized once, each rule's array freed once moved.
fn append_all(out: &mut Vec<Finding>, per_rule: Vec<Vec<Finding>>) {
    out.reserve_exact(per_rule.iter().map(Vec::len).sum());
    for findings in per_rule {
        out.extend(findings);
    }
}
