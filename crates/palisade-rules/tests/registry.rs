//! The registry's promises: stable unique codes and names, documented rules, and exactly one
//! rule per Pod Security Standards check, tagged with that check's control.

use std::collections::HashSet;

use palisade_analysis::pss::{self, Level, Version};
use palisade_rules::registry::RULES;
use palisade_rules::{Check, Engine, Selection, Settings};

#[test]
fn codes_and_names_are_unique_and_well_formed() {
    let mut codes = HashSet::new();
    let mut names = HashSet::new();
    for rule in RULES {
        let meta = &rule.meta;
        assert!(
            codes.insert(meta.info.code),
            "duplicate code {}",
            meta.info.code
        );
        assert!(
            names.insert(meta.info.name),
            "duplicate name {}",
            meta.info.name
        );
        let parts: Vec<&str> = meta.info.code.split('-').collect();
        assert!(
            matches!(parts[..], ["PAL", family, number] if family.chars().all(|c| c.is_ascii_uppercase()) && number.len() == 3 && number.chars().all(|c| c.is_ascii_digit())),
            "code {} must look like PAL-FAMILY-NNN",
            meta.info.code
        );
        assert!(
            meta.info
                .name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
            "name {} must be kebab-case",
            meta.info.name
        );
    }
}

#[test]
fn every_rule_is_documented() {
    for rule in RULES {
        let docs = rule.meta.docs();
        for section in [
            "## What it does",
            "## Why is this bad?",
            "## Example",
            "## Remediation",
            "## References",
        ] {
            assert!(
                docs.contains(section),
                "{} lacks `{section}`",
                rule.meta.info.code
            );
        }
        assert!(
            !rule.meta.summary().is_empty(),
            "{} has no summary",
            rule.meta.info.code
        );
        // Suppression rules judge Palisade's own configuration, which no framework covers.
        assert!(
            !rule.meta.info.controls.is_empty() || rule.meta.info.category == "suppression",
            "{} maps to no framework control",
            rule.meta.info.code
        );
    }
}

#[test]
fn each_pss_check_has_exactly_one_rule_tagged_with_its_control() {
    for check in pss::CHECKS {
        let rules: Vec<_> = RULES
            .iter()
            .filter(|r| matches!(r.check, Check::Pss(id) if id == check.id))
            .collect();
        assert_eq!(rules.len(), 1, "check {} needs exactly one rule", check.id);
        assert!(
            rules[0]
                .meta
                .info
                .controls
                .contains(&check.control().as_str()),
            "{} must carry {}",
            rules[0].meta.info.code,
            check.control()
        );
    }
}

#[test]
fn pss_level_and_version_decide_which_pss_rules_run() {
    let codes = |level, version| -> Vec<&str> {
        let settings = Settings {
            pss_level: level,
            pss_version: version,
            selection: Selection::default(),
            ..Settings::default()
        };
        Engine::new(&settings)
            .expect("valid")
            .rules()
            .map(|r| r.meta.info.code)
            .collect()
    };
    let baseline = codes(Level::Baseline, Version::LATEST);
    assert!(baseline.contains(&"PAL-PSS-002") && !baseline.contains(&"PAL-PSS-015"));
    let restricted_1_22 = codes(Level::Restricted, Version::new(1, 22));
    assert!(
        !restricted_1_22.contains(&"PAL-PSS-016"),
        "runAsUser starts at 1.23"
    );
    assert!(
        restricted_1_22.contains(&"PAL-PSS-003") && restricted_1_22.contains(&"PAL-PSS-018"),
        "a baseline problem keeps its rule at restricted level; the restricted rule runs too"
    );
    assert!(codes(Level::Restricted, Version::new(1, 23)).contains(&"PAL-PSS-016"));
}

