//! Suppressions: findings someone decided to accept, each with a reason.
//!
//! Three places can suppress a finding:
//! - annotations on the object or on its pod template: `palisade.dev/ignore: "CODE,name"` for
//!   the whole object, `palisade.dev/ignore.<container>` for one container, with
//!   `palisade.dev/ignore-reason[.<container>]` and optional
//!   `palisade.dev/ignore-expires[.<container>]`;
//! - a comment `# palisade:ignore CODE[,CODE] [expires=YYYY-MM-DD] reason` at the end of the
//!   offending line, or on its own line just above it; on the object's first line (or just
//!   above it) it covers the whole object;
//! - config exceptions, by rule and resource (kind, namespace, name glob, labels).
//!
//! `--strict` honours only config exceptions. A suppressed finding stays in the report, marked.
//! The pass then reports suppressions that are invalid (no reason, unknown rule, bad date),
//! expired (they stop suppressing the day after their date) or unused.
//!
//! In a Secret, only comments on (or above) its first line count: anything inside it may be
//! part of a secret value.
//!
//! Collection happens per file while its objects are in memory ([`FileSuppressions`]); only
//! objects that carry or match a suppression are remembered, so memory stays flat.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use palisade_model::{FieldPath, Finding, Location, Object, ObjectRef, PodView, Suppression};

use crate::rules::suppression::{expired, invalid, unused};
use crate::selection::matches;
use crate::Rule;

pub use palisade_model::Date;

/// The annotation that suppresses rules on the whole object (or on one container, suffixed
/// with `.<container name>`).
pub const IGNORE_ANNOTATION: &str = "palisade.dev/ignore";
pub const REASON_ANNOTATION: &str = "palisade.dev/ignore-reason";
pub const EXPIRES_ANNOTATION: &str = "palisade.dev/ignore-expires";
/// What starts a suppression comment.
pub const COMMENT_MARKER: &str = "palisade:ignore";

/// A config exception: rules, the resources it covers, and why.
#[derive(Clone, Debug, Default)]
pub struct Exception {
    /// Rule codes, names, prefixes, categories or tags, as `--select` takes them.
    pub rules: Vec<String>,
    /// Kind, case-insensitive.
    pub kind: Option<String>,
    /// Namespace glob (`*`, `?`).
    pub namespace: Option<String>,
    /// Name glob.
    pub name: Option<String>,
    /// Labels the object must carry, all of them.
    pub labels: BTreeMap<String, String>,
    pub reason: String,
    pub expires: Option<String>,
    /// Where the exception is written, for reports about it.
    pub location: Option<Location>,
    pub path: FieldPath,
}

impl Exception {
    fn covers(&self, object: &Object) -> bool {
        let reference = &object.reference;
        self.kind
            .as_ref()
            .is_none_or(|k| k.eq_ignore_ascii_case(&reference.kind))
            && self.namespace.as_ref().is_none_or(|pattern| {
                glob_matches(pattern, reference.namespace.as_deref().unwrap_or(""))
            })
            && self
                .name
                .as_ref()
                .is_none_or(|pattern| glob_matches(pattern, &reference.name))
            && self
                .labels
                .iter()
                .all(|(key, value)| object.label(key) == Some(value.as_str()))
    }
}

