//! The template behind the risky-grant rules: one implementation, one rule entry per risk.

use palisade_analysis::rbac::paths::{Graph, Identity};
use palisade_analysis::rbac::risk::{granting_rules, Risk};
use palisade_analysis::rbac::{Binding, Inventory, PolicyRule, Role, Subject, UserInfo};
use palisade_model::Related;

use crate::Emitter;

fn scope(binding: &Binding) -> String {
    match (&binding.namespace, binding.cluster) {
        (Some(ns), false) => format!("in namespace {ns}"),
        _ => "cluster-wide".to_string(),
    }
}

fn rule_summary(rule: &PolicyRule) -> String {
    let groups: Vec<String> = rule
        .api_groups
        .iter()
        .map(|g| {
            if g.is_empty() {
                "core".to_string()
            } else {
                g.clone()
            }
        })
        .collect();
    let mut text = format!(
        "grants {} on {} ({})",
        rule.verbs.join(","),
        rule.resources.join(","),
        groups.join(",")
    );
    if !rule.resource_names.is_empty() {
        text.push_str(&format!(" named {}", rule.resource_names.join(",")));
    }
    text
}

pub(crate) fn related_rules(role: &Role, rules: &[&PolicyRule]) -> Vec<Related> {
    rules
        .iter()
        .map(|rule| Related {
            object: rule.source.object.clone(),
            path: rule.path.clone(),
            location: rule.source.location.clone(),
            message: if rule.source.object.name == role.name {
                rule_summary(rule)
            } else {
                format!(
                    "{} (aggregated into ClusterRole {})",
                    rule_summary(rule),
                    role.name
                )
            },
        })
        .collect()
}

/// Reports every non-system subject of an input binding whose role grants `risk`.
pub(crate) fn report_risk(inventory: &Inventory, out: &mut Emitter, risk: Risk) {
    let policy = &inventory.policy;
    for binding in policy.bindings().iter().filter(|b| !b.source.bootstrap) {
        let Some(role) = policy.role_of(binding) else {
            continue;
        };
        let rules = granting_rules(policy, role, risk);
        // Holding everything is reported once, by the cluster-admin rule.
        let everything = risk != Risk::ClusterAdmin
            && !granting_rules(policy, role, Risk::ClusterAdmin).is_empty();
        if rules.is_empty() || everything {
            continue;
        }
        for (subject, at) in binding.subjects.iter().filter(|(s, _)| !s.is_system()) {
            let message = format!(
                "{} {} {} via {} → {} {}",
                subject.display(),
                risk.describe(),
                scope(binding),
                binding.display(),
                role.kind(),
                role.name
            );
            out.report(at, message, related_rules(role, &rules));
        }
    }
}

/// The risks a subject holds through any binding, each with one binding that grants it.
pub(crate) fn risks_of<'i>(
    inventory: &'i Inventory,
    subject: &Subject,
) -> Vec<(Risk, &'i Binding)> {
    let policy = &inventory.policy;
    let user = UserInfo::of_subject(subject);
    let bindings = policy.bindings_for(&user);
    let admin = bindings.iter().find(|b| {
        policy
            .role_of(b)
            .is_some_and(|role| !granting_rules(policy, role, Risk::ClusterAdmin).is_empty())
    });
    if let Some(binding) = admin {
        return vec![(Risk::ClusterAdmin, *binding)];
    }
    Risk::ALL
        .into_iter()
        .filter_map(|risk| {
            bindings
                .iter()
                .find(|b| {
                    policy
                        .role_of(b)
                        .is_some_and(|role| !granting_rules(policy, role, risk).is_empty())
                })
                .map(|b| (risk, *b))
        })
        .collect()
}

/// Reports non-system subjects of input bindings that can reach cluster-admin in two or more
/// steps (one step is a direct grant, reported by the cluster-admin rule).
pub(crate) fn report_escalation_paths(inventory: &Inventory, out: &mut Emitter) {
    let policy = &inventory.policy;
    let first_mention = |subject: &Subject| {
        policy
            .bindings()
            .iter()
            .filter(|b| !b.source.bootstrap)
            .find_map(|b| {
                b.subjects
                    .iter()
                    .find(|(s, _)| s == subject)
                    .map(|(_, at)| at)
            })
    };
    let graph = Graph::build(inventory);
    let paths = graph.paths_to(&Identity::ClusterAdmin, |s| {
        !s.is_system() && first_mention(s).is_some()
    });
    for path in paths.iter().filter(|p| p.steps.len() >= 2) {
        let Some(at) = first_mention(&path.start) else {
            continue;
        };
        let steps: Vec<String> = path
            .steps
            .iter()
            .enumerate()
            .map(|(i, s)| {
                format!(
                    "{}. {} {} → {}",
                    i + 1,
                    s.from.display(),
                    s.reason,
                    s.to.display()
                )
            })
            .collect();
        let message = format!(
            "{} can become cluster-admin in {} steps: {}",
            path.start.display(),
            path.steps.len(),
            steps.join("; ")
        );
        out.report(at, message, Vec::new());
    }
}
