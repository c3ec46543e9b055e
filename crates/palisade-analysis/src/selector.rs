//! Kubernetes label selectors (`matchLabels` and `matchExpressions`), shared by the RBAC
//! aggregation and NetworkPolicy engines.

use palisade_model::{FieldPath, Node, Value};

/// One requirement of a selector.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Requirement {
    Equals(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    DoesNotExist(String),
}

/// A label selector. The empty selector matches everything.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct LabelSelector {
    pub requirements: Vec<Requirement>,
}

/// Labels as (key, value) pairs.
pub type Labels = [(String, String)];

fn label<'a>(labels: &'a Labels, key: &str) -> Option<&'a str> {
    labels
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

impl LabelSelector {
    /// Why the API server would refuse `node` as a `LabelSelector` (at `path`): not a mapping,
    /// `matchLabels` not a map of strings, an expression without a key, an unknown operator, `In`
    /// and `NotIn` without values, `Exists` and `DoesNotExist` with some.
    pub fn problems(node: &Node, path: &FieldPath) -> Vec<(FieldPath, String)> {
        let mut out = Vec::new();
        if !node.is_map() {
            out.push((
                path.clone(),
                format!(
                    "must be a label selector (a mapping), found a {}",
                    node.type_name()
                ),
            ));
            return out;
        }
        if let Some(labels) = node.get("matchLabels").filter(|n| !n.is_null()) {
            match &labels.value {
                Value::Map(entries) => {
                    for entry in entries {
                        if entry.value.as_str().is_none() && !entry.value.is_null() {
                            out.push((
                                path.keys(&["matchLabels", &entry.key]),
                                format!("must be a string, found a {}", entry.value.type_name()),
                            ));
                        }
                    }
                }
                _ => out.push((
                    path.key("matchLabels"),
                    format!("must be a mapping, found a {}", labels.type_name()),
                )),
            }
        }
        let Some(expressions) = node.get("matchExpressions").filter(|n| !n.is_null()) else {
            return out;
        };
        let Value::Seq(expressions) = &expressions.value else {
            out.push((
                path.key("matchExpressions"),
                format!("must be a list, found a {}", expressions.type_name()),
            ));
            return out;
        };
        for (i, expression) in expressions.iter().enumerate() {
            let at = path.key("matchExpressions").index(i);
            if !expression.is_map() {
                out.push((
                    at,
                    format!("must be a mapping, found a {}", expression.type_name()),
                ));
                continue;
            }
            if expression.str_of("key").is_none_or(str::is_empty) {
                out.push((at.key("key"), "required".to_string()));
            }
            let values = expression.get("values").filter(|n| !n.is_null());
            let count = match values.map(|v| &v.value) {
                None => 0,
                Some(Value::Seq(items)) => {
                    if let Some(j) = items.iter().position(|v| v.as_str().is_none()) {
                        out.push((at.key("values").index(j), "must be a string".to_string()));
                    }
                    items.len()
                }
                Some(_) => {
                    out.push((at.key("values"), "must be a list of strings".to_string()));
                    0
                }
            };
            match expression.str_of("operator") {
                Some("In" | "NotIn") if count == 0 => out.push((
                    at.key("values"),
                    "must be non-empty when `operator` is In or NotIn".to_string(),
                )),
                Some("Exists" | "DoesNotExist") if count > 0 => out.push((
                    at.key("values"),
                    "must be empty when `operator` is Exists or DoesNotExist".to_string(),
                )),
                Some("In" | "NotIn" | "Exists" | "DoesNotExist") => {}
                _ => out.push((
                    at.key("operator"),
                    "not a selector operator: In, NotIn, Exists or DoesNotExist".to_string(),
                )),
            }
        }
        out
    }

    /// A plain label map as a selector (a Service's `spec.selector`): every label must match.
    pub fn from_map(node: &Node) -> Self {
        LabelSelector {
            requirements: labels_of(Some(node))
                .into_iter()
                .map(|(key, value)| Requirement::Equals(key, value))
                .collect(),
        }
    }

