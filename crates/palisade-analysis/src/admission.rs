//! ValidatingAdmissionPolicies and their bindings, judged offline as the API server judges a
//! CREATE: which policies a binding puts in force for an object (`matchConstraints` intersected
//! with the binding's `matchResources`: resource rules, excluded rules, namespace and object
//! selectors), its parameters, `matchConditions`, `variables`, `validations` and their
//! messages, `failurePolicy` and the binding's `validationActions`. Read from
//! `admissionregistration.k8s.io` `v1alpha1`, `v1beta1` and `v1`.

use std::collections::HashMap;

use palisade_cel::{Expression, Inputs};
use palisade_model::{FieldPath, Node, Object};
use serde_json::{json, Value as Json};

use crate::rbac::model::strings;
use crate::rbac::Source;
use crate::selector::{labels_of, LabelSelector};
use palisade_load::json::to_json;

/// What a binding does with a failed validation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Action {
    Deny,
    Warn,
    Audit,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Deny => "Deny",
            Action::Warn => "Warn",
            Action::Audit => "Audit",
        }
    }
}

#[derive(Clone, Debug, Default)]
struct ResourceRule {
    groups: Vec<String>,
    versions: Vec<String>,
    resources: Vec<String>,
    operations: Vec<String>,
    names: Vec<String>,
    scope: String,
}

#[derive(Clone, Debug, Default)]
struct MatchResources {
    namespace_selector: Option<LabelSelector>,
    object_selector: Option<LabelSelector>,
    rules: Vec<ResourceRule>,
    excluded: Vec<ResourceRule>,
}

struct Validation {
    expression: Result<Expression, String>,
    message: Option<String>,
    message_expression: Option<Result<Expression, String>>,
    /// Where the validation is written.
    source: Source,
}

struct Policy {
    name: String,
    alpha: bool,
    constraints: MatchResources,
    param_kind: Option<(String, String)>,
    conditions: Vec<(String, Result<Expression, String>)>,
    variables: Vec<(String, Result<Expression, String>)>,
    validations: Vec<Validation>,
    /// `auditAnnotations`: (key, valueExpression).
    audit_annotations: Vec<(String, Result<Expression, String>)>,
    /// Some expression reads `namespaceObject`.
    reads_namespace_object: bool,
    fail: bool,
    source: Source,
}

struct ParamRef {
    name: Option<String>,
    namespace: Option<String>,
    selector: Option<LabelSelector>,
    deny_when_missing: bool,
}

struct Binding {
    name: String,
    policy: String,
    resources: Option<MatchResources>,
    params: Option<ParamRef>,
    actions: Vec<Action>,
}

/// A candidate parameter object: its identity and JSON.
struct Param {
    api_version: String,
    kind: String,
    namespace: Option<String>,
    name: String,
    labels: Vec<(String, String)>,
    /// Converted for CEL once: every object a binding judges sees it.
    value: palisade_cel::Value,
}

/// A failed validation, as the API server would report it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    pub policy: String,
    pub binding: String,
    pub action: Action,
    /// The failed validation's index, or `None` when the policy failed as a whole (an
    /// evaluation error under `failurePolicy: Fail`, missing parameters).
    pub validation: Option<usize>,
    pub message: String,
    /// `object`, or `pod-template` when judged on a workload's pod template.
    pub target: &'static str,
    /// Where in the policy's file the failing validation is.
    pub at: Source,
    /// What the policy's `auditAnnotations` record for the object (`POLICY/KEY`, value), as
    /// the API server writes them to the audit log.
    pub audit_annotations: Vec<(String, String)>,
}

/// Everything needed to judge objects: policies, bindings, parameter objects, namespaces.
#[derive(Default)]
pub struct Policies {
    policies: Vec<Policy>,
    bindings: Vec<Binding>,
    params: Vec<Param>,
    namespaces: HashMap<String, Json>,
    /// Problems with the policies themselves (an expression that does not compile).
    pub problems: Vec<(Source, String)>,
    /// Bindings, by where they are written, for [`Policies::dangling_bindings`].
    binding_sources: Vec<Source>,
    /// Each binding's policy (an index into `policies`), worked out at the first judgement:
    /// policies and bindings arrive in any order, and are not added to after.
    policy_of_binding: std::sync::OnceLock<Vec<Option<usize>>>,
    /// The Kubernetes minor version the policies are for: an expression using CEL that came
    /// later does not compile, as the API server would refuse it.
    kubernetes_minor: Option<u32>,
}

impl std::fmt::Debug for Policies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Policies")
            .field(
                "policies",
                &self.policies.iter().map(|p| &p.name).collect::<Vec<_>>(),
            )
            .field(
                "bindings",
                &self.bindings.iter().map(|b| &b.name).collect::<Vec<_>>(),
            )
            .field("params", &self.params.len())
            .finish()
    }
}

