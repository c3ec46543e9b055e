//! Role-based access control, evaluated exactly as the Kubernetes RBAC authorizer does.
//!
//! * A RoleBinding grants its role's rules in its own namespace only, also when it binds a
//!   ClusterRole; a ClusterRoleBinding grants them in every namespace and for non-resource URLs.
//! * Aggregated ClusterRoles hold the rules of every ClusterRole their selectors match,
//!   transitively, as the aggregation controller writes them.
//! * `*` matches any verb, API group or resource; `*/scale` matches the `scale` subresource of
//!   any resource; `pods/*` is not a wildcard (it only names a subresource called `*`).
//! * `resourceNames` restrict a rule to requests that name one of those objects, so they never
//!   allow `list`, `watch` or `create` of a collection.
//! * `nonResourceURLs` match exactly or by a trailing `*` prefix.
//! * A request's user carries groups: service accounts are in `system:serviceaccounts` and
//!   `system:serviceaccounts:<ns>`; every user but `system:anonymous` is in
//!   `system:authenticated`; `system:anonymous` is in `system:unauthenticated`.

mod inventory;
mod model;
pub mod paths;
pub mod resources;
pub mod risk;

use std::collections::HashMap;

use palisade_model::Object;

pub(crate) use inventory::namespace_of;
pub use inventory::{
    Inventory, InventoryBuilder, Namespace, ServiceAccount, TokenSecret, Workload,
};
pub use model::{Binding, PolicyRule, Role, Source, Subject, SubjectKind};

/// Who is asking.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserInfo {
    pub name: String,
    pub groups: Vec<String>,
}

impl UserInfo {
    /// A user as the API server sees an impersonated one: `system:serviceaccount:NS:NAME` gets
    /// its service-account groups, everyone but `system:anonymous` gets `system:authenticated`.
    pub fn new(name: &str, extra_groups: &[String]) -> Self {
        let mut groups: Vec<String> = extra_groups.to_vec();
        if let Some((ns, _)) = name
            .strip_prefix("system:serviceaccount:")
            .and_then(|rest| rest.split_once(':'))
        {
            groups.push("system:serviceaccounts".into());
            groups.push(format!("system:serviceaccounts:{ns}"));
        }
        if name == "system:anonymous" {
            groups.push("system:unauthenticated".into());
        } else {
            groups.push("system:authenticated".into());
        }
        groups.sort();
        groups.dedup();
        UserInfo {
            name: name.to_string(),
            groups,
        }
    }

    /// The identity a binding subject stands for (a group stands for any member).
    pub fn of_subject(subject: &Subject) -> Self {
        match subject.kind {
            SubjectKind::Group => UserInfo {
                name: String::new(),
                groups: vec![subject.name.clone()],
            },
            _ => UserInfo::new(&subject.user_name(), &[]),
        }
    }
}

/// What is being asked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request {
    Resource {
        verb: String,
        group: String,
        resource: String,
        subresource: String,
        name: String,
        /// `None` asks cluster-wide: only ClusterRoleBindings count.
        namespace: Option<String>,
    },
    NonResource {
        verb: String,
        path: String,
    },
}

impl Request {
    /// A resource request; `namespace: None` asks cluster-wide.
    pub fn resource(
        verb: &str,
        group: &str,
        resource: &str,
        subresource: &str,
        name: &str,
        namespace: Option<&str>,
    ) -> Self {
        Request::Resource {
            verb: verb.into(),
            group: group.into(),
            resource: resource.into(),
            subresource: subresource.into(),
            name: name.into(),
            namespace: namespace.map(str::to_string),
        }
    }

    pub fn verb(&self) -> &str {
        match self {
            Request::Resource { verb, .. } | Request::NonResource { verb, .. } => verb,
        }
    }
}

fn verb_matches(rule: &PolicyRule, verb: &str) -> bool {
    rule.verbs.iter().any(|v| v == "*" || v == verb)
}

fn group_matches(rule: &PolicyRule, group: &str) -> bool {
    rule.api_groups.iter().any(|g| g == "*" || g == group)
}

