//! One AdmissionReview in, one verdict out: the same engine, rules, suppressions and severities
//! as `palisade scan`, on the object the API server is about to store.

use std::fmt::Write as _;

use std::collections::HashMap;

use palisade_engine::{judge_object_under, Pipeline};
use palisade_model::{Finding, Object, Severity};
use palisade_rules::suppress::SuppressionSettings;
use serde_json::{json, Value as Json};

/// The Namespace label that picks a namespace's mode.
pub const MODE_LABEL: &str = "palisade.dev/mode";

/// The key of the audit annotation (the API server prefixes the webhook's name:
/// `validate.palisade.dev/findings`).
pub const AUDIT_KEY: &str = "findings";

/// What the webhook does with findings at or above `fail-on`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Deny the request, listing the findings.
    Enforce,
    /// Admit it, returning the findings as warnings (kubectl prints them).
    Warn,
    /// Admit it, recording the findings in an audit annotation.
    Audit,
}

impl Mode {
    pub fn parse(text: &str) -> Option<Mode> {
        match text {
            "enforce" => Some(Mode::Enforce),
            "warn" => Some(Mode::Warn),
            "audit" => Some(Mode::Audit),
            _ => None,
        }
    }

    /// How much a mode holds back: enforce over warn over audit.
    fn strength(self) -> u8 {
        match self {
            Mode::Enforce => 2,
            Mode::Warn => 1,
            Mode::Audit => 0,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Enforce => "enforce",
            Mode::Warn => "warn",
            Mode::Audit => "audit",
        }
    }
}

/// What the webhook knows of the cluster beyond the object under review.
pub trait ClusterView: Send + Sync {
    /// The findings of the whole-cluster RBAC rules (escalation paths, risky grants, workloads
    /// running as risky service accounts) that storing `object` would add to the cluster's
    /// current state.
    fn added_findings(&self, pipeline: &Pipeline, object: &Object) -> Vec<Finding>;
}

/// Kinds whose admission can change what the RBAC rules find.
const RBAC_KINDS: &[&str] = &["Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"];

/// Everything a verdict needs: the pipeline, the threshold, the mode of namespaces that do
/// not choose one, and what the cluster admin decided beyond the object under review.
pub struct Judge {
    pub pipeline: Pipeline,
    pub fail_on: Severity,
    pub default_mode: Mode,
    /// Namespace modes set by the cluster admin, over namespaces' labels.
    pub namespace_modes: HashMap<String, Mode>,
    /// Namespaces whose objects' own suppressions (annotations, comments) are honoured; in
    /// every other namespace only the config's exceptions apply.
    pub object_suppressions: Vec<String>,
    /// The pipeline's suppression settings with objects' own suppressions off.
    config_only: SuppressionSettings,
}

impl Judge {
    /// A judge that honours no object's own suppressions and sets no namespace's mode.
    pub fn new(pipeline: Pipeline, fail_on: Severity, default_mode: Mode) -> Self {
        let config_only = SuppressionSettings {
            strict: true,
            ..pipeline.suppression.clone()
        };
        Judge {
            pipeline,
            fail_on,
            default_mode,
            namespace_modes: HashMap::new(),
            object_suppressions: Vec::new(),
            config_only,
        }
    }

    /// The suppression settings for an object of `namespace` (a Namespace: its own name).
    fn suppression_in(&self, namespace: &str) -> &SuppressionSettings {
        if self.object_suppressions.iter().any(|n| n == namespace) {
            &self.pipeline.suppression
        } else {
            &self.config_only
        }
    }
}

/// Why a body is not a review the webhook can answer (HTTP 400).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BadReview {
    #[error("the body is not JSON: {0}")]
    NotJson(String),
    #[error("not an admission.k8s.io/v1 AdmissionReview: {0}")]
    NotAReview(String),
}

