//! What one subject was seen doing, and what follows from it: the least-privilege roles that
//! allow exactly those requests (`audit roles`), and the granted rules it never used
//! (`audit unused`).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use palisade_analysis::rbac::{rule_allows, Binding, Policy, PolicyRule, Request, Role, UserInfo};

use crate::event::AuditEvent;

/// One distinct allowed request.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Seen {
    /// Empty for cluster-wide and cluster-scoped requests.
    pub namespace: String,
    pub group: String,
    pub resource: String,
    pub subresource: String,
    pub verb: String,
    pub name: String,
    /// For non-resource requests: the URL path.
    pub url: Option<String>,
}

/// The allowed requests of one subject, deduplicated, with the time window they span.
#[derive(Debug, Default)]
pub struct Observed {
    pub subject: String,
    pub requests: BTreeSet<Seen>,
    /// The requests the authorizer denied (403): what the roles must also allow for the
    /// subject to work (audit2rbac's use: run it with no rights, then grant what it asked).
    pub denied: BTreeSet<Seen>,
    pub denied_events: usize,
    /// Groups the API server gave the subject in the log.
    pub groups: BTreeSet<String>,
    pub first: Option<String>,
    pub last: Option<String>,
    pub events: usize,
}

impl Observed {
    pub fn new(subject: &str) -> Self {
        Observed {
            subject: subject.to_string(),
            ..Observed::default()
        }
    }

    /// Takes the event if the subject made it (as itself or impersonated): allowed, or denied
    /// by the authorizer.
    pub fn observe(&mut self, event: &AuditEvent) {
        let user = event.acting_user();
        if user.username != self.subject {
            return;
        }
        let denied = event.decision() == crate::Decision::Forbidden;
        if !denied && !event.allowed() {
            return;
        }
        if denied {
            self.denied_events += 1;
        } else {
            self.events += 1;
        }
        self.groups.extend(user.groups.iter().cloned());
        let time = &event.request_received_timestamp;
        if !time.is_empty() {
            if self.first.as_ref().is_none_or(|f| time < f) {
                self.first = Some(time.clone());
            }
            if self.last.as_ref().is_none_or(|l| time > l) {
                self.last = Some(time.clone());
            }
        }
        let seen = match &event.object_ref {
            None => Seen {
                namespace: String::new(),
                group: String::new(),
                resource: String::new(),
                subresource: String::new(),
                verb: event.verb.clone(),
                name: String::new(),
                url: Some(
                    event
                        .request_uri
                        .split('?')
                        .next()
                        .unwrap_or_default()
                        .to_string(),
                ),
            },
            Some(object) => Seen {
                namespace: object.namespace.clone(),
                group: object.api_group.clone(),
                resource: object.resource.clone(),
                subresource: object.subresource.clone(),
                verb: event.verb.clone(),
                // `namespaces/NAME` requests carry the name as their namespace too.
                name: object.name.clone(),
                url: None,
            },
        };
        if denied {
            self.denied.insert(seen);
        } else {
            self.requests.insert(seen);
        }
    }

    /// The window the log covered for this subject, for messages.
    pub fn window(&self) -> String {
        match (&self.first, &self.last) {
            (Some(first), Some(last)) => format!("between {first} and {last}"),
            _ => "in the log".to_string(),
        }
    }

    fn request_of(seen: &Seen) -> Request {
        match &seen.url {
            Some(url) => Request::NonResource {
                verb: seen.verb.clone(),
                path: url.clone(),
            },
            None => Request::resource(
                &seen.verb,
                &seen.group,
                &seen.resource,
                &seen.subresource,
                &seen.name,
                (!seen.namespace.is_empty()).then_some(seen.namespace.as_str()),
            ),
        }
    }
}

/// A subject as a binding names it.
fn subject_yaml(subject: &str) -> String {
    match subject
        .strip_prefix("system:serviceaccount:")
        .and_then(|rest| rest.split_once(':'))
    {
        Some((ns, name)) => format!(
            "  - kind: ServiceAccount\n    name: {}\n    namespace: {}\n",
            quote(name),
            quote(ns)
        ),
        None => format!(
            "  - kind: User\n    apiGroup: rbac.authorization.k8s.io\n    name: {}\n",
            quote(subject)
        ),
    }
}

/// A YAML double-quoted scalar (JSON string syntax is valid YAML).
fn quote(text: &str) -> String {
    serde_json::Value::String(text.to_string()).to_string()
}

fn list(items: &BTreeSet<String>) -> String {
    let quoted: Vec<String> = items.iter().map(|i| quote(i)).collect();
    format!("[{}]", quoted.join(", "))
}

