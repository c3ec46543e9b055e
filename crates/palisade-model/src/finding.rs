use std::fmt;
use std::num::NonZeroU32;
use std::str::FromStr;
use std::sync::Arc;

use serde::Serialize;

use crate::object::ObjectRef;
use crate::path::FieldPath;

/// How bad a finding is; ordered from least to most severe.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 5] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Info,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Severity::ALL
            .into_iter()
            .find(|sev| sev.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                format!("unknown severity `{s}` (expected critical, high, medium, low or info)")
            })
    }
}

/// Where a finding or an error points in a source file (1-based line and column).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Location {
    /// Shared by every finding of the file.
    pub file: Arc<str>,
    pub document: u32,
    pub line: u32,
    pub column: u32,
}

/// What every finding of one rule shares: its code, name, category and framework controls,
/// held once per rule (a large input has hundreds of thousands of findings and a hundred
/// rules).
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct RuleRef {
    /// Stable, never reused: `PAL-<FAMILY>-<NNN>`.
    pub code: &'static str,
    pub name: &'static str,
    pub category: &'static str,
    /// Framework tags: `PSS:<level>:<check>`, `CIS-<id>`, `NSA:<section>`, `MITRE:<id>`.
    pub controls: &'static [&'static str],
}

/// One problem found in one object. Serialized (JSON, the PolicyReport's source) as `rule`,
/// `name`, `severity`, `category`, `message`, `object`, `path`, `location`, `controls`,
/// `related`, `suppressed`, `fingerprint`, `also`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    pub rule: &'static RuleRef,
    pub severity: Severity,
    /// The finding points at a value that may be a credential: never quote its line.
    pub sensitive: bool,
    pub message: Arc<str>,
    /// Shared by every finding of the object.
    pub object: Arc<ObjectRef>,
    pub path: FieldPath,
    pub location: Option<Location>,
    /// Stable identity across runs: survives line shifts and reordering (see [`fingerprint`]);
    /// set by the scan pipeline once every finding is known.
    pub fingerprint: Option<Fingerprint>,
    /// The source line the location points at, for code frames. Never set for objects that
    /// may carry secret values.
    pub snippet: Option<Box<str>>,
    /// What few findings carry (related objects, a suppression, what they are about, the
    /// findings they restate, an admission verdict), boxed so that the many without it stay
    /// small: a large cluster's scan holds half a million findings. Read through
    /// [`Finding::related`], [`Finding::suppressed`], [`Finding::about`], [`Finding::also`] and
    /// [`Finding::admission`]; written through [`Finding::extra_mut`].
    pub extra: Option<Box<Extra>>,
}

/// The parts of a [`Finding`] that few findings have. Its own parts are boxed as well: a
/// finding that restates others, the one that has this most often, needs only the list.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Extra {
    /// Other objects involved (the role and binding behind an RBAC grant), when any.
    pub related: Box<[Related]>,
    /// Null unless a suppression applies; suppressed findings stay in reports.
    pub suppressed: Option<Box<Suppression>>,
    /// What the finding is about when that is not its own path: a hostPath mount's finding
    /// is about the volume it mounts; a workload's missing isolation is about its namespace's
    /// missing default deny. Findings of overlapping rules about the same thing are one
    /// finding (see `also`).
    pub about: Option<Box<About>>,
    /// Findings of other rules with the same root cause (the same field of the same object),
    /// reported with this one rather than on their own: this one is the most severe of them.
    pub also: Box<[Restated]>,
    /// What an admission policy decided, for the findings of `PAL-VAP-001`.
    pub admission: Option<Box<AdmissionVerdict>>,
}

/// An admission policy's verdict on an object: the policy and the binding that put it in
/// force, the binding's action, the failed validation (none when the policy failed as a whole:
/// an evaluation error under `failurePolicy: Fail`, missing parameters) and whether the object
/// itself or the pods of its template (`pod-template`) are refused.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AdmissionVerdict {
    pub policy: String,
    pub binding: String,
    pub action: &'static str,
    pub validation: Option<usize>,
    pub target: &'static str,
    /// What the policy's `auditAnnotations` record (`POLICY/KEY` to value).
    #[serde(
        rename = "auditAnnotations",
        skip_serializing_if = "std::collections::BTreeMap::is_empty"
    )]
    pub audit_annotations: std::collections::BTreeMap<String, String>,
}