/// The answer to one review.
#[derive(Debug)]
pub struct Verdict {
    /// The AdmissionReview to send back.
    pub review: Json,
    pub allowed: bool,
    /// `allowed`, `denied`, `warned`, `audited` or `skipped` (not judged: DELETE, CONNECT, a
    /// kind without rules), for metrics.
    pub outcome: &'static str,
    /// The object's kind, for metrics.
    pub kind: String,
    /// The rules that denied the request.
    pub denied_by: Vec<&'static str>,
}

/// The kind as a metrics label: one Palisade judges, `Pod`-carrying or not, else `other`, so
/// that a caller cannot grow `/metrics` with kinds of its own making.
pub fn metric_kind(kind: &str) -> &'static str {
    static KNOWN: std::sync::OnceLock<Vec<&'static str>> = std::sync::OnceLock::new();
    const ALSO: &[&str] = &["Binding", "Lease", "Event", "Node"];
    let known = KNOWN.get_or_init(|| {
        let mut known = palisade_rules::registry::judged_kinds();
        known.extend(RBAC_KINDS);
        known.extend(["ServiceAccount"]);
        known.extend(ALSO);
        known
    });
    known
        .iter()
        .find(|k| **k == kind)
        .copied()
        .unwrap_or("other")
}

/// Warnings beyond this many are summed up in one more line.
const MAX_WARNINGS: usize = 20;
/// The API server truncates longer warnings.
const MAX_WARNING_CHARS: usize = 256;
/// The denial message stays readable in kubectl and well within the API server's limits.
const MAX_MESSAGE_BYTES: usize = 4096;

impl Judge {
    /// Whether the cluster's RBAC state judges `object`: an RBAC object by the escalation it
    /// adds, a workload by its service account's grants.
    fn judged_in_cluster(object: &Object) -> bool {
        (RBAC_KINDS.contains(&object.kind()) && object.group() == "rbac.authorization.k8s.io")
            || palisade_model::PodView::of(object).is_some()
    }

    /// Judges one AdmissionReview body. `mode_of` gives a namespace's mode from its label,
    /// when it has one.
    pub fn review(
        &self,
        body: &[u8],
        mode_of: &dyn Fn(&str) -> Option<Mode>,
    ) -> Result<Verdict, BadReview> {
        self.review_in(body, mode_of, None)
    }

    /// [`Judge::review`] with the cluster's state: RBAC objects are judged by what they add to
    /// it (a new escalation path is denied with the path), and workloads by the grants of the
    /// service account they run as.
    pub fn review_in(
        &self,
        body: &[u8],
        mode_of: &dyn Fn(&str) -> Option<Mode>,
        cluster: Option<&dyn ClusterView>,
    ) -> Result<Verdict, BadReview> {
        let request = Incoming::parse(body)?;
        if !matches!(request.operation.as_str(), "CREATE" | "UPDATE") {
            return Ok(request.allow("skipped", Vec::new()));
        }
        let object = request.object()?;
        // What some selected rule judges alone, and what the cluster's RBAC state judges.
        let judged = self.pipeline.engine.judges(&object)
            || (cluster.is_some() && Self::judged_in_cluster(&object));
        let (home, mode, lowered) = self.mode_of_write(&request, &object, mode_of);
        if !judged {
            let warnings = match mode {
                Mode::Warn => vec![format!(
                    "palisade: no rules for {} {}; admitted without a verdict",
                    printable(&object.reference.api_version),
                    printable(object.kind())
                )],
                _ => Vec::new(),
            };
            return Ok(request.allow("skipped", warnings));
        }
        let findings = self.failing_findings(&object, &home, cluster);
        let name = object.reference.display_name();
        if let Some((before, after)) = lowered {
            if let Some(verdict) = request.lowering(&object, before, after, mode, &name, &findings)
            {
                return Ok(verdict);
            }
        }
        Ok(request.verdict(mode, &name, &findings))
    }