/// The name of the generated roles and bindings: `palisade-observed-<subject>`, as a valid
/// object name.
fn object_name(subject: &str) -> String {
    let slug: String = subject
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let slug = slug.trim_matches('-');
    let name = format!("palisade-observed-{slug}");
    name.chars().take(253).collect()
}

impl Observed {
    /// Whether the subject was allowed nothing beyond what every authenticated user may do:
    /// then its denied requests are what its roles are for (it ran with no rights).
    pub fn allowed_nothing_of_its_own(&self) -> bool {
        self.requests.iter().all(everyone_may)
    }
}

/// Whether every authenticated user may already make `seen`: Kubernetes' default policy grants
/// API discovery, health and version endpoints (`system:discovery`,
/// `system:public-info-viewer`) and reviewing one's own access (`system:basic-user`).
fn everyone_may(seen: &Seen) -> bool {
    if let Some(url) = &seen.url {
        let discovery = [
            "/api", "/apis", "/openapi", "/version", "/healthz", "/livez", "/readyz",
        ]
        .iter()
        .any(|prefix| url == prefix || url.starts_with(&format!("{prefix}/")));
        return discovery && matches!(seen.verb.as_str(), "get" | "head");
    }
    let own_access = (seen.group == "authorization.k8s.io"
        && matches!(
            seen.resource.as_str(),
            "selfsubjectaccessreviews" | "selfsubjectrulesreviews"
        ))
        || (seen.group == "authentication.k8s.io" && seen.resource == "selfsubjectreviews");
    own_access && seen.verb == "create"
}

/// What the API server asks beyond the generated grants: writing roles needs the permissions
/// they grant, or `escalate`; writing bindings needs the permissions of the role they bind,
/// or `bind` on it.
fn privilege_notes(namespaced: &BTreeMap<String, Grants>, cluster: &Grants) -> Vec<String> {
    let writes = |grants: &Grants, resources: &[&str]| {
        grants.iter().any(|((group, resource), verbs)| {
            group == "rbac.authorization.k8s.io"
                && resources.contains(&resource.as_str())
                && verbs
                    .keys()
                    .any(|v| matches!(v.as_str(), "create" | "update" | "patch"))
        })
    };
    let all = || std::iter::once(cluster).chain(namespaced.values());
    let mut notes = Vec::new();
    if all().any(|g| writes(g, &["roles", "clusterroles"])) {
        notes.push(
            "Writing roles also needs every permission they grant, or `escalate` on roles: the API server refuses the rest."
                .to_string(),
        );
    }
    if all().any(|g| writes(g, &["rolebindings", "clusterrolebindings"])) {
        notes.push(
            "Writing bindings also needs every permission of the role bound, or `bind` on that role: the API server refuses the rest."
                .to_string(),
        );
    }
    notes
}

/// Verbs that name one object: these can be restricted by `resourceNames`.
fn names_one(verb: &str) -> bool {
    matches!(verb, "get" | "update" | "patch" | "delete")
}

/// (apiGroup, resource with subresource) → verb → names (`None`: any name).
type Grants = BTreeMap<(String, String), BTreeMap<String, Option<BTreeSet<String>>>>;

/// The rules of one role: verbs merged per resource; resources of one group with the same
/// verbs (and names) merged into one rule.
fn rules_yaml(grants: &Grants, with_names: bool) -> String {
    // (group, verbs, names) -> resources
    let mut merged: BTreeMap<(String, BTreeSet<String>, BTreeSet<String>), BTreeSet<String>> =
        BTreeMap::new();
    for ((group, resource), verbs) in grants {
        // Split the verbs: named ones (when asked) and the rest.
        let mut by_names: BTreeMap<BTreeSet<String>, BTreeSet<String>> = BTreeMap::new();
        for (verb, names) in verbs {
            let key = match names {
                Some(names) if with_names && names_one(verb) => names.clone(),
                _ => BTreeSet::new(),
            };
            by_names.entry(key).or_default().insert(verb.clone());
        }
        for (names, verbs) in by_names {
            merged
                .entry((group.clone(), verbs, names))
                .or_default()
                .insert(resource.clone());
        }
    }
    let mut out = String::new();
    for ((group, verbs, names), resources) in merged {
        let _ = write!(
            out,
            "  - apiGroups: [{}]\n    resources: {}\n    verbs: {}\n",
            quote(&group),
            list(&resources),
            list(&verbs)
        );
        if !names.is_empty() {
            let _ = writeln!(out, "    resourceNames: {}", list(&names));
        }
    }
    out
}