fn resource_rules(node: Option<&Node>) -> Vec<ResourceRule> {
    node.map(Node::as_seq)
        .unwrap_or_default()
        .iter()
        .map(|rule| ResourceRule {
            groups: strings(rule.get("apiGroups")),
            versions: strings(rule.get("apiVersions")),
            resources: strings(rule.get("resources")),
            operations: strings(rule.get("operations")),
            names: strings(rule.get("resourceNames")),
            scope: rule.str_of("scope").unwrap_or("*").to_string(),
        })
        .collect()
}

fn match_resources(node: &Node) -> MatchResources {
    MatchResources {
        namespace_selector: node
            .get("namespaceSelector")
            .filter(|n| !n.is_null())
            .map(LabelSelector::from_node),
        object_selector: node
            .get("objectSelector")
            .filter(|n| !n.is_null())
            .map(LabelSelector::from_node),
        rules: resource_rules(node.get("resourceRules")),
        excluded: resource_rules(node.get("excludeResourceRules")),
    }
}

/// `Deployment` -> `deployments`, `NetworkPolicy` -> `networkpolicies`, `Ingress` ->
/// `ingresses`: the API's plural, for the kinds whose plural is regular.
pub fn plural(kind: &str) -> String {
    let lower = kind.to_ascii_lowercase();
    if lower == "endpoints" {
        lower
    } else if let Some(stem) = lower
        .strip_suffix('y')
        .filter(|s| !s.ends_with(['a', 'e', 'o', 'u']))
    {
        format!("{stem}ies")
    } else if lower.ends_with('s') || lower.ends_with('x') || lower.ends_with("ch") {
        format!("{lower}es")
    } else {
        format!("{lower}s")
    }
}

/// What a rule matches against.
struct Request<'a> {
    group: &'a str,
    version: &'a str,
    kind: &'a str,
    resource: &'a str,
    name: &'a str,
    namespace: Option<&'a str>,
    labels: &'a [(String, String)],
    /// The namespace's labels, worked out at the first namespace selector that asks.
    namespace_labels: std::cell::OnceCell<Vec<(String, String)>>,
}

fn listed(values: &[String], value: &str) -> bool {
    values.iter().any(|v| v == "*" || v == value)
}

impl ResourceRule {
    fn matches(&self, request: &Request<'_>) -> bool {
        let scope_ok = match self.scope.as_str() {
            "Namespaced" => request.namespace.is_some(),
            "Cluster" => request.namespace.is_none(),
            _ => true,
        };
        let resource_ok = self.resources.iter().any(|r| {
            r == "*"
                || r == request.resource
                || r == "*/*"
                || r.strip_suffix("/*") == Some(request.resource)
        });
        scope_ok
            && listed(&self.groups, request.group)
            && listed(&self.versions, request.version)
            && resource_ok
            && (self.operations.is_empty() || listed(&self.operations, "CREATE"))
            && (self.names.is_empty() || self.names.iter().any(|n| n == request.name))
    }
}

impl Policies {
    /// Policies as Kubernetes 1.`minor` reads them (`None`: the newest).
    pub fn for_kubernetes(minor: Option<u32>) -> Policies {
        Policies {
            kubernetes_minor: minor,
            ..Policies::default()
        }
    }

    /// Takes `object` if it is a policy or a binding (the first of two passes over the input).
    pub fn add_policy_or_binding(&mut self, object: &Object) {
        // Worked out again at the next judgement.
        self.policy_of_binding = std::sync::OnceLock::new();
        match (object.group(), object.kind()) {
            ("admissionregistration.k8s.io", "ValidatingAdmissionPolicy") => {
                self.add_policy(object)
            }
            ("admissionregistration.k8s.io", "ValidatingAdmissionPolicyBinding") => {
                self.add_binding(object)
            }
            _ => {}
        }
    }

    /// Every policy's `paramKind`, as (apiVersion, kind).
    pub fn param_kinds(&self) -> Vec<(String, String)> {
        let mut kinds: Vec<(String, String)> = self
            .policies
            .iter()
            .filter_map(|p| p.param_kind.clone())
            .collect();
        kinds.sort();
        kinds.dedup();
        kinds
    }

    /// The kinds [`Policies::add_context`] keeps: Namespace and every policy's `paramKind`.
    pub fn context_kinds(&self) -> Vec<String> {
        let mut kinds: Vec<String> = self
            .policies
            .iter()
            .filter_map(|p| p.param_kind.as_ref().map(|(_, kind)| kind.clone()))
            .collect();
        kinds.push("Namespace".to_string());
        kinds.sort();
        kinds.dedup();
        kinds
    }