/// The stale-pull-policy rule judges tags as the mutable-tag rule is configured: a tag the team
/// lists in PAL-IMG-002's `mutable-tags` moves for PAL-IMG-004 too.
#[test]
fn the_pull_policy_rule_reads_the_mutable_tags_of_the_tag_rule() {
    use palisade_rules::{Engine, OptionValue, OptionValues, Selection, Settings};
    let text = "apiVersion: v1\nkind: Pod\nmetadata: {name: ui, namespace: shop}\nspec:\n  containers:\n  - name: ui\n    image: ghcr.io/example/ui:preview\n    imagePullPolicy: IfNotPresent\n";
    let name: std::sync::Arc<str> = "pod.yaml".into();
    let mut objects = Vec::new();
    palisade_load::load_text(&name, text, &mut |loaded| {
        if let palisade_load::Loaded::Object(object) = loaded {
            objects.push(*object);
        }
    });
    let findings = |options: Vec<(&'static str, Vec<&str>)>| {
        let mut settings = Settings {
            selection: Selection {
                select: vec!["PAL-IMG-004".into()],
                ignore: Vec::new(),
            },
            ..Settings::default()
        };
        for (code, tags) in options {
            let mut values = OptionValues::default();
            values.0.insert(
                "mutable-tags",
                OptionValue::StringList(tags.iter().map(|t| t.to_string()).collect()),
            );
            settings.options.insert(code, values);
        }
        let engine = Engine::new(&settings).expect("engine");
        engine.check(&objects[0], None).len()
    };
    assert_eq!(findings(vec![]), 0, "`preview` names a release unless told");
    assert_eq!(findings(vec![("PAL-IMG-002", vec!["preview"])]), 1);
}

#[test]
fn object_rules_declare_the_kinds_they_judge_and_pod_or_event_rules_do_not() {
    for rule in RULES.iter() {
        let code = rule.meta.info.code;
        match rule.check {
            Check::Object(_) | Check::Versioned(_) => {
                assert!(
                    !rule.meta.kinds.is_empty(),
                    "{code}: an object rule names the kinds it judges (`kinds: [..]`, `\"*\"` for all)"
                );
                assert!(
                    !rule.meta.kinds.contains(&"*") || rule.meta.kinds.len() == 1,
                    "{code}: `*` stands alone"
                );
            }
            // A whole-input rule names the kinds that bring its findings about on their own
            // (admission judges those objects with it), if any.
            Check::Inventory(_) => assert!(
                !rule.meta.kinds.contains(&"*"),
                "{code}: a whole-input rule names the kinds it judges alone, never `*`"
            ),
            _ => assert!(
                rule.meta.kinds.is_empty(),
                "{code}: only object and whole-input rules declare kinds; the others' targets follow from their check"
            ),
        }
    }
    let judged = palisade_rules::registry::judged_kinds();
    for kind in [
        "Pod",
        "Deployment",
        "CronJob",
        "Service",
        "Namespace",
        "Ingress",
        "Secret",
    ] {
        assert!(judged.contains(&kind), "{kind} in {judged:?}");
    }
    assert!(!judged.contains(&"*"));
}

#[test]
fn an_object_rule_runs_on_its_kinds_only() {
    let engine = Engine::new(&Settings {
        selection: Selection {
            select: vec!["PAL-EXP-002".into()],
            ignore: Vec::new(),
        },
        ..Settings::default()
    })
    .expect("engine");
    let object = |kind: &str| {
        palisade_load::json::to_object(&serde_json::json!({
            "apiVersion": "v1", "kind": kind,
            "metadata": {"name": "web", "namespace": "shop"},
            "spec": {"type": "NodePort", "ports": [{"port": 80}]}
        }))
    };
    assert_eq!(engine.check(&object("Service"), None).len(), 1);
    assert!(engine.judges(&object("Service")));
    // A custom resource that borrows the Service's shape is not a Service.
    assert!(engine.check(&object("ServiceEntry"), None).is_empty());
    assert!(!engine.judges(&object("ServiceEntry")));
}