    /// The namespace a write belongs to, the mode it is judged under, and, for a Namespace
    /// whose label lowers its own mode, the modes before and after. A namespace's mode is what
    /// the config sets, else its label, else the default; a Namespace write is judged under
    /// the mode it had (the default for a new one), and one that lowers it by label is the
    /// cluster admin's decision, not a tenant's.
    fn mode_of_write(
        &self,
        request: &Incoming,
        object: &Object,
        mode_of: &dyn Fn(&str) -> Option<Mode>,
    ) -> (String, Mode, Option<(Mode, Mode)>) {
        let is_namespace = object.kind() == "Namespace" && object.group().is_empty();
        let home = if is_namespace {
            object.reference.name.clone()
        } else {
            request.namespace.clone()
        };
        let configured = self.namespace_modes.get(&home).copied();
        if !is_namespace {
            let mode = if home.is_empty() {
                self.default_mode
            } else {
                configured
                    .or_else(|| mode_of(&home))
                    .unwrap_or(self.default_mode)
            };
            return (home, mode, None);
        }
        let label_of = |value: &Json| {
            value
                .pointer(&format!(
                    "/metadata/labels/{}",
                    MODE_LABEL.replace('/', "~1")
                ))
                .and_then(Json::as_str)
                .and_then(Mode::parse)
        };
        let before = configured
            .or_else(|| {
                (request.operation == "UPDATE")
                    .then(|| {
                        request
                            .review
                            .pointer("/request/oldObject")
                            .and_then(label_of)
                    })
                    .flatten()
            })
            .unwrap_or(self.default_mode);
        let after = configured
            .or_else(|| object.label(MODE_LABEL).and_then(Mode::parse))
            .unwrap_or(self.default_mode);
        let lowered = (after.strength() < before.strength()).then_some((before, after));
        (home, before, lowered)
    }

    /// The unsuppressed findings at or above the fail threshold, the worst first (a long list
    /// is cut at the end), with what the object adds to the cluster's RBAC state.
    fn failing_findings(
        &self,
        object: &Object,
        home: &str,
        cluster: Option<&dyn ClusterView>,
    ) -> Vec<Finding> {
        let in_cluster = match cluster {
            Some(view) if Self::judged_in_cluster(object) => {
                view.added_findings(&self.pipeline, object)
            }
            _ => Vec::new(),
        };
        let mut findings: Vec<Finding> = judge_object_under(
            &self.pipeline,
            self.suppression_in(home),
            object,
            in_cluster,
        )
        .into_iter()
        .filter(|f| f.suppressed().is_none() && f.severity >= self.fail_on)
        .collect();
        findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
        findings
    }
}

/// An AdmissionReview request as read: the review, and what every answer needs of it.
struct Incoming {
    review: Json,
    uid: String,
    operation: String,
    /// The kind as a metrics label ([`metric_kind`]).
    kind: String,
    namespace: String,
}

impl Incoming {
    /// Reads an AdmissionReview body: `admission.k8s.io/v1`, with a uid and an operation.
    fn parse(body: &[u8]) -> Result<Self, BadReview> {
        let review: Json =
            serde_json::from_slice(body).map_err(|e| BadReview::NotJson(e.to_string()))?;
        let text = |pointer: &str| review.pointer(pointer).and_then(Json::as_str);
        if text("/apiVersion") != Some("admission.k8s.io/v1")
            || text("/kind") != Some("AdmissionReview")
        {
            return Err(BadReview::NotAReview(
                "apiVersion must be admission.k8s.io/v1 and kind AdmissionReview".into(),
            ));
        }
        let uid = text("/request/uid")
            .ok_or_else(|| BadReview::NotAReview("request.uid is missing".into()))?
            .to_string();
        let operation = text("/request/operation")
            .ok_or_else(|| BadReview::NotAReview("request.operation is missing".into()))?
            .to_string();
        let kind = metric_kind(text("/request/kind/kind").unwrap_or("")).to_string();
        let namespace = text("/request/namespace").unwrap_or("").to_string();
        Ok(Incoming {
            review,
            uid,
            operation,
            kind,
            namespace,
        })
    }