    /// Takes `object` if a policy can see it: a Namespace (`namespaceObject`, namespace
    /// selectors) or an object of a policy's `paramKind` (the second pass).
    pub fn add_context(&mut self, object: &Object) {
        if (object.group(), object.kind()) == ("", "Namespace") {
            self.namespaces
                .insert(object.reference.name.clone(), to_json(&object.root));
        }
        if self.could_be_params(object) {
            self.params.push(Param {
                api_version: object.reference.api_version.clone(),
                kind: object.kind().to_string(),
                namespace: object.reference.namespace.clone(),
                name: object.reference.name.clone(),
                labels: labels_of(object.metadata().and_then(|m| m.get("labels"))),
                value: palisade_cel::Value::from_json(&to_json(&object.root))
                    .unwrap_or_else(|_| palisade_cel::Value::null()),
            });
        }
    }

    /// Whether some policy still needs objects [`Policies::add_context`] keeps: Namespaces
    /// when a policy or binding selects by namespace or an expression reads `namespaceObject`;
    /// parameter objects while a binding's `paramRef` is not yet answered by name and
    /// namespace. When none does, the rest of the input need not be read for them (a
    /// gigabyte snapshot judged against a policy repository's own parameters).
    pub fn needs_context(&self) -> bool {
        let selects_namespaces = self
            .policies
            .iter()
            .any(|p| p.constraints.namespace_selector.is_some() || p.reads_namespace_object)
            || self.bindings.iter().any(|b| {
                b.resources
                    .as_ref()
                    .is_some_and(|r| r.namespace_selector.is_some())
            });
        if selects_namespaces {
            return true;
        }
        self.bound().any(|(binding, policy)| {
            let (Some((api_version, kind)), Some(reference)) =
                (&policy.param_kind, &binding.params)
            else {
                return false;
            };
            let (Some(name), Some(namespace)) = (&reference.name, &reference.namespace) else {
                // By selector, or in each object's own namespace: any object may be one.
                return true;
            };
            !self.params.iter().any(|p| {
                p.api_version == *api_version
                    && p.kind == *kind
                    && p.name == *name
                    && p.namespace.as_deref().is_none_or(|ns| ns == namespace)
            })
        })
    }

    /// Whether an object of `kind` written as `text` may be one [`Policies::add_context`]
    /// keeps, judged on the text alone so that the others are not parsed: a Namespace always;
    /// an object of a parameter kind only if a binding of a policy of that kind could name it
    /// (its text holds the name the binding's `paramRef` gives, or the binding gives none).
    pub fn may_see(&self, kind: &str, text: &str) -> bool {
        if kind == "Namespace" {
            return true;
        }
        self.bound()
            .filter(|(_, policy)| policy.param_kind.as_ref().is_some_and(|(_, k)| k == kind))
            .any(|(binding, _)| {
                let name = binding.params.as_ref().and_then(|r| r.name.as_deref());
                name.is_none_or(|name| text.contains(name))
            })
    }

    /// Whether some binding could hand `object` to its policy as parameters: of the policy's
    /// `paramKind`, and of the name, namespace and labels its `paramRef` asks for. Only those
    /// are kept (a snapshot holds thousands of ConfigMaps, a binding wants one).
    fn could_be_params(&self, object: &Object) -> bool {
        let labels = labels_of(object.metadata().and_then(|m| m.get("labels")));
        self.bound().any(|(binding, policy)| {
            let Some(reference) = &binding.params else {
                return false;
            };
            let of_kind = policy.param_kind.as_ref().is_some_and(|(api, kind)| {
                *api == object.reference.api_version && kind == object.kind()
            });
            of_kind
                && reference
                    .name
                    .as_ref()
                    .is_none_or(|n| *n == object.reference.name)
                && reference.namespace.as_ref().is_none_or(|ns| {
                    object.reference.namespace.is_none()
                        || object.reference.namespace.as_ref() == Some(ns)
                })
                && reference
                    .selector
                    .as_ref()
                    .is_none_or(|s| s.matches(&labels))
        })
    }

    /// Bindings that name a policy the input does not hold: the API server ignores them, so
    /// they enforce nothing (where they stand, and why).
    pub fn dangling_bindings(&self) -> Vec<(Source, String)> {
        self.bindings
            .iter()
            .zip(&self.binding_sources)
            .filter(|(b, _)| !self.policies.iter().any(|p| p.name == b.policy))
            .map(|(b, at)| {
                (
                    at.clone(),
                    format!(
                        "ValidatingAdmissionPolicyBinding {} names policy {}, which the input does not hold: it enforces nothing",
                        b.name, b.policy
                    ),
                )
            })
            .collect()
    }

    pub fn is_empty(&self) -> bool {
        self.policies.is_empty()
    }

