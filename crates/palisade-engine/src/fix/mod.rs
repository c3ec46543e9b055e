//! `palisade fix`: the findings of one file repaired in its text. Each document is fixed on
//! its own, one finding at a time: the rule's remedy becomes the fewest text edits
//! ([`text::apply`]), the document is parsed and judged again, and the edit stays only if its
//! finding is gone, no new finding appeared and the document still parses. Fixing a fixed file
//! changes nothing.

pub mod text;

use std::collections::BTreeSet;
use std::sync::Arc;

use palisade_load::{load_text, Loaded};
use palisade_model::{FieldPath, Finding, Object, ObjectRef, RuleRef};
use palisade_rules::fix::{Remedy, Safety};
use palisade_rules::suppress::{FileSuppressions, Suppressions};

use crate::Pipeline;

/// How a fix run behaves.
#[derive(Clone, Copy, Debug, Default)]
pub struct FixOptions {
    /// Apply unsafe fixes too.
    pub unsafe_fixes: bool,
}

/// A fix that was applied.
#[derive(Clone, Debug)]
pub struct Applied {
    pub rule: &'static RuleRef,
    pub object: Arc<ObjectRef>,
    pub path: FieldPath,
    pub title: String,
    pub safety: Safety,
    /// The lines (1-based, in the fixed file) the edit wrote.
    pub lines: (u32, u32),
}

/// Why a finding was left as it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reason {
    /// A person decides: the rule's advice.
    Decision(String),
    /// The fix can change what the workload does: `--unsafe` applies it.
    Unsafe(String),
    /// The rule has no fix.
    NoFix,
    /// The text cannot take the edit as written (a block scalar, an anchor).
    CannotEdit,
    /// The edit was made and undone: it did not remove the finding, added one, or broke the
    /// document.
    DidNotHold(String),
}

/// A finding that is still there.
#[derive(Clone, Debug)]
pub struct Left {
    pub finding: Finding,
    pub reason: Reason,
}

/// One file's outcome.
#[derive(Clone, Debug, Default)]
pub struct FileFix {
    pub fixed: String,
    pub applied: Vec<Applied>,
    pub left: Vec<Left>,
    /// Documents that could not be read (left untouched).
    pub errors: Vec<palisade_model::LoadError>,
}

impl FileFix {
    pub fn changed(&self, original: &str) -> bool {
        self.fixed != original
    }
}

/// (rule, object, path): a finding's identity across edits.
type Key = (&'static str, ObjectRef, String);

fn key(finding: &Finding) -> Key {
    (
        finding.rule.code,
        (*finding.object).clone(),
        finding.path.as_str().to_string(),
    )
}

/// What one document holds: its objects and their findings (suppressions applied, nothing
/// folded: each finding is repaired on its own).
struct Judged {
    objects: Vec<Object>,
    findings: Vec<Finding>,
    errors: Vec<palisade_model::LoadError>,
}

fn judge(pipeline: &Pipeline, file: &Arc<str>, text: &str) -> Judged {
    let mut objects = Vec::new();
    let mut errors = Vec::new();
    load_text(file, text, &mut |loaded| match loaded {
        Loaded::Object(object) => objects.push(*object),
        Loaded::Error(e) => errors.push(e),
        Loaded::Skipped | Loaded::Warning(_) => {}
    });
    let mut file_suppressions = FileSuppressions::new(file, text, &pipeline.suppression);
    let mut findings = Vec::new();
    let mut inventory = pipeline
        .engine
        .needs_inventory()
        .then(palisade_analysis::InventoryBuilder::default);
    for object in &objects {
        file_suppressions.add_object(object, &pipeline.suppression);
        findings.extend(pipeline.engine.check(object, None));
        if let Some(inventory) = inventory.as_mut() {
            inventory.add(object);
        }
    }
    if let Some(inventory) = inventory {
        let inventory = pipeline.engine.build_inventory(inventory);
        let mut whole = Vec::new();
        pipeline.engine.check_inventory_into(&inventory, &mut whole);
        // Only what this document's objects are about: the bundled default roles are not the
        // document's to fix.
        whole.retain(|f| {
            objects
                .iter()
                .any(|o| o.reference.as_ref() == f.object.as_ref())
        });
        findings.extend(whole);
    }
    let mut suppressions = Suppressions::new(&pipeline.suppression);
    suppressions.merge(file_suppressions.finish());
    let active: Vec<&'static palisade_rules::Rule> = pipeline.engine.rules().collect();
    let _ = suppressions.apply(&mut findings, &active);
    findings.retain(|f| f.suppressed().is_none());
    findings.sort_by(|a, b| {
        (a.object.as_ref(), a.path.as_str(), a.rule.code).cmp(&(
            b.object.as_ref(),
            b.path.as_str(),
            b.rule.code,
        ))
    });
    Judged {
        objects,
        findings,
        errors,
    }
}

/// The rule behind a finding.
fn rule_of(finding: &Finding) -> Option<&'static palisade_rules::Rule> {
    palisade_rules::registry::find(finding.rule.code)
}

