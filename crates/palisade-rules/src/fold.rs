//! One root cause, one finding: findings of rules that restate each other (declared with
//! `subsumes`) about the same field of the same object become one finding, the most severe,
//! with the others listed in its `also`.

use std::sync::Arc;

use palisade_model::{Finding, ObjectRef, Restated, RuleRef};

use crate::RuleMeta;

fn meta(code: &str) -> Option<&'static RuleMeta> {
    crate::registry::find(code).map(|r| &r.meta)
}

/// The rules of one list of findings, numbered, with which fold and which restate which: a
/// finding's rule is looked up by its address (findings of one rule share it), so that the
/// pairwise tests of a large scan never hash a rule's code.
struct Rules {
    /// Per rule: whether it restates another or is restated by one (only those can fold).
    folds: Vec<bool>,
    /// `restates[a * n + b]`: rule `a` declares that it restates rule `b`.
    restates: Vec<bool>,
    /// Per finding: its rule's number.
    of_finding: Vec<usize>,
}

impl Rules {
    fn of(findings: &[Finding]) -> Rules {
        let mut index: foldhash::HashMap<*const RuleRef, usize> = Default::default();
        let mut met: Vec<&'static RuleRef> = Vec::new();
        let mut last: Option<(*const RuleRef, usize)> = None;
        let of_finding = findings
            .iter()
            .map(|finding| {
                let address: *const RuleRef = finding.rule;
                // Findings of one rule come in runs: most lookups end here.
                if let Some((_, number)) = last.filter(|(seen, _)| *seen == address) {
                    return number;
                }
                let number = *index.entry(address).or_insert_with(|| {
                    met.push(finding.rule);
                    met.len() - 1
                });
                last = Some((address, number));
                number
            })
            .collect();
        let metas: Vec<Option<&'static RuleMeta>> = met.iter().map(|r| meta(r.code)).collect();
        let n = met.len();
        let mut restates = vec![false; n * n];
        for (a, meta_a) in metas.iter().enumerate() {
            for (b, rule_b) in met.iter().enumerate() {
                restates[a * n + b] =
                    a != b && meta_a.is_some_and(|m| m.subsumes.contains(&rule_b.code));
            }
        }
        let folds = (0..n)
            .map(|a| (0..n).any(|b| restates[a * n + b] || restates[b * n + a]))
            .collect();
        Rules {
            folds,
            restates,
            of_finding,
        }
    }

    fn count(&self) -> usize {
        self.folds.len()
    }

    /// Whether finding `i`'s rule can fold with a rule of these findings.
    fn folds(&self, i: usize) -> bool {
        self.folds[self.of_finding[i]]
    }

    /// Whether the rules of findings `i` and `j` differ and one restates the other.
    fn related(&self, i: usize, j: usize) -> bool {
        self.rules_related(self.of_finding[i], self.of_finding[j])
    }

    /// Whether rule numbers `a` and `b` differ and one restates the other.
    fn rules_related(&self, a: usize, b: usize) -> bool {
        let n = self.count();
        self.restates[a * n + b] || self.restates[b * n + a]
    }

    /// Whether rule number `a` restates rule number `b`.
    fn restates(&self, a: usize, b: usize) -> bool {
        self.restates[a * self.count() + b]
    }
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
    use rayon::prelude::*;
    let rules = Rules::of(findings);
    if !rules.folds.contains(&true) {
        return;
    }
    let subject_hash = foldhash::fast::FixedState::default();
    let keyed = foldable_by_subject(findings, &rules, &|finding: &Finding| {
        use std::hash::BuildHasher;
        subject_hash.hash_one(subject_key(finding))
    });
    let subjects = Subjects::of(findings, &keyed);
    // Findings fold only with findings of their own subject: each subject is folded on its
    // own, on every core.
    let shared: &[Finding] = findings;
    let mut folded: Vec<(usize, usize)> = subjects
        .runs
        .par_iter()
        .flat_map_iter(|run| fold_subject(shared, &rules, &subjects.order[run.clone()]))
        .collect();
    if folded.is_empty() {
        return;
    }
    folded.sort_unstable();
    move_into_keepers(findings, &folded);
}

/// What a finding is about, as findings are grouped for folding: object, file, aspect.
fn subject_key(finding: &Finding) -> (&Arc<ObjectRef>, Option<&Arc<str>>, &'static str) {
    let (object, file, _, aspect) = finding.subject();
    (object, file, aspect)
}