    fn compile(
        &mut self,
        object: &Object,
        path: &FieldPath,
        source: Option<&str>,
    ) -> Result<Expression, String> {
        let source = source.unwrap_or("");
        Expression::compile_for(source, self.kubernetes_minor).map_err(|e| {
            let message = format!(
                "ValidatingAdmissionPolicy {}: `{}` does not compile: {e}",
                object.reference.name,
                path.as_str()
            );
            self.problems
                .push((Source::of(object, path, false), message.clone()));
            message
        })
    }

    /// A policy's `matchConditions` or `variables`: (name, compiled expression) each.
    fn named_expressions(
        &mut self,
        object: &Object,
        spec: &Node,
        spec_path: &FieldPath,
        key: &str,
    ) -> Vec<(String, Result<Expression, String>)> {
        let entries = spec.get(key).map(Node::as_seq).unwrap_or_default();
        entries
            .iter()
            .enumerate()
            .map(|(i, entry)| {
                let path = spec_path.key(key).index(i).key("expression");
                let expression = self.compile(object, &path, entry.str_of("expression"));
                (entry.str_of("name").unwrap_or("").to_string(), expression)
            })
            .collect()
    }

    fn add_policy(&mut self, object: &Object) {
        let spec_path = FieldPath::root().key("spec");
        let Some(spec) = object.root.get("spec") else {
            return;
        };
        let alpha = object.reference.api_version.ends_with("v1alpha1");
        let conditions = self.named_expressions(object, spec, &spec_path, "matchConditions");
        let variables = self.named_expressions(object, spec, &spec_path, "variables");
        let audit_annotations = spec
            .get("auditAnnotations")
            .map(Node::as_seq)
            .unwrap_or_default()
            .iter()
            .enumerate()
            .map(|(i, entry)| {
                let path = spec_path
                    .key("auditAnnotations")
                    .index(i)
                    .key("valueExpression");
                let expression = self.compile(object, &path, entry.str_of("valueExpression"));
                (entry.str_of("key").unwrap_or("").to_string(), expression)
            })
            .collect::<Vec<_>>();
        let mut validations = Vec::new();
        for (i, v) in spec
            .get("validations")
            .map(Node::as_seq)
            .unwrap_or_default()
            .iter()
            .enumerate()
        {
            let path = spec_path.key("validations").index(i);
            let expression = self.compile(object, &path.key("expression"), v.str_of("expression"));
            let message_expression = v
                .str_of("messageExpression")
                .map(|text| self.compile(object, &path.key("messageExpression"), Some(text)));
            validations.push(Validation {
                expression,
                message: v.str_of("message").map(str::to_string),
                message_expression,
                source: Source::of(object, &path.key("expression"), false),
            });
        }
        let param_kind = spec.get("paramKind").map(|p| {
            (
                p.str_of("apiVersion").unwrap_or("").to_string(),
                p.str_of("kind").unwrap_or("").to_string(),
            )
        });
        self.policies.push(Policy {
            name: object.reference.name.clone(),
            alpha,
            constraints: spec
                .get("matchConstraints")
                .map(match_resources)
                .unwrap_or_default(),
            param_kind,
            conditions,
            variables,
            validations,
            audit_annotations,
            reads_namespace_object: crate::admission::mentions(spec, "namespaceObject"),
            fail: spec.str_of("failurePolicy") != Some("Ignore"),
            source: Source::of(object, &spec_path, false),
        });
    }

    fn add_binding(&mut self, object: &Object) {
        let Some(spec) = object.root.get("spec") else {
            return;
        };
        let alpha = object.reference.api_version.ends_with("v1alpha1");
        let actions = if alpha {
            vec![Action::Deny]
        } else {
            strings(spec.get("validationActions"))
                .iter()
                .filter_map(|a| match a.as_str() {
                    "Deny" => Some(Action::Deny),
                    "Warn" => Some(Action::Warn),
                    "Audit" => Some(Action::Audit),
                    _ => None,
                })
                .collect()
        };
        let params = spec.get("paramRef").map(|p| ParamRef {
            name: p.str_of("name").map(str::to_string),
            namespace: p.str_of("namespace").map(str::to_string),
            selector: p.get("selector").map(LabelSelector::from_node),
            deny_when_missing: p.str_of("parameterNotFoundAction") != Some("Allow"),
        });
        self.binding_sources.push(Source::of(
            object,
            &FieldPath::root().keys(&["spec", "policyName"]),
            false,
        ));
        self.bindings.push(Binding {
            name: object.reference.name.clone(),
            policy: spec.str_of("policyName").unwrap_or("").to_string(),
            resources: spec.get("matchResources").map(match_resources),
            params,
            actions,
        });
    }