    /// Reads a `LabelSelector` object; an unknown operator makes the selector match nothing, as
    /// the API server would have rejected it.
    pub fn from_node(node: &Node) -> Self {
        let mut requirements = Vec::new();
        for entry in node
            .get("matchLabels")
            .map(Node::as_map)
            .unwrap_or_default()
        {
            let value = entry
                .value
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| entry.value.value.to_string());
            requirements.push(Requirement::Equals(entry.key.clone(), value));
        }
        for expression in node
            .get("matchExpressions")
            .map(Node::as_seq)
            .unwrap_or_default()
        {
            let key = expression.str_of("key").unwrap_or_default().to_string();
            let values: Vec<String> = expression
                .get("values")
                .map(Node::as_seq)
                .unwrap_or_default()
                .iter()
                .map(|v| {
                    v.as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| v.value.to_string())
                })
                .collect();
            requirements.push(match expression.str_of("operator") {
                Some("In") => Requirement::In(key, values),
                Some("NotIn") => Requirement::NotIn(key, values),
                Some("Exists") => Requirement::Exists(key),
                Some("DoesNotExist") => Requirement::DoesNotExist(key),
                _ => Requirement::In(key, Vec::new()),
            });
        }
        LabelSelector { requirements }
    }

    /// The label keys this selector looks at.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.requirements.iter().map(|r| match r {
            Requirement::Equals(k, _)
            | Requirement::In(k, _)
            | Requirement::NotIn(k, _)
            | Requirement::Exists(k)
            | Requirement::DoesNotExist(k) => k.as_str(),
        })
    }

    pub fn matches(&self, labels: &Labels) -> bool {
        self.matches_lookup(|key| label(labels, key))
    }

    /// Matches labels that `label` looks up by key (labels made up on the fly, such as the
    /// namespace labels Cilium gives pods).
    pub fn matches_lookup<'a>(&self, label: impl Fn(&str) -> Option<&'a str>) -> bool {
        self.requirements.iter().all(|req| match req {
            Requirement::Equals(k, v) => label(k) == Some(v.as_str()),
            Requirement::In(k, vs) => label(k).is_some_and(|l| vs.iter().any(|v| v == l)),
            Requirement::NotIn(k, vs) => label(k).is_none_or(|l| vs.iter().all(|v| v != l)),
            Requirement::Exists(k) => label(k).is_some(),
            Requirement::DoesNotExist(k) => label(k).is_none(),
        })
    }
}

/// The labels of an object's `metadata.labels` (or any mapping of strings).
pub fn labels_of(labels: Option<&Node>) -> Vec<(String, String)> {
    labels
        .map(Node::as_map)
        .unwrap_or_default()
        .iter()
        .map(|e| {
            let value = e
                .value
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| e.value.value.to_string());
            (e.key.clone(), value)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn requirements_follow_kubernetes_semantics() {
        let tier = labels(&[("app", "web"), ("tier", "frontend")]);
        let req = |r: Requirement| LabelSelector {
            requirements: vec![r],
        };
        assert!(LabelSelector::default().matches(&tier), "empty selects all");
        assert!(req(Requirement::Equals("app".into(), "web".into())).matches(&tier));
        assert!(!req(Requirement::Equals("app".into(), "api".into())).matches(&tier));
        assert!(req(Requirement::In(
            "tier".into(),
            vec!["frontend".into(), "edge".into()]
        ))
        .matches(&tier));
        assert!(!req(Requirement::In("zone".into(), vec!["a".into()])).matches(&tier));
        assert!(
            req(Requirement::NotIn("zone".into(), vec!["a".into()])).matches(&tier),
            "NotIn matches absent keys"
        );
        assert!(!req(Requirement::NotIn("tier".into(), vec!["frontend".into()])).matches(&tier));
        assert!(req(Requirement::Exists("app".into())).matches(&tier));
        assert!(req(Requirement::DoesNotExist("zone".into())).matches(&tier));
        assert!(!req(Requirement::DoesNotExist("app".into())).matches(&tier));
    }
}