/// The findings that can fold (unsuppressed, of a rule that restates or is restated), each
/// with the hash of its subject, ordered by hash then position. Most findings are of rules
/// that restate none and that none restates: left out. Hashed on every core and sorted rather
/// than gathered in a map of lists: a large scan has hundreds of thousands of subjects, and a
/// list each, made on one core, was most of the fold's time.
fn foldable_by_subject(
    findings: &[Finding],
    rules: &Rules,
    hash: &(dyn Fn(&Finding) -> u64 + Sync),
) -> Vec<(u64, usize)> {
    use rayon::prelude::*;
    let mut keyed: Vec<(u64, usize)> = (0..findings.len())
        .into_par_iter()
        .filter(|&i| findings[i].suppressed().is_none() && rules.folds(i))
        .map(|i| (hash(&findings[i]), i))
        .collect();
    keyed.par_sort_unstable();
    keyed
}

/// The subjects of more than one foldable finding: `order[run]` are one subject's findings,
/// by position.
struct Subjects {
    order: Vec<usize>,
    runs: Vec<std::ops::Range<usize>>,
}

impl Subjects {
    /// The subjects of `keyed` ([`foldable_by_subject`]): findings of one hash, split by
    /// subject where two subjects share a hash.
    fn of(findings: &[Finding], keyed: &[(u64, usize)]) -> Subjects {
        let mut subjects = Subjects {
            order: Vec::new(),
            runs: Vec::new(),
        };
        let mut add = |members: &mut dyn Iterator<Item = usize>| {
            let start = subjects.order.len();
            subjects.order.extend(members);
            if subjects.order.len() - start > 1 {
                subjects.runs.push(start..subjects.order.len());
            } else {
                subjects.order.truncate(start);
            }
        };
        for run in keyed
            .chunk_by(|a, b| a.0 == b.0)
            .filter(|run| run.len() > 1)
        {
            let first = subject_key(&findings[run[0].1]);
            if run.iter().all(|&(_, i)| subject_key(&findings[i]) == first) {
                add(&mut run.iter().map(|&(_, i)| i));
                continue;
            }
            // Two subjects with one hash: each gathered on its own, in order.
            let mut rest: Vec<usize> = run.iter().map(|&(_, i)| i).collect();
            while let Some(&head) = rest.first() {
                let key = subject_key(&findings[head]);
                let (same, other): (Vec<usize>, Vec<usize>) = rest
                    .iter()
                    .partition(|&&i| subject_key(&findings[i]) == key);
                add(&mut same.into_iter());
                rest = other;
            }
        }
        subjects
    }

    /// Each subject's findings.
    #[cfg(test)]
    fn members(&self) -> Vec<&[usize]> {
        self.runs
            .iter()
            .map(|run| &self.order[run.clone()])
            .collect()
    }
}

/// For the findings of one subject (`members`, in increasing order), every finding that folds
/// into another, with the one it folds into.
fn fold_subject(findings: &[Finding], rules: &Rules, members: &[usize]) -> Vec<(usize, usize)> {
    let Some(mut parent) = join_restating(findings, rules, members) else {
        return Vec::new();
    };
    keepers(findings, rules, members, &mut parent)
}

/// Subjects with at most this many foldable findings are joined by comparing every pair:
/// most subjects hold a handful, and indexing them by path cost more (in allocations) than
/// the comparisons.
const PAIRWISE: usize = 24;

/// Joins (union-find over positions in `members`) each finding with those it restates or that
/// restate it, at its own field or one above it; `None` when nothing joined.
fn join_restating(findings: &[Finding], rules: &Rules, members: &[usize]) -> Option<Vec<usize>> {
    let mut parent: Vec<usize> = (0..members.len()).collect();
    let joined_any = if members.len() <= PAIRWISE {
        join_pairwise(findings, rules, members, &mut parent)
    } else {
        join_by_path(findings, rules, members, &mut parent)
    };
    joined_any.then_some(parent)
}

/// Joins `parent`'s sets of `a` and `b`; whether they were apart.
fn join(parent: &mut [usize], a: usize, b: usize) -> bool {
    let (ra, rb) = (find(parent, a), find(parent, b));
    if ra != rb {
        parent[rb] = ra;
    }
    ra != rb
}

