//! The rule catalog as ValidatingAdmissionPolicies and bindings (`palisade policy export`):
//! every selected rule CEL can express, built-in (their `cel` validations over a pod spec) and
//! custom, in the API version the target Kubernetes version serves, with what that version
//! lacks written out (variables inlined before 1.28, static messages on 1.26, no
//! `validationActions` on 1.26). Rules CEL cannot express are named with the reason.

use palisade_analysis::pss::Version;
use palisade_rules::{Check, Rule};
use serde_json::{json, Map, Value as Json};

/// What a binding does with a failed validation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportAction {
    Deny,
    Warn,
    Audit,
}

impl ExportAction {
    pub fn as_str(self) -> &'static str {
        match self {
            ExportAction::Deny => "Deny",
            ExportAction::Warn => "Warn",
            ExportAction::Audit => "Audit",
        }
    }
}

/// The policies and bindings, and what was left out.
#[derive(Debug, Default)]
pub struct Exported {
    /// Policy, binding, policy, binding, ... in rule order.
    pub documents: Vec<Json>,
    /// (rule code, rule name, why it is not exported)
    pub skipped: Vec<(&'static str, &'static str, String)>,
    /// What the cluster needs to serve them (a feature gate), when it needs something.
    pub notes: Vec<String>,
}

/// Why an export cannot be made at all.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ExportError(String);

/// The pod spec of a Pod, a CronJob or a workload with `spec.template`.
const SPEC: &str = "object.kind == 'Pod' ? object.spec : (object.kind == 'CronJob' ? object.spec.jobTemplate.spec.template.spec : object.spec.template.spec)";
/// Every container of that spec, init and ephemeral ones included.
const CONTAINERS: &str = "variables.spec.containers + (has(variables.spec.initContainers) ? variables.spec.initContainers : []) + (has(variables.spec.ephemeralContainers) ? variables.spec.ephemeralContainers : [])";

/// What the API version at `version` can say.
struct Dialect {
    api_version: &'static str,
    variables: bool,
    message_expression: bool,
    validation_actions: bool,
}

fn dialect(version: Version) -> Result<(Dialect, Option<String>), ExportError> {
    let minor = version.minor;
    let gate = |api: &str| {
        format!(
            "Kubernetes 1.{minor} serves ValidatingAdmissionPolicy {api} only with `--feature-gates=ValidatingAdmissionPolicy=true --runtime-config=admissionregistration.k8s.io/{api}=true` on the API server"
        )
    };
    Ok(match minor {
        0..=25 => {
            return Err(ExportError(format!(
                "Kubernetes 1.{minor} has no ValidatingAdmissionPolicy (alpha from 1.26): use `palisade admit` there"
            )))
        }
        26 => (
            Dialect {
                api_version: "v1alpha1",
                variables: false,
                message_expression: false,
                validation_actions: false,
            },
            Some(gate("v1alpha1")),
        ),
        27 => (
            Dialect {
                api_version: "v1alpha1",
                variables: false,
                message_expression: true,
                validation_actions: true,
            },
            Some(gate("v1alpha1")),
        ),
        28 | 29 => (
            Dialect {
                api_version: "v1beta1",
                variables: true,
                message_expression: true,
                validation_actions: true,
            },
            Some(gate("v1beta1")),
        ),
        _ => (
            Dialect {
                api_version: "v1",
                variables: true,
                message_expression: true,
                validation_actions: true,
            },
            None,
        ),
    })
}

/// `text` with every `variables.NAME` replaced by its expression, in parentheses; later
/// variables may use earlier ones, so they are replaced last first.
fn inline_variables(text: &str, variables: &[(&str, &str)]) -> String {
    let mut out = text.to_string();
    for (name, expression) in variables.iter().rev() {
        let needle = format!("variables.{name}");
        let mut result = String::with_capacity(out.len());
        let mut rest = out.as_str();
        while let Some(at) = rest.find(&needle) {
            let after = &rest[at + needle.len()..];
            let boundary = !after.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_');
            result.push_str(&rest[..at]);
            if boundary {
                result.push('(');
                result.push_str(expression);
                result.push(')');
            } else {
                result.push_str(&needle);
            }
            rest = after;
        }
        result.push_str(rest);
        out = result;
    }
    out
}

/// The API group of a kind a custom rule names without `api-groups`.
fn group_of(kind: &str) -> &'static str {
    match kind {
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "ControllerRevision" => "apps",
        "Job" | "CronJob" => "batch",
        "Ingress" | "NetworkPolicy" | "IngressClass" => "networking.k8s.io",
        "Role" | "RoleBinding" | "ClusterRole" | "ClusterRoleBinding" => {
            "rbac.authorization.k8s.io"
        }
        "PodDisruptionBudget" => "policy",
        "HorizontalPodAutoscaler" => "autoscaling",
        _ => "",
    }
}