    /// The namespace object an object of `namespace` sees (the input's, else one with only
    /// its name label).
    fn namespace_object(&self, namespace: &str) -> Json {
        self.namespaces.get(namespace).cloned().unwrap_or_else(|| {
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace,
                "labels": {"kubernetes.io/metadata.name": namespace}}})
        })
    }

    fn labels_of_json(value: &Json) -> Vec<(String, String)> {
        let mut labels: Vec<(String, String)> = value
            .pointer("/metadata/labels")
            .and_then(Json::as_object)
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string()))
                    .collect()
            })
            .unwrap_or_default();
        if let Some(name) = value.pointer("/metadata/name").and_then(Json::as_str) {
            if value["kind"] == "Namespace"
                && !labels
                    .iter()
                    .any(|(k, _)| k == "kubernetes.io/metadata.name")
            {
                labels.push(("kubernetes.io/metadata.name".into(), name.to_string()));
            }
        }
        labels
    }

    /// Whether `resources` selects the request. A binding's `matchResources` without
    /// `resourceRules` narrows nothing by resource (the policy's constraints already did).
    fn in_force(&self, resources: &MatchResources, request: &Request<'_>) -> bool {
        if !resources.rules.is_empty() && !resources.rules.iter().any(|r| r.matches(request)) {
            return false;
        }
        if resources.excluded.iter().any(|r| r.matches(request)) {
            return false;
        }
        if let Some(selector) = &resources.object_selector {
            if !selector.matches(request.labels) {
                return false;
            }
        }
        if let Some(selector) = &resources.namespace_selector {
            // A Namespace is matched on its own labels; a cluster-scoped object always matches.
            let labels: &[(String, String)] =
                if request.resource == "namespaces" && request.group.is_empty() {
                    request.labels
                } else if let Some(namespace) = request.namespace {
                    request
                        .namespace_labels
                        .get_or_init(|| Self::labels_of_json(&self.namespace_object(namespace)))
                } else {
                    return true;
                };
            if !selector.matches(labels) {
                return false;
            }
        }
        true
    }

    /// Each binding with its policy, when the input holds it.
    fn bound(&self) -> impl Iterator<Item = (&Binding, &Policy)> {
        let index = self.policy_of_binding.get_or_init(|| {
            let by_name: HashMap<&str, usize> = self
                .policies
                .iter()
                .enumerate()
                .map(|(i, p)| (p.name.as_str(), i))
                .collect();
            self.bindings
                .iter()
                .map(|b| by_name.get(b.policy.as_str()).copied())
                .collect()
        });
        self.bindings
            .iter()
            .zip(index)
            .filter_map(|(binding, policy)| Some((binding, &self.policies[(*policy)?])))
    }

    /// The bindings in force for `request`, decided on resources and selectors alone (no
    /// conversion of the object: most objects meet no policy).
    fn bindings_in_force(&self, request: &Request<'_>) -> Vec<(&Binding, &Policy)> {
        self.bound()
            .filter_map(|(binding, policy)| {
                let constrained = !policy.constraints.rules.is_empty();
                let applies = constrained
                    && self.in_force(&policy.constraints, request)
                    && binding
                        .resources
                        .as_ref()
                        .is_none_or(|r| self.in_force(r, request));
                applies.then_some((binding, policy))
            })
            .collect()
    }

    /// Every failed validation of every policy in force for `object`, judged as a CREATE; a
    /// workload is also judged through the pods its template makes.
    pub fn judge(&self, object: &Object) -> Vec<Verdict> {
        if self.policies.is_empty() {
            return Vec::new();
        }
        let namespace = object.reference.namespace.as_deref();
        let api_version = object.reference.api_version.as_str();
        let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
        let resource = plural(object.kind());
        let mut labels = labels_of(object.metadata().and_then(|m| m.get("labels")));
        if (group, object.kind()) == ("", "Namespace")
            && !labels
                .iter()
                .any(|(k, _)| k == "kubernetes.io/metadata.name")
        {
            labels.push((
                "kubernetes.io/metadata.name".into(),
                object.reference.name.clone(),
            ));
        }
        let request = Request {
            group,
            version,
            kind: object.kind(),
            resource: &resource,
            name: &object.reference.name,
            namespace,
            labels: &labels,
            namespace_labels: std::cell::OnceCell::new(),
        };
        let mut out = Vec::new();
        let in_force = self.bindings_in_force(&request);
        if !in_force.is_empty() {
            out = self.evaluate(in_force, cel_of(&object.root), &request, "object");
        }
        if object.kind() == "Pod" {
            return out;
        }
        let Some(view) = palisade_model::PodView::of(object) else {
            return out;
        };
        let pod_name = format!("{}-pod", object.reference.name);
        let pod_labels = labels_of(view.metadata.and_then(|m| m.get("labels")));
        let pod_request = Request {
            group: "",
            version: "v1",
            kind: "Pod",
            resource: "pods",
            name: &pod_name,
            namespace,
            labels: &pod_labels,
            namespace_labels: std::cell::OnceCell::new(),
        };
        let in_force = self.bindings_in_force(&pod_request);
        if !in_force.is_empty() {
            if let Some(pod) = pod_of(object) {
                let pod = palisade_cel::Value::from_json(&pod)
                    .unwrap_or_else(|_| palisade_cel::Value::null());
                out.extend(self.evaluate(in_force, pod, &pod_request, "pod-template"));
            }
        }
        out
    }

    /// The failed validations of the policies `in_force` for `object`.
    fn evaluate(
        &self,
        in_force: Vec<(&Binding, &Policy)>,
        object: palisade_cel::Value,
        request: &Request<'_>,
        target: &'static str,
    ) -> Vec<Verdict> {
        let Request {
            group,
            version,
            kind,
            resource,
            name,
            namespace,
            ..
        } = *request;
        let namespace_object = namespace
            .map(|ns| self.namespace_object(ns))
            .unwrap_or(Json::Null);
        let request_json = json!({
            "operation": "CREATE",
            "kind": {"group": group, "version": version, "kind": kind},
            "resource": {"group": group, "version": version, "resource": resource},
            "name": name,
            "namespace": namespace.unwrap_or(""),
            "userInfo": {"username": ""},
            "dryRun": true,
        });
        let mut out = Vec::new();
        let inputs = Inputs {
            object: Json::Null,
            old_object: Json::Null,
            params: Json::Null,
            namespace_object,
            request: request_json,
            variables: json!({}),
        };
        let no_variables = palisade_cel::Value::from_json(&json!({}))
            .unwrap_or_else(|_| palisade_cel::Value::null());
        palisade_cel::with_inputs(&inputs, |scope| {
            scope.set_value("object", &object);
            // What the last binding left in `params` and `variables`.
            let (mut params_set, mut variables_set) = (false, false);
            for (binding, policy) in in_force {
                let verdict = |validation: Option<usize>,
                               message: String,
                               at: &Source,
                               annotations: &[(String, String)]| {
                    binding
                        .actions
                        .iter()
                        .map(|action| Verdict {
                            policy: policy.name.clone(),
                            binding: binding.name.clone(),
                            action: *action,
                            validation,
                            message: message.clone(),
                            target,
                            at: at.clone(),
                            audit_annotations: annotations.to_vec(),
                        })
                        .collect::<Vec<_>>()
                };
                let params_list = match self.params_for(policy, binding, namespace) {
                    Ok(params) => params,
                    Err(message) => {
                        out.extend(verdict(None, message, &policy.source, &[]));
                        continue;
                    }
                };
                for params in params_list {
                    // Only what a policy can see changes between bindings; a policy without
                    // parameters sees `params` null, as the API server gives it.
                    if policy.param_kind.is_some() || params_set {
                        scope.set_value("params", &params);
                        params_set = !params.is_null();
                    }
                    if !policy.variables.is_empty() || variables_set {
                        scope.set_value("variables", &no_variables);
                        variables_set = !policy.variables.is_empty();
                    }
                    let outcome = evaluate_policy(policy, scope);
                    match outcome {
                        Ok((failures, annotations)) => {
                            for (index, message) in failures {
                                out.extend(verdict(
                                    Some(index),
                                    message,
                                    &policy.validations[index].source,
                                    &annotations,
                                ));
                            }
                        }
                        Err(message) if policy.fail => {
                            out.extend(verdict(None, message, &policy.source, &[]))
                        }
                        Err(_) => {}
                    }
                }
            }
        });
        out
    }

    /// The parameter objects the binding gives the policy (one evaluation each), `[null]`
    /// for a policy without parameters, or why the policy fails without them.
    fn params_for(
        &self,
        policy: &Policy,
        binding: &Binding,
        namespace: Option<&str>,
    ) -> Result<Vec<palisade_cel::Value>, String> {
        let Some((api_version, kind)) = &policy.param_kind else {
            return Ok(vec![palisade_cel::Value::null()]);
        };
        let Some(reference) = &binding.params else {
            return Err(format!(
                "policy {} needs parameters ({kind}) and binding {} names none",
                policy.name, binding.name
            ));
        };
        let wanted_namespace = reference.namespace.as_deref().or(namespace);
        let found: Vec<palisade_cel::Value> = self
            .params
            .iter()
            .filter(|p| p.api_version == *api_version && p.kind == *kind)
            .filter(|p| p.namespace.is_none() || p.namespace.as_deref() == wanted_namespace)
            .filter(|p| reference.name.as_ref().is_none_or(|n| *n == p.name))
            .filter(|p| {
                reference
                    .selector
                    .as_ref()
                    .is_none_or(|s| s.matches(&p.labels))
            })
            .map(|p| p.value.clone())
            .collect();
        if !found.is_empty() {
            return Ok(found);
        }
        let missing = format!(
            "no params found for policy binding {}: {kind} {} not found",
            binding.name,
            reference.name.as_deref().unwrap_or("(by selector)")
        );
        if policy.alpha {
            if policy.fail {
                Err(missing)
            } else {
                Ok(Vec::new())
            }
        } else if reference.deny_when_missing {
            Err(missing)
        } else {
            Ok(Vec::new())
        }
    }
}