/// [`join_restating`] by comparing every pair of members; whether any joined.
fn join_pairwise(
    findings: &[Finding],
    rules: &Rules,
    members: &[usize],
    parent: &mut [usize],
) -> bool {
    let path_of = |at: usize| findings[members[at]].subject().2.as_str();
    let mut joined_any = false;
    for b in 0..members.len() {
        for a in 0..b {
            if rules.related(members[a], members[b])
                && (at_or_above(path_of(a), path_of(b)) || at_or_above(path_of(b), path_of(a)))
            {
                joined_any |= join(parent, a, b);
            }
        }
    }
    joined_any
}

/// [`join_restating`] for larger subjects, without comparing every pair (a pod of 5,000
/// containers has tens of thousands of findings; a namespace without a default deny gathers
/// one from each of its workloads, all at one field). The findings of one rule at one field
/// form a group; groups whose rules restate one another, at one field or one above the other,
/// are joined (each group is compared with the groups at its own field and the fields above
/// it, looked up by path). A group joined to another holds one set: each of its findings is
/// related to each of the other's. A group joined to none holds findings that join nothing
/// (a rule never restates itself). Whether any joined.
fn join_by_path(
    findings: &[Finding],
    rules: &Rules,
    members: &[usize],
    parent: &mut [usize],
) -> bool {
    let path_of = |at: usize| findings[members[at]].subject().2.as_str();
    // Per group: its field, its rule and its first member's position.
    let mut groups: Vec<(&str, usize, usize)> = Vec::new();
    let mut group_by_key: foldhash::HashMap<(&str, usize), usize> = Default::default();
    let mut groups_at: foldhash::HashMap<&str, Vec<usize>> = Default::default();
    let group_of_member: Vec<usize> = (0..members.len())
        .map(|at| {
            let key = (path_of(at), rules.of_finding[members[at]]);
            *group_by_key.entry(key).or_insert_with(|| {
                groups.push((key.0, key.1, at));
                groups_at.entry(key.0).or_default().push(groups.len() - 1);
                groups.len() - 1
            })
        })
        .collect();
    let mut group_parent: Vec<usize> = (0..groups.len()).collect();
    let mut joined = vec![false; groups.len()];
    for (g, &(path, rule, _)) in groups.iter().enumerate() {
        let ancestors = std::iter::once("")
            .chain(path.match_indices('/').skip(1).map(|(at, _)| &path[..at]))
            .chain((!path.is_empty()).then_some(path));
        for ancestor in ancestors {
            for &h in groups_at.get(ancestor).into_iter().flatten() {
                // Groups at one field meet once, from the later of the two.
                if h == g || (ancestor == path && h > g) {
                    continue;
                }
                if rules.rules_related(rule, groups[h].1) {
                    join(&mut group_parent, h, g);
                    joined[g] = true;
                    joined[h] = true;
                }
            }
        }
    }
    let mut joined_any = false;
    for (at, &g) in group_of_member.iter().enumerate() {
        if joined[g] {
            let first_of_set = groups[find(&mut group_parent, g)].2;
            joined_any |= join(parent, first_of_set, at);
        }
    }
    joined_any
}