impl Serialize for Finding {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut out = serializer.serialize_struct("Finding", 14)?;
        out.serialize_field("rule", self.rule.code)?;
        out.serialize_field("name", self.rule.name)?;
        out.serialize_field("severity", &self.severity)?;
        out.serialize_field("category", self.rule.category)?;
        out.serialize_field("message", &self.message)?;
        out.serialize_field("object", &self.object)?;
        out.serialize_field("path", &self.path)?;
        match &self.location {
            Some(location) => out.serialize_field("location", location)?,
            None => out.skip_field("location")?,
        }
        out.serialize_field("controls", self.rule.controls)?;
        if self.related().is_empty() {
            out.skip_field("related")?;
        } else {
            out.serialize_field("related", self.related())?;
        }
        out.serialize_field("suppressed", &self.suppressed())?;
        match &self.fingerprint {
            Some(fingerprint) => out.serialize_field("fingerprint", fingerprint)?,
            None => out.skip_field("fingerprint")?,
        }
        if self.also().is_empty() {
            out.skip_field("also")?;
        } else {
            out.serialize_field("also", self.also())?;
        }
        match self.admission() {
            Some(admission) => out.serialize_field("admission", admission)?,
            None => out.skip_field("admission")?,
        }
        out.end()
    }
}

/// A finding's stable identity (see [`fingerprint`]): the hash of what identifies it, and which
/// of the findings sharing that hash it is, in report order. Written `<16 hex digits>`, or
/// `<16 hex digits>:<n>` from the second on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Fingerprint {
    pub hash: u64,
    /// 1 for the first finding with this hash.
    pub occurrence: NonZeroU32,
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.hash)?;
        if self.occurrence.get() > 1 {
            write!(f, ":{}", self.occurrence)?;
        }
        Ok(())
    }
}

impl Serialize for Fingerprint {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// What a finding is about: a field (of its object, or of another), and which aspect of it
/// when several rules judge one field for different reasons (ingress, egress).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct About {
    pub object: Arc<ObjectRef>,
    pub file: Option<Arc<str>>,
    pub path: FieldPath,
    pub aspect: &'static str,
}

impl Finding {
    /// Other objects involved (the role and binding behind an RBAC grant), when any.
    pub fn related(&self) -> &[Related] {
        self.extra.as_deref().map_or(&[], |e| &e.related)
    }

    /// The suppression that applies, if one does.
    pub fn suppressed(&self) -> Option<&Suppression> {
        self.extra.as_deref()?.suppressed.as_deref()
    }

    /// What the finding is about when that is not its own path (see [`Extra::about`]).
    pub fn about(&self) -> Option<&About> {
        self.extra.as_deref()?.about.as_deref()
    }

    /// The findings of other rules this one restates (see [`Extra::also`]).
    pub fn also(&self) -> &[Restated] {
        self.extra.as_deref().map_or(&[], |e| &e.also)
    }

    /// What an admission policy decided, for the findings of `PAL-VAP-001`.
    pub fn admission(&self) -> Option<&AdmissionVerdict> {
        self.extra.as_deref()?.admission.as_deref()
    }

    /// The rarer parts, made when first written.
    pub fn extra_mut(&mut self) -> &mut Extra {
        self.extra.get_or_insert_default()
    }

    /// What the finding is about: [`Finding::about`], else its own object and path.
    pub fn subject(&self) -> (&Arc<ObjectRef>, Option<&Arc<str>>, &FieldPath, &'static str) {
        match self.about() {
            Some(about) => (
                &about.object,
                about.file.as_ref(),
                &about.path,
                about.aspect,
            ),
            None => (
                &self.object,
                self.location.as_ref().map(|l| &l.file),
                &self.path,
                "",
            ),
        }
    }
}

/// A finding listed with another that has the same root cause.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Restated {
    pub rule: &'static str,
    /// The object it is about (another one than the finding's when the root cause is shared:
    /// the workloads of a namespace without a default deny).
    pub object: Arc<ObjectRef>,
    pub name: &'static str,
    pub severity: Severity,
    pub message: Arc<str>,
    pub path: FieldPath,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
}

/// Another object (or part of one) that a finding involves.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Related {
    pub object: Arc<ObjectRef>,
    pub path: FieldPath,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    pub message: String,
}

/// Why a finding is suppressed: by an `annotation`, a `comment` or the `config`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Suppression {
    pub kind: &'static str,
    pub reason: String,
    /// The last day (`YYYY-MM-DD`) the suppression applies, when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
    /// Where the suppression is written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
}

/// The identity of a finding that survives edits elsewhere in its file: rule, file, object kind,
/// namespace and name, and field path; not the line, the message or the apiVersion (so moving
/// a Deployment from `extensions/v1beta1` to `apps/v1` keeps its findings). Findings that share
/// all of these get `:2`, `:3`, ... in report order ([`Fingerprint`]). FNV-1a, so the value never changes between
/// builds or platforms.
pub fn fingerprint(finding: &Finding) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut feed = |part: &str| {
        for byte in part.bytes().chain(std::iter::once(0)) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    };
    feed(finding.rule.code);
    feed(finding.location.as_ref().map_or("", |l| &l.file));
    feed(&finding.object.kind);
    feed(finding.object.namespace.as_deref().unwrap_or(""));
    feed(&finding.object.name);
    feed(finding.path.as_str());
    hash
}