/// Kubernetes' `ResourceMatches`: `*`, an exact `resource/subresource`, or `*/subresource`.
pub(crate) fn resource_matches(rule: &PolicyRule, resource: &str, subresource: &str) -> bool {
    let combined = if subresource.is_empty() {
        resource.to_string()
    } else {
        format!("{resource}/{subresource}")
    };
    rule.resources.iter().any(|r| {
        r == "*"
            || *r == combined
            || (!subresource.is_empty()
                && r.len() == subresource.len() + 2
                && r.starts_with("*/")
                && r.ends_with(subresource))
    })
}

fn name_matches(rule: &PolicyRule, name: &str) -> bool {
    rule.resource_names.is_empty() || rule.resource_names.iter().any(|n| n == name)
}

fn url_matches(rule: &PolicyRule, path: &str) -> bool {
    rule.non_resource_urls.iter().any(|u| {
        u == "*"
            || u == path
            || u.strip_suffix('*')
                .is_some_and(|prefix| path.starts_with(prefix))
    })
}

/// Whether one rule allows the request (Kubernetes' `RuleAllows`).
pub fn rule_allows(rule: &PolicyRule, request: &Request) -> bool {
    match request {
        Request::Resource {
            verb,
            group,
            resource,
            subresource,
            name,
            ..
        } => {
            verb_matches(rule, verb)
                && group_matches(rule, group)
                && resource_matches(rule, resource, subresource)
                && name_matches(rule, name)
        }
        Request::NonResource { verb, path } => verb_matches(rule, verb) && url_matches(rule, path),
    }
}

/// Why a request is allowed: the binding, the role it binds, and the rule (which an aggregated
/// ClusterRole may hold on behalf of another).
#[derive(Clone, Copy, Debug)]
pub struct Grant<'p> {
    pub binding: &'p Binding,
    pub role: &'p Role,
    pub rule: &'p PolicyRule,
}

impl Grant<'_> {
    pub fn describe(&self) -> String {
        let rule_holder = if self.rule.source.object.name != self.role.name {
            format!(
                " (aggregated from ClusterRole {})",
                self.rule.source.object.name
            )
        } else {
            String::new()
        };
        format!(
            "{} binds {} {}{}",
            self.binding.display(),
            self.role.kind(),
            self.role.name,
            rule_holder
        )
    }
}

/// The RBAC policy of a cluster: roles and bindings, indexed for queries.
pub struct Policy {
    roles: Vec<Role>,
    bindings: Vec<Binding>,
    /// (is cluster role, namespace, name) -> role index.
    role_index: HashMap<(bool, Option<String>, String), usize>,
    /// Per role, its effective rules as (holder role, rule index) after aggregation.
    effective: Vec<Vec<(usize, usize)>>,
    /// Subject (kind, name or user name) -> bindings that name it.
    by_subject: HashMap<(SubjectKind, String), Vec<usize>>,
}

/// Collects RBAC objects, then builds a [`Policy`].
#[derive(Default)]
pub struct PolicyBuilder {
    roles: Vec<Role>,
    bindings: Vec<Binding>,
}

impl PolicyBuilder {
    /// Takes the object if it is a Role, ClusterRole, RoleBinding or ClusterRoleBinding.
    pub fn add(&mut self, object: &Object) {
        self.add_with(object, false);
    }

    fn add_with(&mut self, object: &Object, bootstrap: bool) {
        if let Some(role) = model::role_of(object, bootstrap) {
            self.roles.push(role);
        } else if let Some(binding) = model::binding_of(object, bootstrap) {
            self.bindings.push(binding);
        }
    }

    pub fn merge(&mut self, other: PolicyBuilder) {
        self.roles.extend(other.roles);
        self.bindings.extend(other.bindings);
    }

