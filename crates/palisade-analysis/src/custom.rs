//! Custom rules written in CEL, as a team writes them in its Palisade config: what they match
//! (kinds, API groups, namespaces, a label selector), `variables`, and `validations` with their
//! `message` or `messageExpression`, judged with the same CEL engine and inputs as a
//! ValidatingAdmissionPolicy (`object`, `namespaceObject`, `request` as a CREATE, `variables`).

use palisade_cel::{Expression, Inputs};
use palisade_model::{FieldPath, Node, Object};
use serde_json::{json, Value as Json};

use crate::rbac::model::strings;
use crate::selector::{labels_of, LabelSelector};
use palisade_load::json::to_json;

struct Validation {
    expression: Expression,
    message: Option<String>,
    message_expression: Option<Expression>,
    /// Where the finding points in the object (its root when not given).
    path: FieldPath,
}

/// A compiled custom rule's check.
pub struct CustomCheck {
    kinds: Vec<String>,
    groups: Vec<String>,
    namespaces: Vec<String>,
    selector: Option<LabelSelector>,
    /// The selector as written, for export.
    selector_json: Option<Json>,
    variables: Vec<(String, Expression)>,
    validations: Vec<Validation>,
}

/// A custom rule as written, for `palisade policy export`.
pub struct CustomParts<'a> {
    pub kinds: &'a [String],
    pub groups: &'a [String],
    pub namespaces: &'a [String],
    pub label_selector: Option<&'a Json>,
    /// (name, expression)
    pub variables: Vec<(&'a str, &'a str)>,
    /// (expression, message, messageExpression)
    pub validations: Vec<(&'a str, Option<&'a str>, Option<&'a str>)>,
}

impl std::fmt::Debug for CustomCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CustomCheck")
            .field("kinds", &self.kinds)
            .field("validations", &self.validations.len())
            .finish()
    }
}

/// A failed validation: where in the object, and the message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    pub path: FieldPath,
    pub message: String,
}

impl CustomCheck {
    /// Compiles the rule written at `node` (at `path` in its file); every expression that does
    /// not compile is an error at its own place.
    pub fn compile(node: &Node, path: &FieldPath) -> Result<CustomCheck, Vec<(FieldPath, String)>> {
        let mut problems = Vec::new();
        let matching = node.get("match");
        let mut compile = |at: FieldPath, text: Option<&str>| match text {
            None => {
                problems.push((at, "an expression is required".to_string()));
                None
            }
            Some(text) => match Expression::compile(text) {
                Ok(expression) => Some(expression),
                Err(e) => {
                    problems.push((at, format!("`{text}` does not compile: {e}")));
                    None
                }
            },
        };
        let mut variables = Vec::new();
        for (i, variable) in node
            .get("variables")
            .map(Node::as_seq)
            .unwrap_or_default()
            .iter()
            .enumerate()
        {
            let at = path.key("variables").index(i).key("expression");
            if let Some(expression) = compile(at, variable.str_of("expression")) {
                variables.push((
                    variable.str_of("name").unwrap_or("").to_string(),
                    expression,
                ));
            }
        }
        let mut validations = Vec::new();
        let entries = node
            .get("validations")
            .map(Node::as_seq)
            .unwrap_or_default();
        for (i, validation) in entries.iter().enumerate() {
            let at = path.key("validations").index(i);
            let expression = compile(at.key("expression"), validation.str_of("expression"));
            let message_expression = validation
                .str_of("messageExpression")
                .or(validation.str_of("message-expression"))
                .and_then(|text| compile(at.key("message-expression"), Some(text)));
            if let Some(expression) = expression {
                validations.push(Validation {
                    expression,
                    message: validation.str_of("message").map(str::to_string),
                    message_expression,
                    path: validation
                        .str_of("path")
                        .map_or_else(FieldPath::root, FieldPath::parse),
                });
            }
        }
        // A selector the API server would refuse matches nothing: said, not left to match
        // nothing in silence.
        if let Some(selector) = matching
            .and_then(|m| m.get("label-selector"))
            .filter(|n| !n.is_null())
        {
            problems.extend(LabelSelector::problems(
                selector,
                &path.keys(&["match", "label-selector"]),
            ));
        }
        if entries.is_empty() {
            problems.push((
                path.key("validations"),
                "a custom rule needs at least one validation".to_string(),
            ));
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(CustomCheck {
            kinds: strings(matching.and_then(|m| m.get("kinds"))),
            groups: strings(matching.and_then(|m| m.get("api-groups"))),
            namespaces: strings(matching.and_then(|m| m.get("namespaces"))),
            selector: matching
                .and_then(|m| m.get("label-selector"))
                .filter(|n| !n.is_null())
                .map(LabelSelector::from_node),
            selector_json: matching
                .and_then(|m| m.get("label-selector"))
                .filter(|n| !n.is_null())
                .map(to_json),
            variables,
            validations,
        })
    }

    /// What the rule is made of, as written.
    pub fn parts(&self) -> CustomParts<'_> {
        CustomParts {
            kinds: &self.kinds,
            groups: &self.groups,
            namespaces: &self.namespaces,
            label_selector: self.selector_json.as_ref(),
            variables: self
                .variables
                .iter()
                .map(|(name, e)| (name.as_str(), e.source()))
                .collect(),
            validations: self
                .validations
                .iter()
                .map(|v| {
                    (
                        v.expression.source(),
                        v.message.as_deref(),
                        v.message_expression.as_ref().map(Expression::source),
                    )
                })
                .collect(),
        }
    }