/// Evaluates `variables` in order into `variables.NAME`. As the API server reads them lazily, a
/// variable that fails only matters to the validations that read it (they then fail on its
/// absence).
pub(crate) fn evaluate_variables<'e>(
    scope: &mut palisade_cel::Scope<'_>,
    variables: impl Iterator<Item = (&'e str, &'e Expression)>,
) {
    let mut values = serde_json::Map::new();
    for (name, expression) in variables {
        if let Ok(value) = scope.evaluate(expression) {
            values.insert(name.to_string(), value);
            // A map of values that came out of CEL always goes back in.
            let _ = scope.set_variables(&Json::Object(values.clone()));
        }
    }
}

/// The message of a failed validation: its `messageExpression`'s value when that is a
/// non-empty string, else its `message`, else the expression, as the API server words it.
pub(crate) fn failure_message(
    scope: &palisade_cel::Scope<'_>,
    expression: &Expression,
    message: Option<&str>,
    message_expression: Option<&Expression>,
) -> String {
    message_expression
        .and_then(|e| scope.evaluate(e).ok())
        .and_then(|v| v.as_str().map(str::to_string))
        .filter(|m| !m.trim().is_empty())
        .or_else(|| message.map(str::to_string))
        .unwrap_or_else(|| format!("failed expression: {}", expression.source()))
}