/// The (API group, resource) pairs of `kinds`, in the API groups given or, when none are, the
/// group each built-in kind lives in; `*` names no resource.
fn kind_resources(kinds: &[String], groups: &[String]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for kind in kinds.iter().filter(|k| *k != "*") {
        let kind_groups: Vec<String> = if groups.is_empty() {
            vec![group_of(kind).to_string()]
        } else {
            groups.to_vec()
        };
        for group in kind_groups {
            let pair = (group, palisade_analysis::admission::plural(kind));
            if !out.contains(&pair) {
                out.push(pair);
            }
        }
    }
    out
}

/// The (API group, resource) pairs the config's custom rules name by kind, for the webhook's
/// registration: a rule that names no kind would need every request, and is left out.
pub fn custom_rule_resources(rules: &[&'static Rule]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for rule in rules {
        if let Check::Custom(check) = rule.check {
            let parts = check.parts();
            for pair in kind_resources(parts.kinds, parts.groups) {
                if !out.contains(&pair) {
                    out.push(pair);
                }
            }
        }
    }
    out
}

/// The pods and every built-in kind that carries a pod template.
fn pod_resource_rules() -> Json {
    let rule = |group: &str, resources: &[&str]| json!({"apiGroups": [group], "apiVersions": ["*"], "operations": ["CREATE", "UPDATE"], "resources": resources});
    json!([
        rule("", &["pods", "replicationcontrollers"]),
        rule(
            "apps",
            &["deployments", "statefulsets", "daemonsets", "replicasets"]
        ),
        rule("batch", &["jobs", "cronjobs"]),
    ])
}

fn custom_resource_rules(kinds: &[String], groups: &[String]) -> Json {
    if kinds.is_empty() || kinds.iter().any(|k| k == "*") {
        let groups: Vec<&str> = if groups.is_empty() {
            vec!["*"]
        } else {
            groups.iter().map(String::as_str).collect()
        };
        return json!([{"apiGroups": groups, "apiVersions": ["*"], "operations": ["CREATE", "UPDATE"], "resources": ["*"]}]);
    }
    let mut by_group: Vec<(String, Vec<String>)> = Vec::new();
    for (group, resource) in kind_resources(kinds, groups) {
        match by_group.iter_mut().find(|(g, _)| *g == group) {
            Some((_, resources)) => resources.push(resource),
            None => by_group.push((group, vec![resource])),
        }
    }
    Json::Array(
        by_group
            .into_iter()
            .map(|(group, resources)| {
                json!({"apiGroups": [group], "apiVersions": ["*"], "operations": ["CREATE", "UPDATE"], "resources": resources})
            })
            .collect(),
    )
}

/// What a policy is made of before the API version shapes it.
struct PolicyParts {
    resource_rules: Json,
    /// `namespaceSelector`, `objectSelector`.
    selectors: Map<String, Json>,
    /// (name, expression)
    variables: Vec<(String, String)>,
    validations: Vec<Json>,
}

/// Why a built-in rule without CEL validations has none.
fn why_not(rule: &Rule) -> String {
    match rule.check {
        Check::Inventory(_) => "judges the whole input together (bindings, roles, policies, references between objects): an admission policy sees one object at a time".into(),
        Check::File(_) => "judges node files, which never pass through the API server".into(),
        Check::AuditEvent(_) | Check::AuditStream(_) => "judges the audit log, not objects".into(),
        Check::Suppression => "judges Palisade's own suppressions".into(),
        Check::Admission => "applies the cluster's admission policies themselves".into(),
        _ if !rule.meta.options.is_empty() => "takes options (lists the config sets), which its CEL form does not read yet".into(),
        _ => "has no CEL form in Palisade yet: `palisade admit` enforces it".into(),
    }
}

fn metadata(rule: &Rule) -> Json {
    json!({
        "name": format!("palisade-{}", rule.meta.info.code.to_ascii_lowercase()),
        "labels": {"app.kubernetes.io/managed-by": "palisade"},
        "annotations": {
            "palisade.dev/rule": rule.meta.info.code,
            "palisade.dev/name": rule.meta.info.name,
            "palisade.dev/severity": rule.meta.severity.as_str(),
        },
    })
}

