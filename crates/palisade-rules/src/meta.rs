use std::collections::HashMap;

use palisade_analysis::pss::{Version, Violation};
use palisade_analysis::rbac::Source;
use palisade_analysis::Inventory;
use palisade_audit::AuditEvent;
use palisade_model::{FieldPath, NodeFile, Object, PodView, Related, RuleRef, Severity};

/// What a rule looks at, and the function (or engine check) that looks. The engine dispatches
/// on the variant.
pub enum Check {
    /// A Pod Security Standards check, by upstream id, run on every pod spec; the engine picks
    /// the implementation for the configured Kubernetes version and level.
    Pss(&'static str),
    /// Runs once over everything the input holds (RBAC policy, service accounts, workloads).
    Inventory(fn(&Inventory, &mut Emitter)),
    /// Runs on every pod spec with the rule's configured options.
    Pod(fn(&PodView<'_>, &OptionValues) -> Vec<Violation>),
    /// Runs on every object (the function picks the kinds it applies to) with the rule's
    /// configured options.
    Object(fn(&Object, &OptionValues) -> Vec<Violation>),
    /// Runs on every object at the configured Kubernetes version (`--kubernetes-version`).
    Versioned(fn(&Object, Version) -> Vec<Violation>),
    /// Judges a node's file (its mode and owner), found by `palisade node`: the message, if
    /// the file fails.
    File(fn(&NodeFile) -> Option<String>),
    /// Judges the suppressions themselves, after every other rule has run.
    Suppression,
    /// Judges every object against the admission policies the engine was given
    /// ([`crate::Settings::admission`]), as the API server would judge its creation.
    Admission,
    /// A custom rule from the config, in CEL ([`crate::registry::custom_rule`]).
    Custom(&'static palisade_analysis::custom::CustomCheck),
    /// Judges one API server audit event (`palisade audit detect`).
    AuditEvent(fn(&AuditEvent) -> Vec<AuditHit>),
    /// Judges the audit log as a stream (bursts, sequences): a fresh detector per run.
    AuditStream(fn() -> Box<dyn AuditDetector>),
}

/// What an audit-log rule reports about an event: the message, and the field of the request
/// body it points at (the root when the event as a whole is the problem).
#[derive(Clone, Debug)]
pub struct AuditHit {
    pub path: FieldPath,
    pub message: String,
}

impl AuditHit {
    pub fn new(message: String) -> Self {
        AuditHit {
            path: FieldPath::root(),
            message,
        }
    }
}

/// An audit-log rule that keeps state across events, in log order.
pub trait AuditDetector: Send {
    /// Judges the next event.
    fn observe(&mut self, event: &AuditEvent) -> Vec<AuditHit>;
}

impl Check {
    /// A short description of the target, for `palisade rules`.
    pub fn target(&self) -> &'static str {
        match self {
            Check::Pss(_) => "pod spec",
            Check::Inventory(_) => "whole input",
            Check::Pod(_) => "pod spec",
            Check::Object(_) | Check::Versioned(_) => "object",
            Check::File(_) => "node file",
            Check::Suppression => "suppressions",
            Check::Admission | Check::Custom(_) => "object",
            Check::AuditEvent(_) | Check::AuditStream(_) => "audit event",
        }
    }
}

/// A finding as an inventory rule reports it: the place, what, and what else is involved.
pub struct Hit {
    pub at: Source,
    pub message: String,
    pub related: Vec<Related>,
    /// What it is about, when not `at` (see [`palisade_model::Finding::about`]).
    pub about: Option<palisade_model::About>,
    /// Lower than the rule's when the case is milder (a deliberate choice).
    pub severity: Option<Severity>,
}

/// Collects what one rule reports.
#[derive(Default)]
pub struct Emitter {
    pub(crate) hits: Vec<Hit>,
    /// The rule's configured options.
    pub(crate) options: OptionValues,
}

impl Emitter {
    /// The rule's configured options (`options:` in the config file).
    pub fn options(&self) -> &OptionValues {
        &self.options
    }

    pub fn report(&mut self, at: &Source, message: String, related: Vec<Related>) {
        self.hits.push(Hit {
            at: at.clone(),
            message,
            related,
            about: None,
            severity: None,
        });
    }

    /// [`Self::report`], at `severity` when given instead of the rule's.
    pub fn report_with(
        &mut self,
        at: &Source,
        severity: Option<Severity>,
        message: String,
        related: Vec<Related>,
    ) {
        self.hits.push(Hit {
            at: at.clone(),
            message,
            related,
            about: None,
            severity,
        });
    }

    /// [`Self::report`] at another severity than the rule's: a milder case of the problem.
    pub fn report_at(&mut self, at: &Source, severity: Severity, message: String) {
        self.hits.push(Hit {
            at: at.clone(),
            message,
            related: Vec::new(),
            about: None,
            severity: Some(severity),
        });
    }

    /// [`Self::report`], for a finding about `aspect` of the field `about` points at: findings
    /// of overlapping rules about the same thing are reported as one.
    pub fn report_about(
        &mut self,
        at: &Source,
        about: &Source,
        aspect: &'static str,
        message: String,
    ) {
        self.hits.push(Hit {
            at: at.clone(),
            message,
            related: Vec::new(),
            about: Some(palisade_model::About {
                object: std::sync::Arc::clone(&about.object),
                file: about
                    .location
                    .as_ref()
                    .map(|l| std::sync::Arc::clone(&l.file)),
                path: about.path.clone(),
                aspect,
            }),
            severity: None,
        });
    }
}

/// Everything about a rule except its logic.
pub struct RuleMeta {
    /// Code, name, category and controls: what each finding of the rule refers to.
    pub info: RuleRef,
    pub severity: Severity,
    /// The rule's doc comment, verbatim (one leading space per line, as rustdoc stores it).
    pub raw_docs: &'static str,
    /// What the rule can be configured with (`rules: {CODE: {option: value}}` in the config).
    pub options: &'static [RuleOption],
    /// Its findings point at values that may be credentials: reports never quote the line.
    pub sensitive: bool,
    /// Rules whose findings this rule's restate when both are about the same field of the same
    /// object (one a prefix of the other): one root cause, one finding. The more severe of the
    /// two is kept, this rule's on a tie, and the other is listed with it.
    pub subsumes: &'static [&'static str],
    /// What a finding at a path is about, when that is another field (a hostPath mount is about
    /// its volume).
    pub about: Option<AboutFn>,
    /// How a finding is repaired (`palisade fix`), when the rule knows.
    pub fix: Option<crate::fix::FixFn>,
    /// The rule as CEL validations over a pod spec, for `palisade policy export`: (expression,
    /// message) each, every expression must hold. They read `variables.spec` (the pod spec of a
    /// Pod or of a workload's template) and `variables.containers` (every container, init and
    /// ephemeral ones included). Empty when the rule has no CEL form.
    pub cel: &'static [(&'static str, &'static str)],
    /// The kinds of object an object rule judges (any group), `"*"` for every kind; what the
    /// engine runs it on and what the admission webhook judges. For a whole-input rule, the
    /// kinds whose objects bring its findings about on their own, which admission judges over
    /// an input of that object alone. Empty for the other checks, whose targets follow from
    /// the check (pod specs, node files, events).
    pub kinds: &'static [&'static str],
}

/// What a finding at a path is about (see [`RuleMeta::about`]).
pub type AboutFn = fn(&Object, &FieldPath) -> Option<FieldPath>;

impl RuleMeta {
    /// A finding of this rule, before suppressions, fingerprints and code frames; it is
    /// sensitive (never quoted) when the rule is.
    pub fn finding(
        &'static self,
        message: String,
        object: std::sync::Arc<palisade_model::ObjectRef>,
        path: FieldPath,
        location: Option<palisade_model::Location>,
    ) -> palisade_model::Finding {
        palisade_model::Finding {
            rule: &self.info,
            severity: self.severity,
            sensitive: self.sensitive,
            message: palisade_model::shared_message(&message),
            object,
            path: path.shared(),
            location,
            fingerprint: None,
            snippet: None,
            extra: None,
        }
    }
}

/// One setting a rule takes.
#[derive(Debug)]
pub struct RuleOption {
    pub name: &'static str,
    pub kind: OptionKind,
    pub doc: &'static str,
}

/// The type of an option's value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OptionKind {
    StringList,
    /// A whole number, at least 0.
    Integer,
    /// A severity: info, low, medium, high or critical.
    Severity,
}

