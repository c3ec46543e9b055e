//! Runs every upstream pod-security-admission fixture (each level × version × pass/fail) and
//! requires exact agreement: pass fixtures yield no violation, fail fixtures at least one.

use std::collections::HashMap;
use std::sync::Arc;

use palisade_analysis::pss::{self, Level, Version};
use palisade_load::{load_text, Loaded};
use palisade_model::{Object, PodView};

const OBJECTS: &str = include_str!("data/pss/objects.yaml");
const INDEX: &str = include_str!("data/pss/index.tsv");

fn fixtures_by_hash() -> HashMap<String, Object> {
    let mut by_hash = HashMap::new();
    let mut hash = None;
    let mut start = 0;
    let mut offset = 0;
    let mut documents: Vec<(String, &str)> = Vec::new();
    for line in OBJECTS.split_inclusive('\n') {
        if let Some(h) = line.strip_prefix("--- # ") {
            if let Some(prev) = hash.replace(h.trim().to_string()) {
                documents.push((prev, &OBJECTS[start..offset]));
            }
            start = offset;
        }
        offset += line.len();
    }
    if let Some(prev) = hash {
        documents.push((prev, &OBJECTS[start..]));
    }
    for (hash, text) in documents {
        let mut objects = Vec::new();
        load_text(
            &Arc::from(hash.as_str()),
            text,
            &mut |loaded| match loaded {
                Loaded::Object(o) => objects.push(*o),
                other => panic!("fixture {hash} did not load: {other:?}"),
            },
        );
        assert_eq!(objects.len(), 1, "fixture {hash}");
        by_hash.insert(hash, objects.remove(0));
    }
    by_hash
}

fn versions(ranges: &str) -> Vec<Version> {
    ranges
        .split(',')
        .flat_map(|range| {
            let (from, to) = range.split_once('-').unwrap_or((range, range));
            let from: Version = from.parse().expect("version");
            let to: Version = to.parse().expect("version");
            (from.minor..=to.minor).map(|minor| Version::new(1, minor))
        })
        .collect()
}

/// One line of the index: a fixture, the level it is for, whether upstream admits it, and
/// the versions it holds for.
struct Case<'i> {
    level: Level,
    expect: &'i str,
    name: &'i str,
    hash: &'i str,
    versions: Vec<Version>,
}

fn cases() -> Vec<Case<'static>> {
    INDEX
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|line| {
            let fields: Vec<&str> = line.split('\t').collect();
            let [level, expect, name, hash, ranges] = fields[..] else {
                panic!("bad index line {line}");
            };
            Case {
                level: level.parse().expect("level"),
                expect,
                name,
                hash,
                versions: versions(ranges),
            }
        })
        .collect()
}

#[test]
fn every_upstream_fixture_agrees() {
    let objects = fixtures_by_hash();
    assert_eq!(objects.len(), 380, "distinct fixture contents");
    let mut total = 0;
    let mut disagreements = Vec::new();
    for Case {
        level,
        expect,
        name,
        hash,
        versions,
    } in cases()
    {
        let pod = PodView::of(&objects[hash]).expect("fixtures are pods");
        for version in versions {
            total += 1;
            let violations = pss::evaluate(&pod, level, version);
            let allowed = violations.is_empty();
            if allowed != (expect == "pass") {
                let found: Vec<String> = violations
                    .iter()
                    .map(|(c, v)| format!("{}@{}", c.id, v.path))
                    .collect();
                disagreements.push(format!("{level} {version} {expect} {name}: {found:?}"));
            }
        }
    }
    assert_eq!(total, 4537, "fixture files covered");
    assert!(
        disagreements.is_empty(),
        "{} of {total} fixtures disagree:\n{}",
        disagreements.len(),
        disagreements.join("\n")
    );
}

#[test]
fn fail_fixtures_are_caught_by_the_check_they_are_named_for() {
    let objects = fixtures_by_hash();
    let mut misattributed = Vec::new();
    for case in cases().into_iter().filter(|c| c.expect == "fail") {
        let (level, name) = (case.level, case.name);
        let pod = PodView::of(&objects[case.hash]).expect("pod");
        let check_name = name.trim_end_matches(|c: char| c.is_ascii_digit());
        for version in case.versions {
            let ids: Vec<String> = pss::evaluate(&pod, level, version)
                .iter()
                .map(|(c, _)| c.id.to_ascii_lowercase())
                .collect();
            // At restricted level a fixture named after a baseline check may be caught by the
            // restricted check that overrides it.
            let overriding: Vec<String> = pss::checks_for(level, version)
                .iter()
                .filter(|(_, v)| {
                    v.overrides
                        .iter()
                        .any(|o| o.eq_ignore_ascii_case(check_name))
                })
                .map(|(c, _)| c.id.to_ascii_lowercase())
                .collect();
            if !ids
                .iter()
                .any(|id| id == check_name || overriding.contains(id))
            {
                misattributed.push(format!("{level} {version} {name}: {ids:?}"));
            }
        }
    }
    assert!(misattributed.is_empty(), "{}", misattributed.join("\n"));
}

/// The scan reports a baseline problem by its baseline rule at every level, and the restricted
/// rule that overrides it leaves that field out: an object must still pass exactly when
/// upstream admits it.
#[test]
fn the_scan_reports_a_pod_security_finding_exactly_when_upstream_rejects() {
    use palisade_rules::{Engine, Selection, Settings};
    let objects = fixtures_by_hash();
    let mut engines = HashMap::new();
    let mut disagreements = Vec::new();
    for Case {
        level,
        expect,
        name,
        hash,
        versions,
    } in cases()
    {
        for version in versions {
            let engine = engines.entry((level, version)).or_insert_with(|| {
                Engine::new(&Settings {
                    pss_level: level,
                    pss_version: version,
                    selection: Selection {
                        select: vec!["pss".into()],
                        ignore: Vec::new(),
                    },
                    ..Settings::default()
                })
                .expect("pss selects")
            });
            let findings = engine.check(&objects[hash], None);
            if findings.is_empty() != (expect == "pass") {
                let found: Vec<String> = findings
                    .iter()
                    .map(|f| format!("{}@{}", f.rule.code, f.path))
                    .collect();
                disagreements.push(format!("{level} {version} {expect} {name}: {found:?}"));
            }
        }
    }
    assert!(
        disagreements.is_empty(),
        "{} disagree:\n{}",
        disagreements.len(),
        disagreements.join("\n")
    );
}