/// What a policy's evaluation gave: the failed validations (index, message) and the audit
/// annotations (key, value).
type Evaluated = (Vec<(usize, String)>, Vec<(String, String)>);

/// The failed validations and audit annotations, or the error that fails the whole policy.
fn evaluate_policy(
    policy: &Policy,
    scope: &mut palisade_cel::Scope<'_>,
) -> Result<Evaluated, String> {
    {
        for (name, condition) in &policy.conditions {
            let condition = condition.as_ref().map_err(Clone::clone)?;
            match scope.evaluate(condition) {
                Ok(Json::Bool(true)) => {}
                Ok(Json::Bool(false)) => return Ok((Vec::new(), Vec::new())),
                Ok(_) => return Err(format!("matchCondition {name} did not evaluate to a bool")),
                Err(e) => return Err(format!("matchCondition {name}: {e}")),
            }
        }
        evaluate_variables(
            scope,
            policy
                .variables
                .iter()
                .filter_map(|(name, e)| Some((name.as_str(), e.as_ref().ok()?))),
        );
        let mut failures = Vec::new();
        for (index, validation) in policy.validations.iter().enumerate() {
            let expression = validation.expression.as_ref().map_err(Clone::clone)?;
            match scope.evaluate(expression) {
                Ok(Json::Bool(true)) => {}
                Ok(Json::Bool(false)) => {
                    let message = failure_message(
                        scope,
                        expression,
                        validation.message.as_deref(),
                        validation
                            .message_expression
                            .as_ref()
                            .and_then(|e| e.as_ref().ok()),
                    );
                    failures.push((index, message));
                }
                Ok(_) => {
                    return Err(format!(
                        "validation {} did not evaluate to a bool",
                        expression.source()
                    ))
                }
                Err(e) => {
                    return Err(format!(
                        "expression '{}' resulted in error: {e}",
                        expression.source()
                    ))
                }
            }
        }
        // Audit annotations are recorded whether validations pass or not; one that cannot be
        // evaluated fails the policy like a validation would. A null value is no annotation.
        let mut annotations = Vec::new();
        for (key, expression) in &policy.audit_annotations {
            let expression = expression.as_ref().map_err(Clone::clone)?;
            match scope.evaluate(expression) {
                Ok(Json::String(value)) if !value.is_empty() => {
                    annotations.push((format!("{}/{key}", policy.name), value))
                }
                Ok(Json::String(_) | Json::Null) => {}
                Ok(_) => {
                    return Err(format!(
                        "auditAnnotation {key}: valueExpression did not evaluate to a string"
                    ))
                }
                Err(e) => {
                    return Err(format!(
                        "expression '{}' resulted in error: {e}",
                        expression.source()
                    ))
                }
            }
        }
        Ok((failures, annotations))
    }
}

/// Whether some string under `node` contains `word`.
fn mentions(node: &Node, word: &str) -> bool {
    use palisade_model::Value;
    match &node.value {
        Value::Str(s) => s.contains(word),
        Value::Seq(items) => items.iter().any(|n| mentions(n, word)),
        Value::Map(entries) => entries.iter().any(|e| mentions(&e.value, word)),
        _ => false,
    }
}

