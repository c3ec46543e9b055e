//! One root cause, one finding: findings of rules that restate each other (declared with
//! `subsumes`) about the same field of the same object become one finding, the most severe,
//! with the others listed in its `also`.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use palisade_model::{Finding, ObjectRef, Restated};

use crate::registry::RULES;
use crate::RuleMeta;

fn meta(code: &str) -> Option<&'static RuleMeta> {
    crate::registry::find(code).map(|r| &r.meta)
}

/// Whether `rule` restates another rule or is restated by one: only such findings can fold.
fn folds(rule: &str) -> bool {
    static FOLDING: OnceLock<std::collections::HashSet<&'static str>> = OnceLock::new();
    FOLDING
        .get_or_init(|| {
            RULES
                .iter()
                .filter(|r| !r.meta.subsumes.is_empty())
                .flat_map(|r| {
                    std::iter::once(r.meta.info.code).chain(r.meta.subsumes.iter().copied())
                })
                .collect()
        })
        .contains(rule)
}

/// Whether `rule` declares that it restates `other`.
fn subsumes(rule: &str, other: &str) -> bool {
    meta(rule).is_some_and(|m| m.subsumes.contains(&other))
}

fn find(parent: &mut [usize], mut i: usize) -> usize {
    while parent[i] != i {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    i
}

/// Folds the findings that restate another into it. Suppressed findings are left alone: a
/// suppression is a decision about one rule.
pub fn fold_restated(findings: &mut Vec<Finding>) {
    if !findings
        .iter()
        .any(|f| meta(f.rule.code).is_some_and(|m| !m.subsumes.is_empty()))
    {
        return;
    }
    type Key = (Arc<ObjectRef>, Option<Arc<str>>, &'static str);
    let mut by_subject: HashMap<Key, Vec<usize>> = HashMap::new();
    for (i, finding) in findings.iter().enumerate() {
        // Most findings are of rules that restate none and that none restates: not indexed (on
        // a large input this index would be a tenth of the scan's memory).
        if finding.suppressed.is_none() && folds(finding.rule.code) {
            let (object, file, _, aspect) = finding.subject();
            by_subject
                .entry((Arc::clone(object), file.cloned(), aspect))
                .or_default()
                .push(i);
        }
    }
    let mut parent: Vec<usize> = (0..findings.len()).collect();
    let mut folded_any = false;
    for members in by_subject.values() {
        // Two findings can fold only when one's field holds the other's: each finding is
        // compared with those at its own field and at the fields above it, looked up by path,
        // never with every other finding of the subject (a pod of 5,000 containers has tens
        // of thousands, and comparing them pairwise took minutes).
        let mut by_path: HashMap<&str, Vec<usize>> = HashMap::new();
        for &i in members {
            by_path
                .entry(findings[i].subject().2.as_str())
                .or_default()
                .push(i);
        }
        for &j in members {
            let path = findings[j].subject().2.as_str();
            let ancestors = std::iter::once("")
                .chain(path.match_indices('/').skip(1).map(|(at, _)| &path[..at]))
                .chain((!path.is_empty()).then_some(path));
            for ancestor in ancestors {
                let Some(near) = by_path.get(ancestor) else {
                    continue;
                };
                for &i in near {
                    // Findings at one field meet once, from the later of the two.
                    if i == j || (ancestor == path && i > j) {
                        continue;
                    }
                    let (a, b) = (&findings[i], &findings[j]);
                    if !std::ptr::eq(a.rule, b.rule)
                        && (subsumes(a.rule.code, b.rule.code)
                            || subsumes(b.rule.code, a.rule.code))
                    {
                        let (ri, rj) = (find(&mut parent, i), find(&mut parent, j));
                        if ri != rj {
                            parent[rj] = ri;
                            folded_any = true;
                        }
                    }
                }
            }
        }
    }
    if !folded_any {
        return;
    }
    // Only indexed findings were ever joined to another: the rest stay alone.
    let mut candidates: Vec<usize> = by_subject.into_values().flatten().collect();
    candidates.sort_unstable();
    let mut components: HashMap<usize, Vec<usize>> = HashMap::new();
    for i in candidates {
        let root = find(&mut parent, i);
        components.entry(root).or_default().push(i);
    }
    let mut keeper_of: HashMap<usize, usize> = HashMap::new();
    for members in components.into_values().filter(|m| m.len() > 1) {
        // The most severe; on a tie, the one that restates the most of the others (the most
        // specific), then the first.
        // Counted per rule, not per pair of members: a component may hold thousands.
        let mut per_rule: HashMap<&str, usize> = HashMap::new();
        for &j in &members {
            *per_rule.entry(findings[j].rule.code).or_default() += 1;
        }
        let restated_by: HashMap<&str, usize> = per_rule
            .keys()
            .map(|&rule| {
                let count = per_rule
                    .iter()
                    .filter(|(&other, _)| subsumes(rule, other))
                    .map(|(_, &n)| n)
                    .sum();
                (rule, count)
            })
            .collect();
        let restates = |i: usize| {
            restated_by
                .get(findings[i].rule.code)
                .copied()
                .unwrap_or_default()
        };
        let Some(&keeper) = members
            .iter()
            .max_by_key(|&&i| (findings[i].severity, restates(i), std::cmp::Reverse(i)))
        else {
            continue;
        };
        for &i in &members {
            if i != keeper {
                keeper_of.insert(i, keeper);
            }
        }
    }
    // In place: the findings of a large input are most of a scan's memory, and a second list
    // of them would double its peak.
    let mut also: HashMap<usize, Vec<Restated>> = HashMap::new();
    // In the findings' order, so that restated findings of one severity and path keep it (a
    // map's order would differ between runs).
    let mut folded: Vec<(usize, usize)> = keeper_of.iter().map(|(&i, &k)| (i, k)).collect();
    folded.sort_unstable();
    for (i, keeper) in folded {
        let finding = &mut findings[i];
        also.entry(keeper).or_default().push(Restated {
            rule: finding.rule.code,
            object: Arc::clone(&finding.object),
            name: finding.rule.name,
            severity: finding.severity,
            message: std::mem::take(&mut finding.message).into_string(),
            path: std::mem::take(&mut finding.path),
            location: finding.location.take(),
        });
    }
    for (keeper, mut restated) in also {
        restated.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.path.cmp(&b.path)));
        let mut all = std::mem::take(&mut findings[keeper].also).into_vec();
        all.extend(restated);
        findings[keeper].also = all.into_boxed_slice();
    }
    let mut index = 0;
    findings.retain(|_| {
        let keep = !keeper_of.contains_key(&index);
        index += 1;
        keep
    });
}