/// The advice under a rule's `## Remediation`, as one paragraph.
fn remediation(rule: &palisade_rules::Rule) -> String {
    let docs = rule.meta.docs();
    docs.split_once("## Remediation")
        .map(|(_, rest)| {
            rest.lines()
                .map(str::trim)
                .skip_while(|l| l.is_empty())
                .take_while(|l| !l.is_empty() && !l.starts_with("##"))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_default()
}

/// At most this many edits per document (a fix that keeps reporting new work stops here).
const MAX_EDITS: usize = 256;

/// Fixes one document.
fn fix_document(
    pipeline: &Pipeline,
    file: &Arc<str>,
    document: &str,
    options: FixOptions,
) -> (
    String,
    Vec<Applied>,
    Vec<Left>,
    Vec<palisade_model::LoadError>,
) {
    let mut text = document.to_string();
    let mut judged = judge(pipeline, file, &text);
    if !judged.errors.is_empty() {
        // A document Palisade cannot read whole is not edited.
        let errors = std::mem::take(&mut judged.errors);
        return (text, Vec::new(), Vec::new(), errors);
    }
    let mut applied = Vec::new();
    let mut left: Vec<Left> = Vec::new();
    let mut settled: BTreeSet<Key> = BTreeSet::new();
    // Findings whose edit was tried and failed: not tried again in this run.
    let mut failed: BTreeSet<Key> = BTreeSet::new();
    while applied.len() < MAX_EDITS {
        let next = judged
            .findings
            .iter()
            .find(|f| !settled.contains(&key(f)))
            .cloned();
        let Some(finding) = next else {
            break;
        };
        settled.insert(key(&finding));
        let Some(rule) = rule_of(&finding) else {
            left.push(Left {
                finding,
                reason: Reason::NoFix,
            });
            continue;
        };
        let object = judged
            .objects
            .iter()
            .find(|o| o.reference.as_ref() == finding.object.as_ref());
        let remedy = match (rule.meta.fix, object) {
            (Some(repair), Some(object)) => repair(object, &finding.path),
            _ => None,
        };
        let fix = match remedy {
            None => {
                left.push(Left {
                    finding,
                    reason: Reason::NoFix,
                });
                continue;
            }
            Some(Remedy::Decision(why)) => {
                let advice = remediation(rule);
                let reason = if advice.is_empty() {
                    why
                } else {
                    format!("{why}. {advice}")
                };
                left.push(Left {
                    finding,
                    reason: Reason::Decision(reason),
                });
                continue;
            }
            Some(Remedy::Fix(fix)) => fix,
        };
        if fix.safety == Safety::Unsafe && !options.unsafe_fixes {
            left.push(Left {
                finding,
                reason: Reason::Unsafe(fix.title),
            });
            continue;
        }
        let Some(object) = object else {
            continue;
        };
        let mut candidate = text.clone();
        let mut edited = true;
        for edit in &fix.edits {
            // Each edit is placed on the tree of the text as it now is.
            let tree = if candidate == text {
                Some(object.root.clone())
            } else {
                reparse_object(file, &candidate, object.reference.as_ref())
            };
            match tree.and_then(|root| text::apply(&candidate, &root, edit)) {
                Some(next) => candidate = next,
                None => {
                    edited = false;
                    break;
                }
            }
        }
        if !edited {
            failed.insert(key(&finding));
            left.push(Left {
                finding,
                reason: Reason::CannotEdit,
            });
            continue;
        }
        let after = judge(pipeline, file, &candidate);
        let before_keys: BTreeSet<Key> = judged.findings.iter().map(key).collect();
        let verdict = if !after.errors.is_empty() {
            Err(format!(
                "the edit broke the document ({})",
                after.errors[0].message
            ))
        } else if after.findings.iter().any(|f| key(f) == key(&finding)) {
            Err("the edit did not remove the finding".to_string())
        } else if let Some(new) = after
            .findings
            .iter()
            .find(|f| !before_keys.contains(&key(f)))
        {
            Err(format!(
                "the edit added a finding ({} {})",
                new.rule.code, new.rule.name
            ))
        } else {
            Ok(())
        };
        match verdict {
            Err(why) => {
                failed.insert(key(&finding));
                left.push(Left {
                    finding,
                    reason: Reason::DidNotHold(why),
                })
            }
            Ok(()) => {
                applied.push(Applied {
                    rule: finding.rule,
                    object: Arc::clone(&finding.object),
                    path: finding.path.clone(),
                    title: fix.title,
                    safety: fix.safety,
                    lines: changed_lines(&text, &candidate),
                });
                text = candidate;
                judged = after;
                // The document changed: what was a decision or needed --unsafe may now have a
                // fix (a container no longer privileged can drop escalation), so every finding
                // is looked at again, except those whose edits already failed.
                left.retain(|l| {
                    failed.contains(&key(&l.finding))
                        && judged.findings.iter().any(|f| key(f) == key(&l.finding))
                });
                settled = failed.clone();
            }
        }
    }
    (text, applied, left, Vec::new())
}

/// The tree of the object `reference` in `text`, parsed again.
fn reparse_object(
    file: &Arc<str>,
    text: &str,
    reference: &ObjectRef,
) -> Option<palisade_model::Node> {
    let mut found = None;
    load_text(file, text, &mut |loaded| {
        if let Loaded::Object(object) = loaded {
            if object.reference.as_ref() == reference && found.is_none() {
                found = Some(object.root.clone());
            }
        }
    });
    found
}

/// The first and last line (1-based, in `after`) that differ from `before`.
fn changed_lines(before: &str, after: &str) -> (u32, u32) {
    let a: Vec<&str> = before.lines().collect();
    let b: Vec<&str> = after.lines().collect();
    let head = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let tail = a
        .iter()
        .rev()
        .zip(b.iter().rev())
        .take_while(|(x, y)| x == y)
        .count()
        .min(a.len().min(b.len()) - head);
    let first = head + 1;
    let last = (b.len() - tail).max(first);
    (
        u32::try_from(first).unwrap_or(u32::MAX),
        u32::try_from(last).unwrap_or(u32::MAX),
    )
}

/// Fixes every document of one file's `text`; documents are split as the loader splits
/// them (at `---` lines) and put back together byte for byte where nothing changed.
pub fn fix_text(pipeline: &Pipeline, file: &str, text: &str, options: FixOptions) -> FileFix {
    let file: Arc<str> = Arc::from(file);
    let mut out = FileFix::default();
    let mut line_base = 0u32;
    for (_, chunk) in palisade_load::split_documents(text) {
        let (fixed, mut applied, mut left, errors) = fix_document(pipeline, &file, chunk, options);
        // Lines and locations within the document become lines of the file.
        for a in &mut applied {
            a.lines = (a.lines.0 + line_base, a.lines.1 + line_base);
        }
        for l in &mut left {
            if let Some(location) = l.finding.location.as_mut() {
                location.line += line_base;
            }
        }
        line_base += u32::try_from(fixed.lines().count()).unwrap_or(u32::MAX);
        out.fixed.push_str(&fixed);
        out.applied.extend(applied);
        out.left.extend(left);
        out.errors.extend(errors);
    }
    out
}