    /// Whether the rule looks at `object` at all.
    pub fn matches(&self, object: &Object) -> bool {
        let listed = |values: &[String], value: &str| {
            values.is_empty() || values.iter().any(|v| v == "*" || v == value)
        };
        listed(&self.kinds, object.kind())
            && listed(&self.groups, object.group())
            && (self.namespaces.is_empty()
                || object
                    .reference
                    .namespace
                    .as_deref()
                    .is_some_and(|ns| listed(&self.namespaces, ns)))
            && self.selector.as_ref().is_none_or(|s| {
                s.matches(&labels_of(object.metadata().and_then(|m| m.get("labels"))))
            })
    }

    /// The validations `object` fails. An expression that cannot be evaluated (a missing field
    /// without `has`, a type mismatch) fails closed, saying why: a rule that cannot judge an
    /// object does not pass it.
    pub fn judge(&self, object: &Object) -> Vec<Failure> {
        if !self.matches(object) {
            return Vec::new();
        }
        let api_version = object.reference.api_version.as_str();
        let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
        let inputs = Inputs {
            object: to_json(&object.root),
            old_object: Json::Null,
            params: Json::Null,
            namespace_object: Json::Null,
            request: json!({
                "operation": "CREATE",
                "kind": {"group": group, "version": version, "kind": object.kind()},
                "name": object.reference.name,
                "namespace": object.reference.namespace.as_deref().unwrap_or(""),
            }),
            variables: json!({}),
        };
        palisade_cel::with_inputs(&inputs, |scope| {
            crate::admission::evaluate_variables(
                scope,
                self.variables.iter().map(|(name, e)| (name.as_str(), e)),
            );
            let mut failures = Vec::new();
            for validation in &self.validations {
                let message = match scope.evaluate(&validation.expression) {
                    Ok(Json::Bool(true)) => continue,
                    Ok(Json::Bool(false)) => crate::admission::failure_message(
                        scope,
                        &validation.expression,
                        validation.message.as_deref(),
                        validation.message_expression.as_ref(),
                    ),
                    Ok(other) => format!(
                        "`{}` gave {other}, not a bool: the rule cannot judge this object",
                        validation.expression.source()
                    ),
                    Err(e) => format!(
                        "`{}` could not be evaluated ({e}): the rule cannot judge this object",
                        validation.expression.source()
                    ),
                };
                failures.push(Failure {
                    path: validation.path.clone(),
                    message,
                });
            }
            failures
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(text: &str) -> Object {
        let file: std::sync::Arc<str> = std::sync::Arc::from("t.yaml");
        let mut out = Vec::new();
        palisade_load::load_text(&file, text, &mut |loaded| {
            if let palisade_load::Loaded::Object(o) = loaded {
                out.push(*o);
            }
        });
        out.pop().expect("an object")
    }

    fn rule(text: &str) -> Result<CustomCheck, Vec<(FieldPath, String)>> {
        let node = palisade_load::yaml::parse_documents(text, 0)
            .into_iter()
            .next()
            .expect("a document")
            .expect("YAML");
        CustomCheck::compile(&node, &FieldPath::root())
    }

    const TEAM_LABEL: &str = "match: {kinds: [Deployment], namespaces: [shop]}\nvariables:\n- {name: labels, expression: \"has(object.metadata.labels) ? object.metadata.labels : {}\"}\nvalidations:\n- expression: \"'team' in variables.labels\"\n  message-expression: \"'Deployment ' + object.metadata.name + ' names no team'\"\n  path: /metadata/labels\n";

    #[test]
    fn matches_and_judges_like_an_admission_policy() {
        let check = rule(TEAM_LABEL).expect("compiles");
        let unlabelled = object("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\nspec: {}\n");
        assert_eq!(
            check.judge(&unlabelled),
            [Failure {
                path: FieldPath::parse("/metadata/labels"),
                message: "Deployment web names no team".into()
            }]
        );
        let labelled = object("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop, labels: {team: shop}}\nspec: {}\n");
        assert_eq!(check.judge(&labelled), []);
        let elsewhere = object("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: other}\nspec: {}\n");
        assert_eq!(check.judge(&elsewhere), [], "another namespace");
        let service = object(
            "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\nspec: {}\n",
        );
        assert_eq!(check.judge(&service), [], "another kind");
    }

    #[test]
    fn evaluation_errors_fail_closed_and_bad_expressions_are_located() {
        let check =
            rule("validations:\n- {expression: \"object.spec.replicas <= 3\", message: few}\n")
                .expect("compiles");
        let without =
            object("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec: {}\n");
        let failures = check.judge(&without);
        assert_eq!(failures.len(), 1);
        assert!(
            failures[0].message.contains("could not be evaluated"),
            "{failures:?}"
        );
        let problems =
            rule("validations:\n- {expression: \"object.spec.(\"}\n- {message: no expression}\n")
                .expect_err("refused");
        let paths: Vec<&str> = problems.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(
            paths,
            ["/validations/0/expression", "/validations/1/expression"]
        );
        assert!(rule("match: {kinds: [Pod]}\n").is_err(), "no validation");
    }
}