    /// Builds the policy; with `bootstrap`, Kubernetes' default roles and bindings are added
    /// unless the input defines an object of the same kind and name, or is a whole cluster's
    /// policy (a snapshot or `kubectl get -A` dump: the API server creates the ClusterRole and
    /// ClusterRoleBinding `cluster-admin` itself, so an input with both has the cluster's own
    /// defaults, and adding Palisade's could invent roles that cluster does not have).
    pub fn build(mut self, bootstrap: bool) -> Policy {
        let whole_cluster = self
            .roles
            .iter()
            .any(|r| r.cluster && r.name == "cluster-admin")
            && self
                .bindings
                .iter()
                .any(|b| b.cluster && b.name == "cluster-admin");
        if bootstrap && !whole_cluster {
            let mut defaults = PolicyBuilder::default();
            for object in model::bootstrap_objects() {
                defaults.add_with(&object, true);
            }
            let role_keys: std::collections::HashSet<_> = self
                .roles
                .iter()
                .map(|r| (r.cluster, r.namespace.clone(), r.name.clone()))
                .collect();
            let binding_keys: std::collections::HashSet<_> = self
                .bindings
                .iter()
                .map(|b| (b.cluster, b.namespace.clone(), b.name.clone()))
                .collect();
            self.roles.extend(defaults.roles.into_iter().filter(|r| {
                !role_keys.contains(&(r.cluster, r.namespace.clone(), r.name.clone()))
            }));
            self.bindings
                .extend(defaults.bindings.into_iter().filter(|b| {
                    !binding_keys.contains(&(b.cluster, b.namespace.clone(), b.name.clone()))
                }));
        }
        Policy::new(self.roles, self.bindings)
    }
}

impl Policy {
    fn new(roles: Vec<Role>, bindings: Vec<Binding>) -> Self {
        let mut role_index = HashMap::new();
        for (i, role) in roles.iter().enumerate() {
            role_index
                .entry((role.cluster, role.namespace.clone(), role.name.clone()))
                .or_insert(i);
        }
        let effective = aggregate(&roles);
        let mut by_subject: HashMap<(SubjectKind, String), Vec<usize>> = HashMap::new();
        for (i, binding) in bindings.iter().enumerate() {
            for (subject, _) in &binding.subjects {
                let key = match subject.kind {
                    SubjectKind::Group => (SubjectKind::Group, subject.name.clone()),
                    _ => (SubjectKind::User, subject.user_name()),
                };
                let list = by_subject.entry(key).or_default();
                if list.last() != Some(&i) {
                    list.push(i);
                }
            }
        }
        Policy {
            roles,
            bindings,
            role_index,
            effective,
            by_subject,
        }
    }

    pub fn roles(&self) -> &[Role] {
        &self.roles
    }

    pub fn bindings(&self) -> &[Binding] {
        &self.bindings
    }

    /// The role a binding refers to, if it exists.
    pub fn role_of(&self, binding: &Binding) -> Option<&Role> {
        let (cluster, name) = &binding.role_ref;
        let namespace = if *cluster {
            None
        } else {
            binding.namespace.clone()
        };
        self.role_index
            .get(&(*cluster, namespace, name.clone()))
            .map(|&i| &self.roles[i])
    }