    /// The object to judge: a Secret's values blanked before anything reads them (its rules
    /// are about its kind, type, owners and how many values it holds), and the namespace of
    /// the request filled in when the object as sent does not say it.
    fn object(&self) -> Result<Object, BadReview> {
        let Some(mut object) = self
            .review
            .pointer("/request/object")
            .filter(|o| o.is_object())
            .cloned()
        else {
            return Err(BadReview::NotAReview(format!(
                "{} without request.object",
                self.operation
            )));
        };
        if object.get("apiVersion").and_then(Json::as_str) == Some("v1")
            && object.get("kind").and_then(Json::as_str) == Some("Secret")
        {
            blank_values(&mut object);
        }
        if !self.namespace.is_empty() {
            if let Some(metadata) = object
                .as_object_mut()
                .map(|o| o.entry("metadata").or_insert_with(|| json!({})))
                .and_then(Json::as_object_mut)
            {
                metadata
                    .entry("namespace")
                    .or_insert_with(|| Json::String(self.namespace.clone()));
            }
        }
        Ok(palisade_load::json::to_object(&object))
    }

    fn allow(&self, outcome: &'static str, warnings: Vec<String>) -> Verdict {
        Verdict {
            review: answer(&self.uid, true, None, &warnings, None),
            allowed: true,
            outcome,
            kind: self.kind.clone(),
            denied_by: Vec::new(),
        }
    }

    fn deny(&self, message: &str, findings: &[Finding]) -> Verdict {
        Verdict {
            review: answer(&self.uid, false, Some(message), &[], None),
            allowed: false,
            outcome: "denied",
            kind: self.kind.clone(),
            denied_by: findings.iter().map(|f| f.rule.code).collect(),
        }
    }

    /// The answer to a Namespace write that lowers its own mode by label, when that decides it:
    /// denied in enforce mode (with the findings, if any), a warning in warn mode when nothing
    /// else is said.
    fn lowering(
        &self,
        object: &Object,
        before: Mode,
        after: Mode,
        mode: Mode,
        name: &str,
        findings: &[Finding],
    ) -> Option<Verdict> {
        let why = format!(
            "palisade: lowering namespace {}'s mode from {} to {} by its {MODE_LABEL} label is the cluster admin's decision: set it in the webhook's config (admission.namespaces)",
            printable(&object.reference.name),
            before.as_str(),
            after.as_str()
        );
        match mode {
            Mode::Enforce => {
                let mut message = why;
                if !findings.is_empty() {
                    message.push('\n');
                    message.push_str(&denial(name, findings));
                }
                Some(self.deny(&message, findings))
            }
            Mode::Warn if findings.is_empty() => Some(self.allow("warned", vec![why])),
            _ => None,
        }
    }

    /// The answer on `findings` (those at or above the fail threshold) in `mode`.
    fn verdict(&self, mode: Mode, name: &str, findings: &[Finding]) -> Verdict {
        if findings.is_empty() {
            return self.allow("allowed", Vec::new());
        }
        match mode {
            Mode::Enforce => self.deny(&denial(name, findings), findings),
            Mode::Warn => self.allow("warned", warnings(findings)),
            Mode::Audit => Verdict {
                review: answer(&self.uid, true, None, &[], Some(&audit_value(findings))),
                allowed: true,
                outcome: "audited",
                kind: self.kind.clone(),
                denied_by: Vec::new(),
            },
        }
    }
}

/// The answer when judging did not finish within `deadline`: denied, as the webhook's
/// `failurePolicy: Fail` would have it had the API server timed out, but said in Palisade's
/// words and counted.
pub fn out_of_time(uid: &str, deadline: std::time::Duration) -> Json {
    let message = format!(
        "palisade: judging this object took longer than {} s; denied without a verdict, as failurePolicy: Fail would (palisade scan judges it offline)",
        deadline.as_secs_f64()
    );
    answer(uid, false, Some(&message), &[], None)
}