/// Whether the field at `upper` is the field at `path` or one above it (`/spec` is above
/// `/spec/containers/0`, not above `/specs`; the root, `""`, is above every field).
fn at_or_above(upper: &str, path: &str) -> bool {
    upper.is_empty()
        || path
            .strip_prefix(upper)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// For every finding of `members` folded into another, the one it folds into: in each joined
/// group, the most severe; on a tie, the one that restates the most of the others (the most
/// specific), then the first.
fn keepers(
    findings: &[Finding],
    rules: &Rules,
    members: &[usize],
    parent: &mut [usize],
) -> Vec<(usize, usize)> {
    // Grouped by sorting (root, finding) pairs rather than in a map: a scan folds hundreds of
    // thousands of subjects, and most of their groups are of two or three findings.
    let mut by_root: Vec<(usize, usize)> = (0..members.len())
        .map(|at| (find(parent, at), members[at]))
        .collect();
    by_root.sort_unstable();
    let mut keeper_of = Vec::new();
    for group in by_root.chunk_by(|x, y| x.0 == y.0).filter(|g| g.len() > 1) {
        // Counted per rule, not per pair of members: a group may hold thousands, of a few
        // rules.
        let mut per_rule: Vec<(usize, usize)> = Vec::new();
        for &(_, j) in group {
            let rule = rules.of_finding[j];
            match per_rule.iter_mut().find(|(r, _)| *r == rule) {
                Some((_, n)) => *n += 1,
                None => per_rule.push((rule, 1)),
            }
        }
        let restates = |i: usize| -> usize {
            let rule = rules.of_finding[i];
            per_rule
                .iter()
                .filter(|&&(other, _)| rules.restates(rule, other))
                .map(|&(_, n)| n)
                .sum()
        };
        let Some(keeper) = group
            .iter()
            .map(|&(_, i)| i)
            .max_by_key(|&i| (findings[i].severity, restates(i), std::cmp::Reverse(i)))
        else {
            continue;
        };
        keeper_of.extend(
            group
                .iter()
                .map(|&(_, i)| i)
                .filter(|&i| i != keeper)
                .map(|i| (i, keeper)),
        );
    }
    keeper_of
}

/// Moves each folded finding into its keeper's `also` (most severe first, then by path) and
/// drops it from the list, in place: the findings of a large input are most of a scan's
/// memory, and a second list of them would double its peak.
/// `folded` is in the findings' order, so that restated findings of one severity and path
/// keep it.
fn move_into_keepers(findings: &mut Vec<Finding>, folded: &[(usize, usize)]) {
    let mut also: foldhash::HashMap<usize, Vec<Restated>> = Default::default();
    let mut gone = vec![false; findings.len()];
    for &(i, keeper) in folded {
        gone[i] = true;
        let finding = &mut findings[i];
        also.entry(keeper).or_default().push(Restated {
            rule: finding.rule.code,
            object: Arc::clone(&finding.object),
            name: finding.rule.name,
            severity: finding.severity,
            message: std::mem::take(&mut finding.message),
            path: std::mem::take(&mut finding.path),
            location: finding.location.take(),
        });
    }
    for (keeper, mut restated) in also {
        restated.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.path.cmp(&b.path)));
        let extra = findings[keeper].extra_mut();
        let mut all = std::mem::take(&mut extra.also).into_vec();
        all.extend(restated);
        extra.also = all.into_boxed_slice();
    }
    let mut index = 0;
    findings.retain(|_| {
        let keep = !gone[index];
        index += 1;
        keep
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_model::{FieldPath, Severity, Suppression};

    fn object(name: &str) -> Arc<ObjectRef> {
        Arc::new(ObjectRef {
            api_version: "v1".into(),
            kind: "Pod".into(),
            namespace: Some("shop".into()),
            name: name.into(),
        })
    }

    /// A finding of `code` on `pod` at `path` (`/`-separated keys).
    fn finding(code: &str, pod: &Arc<ObjectRef>, path: &str) -> Finding {
        let rule = crate::registry::find(code).expect("a built-in rule");
        let keys: Vec<&str> = path.split('/').filter(|k| !k.is_empty()).collect();
        rule.meta.finding(
            format!("{code} at {path}"),
            Arc::clone(pod),
            FieldPath::root().keys(&keys),
            None,
        )
    }

    const PRIVILEGED: &str = "/spec/containers/0/securityContext/privileged";
    const CONTEXT: &str = "/spec/containers/0/securityContext";

    /// PAL-PSS-002's finding at `privileged`, about its security context (as the rule's
    /// `about` function says in a scan).
    fn privileged(pod: &Arc<ObjectRef>) -> Finding {
        let mut finding = finding("PAL-PSS-002", pod, PRIVILEGED);
        finding.extra_mut().about = Some(Box::new(palisade_model::About {
            object: Arc::clone(pod),
            file: None,
            path: FieldPath::parse(CONTEXT),
            aspect: "",
        }));
        finding
    }
    const ESCALATION: &str = "/spec/containers/0/securityContext/allowPrivilegeEscalation";

    fn codes(findings: &[Finding]) -> Vec<(&'static str, Vec<&'static str>)> {
        findings
            .iter()
            .map(|f| (f.rule.code, f.also().iter().map(|a| a.rule).collect()))
            .collect()
    }

    #[test]
    fn a_restated_finding_is_listed_with_the_finding_that_states_it() {
        let pod = object("web");
        // PAL-PSS-002 (privileged) subsumes PAL-PSS-014 (privilege escalation) on one container.
        let mut findings = vec![finding("PAL-PSS-014", &pod, ESCALATION), privileged(&pod)];
        fold_restated(&mut findings);
        assert_eq!(codes(&findings), vec![("PAL-PSS-002", vec!["PAL-PSS-014"])]);
        assert_eq!(findings[0].also()[0].path.as_str(), ESCALATION);
    }

    #[test]
    fn the_most_severe_finding_is_kept_as_severities_stand_when_folding() {
        let pod = object("web");
        let mut escalation = finding("PAL-PSS-014", &pod, ESCALATION);
        let mut privileged = privileged(&pod);
        // As a config's severity overrides leave them.
        escalation.severity = Severity::Critical;
        privileged.severity = Severity::Low;
        let mut findings = vec![privileged, escalation];
        fold_restated(&mut findings);
        assert_eq!(codes(&findings), vec![("PAL-PSS-014", vec!["PAL-PSS-002"])]);
    }

    #[test]
    fn findings_on_other_containers_or_objects_do_not_fold() {
        let (web, api) = (object("web"), object("api"));
        let mut findings = vec![
            privileged(&web),
            // Another container of the same pod.
            finding(
                "PAL-PSS-014",
                &web,
                "/spec/containers/1/securityContext/allowPrivilegeEscalation",
            ),
            // The same container path on another pod.
            finding("PAL-PSS-014", &api, ESCALATION),
        ];
        fold_restated(&mut findings);
        assert_eq!(
            codes(&findings),
            vec![
                ("PAL-PSS-002", vec![]),
                ("PAL-PSS-014", vec![]),
                ("PAL-PSS-014", vec![])
            ]
        );
    }

    #[test]
    fn a_suppressed_finding_stays_on_its_own() {
        let pod = object("web");
        let mut escalation = finding("PAL-PSS-014", &pod, ESCALATION);
        escalation.extra_mut().suppressed = Some(Box::new(Suppression {
            kind: "annotation",
            reason: "accepted for the debug pod".into(),
            expires: None,
            location: None,
        }));
        let mut findings = vec![privileged(&pod), escalation];
        fold_restated(&mut findings);
        assert_eq!(
            codes(&findings),
            vec![("PAL-PSS-002", vec![]), ("PAL-PSS-014", vec![])]
        );
    }

    /// Subjects hashed as a scan hashes them.
    fn by_subject(findings: &[Finding], rules: &Rules) -> Vec<(u64, usize)> {
        let hasher = foldhash::fast::FixedState::default();
        foldable_by_subject(findings, rules, &|finding: &Finding| {
            use std::hash::BuildHasher;
            hasher.hash_one(subject_key(finding))
        })
    }

    #[test]
    fn only_findings_of_rules_that_restate_one_present_are_indexed() {
        let (web, api) = (object("web"), object("api"));
        let findings = vec![
            finding("PAL-EXP-006", &web, "/metadata/namespace"),
            privileged(&web),
            finding("PAL-PSS-014", &api, ESCALATION),
        ];
        let rules = Rules::of(&findings);
        let keyed = by_subject(&findings, &rules);
        let mut indexed: Vec<usize> = keyed.iter().map(|&(_, i)| i).collect();
        indexed.sort_unstable();
        assert_eq!(indexed, vec![1, 2]);
        // Two subjects of one finding each: nothing to join.
        assert!(Subjects::of(&findings, &keyed).runs.is_empty());
        // Without a rule it restates, a privileged container's finding is not indexed at all.
        let alone = &findings[..2];
        let rules = Rules::of(alone);
        assert!(by_subject(alone, &rules).is_empty());
    }

    #[test]
    fn subjects_that_share_a_hash_are_told_apart() {
        let (web, api) = (object("web"), object("api"));
        // Interleaved: web, api, web, api, ...; one container each, in two files for web.
        let mut findings = Vec::new();
        for container in 0..3 {
            for pod in [&web, &api] {
                let context = format!("/spec/containers/{container}/securityContext");
                findings.push(finding(
                    "PAL-PSS-014",
                    pod,
                    &format!("{context}/allowPrivilegeEscalation"),
                ));
            }
        }
        findings[4].location = Some(palisade_model::Location {
            file: Arc::from("other.yaml"),
            document: 1,
            line: 1,
            column: 1,
        });
        findings.push(privileged(&web));
        let rules = Rules::of(&findings);
        let hashed = Subjects::of(&findings, &by_subject(&findings, &rules));
        // Every subject with one hash: gathered by comparing them.
        let colliding = Subjects::of(
            &findings,
            &foldable_by_subject(&findings, &rules, &|_: &Finding| 7),
        );
        let mut expected = hashed.members();
        expected.sort();
        let mut told_apart = colliding.members();
        told_apart.sort();
        assert_eq!(told_apart, expected);
        // web in the first file (0, 2 and the privileged finding) and api (1, 3, 5); web's
        // finding in the other file is a subject of one.
        assert_eq!(expected, vec![&[0, 2, 6][..], &[1, 3, 5][..]]);
    }

    #[test]
    fn a_field_is_at_or_above_itself_and_the_fields_below_it() {
        let cases = [
            ("", "", true),
            ("", "/spec", true),
            ("/spec", "/spec", true),
            ("/spec", "/spec/containers/0", true),
            ("/spec/containers/1", "/spec/containers/10", false),
            ("/spec", "/specs", false),
            ("/spec/containers/0", "/spec", false),
            ("/spec", "", false),
            // An empty key (`"": x` under annotations) is a field of its own.
            ("/metadata/annotations", "/metadata/annotations/", true),
            ("/metadata/annotations/", "/metadata/annotations//x", true),
            ("/metadata/annotations/", "/metadata/annotations/x", false),
        ];
        for (upper, path, expected) in cases {
            assert_eq!(
                at_or_above(upper, path),
                expected,
                "{upper:?} over {path:?}"
            );
        }
    }

    /// The sets each member of a subject ends in, as the first member of each.
    fn partition(mut parent: Vec<usize>) -> Vec<usize> {
        let roots: Vec<usize> = (0..parent.len()).map(|at| find(&mut parent, at)).collect();
        roots
            .iter()
            .map(|root| roots.iter().position(|r| r == root).unwrap_or_default())
            .collect()
    }

    #[test]
    fn comparing_every_pair_joins_as_the_groups_by_field_do() {
        let pod = object("web");
        let paths = [
            "",
            "/spec",
            "/specs",
            "/spec/containers/0",
            CONTEXT,
            PRIVILEGED,
            ESCALATION,
            "/spec/containers/1/securityContext",
            "/spec/containers/10/securityContext/privileged",
            "/metadata/annotations/",
            "/metadata/annotations//x",
        ];
        // Privileged restates the other three; the image rule restates none of them.
        let codes = [
            "PAL-PSS-002",
            "PAL-PSS-014",
            "PAL-PSS-003",
            "PAL-WL-002",
            "PAL-IMG-002",
            "PAL-IMG-003",
        ];
        // Each finding twice: a rule's findings at one field (a namespace's workloads) too.
        let findings: Vec<Finding> = (0..2)
            .flat_map(|_| codes)
            .flat_map(|code| paths.iter().map(move |path| (code, path)))
            .map(|(code, path)| finding(code, &pod, path))
            .collect();
        let rules = Rules::of(&findings);
        let members: Vec<usize> = (0..findings.len()).filter(|&i| rules.folds(i)).collect();
        assert_eq!(members.len(), findings.len());
        // Every pair of findings, runs of a dozen (subjects of the size compared pairwise), and
        // the whole subject, each joined both ways.
        let mut subjects: Vec<Vec<usize>> = vec![members.clone()];
        for (at, &i) in members.iter().enumerate() {
            subjects.extend(members[at + 1..].iter().map(|&j| vec![i, j]));
        }
        subjects.extend(members.chunks(12).map(<[usize]>::to_vec));
        for window in &subjects {
            let mut pairwise: Vec<usize> = (0..window.len()).collect();
            let mut by_path = pairwise.clone();
            let any_pairwise = join_pairwise(&findings, &rules, window, &mut pairwise);
            let any_by_path = join_by_path(&findings, &rules, window, &mut by_path);
            assert_eq!(any_pairwise, any_by_path, "members {window:?}");
            assert_eq!(
                partition(pairwise),
                partition(by_path),
                "members {window:?}"
            );
        }
    }

    #[test]
    fn a_pod_of_many_containers_folds_each_on_its_own() {
        // Sixty findings on one pod: past the subjects compared pairwise.
        let pod = object("web");
        let mut findings = Vec::new();
        for container in 0..30 {
            let context = format!("/spec/containers/{container}/securityContext");
            findings.push(finding(
                "PAL-PSS-014",
                &pod,
                &format!("{context}/allowPrivilegeEscalation"),
            ));
            // Privileged as the rule reports it, on the container's context.
            findings.push(finding("PAL-PSS-002", &pod, &context));
        }
        assert!(findings.len() > PAIRWISE);
        fold_restated(&mut findings);
        assert_eq!(
            codes(&findings),
            vec![("PAL-PSS-002", vec!["PAL-PSS-014"]); 30]
        );
        for (container, kept) in findings.iter().enumerate() {
            assert_eq!(
                kept.also()[0].path.as_str(),
                format!("/spec/containers/{container}/securityContext/allowPrivilegeEscalation")
            );
        }
    }
}