/// `*` matches any run of characters, `?` one character; everything else itself.
pub fn glob_matches(pattern: &str, text: &str) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    let text: Vec<char> = text.chars().collect();
    // Iterative matcher with one backtrack point: linear in practice, never exponential.
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some('*') => {
                star = Some((p, t));
                p += 1;
            }
            Some(&c) if c == '?' || c == text[t] => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((star_p, star_t)) => {
                    p = star_p + 1;
                    t = star_t + 1;
                    star = Some((star_p, star_t + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&c| c == '*')
}

/// How suppressions are honoured in a scan.
#[derive(Clone, Debug)]
pub struct SuppressionSettings {
    /// Only config exceptions count; annotations and comments are ignored.
    pub strict: bool,
    pub exceptions: Vec<Exception>,
    /// The config file's identity in reports about its exceptions.
    pub config_object: Arc<ObjectRef>,
    pub today: Date,
}

impl Default for SuppressionSettings {
    fn default() -> Self {
        SuppressionSettings {
            strict: false,
            exceptions: Vec::new(),
            config_object: Arc::new(ObjectRef {
                api_version: "palisade.dev/v1".into(),
                kind: "PalisadeConfig".into(),
                namespace: None,
                name: ".palisade.yaml".into(),
            }),
            today: Date::today(),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Origin {
    Annotation,
    Comment,
    Config,
}

impl Origin {
    fn kind(self) -> &'static str {
        match self {
            Origin::Annotation => "annotation",
            Origin::Comment => "comment",
            Origin::Config => "config",
        }
    }
}

/// One suppression as written.
#[derive(Clone, Debug)]
struct Directive {
    origin: Origin,
    rules: Vec<String>,
    reason: Option<String>,
    expires: Option<String>,
    /// The object it is written on (or the config file).
    object: Arc<ObjectRef>,
    path: FieldPath,
    location: Option<Location>,
}

impl Directive {
    fn from_exception(exception: &Exception, config_object: &Arc<ObjectRef>) -> Self {
        Directive {
            origin: Origin::Config,
            rules: exception.rules.clone(),
            reason: Some(exception.reason.clone()).filter(|r| !r.trim().is_empty()),
            expires: exception.expires.clone(),
            object: Arc::clone(config_object),
            path: exception.path.clone(),
            location: exception.location.clone(),
        }
    }

    /// Why the directive cannot be honoured, if it cannot.
    fn problem(&self) -> Option<String> {
        let what = self.describe();
        if self.rules.is_empty() {
            return Some(format!("{what} names no rule"));
        }
        if let Some(unknown) = self.rules.iter().find(|token| {
            !crate::registry::known()
                .iter()
                .any(|r| matches(&r.meta, token))
        }) {
            return Some(format!(
                "{what} names `{unknown}`, which matches no rule (`palisade rules` lists them)"
            ));
        }
        if self.reason.is_none() {
            return Some(format!(
                "{what} has no reason; it suppresses nothing until it has one"
            ));
        }
        if let Some(expires) = &self.expires {
            if Date::parse(expires).is_none() {
                return Some(format!(
                    "{what} has expiry `{expires}`, which is not a YYYY-MM-DD date"
                ));
            }
        }
        None
    }

    fn expired(&self, today: Date) -> bool {
        self.expires
            .as_deref()
            .and_then(Date::parse)
            .is_some_and(|date| date < today)
    }

    fn names(&self, rule: &Rule) -> bool {
        self.rules.iter().any(|token| matches(&rule.meta, token))
    }

    fn describe(&self) -> String {
        let rules = self.rules.join(",");
        match self.origin {
            Origin::Annotation => format!("suppression annotation for `{rules}`"),
            Origin::Comment => format!("suppression comment for `{rules}`"),
            Origin::Config => format!("config exception for `{rules}`"),
        }
    }
}

/// What part of an object a directive covers.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Target {
    Object,
    /// Findings at or below this path (one container).
    Subtree(FieldPath),
    /// Findings that point at this line.
    Line(u32),
}

impl Target {
    fn covers(&self, finding: &Finding) -> bool {
        match self {
            Target::Object => true,
            Target::Subtree(prefix) => finding
                .path
                .as_str()
                .strip_prefix(prefix.as_str())
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/')),
            Target::Line(line) => finding.location.as_ref().is_some_and(|l| l.line == *line),
        }
    }
}

/// A directive written in a file, or a config exception by index.
#[derive(Clone, Debug)]
enum DirectiveRef {
    Local(usize),
    Config(usize),
}

type ObjectKey = (Arc<str>, Arc<ObjectRef>);

/// A `# palisade:ignore` comment found in a file's text.
#[derive(Clone, Debug)]
struct Comment {
    /// The line the comment covers (its own, or the next line with content).
    target: u32,
    directive: Directive,
}

/// The suppressions of one file, collected while its objects are loaded.
pub struct FileSuppressions {
    file: Arc<str>,
    local: Vec<Directive>,
    entries: Vec<(ObjectKey, DirectiveRef, Target)>,
    comments: Vec<Comment>,
    /// First line and identity of each object, when comments need to be assigned.
    objects: Vec<(u32, Arc<ObjectRef>, u32)>,
    strict: bool,
}

impl FileSuppressions {
    /// Starts collecting for `file` with contents `text` (the comments are found here).
    pub fn new(file: &Arc<str>, text: &str, settings: &SuppressionSettings) -> Self {
        let comments = if settings.strict {
            Vec::new()
        } else {
            find_comments(file, text)
        };
        FileSuppressions {
            file: Arc::clone(file),
            local: Vec::new(),
            entries: Vec::new(),
            comments,
            objects: Vec::new(),
            strict: settings.strict,
        }
    }

    /// Records what covers `object`: its annotations and the config exceptions that match it.
    pub fn add_object(&mut self, object: &Object, settings: &SuppressionSettings) {
        let key: ObjectKey = (Arc::clone(&self.file), Arc::clone(&object.reference));
        for (index, exception) in settings.exceptions.iter().enumerate() {
            if exception.covers(object) {
                self.entries
                    .push((key.clone(), DirectiveRef::Config(index), Target::Object));
            }
        }
        if self.strict {
            return;
        }
        if !self.comments.is_empty() {
            let document = object.origin.as_ref().map_or(0, |o| o.document);
            self.objects.push((
                object.root.pos.line,
                Arc::clone(&object.reference),
                document,
            ));
        }
        let pod = PodView::of(object);
        let mut sources = vec![(object.metadata(), FieldPath::root().key("metadata"))];
        if let Some(pod) = pod.as_ref().filter(|p| p.metadata_path != sources[0].1) {
            sources.push((pod.metadata, pod.metadata_path.clone()));
        }
        for (metadata, metadata_path) in sources {
            let Some(annotations) = metadata.and_then(|m| m.get("annotations")) else {
                continue;
            };
            let annotations_path = metadata_path.key("annotations");
            for entry in annotations.as_map() {
                let Some(scope) = entry.key.strip_prefix(IGNORE_ANNOTATION) else {
                    continue;
                };
                let container = match scope.strip_prefix('.') {
                    Some(name) if !name.is_empty() => Some(name),
                    _ if scope.is_empty() => None,
                    // `palisade.dev/ignore-reason` and friends.
                    _ => continue,
                };
                let suffixed = |base: &str| match container {
                    Some(name) => annotations
                        .str_of(&format!("{base}.{name}"))
                        .or_else(|| annotations.str_of(base)),
                    None => annotations.str_of(base),
                };
                let directive = Directive {
                    origin: Origin::Annotation,
                    rules: split_rules(entry.value.as_str().unwrap_or("")),
                    reason: suffixed(REASON_ANNOTATION)
                        .map(str::trim)
                        .filter(|r| !r.is_empty())
                        .map(str::to_string),
                    expires: suffixed(EXPIRES_ANNOTATION).map(|e| e.trim().to_string()),
                    object: Arc::clone(&object.reference),
                    path: annotations_path.key(&entry.key),
                    location: object.origin.as_ref().map(|origin| Location {
                        file: Arc::clone(&origin.file),
                        document: origin.document,
                        line: entry.key_pos.line,
                        column: entry.key_pos.column,
                    }),
                };
                let id = self.local.len();
                self.local.push(directive);
                match container {
                    None => {
                        self.entries
                            .push((key.clone(), DirectiveRef::Local(id), Target::Object))
                    }
                    Some(name) => {
                        for c in pod.iter().flat_map(|p| p.containers()) {
                            if c.name() == name {
                                let target = Target::Subtree(c.path.clone());
                                self.entries
                                    .push((key.clone(), DirectiveRef::Local(id), target));
                            }
                        }
                    }
                }
            }
        }
    }

    /// Whether nothing in the file suppresses anything.
    pub fn is_empty(&self) -> bool {
        self.local.is_empty() && self.entries.is_empty()
    }

    /// Assigns the file's comments to the objects they sit in (the last object starting at
    /// or above the line they cover).
    pub fn finish(mut self) -> Self {
        let comments = std::mem::take(&mut self.comments);
        for mut comment in comments {
            let owner = self
                .objects
                .iter()
                .rev()
                .find(|(first, _, _)| *first <= comment.target)
                .or_else(|| self.objects.first());
            let Some((first_line, object, document)) = owner else {
                continue;
            };
            let target = if *first_line == comment.target {
                Target::Object
            } else if object.kind == "Secret" {
                // Inside a Secret, a "comment" may be part of a block scalar holding a secret
                // value; taking it (and printing its "reason") could leak that value.
                continue;
            } else {
                Target::Line(comment.target)
            };
            comment.directive.object = Arc::clone(object);
            if let Some(location) = comment.directive.location.as_mut() {
                location.document = *document;
            }
            let key = (Arc::clone(&self.file), Arc::clone(object));
            let id = self.local.len();
            self.local.push(comment.directive);
            self.entries.push((key, DirectiveRef::Local(id), target));
        }
        self.objects = Vec::new();
        self
    }
}

fn split_rules(text: &str) -> Vec<String> {
    text.split([',', ' '])
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .collect()
}

/// Finds `# palisade:ignore ...` comments. A `#` starts a comment at the start of a line or
/// after whitespace, as in YAML; a marker inside a quoted or block scalar that happens to look
/// like a comment is taken as one (harmless: it is then reported as unused).
fn find_comments(file: &Arc<str>, text: &str) -> Vec<Comment> {
    if !text.contains(COMMENT_MARKER) {
        return Vec::new();
    }
    let lines: Vec<&str> = text.lines().collect();
    let mut comments = Vec::new();
    for (index, line) in lines.iter().enumerate() {
        let Some(marker) = line.find(COMMENT_MARKER) else {
            continue;
        };
        let Some(hash) = line[..marker].rfind('#') else {
            continue;
        };
        let before = &line[..hash];
        if !line[hash + 1..marker].trim().is_empty()
            || !(before.is_empty() || before.ends_with([' ', '\t']))
        {
            continue;
        }
        let own_line = before.trim().is_empty();
        let line_number = u32::try_from(index + 1).unwrap_or(u32::MAX);
        let target = if own_line {
            let next = lines
                .iter()
                .enumerate()
                .skip(index + 1)
                .find(|(_, l)| {
                    let t = l.trim();
                    !(t.is_empty() || t.starts_with('#') || t == "---" || t == "...")
                })
                .map(|(i, _)| u32::try_from(i + 1).unwrap_or(u32::MAX));
            let Some(next) = next else { continue };
            next
        } else {
            line_number
        };
        let mut words = line[marker + COMMENT_MARKER.len()..].split_whitespace();
        let rules = words.next().map(split_rules).unwrap_or_default();
        let mut rest: Vec<&str> = words.collect();
        let expires = match rest.first().and_then(|w| w.strip_prefix("expires=")) {
            Some(date) => {
                let date = date.to_string();
                rest.remove(0);
                Some(date)
            }
            None => None,
        };
        let reason = rest.join(" ");
        comments.push(Comment {
            target,
            directive: Directive {
                origin: Origin::Comment,
                rules,
                reason: Some(reason).filter(|r| !r.is_empty()),
                expires,
                object: Arc::new(ObjectRef::default()),
                path: FieldPath::root(),
                location: Some(Location {
                    file: Arc::clone(file),
                    document: 1,
                    line: line_number,
                    column: u32::try_from(line[..hash].chars().count() + 1).unwrap_or(1),
                }),
            },
        });
    }
    comments
}

/// The file name under which objects without a file (read from a cluster) collect their
/// suppressions: `FileSuppressions::new(&NO_FILE.into(), "", ..)`.
pub const NO_FILE: &str = "";

/// Every suppression of a scan, ready to apply.
pub struct Suppressions {
    no_file: Arc<str>,
    directives: Vec<Directive>,
    by_object: HashMap<ObjectKey, Vec<(usize, Target)>>,
    today: Date,
}

impl Suppressions {
    /// Starts with the config exceptions.
    pub fn new(settings: &SuppressionSettings) -> Self {
        Suppressions {
            no_file: Arc::from(NO_FILE),
            directives: settings
                .exceptions
                .iter()
                .map(|e| Directive::from_exception(e, &settings.config_object))
                .collect(),
            by_object: HashMap::new(),
            today: settings.today,
        }
    }

    /// Adds what one file contributed.
    pub fn merge(&mut self, file: FileSuppressions) {
        let offset = self.directives.len();
        self.directives.extend(file.local);
        for (key, directive, target) in file.entries {
            let id = match directive {
                DirectiveRef::Local(i) => offset + i,
                DirectiveRef::Config(i) => i,
            };
            self.by_object.entry(key).or_default().push((id, target));
        }
    }

    /// Marks suppressed findings and returns the findings about the suppressions themselves,
    /// for the rules in `active` (the selected rules: unused suppressions are only judged when
    /// a rule they name ran).
    pub fn apply(&self, findings: &mut [Finding], active: &[&'static Rule]) -> Vec<Finding> {
        let used = self.mark(findings);
        self.report(&used, active, 0..self.directives.len())
    }

    /// How many directives come from the config file's exceptions (the first ones).
    pub fn config_directives(&self) -> usize {
        self.directives
            .iter()
            .take_while(|d| matches!(d.origin, Origin::Config))
            .count()
    }

    /// Marks suppressed findings; returns which directives suppressed one.
    pub fn mark(&self, findings: &mut [Finding]) -> Vec<bool> {
        let usable: Vec<bool> = self
            .directives
            .iter()
            .map(|d| d.problem().is_none() && !d.expired(self.today))
            .collect();
        let mut used = vec![false; self.directives.len()];
        for finding in findings.iter_mut() {
            // Objects read from a cluster have no file: they share one key, [`NO_FILE`].
            let file = finding
                .location
                .as_ref()
                .map_or_else(|| Arc::clone(&self.no_file), |l| Arc::clone(&l.file));
            let key = (file, Arc::clone(&finding.object));
            let Some(entries) = self.by_object.get(&key) else {
                continue;
            };
            let Some(rule) = crate::registry::find(finding.rule.code) else {
                continue;
            };
            let applying = entries.iter().find(|(id, target)| {
                usable[*id] && self.directives[*id].names(rule) && target.covers(finding)
            });
            if let Some((id, _)) = applying {
                used[*id] = true;
                let directive = &self.directives[*id];
                finding.extra_mut().suppressed = Some(Box::new(Suppression {
                    kind: directive.origin.kind(),
                    reason: directive.reason.clone().unwrap_or_default(),
                    expires: directive.expires.clone(),
                    location: directive.location.clone(),
                }));
            }
        }
        used
    }

    /// The findings about the directives in `which` (invalid, expired, unused given `used`).
    pub fn report(
        &self,
        used: &[bool],
        active: &[&'static Rule],
        which: std::ops::Range<usize>,
    ) -> Vec<Finding> {
        let is_active = |rule: &Rule| {
            active
                .iter()
                .any(|a| a.meta.info.code == rule.meta.info.code)
        };
        let mut reports = Vec::new();
        for (id, directive) in self.directives.iter().enumerate() {
            if !which.contains(&id) {
                continue;
            }
            let report = if let Some(problem) = directive.problem() {
                Some((&invalid::RULE, problem))
            } else if directive.expired(self.today) {
                Some((
                    &expired::RULE,
                    format!(
                        "{} expired on {}; the findings it covered are reported again",
                        directive.describe(),
                        directive.expires.as_deref().unwrap_or("")
                    ),
                ))
            } else if !used.get(id).copied().unwrap_or(false)
                && active.iter().any(|rule| {
                    directive.names(rule) && !matches!(rule.check, crate::Check::Suppression)
                })
            {
                Some((
                    &unused::RULE,
                    format!("{} suppressed no finding; delete it", directive.describe()),
                ))
            } else {
                None
            };
            if let Some((rule, message)) = report.filter(|(rule, _)| is_active(rule)) {
                reports.push(meta_finding(rule, directive, message));
            }
        }
        reports
    }
}

fn meta_finding(rule: &'static Rule, directive: &Directive, message: String) -> Finding {
    Finding {
        sensitive: false,
        ..rule.meta.finding(
            message,
            Arc::clone(&directive.object),
            directive.path.clone(),
            directive.location.clone(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_like_shells() {
        assert!(glob_matches("cilium-*", "cilium-agent"));
        assert!(glob_matches("*", ""));
        assert!(glob_matches("kube-?roxy", "kube-proxy"));
        assert!(glob_matches(
            "*-operator-*",
            "prometheus-operator-admission"
        ));
        assert!(!glob_matches("cilium-*", "hubble-relay"));
        assert!(!glob_matches("kube-proxy", "kube-proxy-extra"));
        assert!(glob_matches(&"*a".repeat(30), &"a".repeat(40)));
    }

    #[test]
    fn comments_cover_their_line_or_the_next_one_with_content() {
        let text = "kind: Pod # palisade:ignore PAL-PSS-002 legacy\n\
                    # palisade:ignore pss-privileged,PAL-PSS-015 expires=2030-01-01 CNI needs it\n\
                    \n\
                    spec: {}\n\
                    image: \"a#palisade:ignore X\"\n";
        let comments = find_comments(&Arc::from("f.yaml"), text);
        assert_eq!(comments.len(), 2, "{comments:?}");
        assert_eq!(comments[0].target, 1);
        assert_eq!(comments[0].directive.reason.as_deref(), Some("legacy"));
        assert_eq!(comments[1].target, 4);
        assert_eq!(
            comments[1].directive.rules,
            vec!["pss-privileged", "PAL-PSS-015"]
        );
        assert_eq!(comments[1].directive.expires.as_deref(), Some("2030-01-01"));
        assert_eq!(
            comments[1].directive.reason.as_deref(),
            Some("CNI needs it")
        );
    }
}

#[cfg(test)]
mod secret_tests {
    use super::*;
    use palisade_load::{load_text, Loaded};

    #[test]
    fn text_inside_a_secret_is_never_taken_for_a_suppression() {
        let text = "apiVersion: v1 # palisade:ignore PAL-PSS-002 the first line counts\n\
                    kind: Secret\n\
                    metadata: {name: db, namespace: shop}\n\
                    stringData:\n  \
                      notes: |\n    \
                        # palisade:ignore PAL-PSS-002 hunter2-is-the-password\n    \
                        user=admin\n";
        let file: Arc<str> = Arc::from("secret.yaml");
        let settings = SuppressionSettings::default();
        let mut collected = FileSuppressions::new(&file, text, &settings);
        load_text(&file, text, &mut |loaded| {
            if let Loaded::Object(object) = loaded {
                collected.add_object(&object, &settings);
            }
        });
        let collected = collected.finish();
        let reasons: Vec<&str> = collected
            .local
            .iter()
            .filter_map(|d| d.reason.as_deref())
            .collect();
        assert_eq!(reasons, vec!["the first line counts"]);
    }
}