/// The answer to a review refused unjudged because `ahead` reviews were waiting and it would
/// not have been judged within `deadline`: a denial, as `failurePolicy: Fail` would give, but
/// at once, so the API server is not held until its timeout.
pub fn too_busy(uid: &str, ahead: usize, deadline: std::time::Duration) -> Json {
    let message = format!(
        "palisade: too busy to judge this object within {} s ({ahead} reviews ahead of it); denied without a verdict, as failurePolicy: Fail would; retry shortly",
        deadline.as_secs_f64()
    );
    answer(uid, false, Some(&message), &[], None)
}

fn answer(
    uid: &str,
    allowed: bool,
    message: Option<&str>,
    warnings: &[String],
    audit: Option<&str>,
) -> Json {
    let mut response = json!({ "uid": uid, "allowed": allowed });
    if let Some(message) = message {
        response["status"] = json!({ "code": 403, "reason": "Forbidden", "message": message });
    }
    if !warnings.is_empty() {
        response["warnings"] = json!(warnings);
    }
    if let Some(value) = audit {
        response["auditAnnotations"] = json!({ AUDIT_KEY: value });
    }
    json!({ "apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "response": response })
}

/// Empties every value of a Secret's `data` and `stringData`, keeping the keys.
fn blank_values(secret: &mut Json) {
    for field in ["data", "stringData"] {
        if let Some(values) = secret.get_mut(field).and_then(Json::as_object_mut) {
            for value in values.values_mut() {
                *value = Json::String(String::new());
            }
        }
    }
}

/// Text from the object under review (names, flag values, paths inside messages) with every
/// control character escaped: a newline or a terminal escape sent by a tenant must not reach
/// kubectl's terminal, the API server's log or a dashboard as written.
pub fn printable(text: &str) -> String {
    if !text.chars().any(char::is_control) {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out
}

fn line(finding: &Finding) -> String {
    printable(&format!(
        "{} {} ({}) at {}: {}",
        finding.rule.code, finding.rule.name, finding.severity, finding.path, finding.message
    ))
}

/// The denial: one line per finding, cut with a count when it would grow too long.
fn denial(object: &str, findings: &[Finding]) -> String {
    let mut message = format!(
        "palisade: {} has {} finding(s) at or above the fail-on level:",
        printable(object),
        findings.len()
    );
    for (i, finding) in findings.iter().enumerate() {
        let next = format!("\n- {}", line(finding));
        if message.len() + next.len() > MAX_MESSAGE_BYTES - 64 {
            let _ = write!(
                message,
                "\n... and {} more (palisade scan shows all)",
                findings.len() - i
            );
            break;
        }
        message.push_str(&next);
    }
    message
}

fn warnings(findings: &[Finding]) -> Vec<String> {
    let mut out: Vec<String> = findings
        .iter()
        .take(MAX_WARNINGS)
        .map(|f| {
            let text = format!("palisade: {}", line(f));
            if text.chars().count() > MAX_WARNING_CHARS {
                let cut: String = text.chars().take(MAX_WARNING_CHARS - 3).collect();
                format!("{cut}...")
            } else {
                text
            }
        })
        .collect();
    if findings.len() > MAX_WARNINGS {
        out.push(format!(
            "palisade: ... and {} more findings",
            findings.len() - MAX_WARNINGS
        ));
    }
    out
}

/// The audit annotation stays small: the API server keeps it in every audit event.
const MAX_AUDIT_BYTES: usize = 8192;

/// The findings as compact JSON (rule, severity, path, message), the worst first, cut at
/// [`MAX_AUDIT_BYTES`] with an entry that counts the rest.
fn audit_value(findings: &[Finding]) -> String {
    let mut list: Vec<Json> = Vec::new();
    let mut bytes = 2;
    for (i, f) in findings.iter().enumerate() {
        let entry = json!({"rule": f.rule.code, "severity": f.severity, "path": printable(f.path.as_str()), "message": printable(&f.message)});
        let size = entry.to_string().len() + 1;
        if bytes + size > MAX_AUDIT_BYTES - 64 {
            list.push(json!({"more": findings.len() - i}));
            break;
        }
        bytes += size;
        list.push(entry);
    }
    Json::Array(list).to_string()
}
