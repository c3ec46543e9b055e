//! The template behind the risky-grant rules: one implementation, one rule entry per risk.

use palisade_analysis::rbac::paths::Identity;
use palisade_analysis::rbac::risk::{granting_rules, Reach, Risk};
use palisade_analysis::rbac::{Binding, Inventory, PolicyRule, Role, Source, Subject, UserInfo};
use palisade_model::Related;
use palisade_model::Word;

use crate::Emitter;

fn scope(binding: &Binding) -> String {
    match (&binding.namespace, binding.cluster) {
        (_, true) => "cluster-wide".to_string(),
        (Some(ns), false) => format!("in namespace {ns}"),
        (None, false) => "in the namespace it is applied to".to_string(),
    }
}

pub(crate) fn reach(binding: &Binding) -> Reach {
    if binding.cluster {
        Reach::ClusterWide
    } else {
        Reach::Namespace
    }
}

/// The rules of `binding`'s role that grant `risk`; none when the role grants everything and
/// `risk` is not cluster-admin (holding everything is reported once, by the cluster-admin
/// rule).
pub(crate) fn binding_risk<'p>(
    inventory: &'p Inventory,
    binding: &Binding,
    role: &'p Role,
    risk: Risk,
) -> Vec<&'p PolicyRule> {
    let policy = &inventory.policy;
    let version = inventory.kubernetes_version;
    let everything = risk != Risk::ClusterAdmin
        && !granting_rules(policy, role, reach(binding), Risk::ClusterAdmin, version).is_empty();
    if everything {
        return Vec::new();
    }
    granting_rules(policy, role, reach(binding), risk, version)
}

/// ` (assuming Kubernetes v1.30: ...)` for risks whose meaning changed between versions.
pub(crate) fn version_suffix(inventory: &Inventory, risk: Risk) -> String {
    risk.version_note(inventory.kubernetes_version)
        .map(|note| format!(" ({note})"))
        .unwrap_or_default()
}

fn rule_summary(rule: &PolicyRule) -> String {
    let groups: Vec<String> = rule
        .api_groups
        .iter()
        .map(|g| {
            if g.is_empty() {
                "core".to_string()
            } else {
                g.to_string()
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
        .map(|rule| {
            let mut message = if rule.source.object.name == role.name {
                rule_summary(rule)
            } else {
                format!(
                    "{} (aggregated into ClusterRole {})",
                    rule_summary(rule),
                    role.name
                )
            };
            // Kubernetes' own roles are in no file of the user's: say whose they are instead.
            let location = if rule.source.bootstrap {
                message.push_str(&format!(
                    ", in {} {}, part of Kubernetes' default RBAC policy",
                    rule.source.object.kind, rule.source.object.name
                ));
                None
            } else {
                rule.source.location.clone()
            };
            Related {
                object: rule.source.object.clone(),
                path: rule.path.clone(),
                location,
                message,
            }
        })
        .collect()
}

/// Reports every non-system subject of an input binding whose role grants `risk`.
pub(crate) fn report_risk(inventory: &Inventory, out: &mut Emitter, risk: Risk) {
    let policy = &inventory.policy;
    for binding in policy.input_bindings() {
        let Some(role) = policy.role_of(binding) else {
            continue;
        };
        let rules = binding_risk(inventory, binding, role, risk);
        if rules.is_empty() {
            continue;
        }
        // Every granting rule limited to `resourceNames`: the grant reaches those objects only.
        let names: Option<Vec<&str>> =
            rules.iter().all(|r| !r.resource_names.is_empty()).then(|| {
                let mut names: Vec<&str> = rules
                    .iter()
                    .flat_map(|r| r.resource_names.iter().map(Word::as_str))
                    .collect();
                names.sort_unstable();
                names.dedup();
                names
            });
        for (subject, at) in binding.subjects.iter().filter(|(s, _)| !s.is_system()) {
            // Minting tokens only for itself gives an account nothing it does not hold; a
            // ClusterRoleBinding would reach accounts of that name in every namespace.
            if risk == Risk::CreateTokens
                && subject.kind == palisade_analysis::rbac::SubjectKind::ServiceAccount
                && !binding.cluster
                && binding.namespace == subject.namespace
                && names
                    .as_ref()
                    .is_some_and(|names| names.iter().all(|n| *n == subject.name))
            {
                continue;
            }
            let limited = names
                .as_ref()
                .map(|names| format!(" (only the objects named {})", names.join(", ")))
                .unwrap_or_default();
            let message = format!(
                "{} {}{limited} {} via {} → {} {}{}",
                subject.display(),
                risk.describe(),
                scope(binding),
                binding.display(),
                role.kind(),
                role.name,
                version_suffix(inventory, risk)
            );
            // A grant on named objects is a smaller one: reported, at low severity.
            let severity = names.is_some().then_some(palisade_model::Severity::Low);
            out.report_with(at, severity, message, related_rules(role, &rules));
        }
    }
}

/// The risks a subject holds through any binding, each with one binding that grants it.
/// Whether a binding (by address, within one inventory) grants a risk: the same cluster-wide
/// bindings (to `system:serviceaccounts`, say) apply to every service account, and are judged
/// once.
pub(crate) type RiskMemo = foldhash::HashMap<(usize, Risk), bool>;

pub(crate) fn risks_of<'i>(
    inventory: &'i Inventory,
    subject: &Subject,
    judged: &mut RiskMemo,
) -> Vec<(Risk, &'i Binding)> {
    let policy = &inventory.policy;
    let user = UserInfo::of_subject(subject);
    let bindings = policy.bindings_for(&user);
    let mut holds = |binding: &Binding, risk: Risk| {
        *judged
            .entry((std::ptr::from_ref(binding) as usize, risk))
            .or_insert_with(|| {
                policy
                    .role_of(binding)
                    .is_some_and(|role| !binding_risk(inventory, binding, role, risk).is_empty())
            })
    };
    let admin = bindings.iter().find(|b| holds(b, Risk::ClusterAdmin));
    if let Some(binding) = admin {
        return vec![(Risk::ClusterAdmin, *binding)];
    }
    Risk::ALL
        .into_iter()
        .filter_map(|risk| bindings.iter().find(|b| holds(b, risk)).map(|b| (risk, *b)))
        .collect()
}

/// Reports non-system subjects of input bindings that can reach cluster-admin in two or more
/// steps (one step is a direct grant, reported by the cluster-admin rule).
pub(crate) fn report_escalation_paths(inventory: &Inventory, out: &mut Emitter) {
    // Where each subject is first bound in the input, indexed once: asked of every subject
    // the graph holds, a scan of the bindings per subject was most of this rule's time.
    let mut first_mentions: foldhash::HashMap<&Subject, &Source> = Default::default();
    for binding in inventory.policy.input_bindings() {
        for (subject, at) in &binding.subjects {
            first_mentions.entry(subject).or_insert(at);
        }
    }
    let first_mention = |subject: &Subject| first_mentions.get(subject).copied();
    let graph = inventory.escalation_graph();
    let paths = graph.paths_to(&Identity::ClusterAdmin, |s| {
        !s.is_system() && first_mention(s).is_some()
    });
    for path in paths.iter().filter(|p| p.steps.len() >= 2) {
        // At the binding that grants the first step: where the path is cut.
        let first_step = path.steps.first().and_then(|s| s.granted_by.as_ref());
        let Some(at) = first_step
            .filter(|source| !source.bootstrap)
            .or_else(|| first_mention(&path.start))
        else {
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