    /// A role's rules after aggregation.
    pub fn rules_of<'p>(&'p self, role: &'p Role) -> impl Iterator<Item = &'p PolicyRule> + 'p {
        let key = (role.cluster, role.namespace.clone(), role.name.clone());
        let index = self.role_index.get(&key).copied();
        index
            .map(|i| self.effective[i].as_slice())
            .unwrap_or_default()
            .iter()
            .map(|&(holder, rule)| &self.roles[holder].rules[rule])
    }

    /// Whether `binding` applies to a request in `namespace` (`None` = cluster-wide).
    fn in_scope(binding: &Binding, namespace: Option<&str>) -> bool {
        binding.cluster || (namespace.is_some() && binding.namespace.as_deref() == namespace)
    }

    /// Every grant that allows `request` for `user`; empty means denied.
    pub fn grants<'p>(&'p self, user: &UserInfo, request: &Request) -> Vec<Grant<'p>> {
        let mut candidates: Vec<usize> = Vec::new();
        let mut push = |key: (SubjectKind, String)| {
            if let Some(list) = self.by_subject.get(&key) {
                candidates.extend(list);
            }
        };
        if !user.name.is_empty() {
            push((SubjectKind::User, user.name.clone()));
        }
        for group in &user.groups {
            push((SubjectKind::Group, group.clone()));
        }
        candidates.sort_unstable();
        candidates.dedup();
        let namespace = match request {
            Request::Resource { namespace, .. } => namespace.as_deref(),
            Request::NonResource { .. } => None,
        };
        let mut grants = Vec::new();
        for i in candidates {
            let binding = &self.bindings[i];
            let non_resource = matches!(request, Request::NonResource { .. });
            if (non_resource && !binding.cluster) || !Self::in_scope(binding, namespace) {
                continue;
            }
            let Some(role) = self.role_of(binding) else {
                continue;
            };
            for rule in self.rules_of(role) {
                if rule_allows(rule, request) {
                    grants.push(Grant {
                        binding,
                        role,
                        rule,
                    });
                }
            }
        }
        grants
    }

    pub fn can(&self, user: &UserInfo, request: &Request) -> bool {
        !self.grants(user, request).is_empty()
    }

    /// Every binding subject allowed to make `request`, with the grants that allow it.
    pub fn who_can<'p>(&'p self, request: &Request) -> Vec<(&'p Subject, Vec<Grant<'p>>)> {
        let namespace = match request {
            Request::Resource { namespace, .. } => namespace.as_deref(),
            Request::NonResource { .. } => None,
        };
        let non_resource = matches!(request, Request::NonResource { .. });
        let mut found: Vec<(&Subject, Vec<Grant>)> = Vec::new();
        for binding in &self.bindings {
            if (non_resource && !binding.cluster) || !Self::in_scope(binding, namespace) {
                continue;
            }
            let Some(role) = self.role_of(binding) else {
                continue;
            };
            let allowing: Vec<&PolicyRule> = self
                .rules_of(role)
                .filter(|r| rule_allows(r, request))
                .collect();
            if allowing.is_empty() {
                continue;
            }
            for (subject, _) in &binding.subjects {
                let grants = allowing.iter().map(|&rule| Grant {
                    binding,
                    role,
                    rule,
                });
                match found.iter_mut().find(|(s, _)| *s == subject) {
                    Some((_, list)) => list.extend(grants),
                    None => found.push((subject, grants.collect())),
                }
            }
        }
        found.sort_by(|a, b| a.0.cmp(b.0));
        found
    }

    /// The bindings that apply to `user`, each with the namespace it grants in (`None`: all).
    pub fn bindings_for<'p>(&'p self, user: &UserInfo) -> Vec<&'p Binding> {
        let mut indexes: Vec<usize> = Vec::new();
        if !user.name.is_empty() {
            indexes.extend(
                self.by_subject
                    .get(&(SubjectKind::User, user.name.clone()))
                    .into_iter()
                    .flatten(),
            );
        }
        for group in &user.groups {
            indexes.extend(
                self.by_subject
                    .get(&(SubjectKind::Group, group.clone()))
                    .into_iter()
                    .flatten(),
            );
        }
        indexes.sort_unstable();
        indexes.dedup();
        indexes.into_iter().map(|i| &self.bindings[i]).collect()
    }
}

/// Each ClusterRole with an aggregation rule holds the rules of the ClusterRoles its selectors
/// match, transitively (the controller converges to this fixpoint).
fn aggregate(roles: &[Role]) -> Vec<Vec<(usize, usize)>> {
    let own: Vec<Vec<(usize, usize)>> = roles
        .iter()
        .enumerate()
        .map(|(i, r)| (0..r.rules.len()).map(|j| (i, j)).collect())
        .collect();
    let mut effective = own.clone();
    for (i, role) in roles.iter().enumerate() {
        let Some(selectors) = &role.aggregation else {
            continue;
        };
        // Depth-first over aggregation, guarding against cycles.
        let mut visited = vec![false; roles.len()];
        visited[i] = true;
        let mut stack: Vec<usize> = Vec::new();
        let select =
            |selectors: &[crate::selector::LabelSelector], visited: &[bool]| -> Vec<usize> {
                roles
                    .iter()
                    .enumerate()
                    .filter(|(j, r)| {
                        r.cluster && !visited[*j] && selectors.iter().any(|s| s.matches(&r.labels))
                    })
                    .map(|(j, _)| j)
                    .collect()
            };
        for j in select(selectors, &visited) {
            visited[j] = true;
            stack.push(j);
        }
        while let Some(j) = stack.pop() {
            effective[i].extend(own[j].iter().copied());
            if let Some(inner) = &roles[j].aggregation {
                for k in select(inner, &visited) {
                    visited[k] = true;
                    stack.push(k);
                }
            }
        }
    }
    effective
}