/// An input that could not be loaded (or a part of it): the place and what went wrong.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LoadError {
    pub file: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<u32>,
    pub message: String,
}

/// `text` with its control characters escaped (`\n`, `\u{1b}`): for showing text that came
/// from the input (names, values, file names) on a terminal or in a log line.
pub fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Writes `text` with control characters escaped: file names and messages come from the input.
fn write_escaped(f: &mut fmt::Formatter<'_>, text: &str) -> fmt::Result {
    if !text.chars().any(char::is_control) {
        return f.write_str(text);
    }
    for c in text.chars() {
        if c.is_control() {
            write!(f, "{}", c.escape_default())?;
        } else {
            write!(f, "{c}")?;
        }
    }
    Ok(())
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_escaped(f, &self.file)?;
        match (self.line, self.column) {
            (Some(line), Some(column)) => write!(f, ":{line}:{column}")?,
            (Some(line), None) => write!(f, ":{line}")?,
            _ => {}
        }
        if let Some(doc) = self.document {
            write!(f, " (document {doc})")?;
        }
        f.write_str(": ")?;
        write_escaped(f, &self.message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A large scan holds half a million findings before folding: what few of them carry
    /// stays out of line, and what one finding carries stays a small box.
    #[test]
    fn findings_stay_small() {
        assert!(std::mem::size_of::<Finding>() <= 128);
        assert!(std::mem::size_of::<Extra>() <= 56);
    }

    #[test]
    fn rare_parts_read_as_absent_until_written() {
        let mut finding = Finding {
            rule: &RuleRef {
                code: "PAL-TEST-001",
                name: "test",
                category: "test",
                controls: &[],
            },
            severity: Severity::Low,
            sensitive: false,
            message: "m".into(),
            object: Arc::new(ObjectRef {
                api_version: "v1".into(),
                kind: "Pod".into(),
                namespace: None,
                name: "p".into(),
            }),
            path: FieldPath::root(),
            location: None,
            fingerprint: None,
            snippet: None,
            extra: None,
        };
        assert!(finding.related().is_empty() && finding.also().is_empty());
        assert!(finding.suppressed().is_none() && finding.about().is_none());
        assert!(finding.admission().is_none());
        finding.extra_mut().suppressed = Some(Box::new(Suppression {
            kind: "config",
            reason: "accepted".into(),
            expires: None,
            location: None,
        }));
        assert_eq!(finding.suppressed().map(|s| s.kind), Some("config"));
        let json = serde_json::to_value(&finding).expect("serializes");
        assert_eq!(json["suppressed"]["kind"], "config");
        assert!(json.get("also").is_none() && json.get("related").is_none());
    }

    #[test]
    fn load_errors_show_no_control_characters() {
        let error = LoadError {
            file: "evil\u{1b}[2J.yaml".into(),
            document: Some(1),
            line: Some(3),
            column: None,
            message: "bad\nvalue".into(),
        };
        assert_eq!(
            error.to_string(),
            "evil\\u{1b}[2J.yaml:3 (document 1): bad\\nvalue"
        );
    }

    /// A large input's findings are most of a scan's memory: the rule's shared data sits
    /// behind one reference and the rare parts behind boxes (each rare part costs a pointer:
    /// the admission verdict took the bound from 168 to 176).
    #[test]
    fn findings_stay_compact() {
        assert!(
            std::mem::size_of::<Finding>() <= 176,
            "{}",
            std::mem::size_of::<Finding>()
        );
    }

    #[test]
    fn fingerprints_number_repeats_after_the_first() {
        let first = Fingerprint {
            hash: 0x1f6e_2b0c_8d4a_9e31,
            occurrence: NonZeroU32::MIN,
        };
        assert_eq!(first.to_string(), "1f6e2b0c8d4a9e31");
        let third = Fingerprint {
            occurrence: NonZeroU32::MIN.saturating_add(2),
            ..first
        };
        assert_eq!(third.to_string(), "1f6e2b0c8d4a9e31:3");
        assert_eq!(
            serde_json::to_string(&third).ok().as_deref(),
            Some("\"1f6e2b0c8d4a9e31:3\"")
        );
    }

    #[test]
    fn severities_parse_case_insensitively_and_order_by_badness() {
        assert_eq!("HIGH".parse::<Severity>(), Ok(Severity::High));
        assert!("severe".parse::<Severity>().is_err());
        assert!(Severity::Critical > Severity::High && Severity::Low > Severity::Info);
    }

    #[test]
    fn load_errors_print_the_place_first() {
        let err = LoadError {
            file: "deploy/bad.yaml".into(),
            document: Some(2),
            line: Some(7),
            column: Some(1),
            message: "did not find expected key".into(),
        };
        assert_eq!(
            err.to_string(),
            "deploy/bad.yaml:7:1 (document 2): did not find expected key"
        );
    }
}
