//! The one order in which findings are settled, for scans and admission alike.

use std::sync::Arc;

use palisade_load::{decode, read_input, Input};
use palisade_model::{fingerprint, Finding, Fingerprint};
use palisade_rules::Source;

use crate::{Pipeline, STREAM_BYTES};

/// Gives every finding its fingerprint; findings that share one are numbered in report order.
fn set_fingerprints(findings: &mut [Finding]) {
    use rayon::prelude::*;
    // Hashing reads every finding's names and path: on every core. Numbering repeats is in
    // report order, on one.
    let hashes: Vec<u64> = findings.par_iter().map(fingerprint).collect();
    let mut seen: foldhash::HashMap<u64, std::num::NonZeroU32> = Default::default();
    seen.reserve(findings.len());
    for (finding, hash) in findings.iter_mut().zip(hashes) {
        let occurrence = *seen
            .entry(hash)
            .and_modify(|n| *n = n.saturating_add(1))
            .or_insert(std::num::NonZeroU32::MIN);
        finding.fingerprint = Some(Fingerprint { hash, occurrence });
    }
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

/// How settled findings are ordered.
pub(crate) enum Order<'a> {
    /// By file (its rank in the input), line and column, then rule; findings without a place
    /// by object, field path and message (a scan's documented order).
    ByPlace(&'a dyn Fn(&Arc<str>) -> usize),
    /// By field path, then rule (one object's findings, as admission lists them).
    ByField,
}

/// What settling needs besides the findings.
pub(crate) struct Settling<'a> {
    /// Workloads the internet reaches that run an image with a critical fixable or exploited
    /// vulnerability: findings on them are raised a level.
    pub exposed_vulnerable: &'a [palisade_analysis::attack::ExposedVulnerable],
    /// Standard input's text, for the code frames of findings made after it was read.
    pub stdin_text: Option<&'a str>,
    /// Give every finding its fingerprint (a whole report; a part of one carries none).
    pub fingerprints: bool,
    pub order: Order<'a>,
}

/// Settles `findings` in the one order scans and admission share:
/// 1. `suppress` marks what annotations, comments and the config suppress, on the rules as
///    they reported;
/// 2. the config's severity overrides apply, before folding, so that the finding kept for a
///    root cause is the most severe one as configured;
/// 3. findings that restate another about the same field fold into it;
/// 4. findings on a field an attack path goes through name the path, and findings on an
///    exposed vulnerable workload are raised;
/// 5. code frames are added (when the pipeline keeps them), then the findings are ordered and
///    fingerprinted.
pub(crate) fn settle(
    pipeline: &Pipeline,
    findings: &mut Vec<Finding>,
    suppress: impl FnOnce(&mut Vec<Finding>),
    settling: Settling<'_>,
) {
    suppress(findings);
    pipeline.apply_severities(findings);
    palisade_rules::fold_restated(findings);
    palisade_rules::mark_on_paths(findings);
    palisade_rules::raise_exposed_vulnerable(findings, settling.exposed_vulnerable);
    findings.shrink_to_fit();
    if pipeline.code_frames {
        add_snippets(findings, settling.stdin_text);
    }
    match settling.order {
        Order::ByPlace(file_rank) => sort_by_place(findings, file_rank),
        Order::ByField => findings.sort_by(|a, b| {
            a.path
                .as_str()
                .cmp(b.path.as_str())
                .then(a.rule.code.cmp(b.rule.code))
        }),
    }
    if settling.fingerprints {
        set_fingerprints(findings);
    }
}

/// Orders findings by file (`file_rank`), line and column, then rule; findings without a place
/// by object, path and message.
fn sort_by_place(findings: &mut [Finding], file_rank: &dyn Fn(&Arc<str>) -> usize) {
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
            (&a.object, a.path.as_str(), &a.message).cmp(&(&b.object, b.path.as_str(), &b.message))
        });
    }
}

/// Fingerprints again after findings were moved to other places (rendered output mapped back
/// to its sources), in report order.
pub(crate) fn refingerprint(findings: &mut [Finding]) {
    set_fingerprints(findings);
}