/// A node as CEL sees it (what [`to_json`] then a conversion would give, without the JSON).
fn cel_of(node: &Node) -> palisade_cel::Value {
    use palisade_model::Value;
    match &node.value {
        Value::Null => palisade_cel::Value::null(),
        Value::Bool(b) => palisade_cel::Value::bool(*b),
        Value::Int(i) => palisade_cel::Value::int(*i),
        Value::Float(f) => palisade_cel::Value::float(*f),
        Value::Str(s) => palisade_cel::Value::string(s),
        Value::Seq(items) => palisade_cel::Value::list(items.iter().map(cel_of)),
        Value::Map(entries) => {
            palisade_cel::Value::map(entries.iter().map(|e| (e.key.as_str(), cel_of(&e.value))))
        }
    }
}

/// The Pod a workload's template makes, as the API server would see it created.
pub fn pod_of(object: &Object) -> Option<Json> {
    let view = palisade_model::PodView::of(object)?;
    let metadata = view.metadata.map(to_json).unwrap_or_else(|| json!({}));
    let mut metadata = metadata.as_object().cloned().unwrap_or_default();
    metadata.insert(
        "name".into(),
        Json::String(format!("{}-pod", object.reference.name)),
    );
    if let Some(ns) = &object.reference.namespace {
        metadata.insert("namespace".into(), Json::String(ns.clone()));
    }
    Some(json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": Json::Object(metadata),
        "spec": to_json(view.spec),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policies(text: &str) -> Policies {
        let file: std::sync::Arc<str> = std::sync::Arc::from("policies.yaml");
        let mut objects = Vec::new();
        palisade_load::load_text(&file, text, &mut |loaded| {
            if let palisade_load::Loaded::Object(o) = loaded {
                objects.push(*o);
            }
        });
        let mut policies = Policies::default();
        for object in &objects {
            policies.add_policy_or_binding(object);
        }
        for object in &objects {
            policies.add_context(object);
        }
        policies
    }

    const POLICY: &str = "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicy\nmetadata: {name: p}\nspec:\n  matchConstraints:\n    resourceRules: [{apiGroups: [apps], apiVersions: [v1], operations: [CREATE], resources: [deployments]}]\n  validations: [{expression: \"EXPR\"}]\n";
    const BINDING: &str = "---\napiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicyBinding\nmetadata: {name: b}\nspec: {policyName: p, validationActions: [Deny]}\n";
    const PARAMS: &str = "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicy\nmetadata: {name: p}\nspec:\n  paramKind: {apiVersion: v1, kind: ConfigMap}\n  matchConstraints:\n    resourceRules: [{apiGroups: [apps], apiVersions: [v1], operations: [CREATE], resources: [deployments]}]\n  validations: [{expression: \"object.spec.replicas <= int(params.data.max)\"}]\n---\napiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicyBinding\nmetadata: {name: b}\nspec: {policyName: p, validationActions: [Deny], paramRef: REF}\n";
    const LIMITS: &str = "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: limits, namespace: default}\ndata: {max: \"3\"}\n";

    /// Whether the rest of the input must be read for Namespaces or parameters.
    #[test]
    fn context_is_read_only_while_a_policy_needs_it() {
        let plain = policies(&(POLICY.replace("EXPR", "object.spec.replicas <= 3") + BINDING));
        assert!(
            !plain.needs_context(),
            "reads neither namespaces nor parameters"
        );
        let reads_namespace = policies(
            &(POLICY.replace("EXPR", "namespaceObject.metadata.name != 'kube-system'") + BINDING),
        );
        assert!(reads_namespace.needs_context());
        let selects_namespaces = policies(
            &(POLICY.replace("EXPR", "true")
                + &BINDING.replace(
                    "validationActions: [Deny]}",
                    "validationActions: [Deny], matchResources: {namespaceSelector: {matchLabels: {team: shop}}}}",
                )),
        );
        assert!(selects_namespaces.needs_context());
        let named = "{name: limits, namespace: default, parameterNotFoundAction: Deny}";
        assert!(
            policies(&PARAMS.replace("REF", named)).needs_context(),
            "its parameters are not found yet"
        );
        assert!(
            !policies(&(PARAMS.replace("REF", named) + LIMITS)).needs_context(),
            "found by name and namespace"
        );
        assert!(
            policies(
                &(PARAMS.replace("REF", "{name: limits, parameterNotFoundAction: Deny}") + LIMITS)
            )
            .needs_context(),
            "in each object's own namespace: any namespace may hold one"
        );
        assert!(
            policies(
                &(PARAMS.replace(
                    "REF",
                    "{selector: {matchLabels: {kind: limits}}, parameterNotFoundAction: Deny}"
                ) + LIMITS)
            )
            .needs_context(),
            "by selector"
        );
    }
}