impl OptionKind {
    pub fn describe(self) -> &'static str {
        match self {
            OptionKind::StringList => "list of strings",
            OptionKind::Integer => "whole number (0 or more)",
            OptionKind::Severity => "severity (info, low, medium, high or critical)",
        }
    }
}

/// An option's configured value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OptionValue {
    StringList(Vec<String>),
    Integer(u64),
    Severity(Severity),
}

/// One rule's configured options, by name; options not configured are absent.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OptionValues(pub HashMap<&'static str, OptionValue>);

impl OptionValues {
    /// A list option's value, empty when not configured.
    pub fn strings(&self, name: &str) -> &[String] {
        match self.0.get(name) {
            Some(OptionValue::StringList(values)) => values,
            _ => &[],
        }
    }

    /// A number option's value, or `default` when not configured.
    pub fn integer(&self, name: &str, default: u64) -> u64 {
        match self.0.get(name) {
            Some(OptionValue::Integer(value)) => *value,
            _ => default,
        }
    }

    /// A severity option's value, or `default` when not configured.
    pub fn severity(&self, name: &str, default: Severity) -> Severity {
        match self.0.get(name) {
            Some(OptionValue::Severity(value)) => *value,
            _ => default,
        }
    }
}

impl RuleMeta {
    /// The documentation as Markdown.
    pub fn docs(&self) -> String {
        let mut out = String::new();
        for line in self.raw_docs.lines() {
            out.push_str(line.strip_prefix(' ').unwrap_or(line));
            out.push('\n');
        }
        out.trim().to_string()
    }