/// Roles and bindings, as YAML ready to apply, that allow exactly what `observed` shows the
/// subject doing: a Role and RoleBinding per namespace, and a ClusterRole and
/// ClusterRoleBinding for cluster-scoped, cluster-wide and non-resource requests. With
/// `with_names`, `get`, `update`, `patch` and `delete` are restricted to the objects named.
pub fn roles_yaml(observed: &Observed, with_names: bool, with_denied: bool) -> String {
    let mut namespaced: BTreeMap<String, Grants> = BTreeMap::new();
    let mut cluster: Grants = BTreeMap::new();
    let mut urls: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let denied = if with_denied {
        &observed.denied
    } else {
        &BTreeSet::new()
    };
    let wanted = observed
        .requests
        .iter()
        .chain(denied)
        .filter(|seen| !everyone_may(seen));
    for seen in wanted {
        if let Some(url) = &seen.url {
            urls.entry(url.clone())
                .or_default()
                .insert(seen.verb.clone());
            continue;
        }
        let resource = if seen.subresource.is_empty() {
            seen.resource.clone()
        } else {
            format!("{}/{}", seen.resource, seen.subresource)
        };
        let grants = if seen.namespace.is_empty() {
            &mut cluster
        } else {
            namespaced.entry(seen.namespace.clone()).or_default()
        };
        let names = grants
            .entry((seen.group.clone(), resource))
            .or_default()
            .entry(seen.verb.clone())
            .or_insert_with(|| Some(BTreeSet::new()));
        match (names.as_mut(), seen.name.is_empty()) {
            (Some(set), false) => {
                set.insert(seen.name.clone());
            }
            _ => *names = None,
        }
    }
    let name = object_name(&observed.subject);
    let subject = subject_yaml(&observed.subject);
    let mut out = format!(
        "# Least-privilege RBAC for {}, from {} allowed requests {} (palisade audit roles).\n",
        observed.subject,
        observed.events,
        observed.window()
    );
    match (observed.denied_events, with_denied) {
        (0, _) => {}
        (denied, true) => {
            let _ = writeln!(
                out,
                "# It also allows the {denied} requests the authorizer denied: review them before applying."
            );
        }
        (denied, false) => {
            let _ = writeln!(
                out,
                "# The {denied} requests the authorizer denied are not allowed (--denied allows them too)."
            );
        }
    }
    out.push_str(
        "# Left out: what every authenticated user may already do (API discovery, health and\n# version endpoints, reviewing its own access).\n",
    );
    for note in privilege_notes(&namespaced, &cluster) {
        let _ = writeln!(out, "# {note}");
    }
    for (namespace, grants) in &namespaced {
        let _ = write!(
            out,
            "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata:\n  name: {name}\n  namespace: {ns}\nrules:\n{rules}\
             ---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata:\n  name: {name}\n  namespace: {ns}\n\
             roleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: Role\n  name: {name}\nsubjects:\n{subject}",
            ns = quote(namespace),
            rules = rules_yaml(grants, with_names),
        );
    }
    if !cluster.is_empty() || !urls.is_empty() {
        let mut rules = rules_yaml(&cluster, with_names);
        for (url, verbs) in &urls {
            let _ = write!(
                rules,
                "  - nonResourceURLs: [{}]\n    verbs: {}\n",
                quote(url),
                list(verbs)
            );
        }
        let _ = write!(
            out,
            "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: {name}\nrules:\n{rules}\
             ---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata:\n  name: {name}\n\
             roleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: ClusterRole\n  name: {name}\nsubjects:\n{subject}",
        );
    }
    out
}

/// One granted rule the subject never used.
pub struct Unused<'p> {
    pub binding: &'p Binding,
    pub role: &'p Role,
    pub rule: &'p PolicyRule,
}

/// The rules granted to the subject (through every binding that names it or its groups) that
/// allowed none of its observed requests, in binding order.
pub fn unused<'p>(policy: &'p Policy, observed: &Observed) -> Vec<Unused<'p>> {
    let groups: Vec<String> = observed.groups.iter().cloned().collect();
    let user = if groups.is_empty() {
        UserInfo::new(&observed.subject, &[])
    } else {
        UserInfo {
            name: observed.subject.clone(),
            groups,
        }
    };
    let requests: Vec<Request> = observed.requests.iter().map(Observed::request_of).collect();
    let mut out = Vec::new();
    for binding in policy.bindings_for(&user) {
        let Some(role) = policy.role_of(binding) else {
            continue;
        };
        let in_scope: Vec<&Request> = requests
            .iter()
            .filter(|r| {
                binding.cluster
                    || (!matches!(r, Request::NonResource { .. })
                        && r.authorizer_namespace().is_some()
                        && r.authorizer_namespace() == binding.namespace.as_deref())
            })
            .collect();
        for rule in policy.rules_of(role) {
            if !in_scope.iter().any(|r| rule_allows(rule, r)) {
                out.push(Unused {
                    binding,
                    role,
                    rule,
                });
            }
        }
    }
    out
}
