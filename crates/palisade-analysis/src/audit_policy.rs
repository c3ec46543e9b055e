//! Audit `Policy` (`audit.k8s.io/v1`) evaluation as the API server does it: rules are tried in
//! order and the first rule that matches a request decides its level. A rule matches a
//! resource when its `resources` name the group and the resource (`*`, `pods/*`, `*/exec`
//! included) or when it names neither resources nor non-resource URLs; `users`,
//! `userGroups`, `verbs`, `namespaces` and `resourceNames` narrow it to some requests only.

use palisade_model::Node;

/// Audit levels, least to most detailed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    None,
    Metadata,
    Request,
    RequestResponse,
}

impl Level {
    pub fn parse(text: &str) -> Option<Level> {
        match text {
            "None" => Some(Level::None),
            "Metadata" => Some(Level::Metadata),
            "Request" => Some(Level::Request),
            "RequestResponse" => Some(Level::RequestResponse),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Level::None => "None",
            Level::Metadata => "Metadata",
            Level::Request => "Request",
            Level::RequestResponse => "RequestResponse",
        }
    }
}

/// How a rule applies to requests for one resource.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Match {
    /// Never.
    No,
    /// Only to some requests (some users, verbs, namespaces or names).
    Some,
    /// To every request.
    All,
}

fn strings(node: Option<&Node>) -> Vec<&str> {
    node.map(Node::as_seq)
        .unwrap_or_default()
        .iter()
        .filter_map(Node::as_str)
        .collect()
}

fn resource_matches(pattern: &str, resource: &str) -> bool {
    if pattern == "*" || pattern == resource {
        return true;
    }
    let (base, sub) = resource.split_once('/').unwrap_or((resource, ""));
    match pattern.split_once('/') {
        Some((p_base, "*")) => p_base == base && !sub.is_empty(),
        Some(("*", p_sub)) => p_sub == sub,
        _ => false,
    }
}

/// How `rule` applies to requests for `resource` (`pods/exec` for a subresource) in `group`.
pub fn rule_matches(rule: &Node, group: &str, resource: &str) -> Match {
    let narrowing = ["users", "userGroups", "verbs", "namespaces"]
        .iter()
        .any(|key| !strings(rule.get(key)).is_empty());
    let resources = rule.get("resources").map(Node::as_seq).unwrap_or_default();
    let urls = strings(rule.get("nonResourceURLs"));
    let mut named = false;
    if resources.is_empty() {
        if !urls.is_empty() {
            return Match::No;
        }
    } else {
        let entry = resources.iter().find(|entry| {
            let entry_group = entry.str_of("group").unwrap_or("");
            let names = strings(entry.get("resources"));
            (entry_group == group || entry_group == "*")
                && (names.is_empty() || names.iter().any(|p| resource_matches(p, resource)))
        });
        let Some(entry) = entry else {
            return Match::No;
        };
        named = !strings(entry.get("resourceNames")).is_empty();
    }
    if narrowing || named {
        Match::Some
    } else {
        Match::All
    }
}

/// The rule's level; an unknown level is treated as `None` (the API server rejects it).
pub fn rule_level(rule: &Node) -> Level {
    rule.str_of("level")
        .and_then(Level::parse)
        .unwrap_or(Level::None)
}

/// What a policy does with requests for one resource.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// Rules that apply to some of those requests before the decisive one: (index, level).
    pub partial: Vec<(usize, Level)>,
    /// The first rule that applies to all of them: (index, level); `None` when no rule does,
    /// and requests no rule matches are not logged.
    pub decisive: Option<(usize, Level)>,
}

impl Outcome {
    /// The level most requests get: the decisive rule's, `None` without one.
    pub fn level(&self) -> Level {
        self.decisive.map_or(Level::None, |(_, l)| l)
    }
}

pub fn evaluate(rules: &[Node], group: &str, resource: &str) -> Outcome {
    let mut partial = Vec::new();
    for (i, rule) in rules.iter().enumerate() {
        match rule_matches(rule, group, resource) {
            Match::No => {}
            Match::Some => partial.push((i, rule_level(rule))),
            Match::All => {
                return Outcome {
                    partial,
                    decisive: Some((i, rule_level(rule))),
                }
            }
        }
    }
    Outcome {
        partial,
        decisive: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_model::{Entry, Pos, Value};

    fn node(value: Value) -> Node {
        Node::new(value, Pos::new(1, 1))
    }
    fn text(s: &str) -> Node {
        node(Value::Str(s.to_string()))
    }
    fn map(entries: Vec<(&str, Node)>) -> Node {
        node(Value::Map(
            entries
                .into_iter()
                .map(|(k, v)| Entry {
                    key: k.to_string(),
                    key_pos: Pos::new(1, 1),
                    value: v,
                })
                .collect(),
        ))
    }
    fn list(items: Vec<Node>) -> Node {
        node(Value::Seq(items))
    }
    fn rule(level: &str, group: Option<&str>, resources: &[&str], verbs: &[&str]) -> Node {
        let mut entries = vec![("level", text(level))];
        if let Some(group) = group {
            entries.push((
                "resources",
                list(vec![map(vec![
                    ("group", text(group)),
                    (
                        "resources",
                        list(resources.iter().map(|r| text(r)).collect()),
                    ),
                ])]),
            ));
        }
        if !verbs.is_empty() {
            entries.push(("verbs", list(verbs.iter().map(|v| text(v)).collect())));
        }
        map(entries)
    }

    #[test]
    fn first_unconditional_match_decides() {
        let rules = vec![
            rule("RequestResponse", Some(""), &["secrets"], &["get"]),
            rule("Metadata", Some(""), &["secrets", "configmaps"], &[]),
            rule("RequestResponse", None, &[], &[]),
        ];
        let secrets = evaluate(&rules, "", "secrets");
        assert_eq!(secrets.partial, vec![(0, Level::RequestResponse)]);
        assert_eq!(secrets.decisive, Some((1, Level::Metadata)));
        let pods = evaluate(&rules, "", "pods");
        assert_eq!(pods.decisive, Some((2, Level::RequestResponse)));
        // The group matters: apps has no secrets.
        assert_eq!(evaluate(&rules[..2], "apps", "secrets").decisive, None);
    }

    #[test]
    fn subresource_patterns() {
        assert!(resource_matches("pods/*", "pods/exec"));
        assert!(resource_matches("*/exec", "pods/exec"));
        assert!(resource_matches("*", "pods/exec"));
        assert!(!resource_matches("pods", "pods/exec"));
        assert!(!resource_matches("pods/*", "pods"));
    }
}