    /// The first sentence of the docs' first paragraph under `## What it does`.
    pub fn summary(&self) -> String {
        let docs = self.docs();
        let body = docs
            .split_once("## What it does")
            .map_or(docs.as_str(), |(_, rest)| rest);
        body.lines()
            .map(str::trim)
            .skip_while(|l| l.is_empty())
            .take_while(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// A rule: metadata plus logic.
pub struct Rule {
    pub meta: RuleMeta,
    pub check: Check,
}

impl Rule {
    /// Whether this rule judges objects of `kind` on their own (see [`RuleMeta::kinds`]).
    pub fn judges_kind(&self, kind: &str) -> bool {
        self.meta.kinds.iter().any(|k| *k == "*" || *k == kind)
    }
}

impl std::fmt::Debug for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rule")
            .field("code", &self.meta.info.code)
            .finish_non_exhaustive()
    }
}

/// Declares a rule; its doc comment becomes its documentation.
macro_rules! rule {
    (
        $(#[doc = $doc:literal])*
        pub static $id:ident = {
            code: $code:literal,
            name: $name:literal,
            severity: $severity:ident,
            category: $category:literal,
            controls: [$($control:literal),* $(,)?],
            $(options: [$($option:expr),* $(,)?],)?
            $(sensitive: $sensitive:literal,)?
            $(subsumes: [$($subsumed:literal),* $(,)?],)?
            $(about: $about:expr,)?
            $(fix: $fix:expr,)?
            $(cel: [$($cel:expr),* $(,)?],)?
            $(kinds: [$($kind:literal),* $(,)?],)?
            check: $check:expr $(,)?
        };
    ) => {
        $(#[doc = $doc])*
        pub static $id: $crate::Rule = $crate::Rule {
            meta: $crate::RuleMeta {
                info: palisade_model::RuleRef {
                    code: $code,
                    name: $name,
                    category: $category,
                    controls: &[$($control),*],
                },
                severity: palisade_model::Severity::$severity,
                raw_docs: concat!($($doc, "\n"),*),
                options: &[$($($option),*)?],
                sensitive: false $(|| $sensitive)?,
                subsumes: &[$($($subsumed),*)?],
                about: $crate::meta::optional_about!($($about)?),
                fix: $crate::meta::optional_about!($($fix)?),
                cel: &[$($($cel),*)?],
                kinds: &[$($($kind),*)?],
            },
            check: $check,
        };
    };
}
pub(crate) use rule;

/// `None`, or `Some` of the rule's `about` function.
macro_rules! optional_about {
    () => {
        None
    };
    ($about:expr) => {
        Some($about)
    };
}
pub(crate) use optional_about;

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use palisade_model::{FieldPath, ObjectRef};

    fn object(name: &str) -> Arc<ObjectRef> {
        Arc::new(ObjectRef {
            api_version: "apps/v1".into(),
            kind: "Deployment".into(),
            namespace: Some("shop".into()),
            name: name.into(),
        })
    }

    /// Findings of many objects at one field, saying one thing, hold one copy of the path and
    /// of the message: what keeps a large scan's findings small.
    #[test]
    fn findings_share_equal_paths_and_messages() {
        let meta = &crate::registry::find("PAL-RES-001").expect("a rule").meta;
        let at = |name: &str, container: usize| {
            let path = FieldPath::root()
                .keys(&["spec", "template", "spec", "containers"])
                .index(container)
                .keys(&["resources", "limits", "memory"]);
            meta.finding(
                format!("container `app{container}` has no memory limit"),
                object(name),
                path,
                None,
            )
        };
        let (web, api, other) = (at("web", 0), at("api", 0), at("api", 1));
        assert_eq!(web.path, api.path);
        assert!(std::ptr::eq(web.path.as_str(), api.path.as_str()));
        assert!(Arc::ptr_eq(&web.message, &api.message));
        assert_eq!(
            other.path.as_str(),
            "/spec/template/spec/containers/1/resources/limits/memory"
        );
        assert!(!Arc::ptr_eq(&web.message, &other.message));
        assert_eq!(&*other.message, "container `app1` has no memory limit");
    }
}