/// The policies and bindings for `rules` at Kubernetes `version`, their failed validations
/// handled by `action`.
pub fn export(
    rules: &[&'static Rule],
    version: Version,
    action: ExportAction,
) -> Result<Exported, ExportError> {
    let (dialect, note) = dialect(version)?;
    if !dialect.validation_actions && action != ExportAction::Deny {
        return Err(ExportError(format!(
            "Kubernetes 1.{} bindings can only deny (validationActions came in 1.27)",
            version.minor
        )));
    }
    let api_version = format!("admissionregistration.k8s.io/{}", dialect.api_version);
    let mut out = Exported::default();
    out.notes.extend(note);
    for &rule in rules {
        let title = format!(
            "{} {}: {}",
            rule.meta.info.code,
            rule.meta.info.name,
            rule.meta.summary()
        );
        let PolicyParts {
            resource_rules,
            mut selectors,
            variables,
            validations,
        } = match rule.check {
            Check::Custom(check) => {
                let parts = check.parts();
                // What the target's CEL does not have yet would not compile there.
                let too_new = parts
                    .variables
                    .iter()
                    .map(|(_, e)| *e)
                    .chain(
                        parts
                            .validations
                            .iter()
                            .flat_map(|(e, _, m)| std::iter::once(*e).chain(*m)),
                    )
                    .find_map(|e| palisade_cel::unavailable_in(e, version.minor));
                if let Some(why) = too_new {
                    out.skipped
                        .push((rule.meta.info.code, rule.meta.info.name, why));
                    continue;
                }
                let mut selectors = Map::new();
                if !parts.namespaces.is_empty() {
                    selectors.insert(
                        "namespaceSelector".into(),
                        json!({"matchExpressions": [{"key": "kubernetes.io/metadata.name", "operator": "In", "values": parts.namespaces}]}),
                    );
                }
                if let Some(selector) = parts.label_selector {
                    selectors.insert("objectSelector".into(), selector.clone());
                }
                let validations = parts
                    .validations
                    .iter()
                    .map(|(expression, message, message_expression)| {
                        let mut v = Map::new();
                        v.insert("expression".into(), json!(expression));
                        v.insert(
                            "message".into(),
                            json!(message.map_or_else(|| title.clone(), str::to_string)),
                        );
                        if let (Some(text), true) = (message_expression, dialect.message_expression)
                        {
                            v.insert("messageExpression".into(), json!(text));
                        }
                        Json::Object(v)
                    })
                    .collect();
                let variables = parts
                    .variables
                    .iter()
                    .map(|(n, e)| (n.to_string(), e.to_string()))
                    .collect();
                PolicyParts {
                    resource_rules: custom_resource_rules(parts.kinds, parts.groups),
                    selectors,
                    variables,
                    validations,
                }
            }
            _ if !rule.meta.cel.is_empty() => PolicyParts {
                resource_rules: pod_resource_rules(),
                selectors: Map::new(),
                variables: vec![
                    ("spec".to_string(), SPEC.to_string()),
                    ("containers".to_string(), CONTAINERS.to_string()),
                ],
                validations: rule
                    .meta
                    .cel
                    .iter()
                    .map(|(expression, message)| {
                        json!({"expression": expression, "message": format!("{} {}: {message}", rule.meta.info.code, rule.meta.info.name)})
                    })
                    .collect(),
            },
            _ => {
                out.skipped
                    .push((rule.meta.info.code, rule.meta.info.name, why_not(rule)));
                continue;
            }
        };
        let mut spec = Map::new();
        spec.insert("failurePolicy".into(), json!("Fail"));
        selectors.insert("resourceRules".into(), resource_rules);
        spec.insert("matchConstraints".into(), Json::Object(selectors));
        let validations = if dialect.variables {
            if !variables.is_empty() {
                spec.insert(
                    "variables".into(),
                    Json::Array(
                        variables
                            .iter()
                            .map(|(name, expression)| json!({"name": name, "expression": expression}))
                            .collect(),
                    ),
                );
            }
            validations
        } else {
            let pairs: Vec<(&str, &str)> = variables
                .iter()
                .map(|(n, e)| (n.as_str(), e.as_str()))
                .collect();
            validations
                .into_iter()
                .map(|mut v| {
                    for key in ["expression", "messageExpression"] {
                        if let Some(text) = v.get(key).and_then(Json::as_str) {
                            v[key] = json!(inline_variables(text, &pairs));
                        }
                    }
                    v
                })
                .collect()
        };
        spec.insert("validations".into(), Json::Array(validations));
        let meta = metadata(rule);
        let name = meta["name"].clone();
        out.documents.push(json!({
            "apiVersion": api_version,
            "kind": "ValidatingAdmissionPolicy",
            "metadata": meta,
            "spec": Json::Object(spec),
        }));
        let mut binding_spec = Map::new();
        binding_spec.insert("policyName".into(), name.clone());
        if dialect.validation_actions {
            binding_spec.insert("validationActions".into(), json!([action.as_str()]));
        }
        let mut binding_meta = metadata(rule);
        binding_meta["name"] = name;
        out.documents.push(json!({
            "apiVersion": api_version,
            "kind": "ValidatingAdmissionPolicyBinding",
            "metadata": binding_meta,
            "spec": Json::Object(binding_spec),
        }));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variables_are_inlined_whole_words_only() {
        let variables = [
            ("spec", "object.spec"),
            ("containers", "variables.spec.containers"),
        ];
        assert_eq!(
            inline_variables(
                "variables.containers.all(c, variables.spec.x) && variables.specs",
                &variables
            ),
            "((object.spec).containers).all(c, (object.spec).x) && variables.specs"
        );
    }
}
