//! Role-based access control, evaluated exactly as the Kubernetes RBAC authorizer does.
//!
//! * A RoleBinding grants its role's rules in its own namespace only, also when it binds a
//!   ClusterRole; a ClusterRoleBinding grants them in every namespace and for non-resource URLs.
//! * A request for a cluster-scoped resource carries no namespace, so RoleBindings never grant
//!   it (a named `namespaces` request carries its own name as the namespace; `bind` and
//!   `escalate` on roles are asked in the namespace of the binding or role being written).
//! * An aggregated ClusterRole's rules are the union of the rules of the other ClusterRoles its
//!   selectors match, as the aggregation controller writes them (transitively, since it reads
//!   their written rules); its own rules survive only while no role matches.
//! * Bootstrap roles and bindings (`cluster-admin`, `admin`, `system:*`, ...) are reconciled
//!   by the API server at start: a missing default rule or subject comes back unless the
//!   object is annotated `rbac.authorization.kubernetes.io/autoupdate: "false"`.
//! * `system:masters` is allowed everything before RBAC is asked.
//! * `*` matches any verb, API group or resource; `*/scale` matches the `scale` subresource of
//!   any resource; `pods/*` is not a wildcard (it only names a subresource called `*`).
//! * `resourceNames` restrict a rule to requests that name one of those objects, so they never
//!   allow `list`, `watch` or `create` of a collection.
//! * `nonResourceURLs` match exactly or by a trailing `*` prefix.
//! * A request's user carries groups as the impersonation filter builds them (see
//!   [`UserInfo::new`]).

mod inventory;
pub(crate) mod model;
pub mod paths;
pub mod resources;
pub mod risk;

use std::collections::{HashMap, HashSet};

use palisade_model::{Object, Word};

use crate::selector::{LabelSelector, Requirement};

pub(crate) use inventory::namespace_of;
pub use inventory::{
    Inventory, InventoryBuilder, Namespace, ServiceAccount, TokenSecret, Workload,
};
pub use model::{
    aggregation_problems, is_control_plane_account, Binding, PolicyRule, Role, Source, Subject,
    SubjectKind, PRIVILEGED_GROUP,
};

/// Who is asking.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserInfo {
    pub name: String,
    pub groups: Vec<String>,
}

impl UserInfo {
    /// The user the API server's impersonation filter builds for `--as NAME --as-group G...`:
    /// a service account (`system:serviceaccount:NS:NAME`) gets `system:serviceaccounts` and
    /// `system:serviceaccounts:NS` only when no group is given; a user other than
    /// `system:anonymous` gets `system:authenticated` unless the given groups hold
    /// `system:authenticated` or `system:unauthenticated`; `system:anonymous` gets
    /// `system:unauthenticated` unless given.
    pub fn new(name: &str, given_groups: &[String]) -> Self {
        let mut groups: Vec<String> = given_groups.to_vec();
        let given = |group: &str| given_groups.iter().any(|g| g == group);
        if let Some((ns, _)) = name
            .strip_prefix("system:serviceaccount:")
            .and_then(|rest| rest.split_once(':'))
            .filter(|_| given_groups.is_empty())
        {
            groups.push("system:serviceaccounts".into());
            groups.push(format!("system:serviceaccounts:{ns}"));
        }
        if name == "system:anonymous" {
            if !given("system:unauthenticated") {
                groups.push("system:unauthenticated".into());
            }
        } else if !given("system:authenticated") && !given("system:unauthenticated") {
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

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Scope {
    Cluster,
    /// `namespaces/NAME`: the API server takes the name as the request's namespace.
    NamedNamespace,
    Namespaced,
}

/// What is being asked.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
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

    /// The namespace the authorizer sees for this request: none for a cluster-scoped resource
    /// (a real request for a node never names a namespace), the object's own name for a named
    /// `namespaces` request, the given one otherwise. `bind` and `escalate` on roles keep it:
    /// the API server asks them in the namespace of the binding or role being written.
    pub fn authorizer_namespace(&self) -> Option<&str> {
        match self {
            Request::NonResource { .. } => None,
            Request::Resource {
                name, namespace, ..
            } => match self.scope() {
                Scope::Cluster => None,
                Scope::NamedNamespace => Some(name.as_str()),
                Scope::Namespaced => namespace.as_deref(),
            },
        }
    }

    /// Whether no RoleBinding can grant this request, whatever namespace it names.
    pub fn is_cluster_scoped(&self) -> bool {
        self.scope() == Scope::Cluster
    }

    fn scope(&self) -> Scope {
        let Request::Resource {
            verb,
            group,
            resource,
            name,
            ..
        } = self
        else {
            return Scope::Cluster;
        };
        let role_write =
            group == "rbac.authorization.k8s.io" && (verb == "bind" || verb == "escalate");
        if group.is_empty() && resource == "namespaces" {
            if name.is_empty() {
                Scope::Cluster
            } else {
                Scope::NamedNamespace
            }
        } else if resources::is_cluster_scoped(group, resource) && !role_write {
            Scope::Cluster
        } else {
            Scope::Namespaced
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
    // `resource/subresource` is compared in parts: it was built per rule and request.
    let is_combined = |r: &str| {
        if subresource.is_empty() {
            r == resource
        } else {
            r.len() == resource.len() + 1 + subresource.len()
                && r.starts_with(resource)
                && r.as_bytes().get(resource.len()) == Some(&b'/')
                && r.ends_with(subresource)
        }
    };
    rule.resources.iter().any(|r| {
        r == "*"
            || is_combined(r)
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
    rule_allows_some_object(rule, request)
        && match request {
            Request::Resource { name, .. } => name_matches(rule, name),
            Request::NonResource { .. } => true,
        }
}

/// [`rule_allows`] whatever `resourceNames` the rule lists: it grants the request for some
/// object (what the rule would allow with its names cleared).
fn rule_allows_some_object(rule: &PolicyRule, request: &Request) -> bool {
    match request {
        Request::Resource {
            verb,
            group,
            resource,
            subresource,
            ..
        } => {
            verb_matches(rule, verb)
                && group_matches(rule, group)
                && resource_matches(rule, resource, subresource)
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
        if self.binding.privileged {
            return format!(
                "group {PRIVILEGED_GROUP}, which the API server allows everything before RBAC is asked"
            );
        }
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
    /// Per binding, the index of the role it refers to.
    binding_roles: Vec<Option<usize>>,
    /// `system:masters`, as a binding and role that allow everything.
    privileged: Box<(Binding, Role)>,
}

/// Collects RBAC objects, then builds a [`Policy`].
#[derive(Clone, Default, PartialEq)]
pub struct PolicyBuilder {
    roles: Vec<Role>,
    bindings: Vec<Binding>,
}

type Key = (bool, Option<String>, String);

/// The index of `item` in `slice` when it is one of its elements (by address, not value).
fn index_in<T>(slice: &[T], item: &T) -> Option<usize> {
    let size = std::mem::size_of::<T>();
    let offset = (item as *const T as usize).checked_sub(slice.as_ptr() as usize)?;
    if size == 0 || offset % size != 0 {
        return None;
    }
    let i = offset / size;
    slice.get(i).filter(|found| std::ptr::eq(*found, item))?;
    Some(i)
}

fn role_key(role: &Role) -> Key {
    (role.cluster, role.namespace.clone(), role.name.clone())
}

fn binding_key(binding: &Binding) -> Key {
    (
        binding.cluster,
        binding.namespace.clone(),
        binding.name.clone(),
    )
}

fn same_rule(a: &PolicyRule, b: &PolicyRule) -> bool {
    a.verbs == b.verbs
        && a.api_groups == b.api_groups
        && a.resources == b.resources
        && a.resource_names == b.resource_names
        && a.non_resource_urls == b.non_resource_urls
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
    ///
    /// An input object that redefines a default one is reconciled as the API server does at
    /// start: the default rules (and aggregation selectors, and binding subjects) it lacks are
    /// added back, unless it is annotated `rbac.authorization.kubernetes.io/autoupdate: "false"`.
    /// A whole cluster's policy is taken as it is: its server has reconciled it already. Its
    /// roles and bindings that grant no more than the default of their name are the defaults,
    /// judged as the bundled ones are, with or without `bootstrap` (a live scan reads the
    /// cluster's own and never adds Palisade's).
    pub fn build(mut self, bootstrap: bool) -> Policy {
        let whole_cluster = self
            .roles
            .iter()
            .any(|r| r.cluster && r.name == "cluster-admin")
            && self
                .bindings
                .iter()
                .any(|b| b.cluster && b.name == "cluster-admin");
        if whole_cluster {
            self.recognise_defaults(default_policy());
        }
        if bootstrap && !whole_cluster {
            let defaults = default_policy().clone();
            let role_keys: HashMap<Key, usize> = self
                .roles
                .iter()
                .enumerate()
                .map(|(i, r)| (role_key(r), i))
                .collect();
            let binding_keys: HashMap<Key, usize> = self
                .bindings
                .iter()
                .enumerate()
                .map(|(i, b)| (binding_key(b), i))
                .collect();
            for default in defaults.roles {
                match role_keys.get(&role_key(&default)) {
                    None => self.roles.push(default),
                    Some(&i) => reconcile_role(&mut self.roles[i], default),
                }
            }
            for default in defaults.bindings {
                match binding_keys.get(&binding_key(&default)) {
                    None => self.bindings.push(default),
                    Some(&i) => reconcile_binding(&mut self.bindings[i], default),
                }
            }
        }
        Policy::new(self.roles, self.bindings)
    }
}

/// Kubernetes' default roles and bindings, read once per process (the operator builds a
/// policy at every change).
fn default_policy() -> &'static PolicyBuilder {
    static DEFAULTS: std::sync::OnceLock<PolicyBuilder> = std::sync::OnceLock::new();
    DEFAULTS.get_or_init(|| {
        let mut defaults = PolicyBuilder::default();
        for object in model::bootstrap_objects() {
            defaults.add_with(&object, true);
        }
        defaults
    })
}

impl PolicyBuilder {
    /// In a whole cluster's policy, marks the roles and bindings that grant no more than
    /// Kubernetes' default of the same name as the defaults they are, so that they are judged
    /// as a file scan judges the bundled defaults (not at all), and only what the cluster
    /// changed is reported: a binding with a subject the default lacks, a role with a rule it
    /// lacks. An aggregated role's rules are the controller's: its selectors are compared.
    fn recognise_defaults(&mut self, defaults: &PolicyBuilder) {
        let default_roles: HashMap<Key, &Role> =
            defaults.roles.iter().map(|r| (role_key(r), r)).collect();
        for role in &mut self.roles {
            let Some(default) = default_roles.get(&role_key(role)) else {
                continue;
            };
            let no_more = match (&role.aggregation, &default.aggregation) {
                (Some(own), Some(theirs)) => own.iter().all(|s| theirs.contains(s)),
                (None, None) => role
                    .rules
                    .iter()
                    .all(|rule| default.rules.iter().any(|d| same_rule(rule, d))),
                _ => false,
            };
            if no_more {
                role.source.bootstrap = true;
                for rule in &mut role.rules {
                    rule.source.bootstrap = true;
                }
            }
        }
        let default_bindings: HashMap<Key, &Binding> = defaults
            .bindings
            .iter()
            .map(|b| (binding_key(b), b))
            .collect();
        for binding in &mut self.bindings {
            let Some(default) = default_bindings.get(&binding_key(binding)) else {
                continue;
            };
            if binding.role_ref != default.role_ref {
                continue;
            }
            // The default's own subjects are the default's, even in a binding the cluster
            // added subjects to.
            for (subject, source) in &mut binding.subjects {
                if default.subjects.iter().any(|(d, _)| d == subject) {
                    source.bootstrap = true;
                }
            }
            if binding.subjects.iter().all(|(_, source)| source.bootstrap) {
                binding.source.bootstrap = true;
            }
        }
    }
}

/// Adds the default's rules and aggregation selectors that `role` lacks.
fn reconcile_role(role: &mut Role, default: Role) {
    if !role.auto_update {
        return;
    }
    for rule in default.rules {
        if !role.rules.iter().any(|r| same_rule(r, &rule)) {
            role.rules.push(rule);
        }
    }
    if let Some(selectors) = default.aggregation {
        let own = role.aggregation.get_or_insert_with(Vec::new);
        for selector in selectors {
            if !own.contains(&selector) {
                own.push(selector);
            }
        }
    }
}

/// Adds the default's subjects that `binding` lacks (when both refer to the same role: the
/// API server recreates a binding whose role changed).
fn reconcile_binding(binding: &mut Binding, default: Binding) {
    if !binding.auto_update {
        return;
    }
    if binding.role_ref != default.role_ref {
        *binding = default;
        return;
    }
    for (subject, source) in default.subjects {
        if !binding.subjects.iter().any(|(s, _)| *s == subject) {
            binding.subjects.push((subject, source));
        }
    }
}

impl Policy {
    fn new(roles: Vec<Role>, bindings: Vec<Binding>) -> Self {
        let mut role_index = HashMap::new();
        for (i, role) in roles.iter().enumerate() {
            role_index.entry(role_key(role)).or_insert(i);
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
        let binding_roles = bindings
            .iter()
            .map(|binding| {
                let (cluster, name) = &binding.role_ref;
                let namespace = if *cluster {
                    None
                } else {
                    binding.namespace.clone()
                };
                role_index
                    .get(&(*cluster, namespace, name.clone()))
                    .copied()
            })
            .collect();
        Policy {
            roles,
            bindings,
            role_index,
            effective,
            by_subject,
            binding_roles,
            privileged: Box::new(model::privileged_group()),
        }
    }

    pub fn roles(&self) -> &[Role] {
        &self.roles
    }

    pub fn bindings(&self) -> &[Binding] {
        &self.bindings
    }

    /// The bindings the input holds, without Kubernetes' default ones.
    pub fn input_bindings(&self) -> impl Iterator<Item = &Binding> {
        self.bindings.iter().filter(|b| !b.source.bootstrap)
    }

    /// The role a binding refers to, if it exists.
    pub fn role_of(&self, binding: &Binding) -> Option<&Role> {
        if binding.privileged {
            return Some(&self.privileged.1);
        }
        // A binding of this policy knows its role's index: no key is built to look it up.
        if let Some(i) = index_in(&self.bindings, binding) {
            return self.binding_roles[i].map(|r| &self.roles[r]);
        }
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
        let index =
            index_in(&self.roles, role).or_else(|| self.role_index.get(&role_key(role)).copied());
        let aggregated = index
            .filter(|&i| std::ptr::eq(&self.roles[i], role))
            .map(|i| self.effective[i].as_slice());
        let own = match aggregated {
            Some(_) => [].iter(),
            None => role.rules.iter(),
        };
        aggregated
            .unwrap_or_default()
            .iter()
            .map(|&(holder, rule)| &self.roles[holder].rules[rule])
            .chain(own)
    }

    /// The rules of `binding`'s role that allow `request`, asked as the authorizer asks:
    /// RoleBindings only for a namespaced request in their own namespace, ClusterRoleBindings
    /// for everything, non-resource URLs from ClusterRoleBindings only.
    pub fn rules_allowing<'p>(
        &'p self,
        binding: &'p Binding,
        request: &Request,
    ) -> Vec<&'p PolicyRule> {
        let scope = RequestScope::of(request);
        match self.role_of(binding) {
            Some(role) if scope.reaches(binding) => self.role_rules_allowing(role, request, false),
            _ => Vec::new(),
        }
    }

    /// The rules of `role` (after aggregation) that allow `request`, wherever it is bound.
    /// With `any_name`, a rule's `resourceNames` do not matter: it grants the request for some
    /// object.
    pub fn role_rules_allowing<'p>(
        &'p self,
        role: &'p Role,
        request: &Request,
        any_name: bool,
    ) -> Vec<&'p PolicyRule> {
        self.rules_of(role)
            .filter(|rule| {
                if any_name {
                    rule_allows_some_object(rule, request)
                } else {
                    rule_allows(rule, request)
                }
            })
            .collect()
    }

    /// The role the binding at `index` refers to and its rules after aggregation, by index
    /// (no lookup by name on the query path).
    fn bound_rules(&self, index: usize) -> Option<(&Role, &[(usize, usize)])> {
        self.binding_roles[index].map(|role| (&self.roles[role], self.effective[role].as_slice()))
    }

    /// The grants of one binding for `request`, when it is in scope.
    fn binding_grants<'p>(
        &'p self,
        index: usize,
        request: &Request,
        scope: &RequestScope<'_>,
        out: &mut Vec<Grant<'p>>,
    ) {
        let binding = &self.bindings[index];
        if !scope.reaches(binding) {
            return;
        }
        let Some((role, rules)) = self.bound_rules(index) else {
            return;
        };
        for &(holder, rule) in rules {
            let rule = &self.roles[holder].rules[rule];
            if rule_allows(rule, request) {
                out.push(Grant {
                    binding,
                    role,
                    rule,
                });
            }
        }
    }

    /// The grants of `system:masters` for `request` (always some: it is allowed everything).
    fn privileged_grants(&self, request: &Request) -> Vec<Grant<'_>> {
        let (binding, role) = &*self.privileged;
        role.rules
            .iter()
            .filter(|rule| rule_allows(rule, request))
            .map(|rule| Grant {
                binding,
                role,
                rule,
            })
            .collect()
    }

    /// Every grant that allows `request` for `user`; empty means denied. A member of
    /// `system:masters` is allowed by that group first.
    pub fn grants<'p>(&'p self, user: &UserInfo, request: &Request) -> Vec<Grant<'p>> {
        let mut grants = Vec::new();
        if user.groups.iter().any(|g| g == PRIVILEGED_GROUP) {
            grants.extend(self.privileged_grants(request));
        }
        let scope = RequestScope::of(request);
        for index in self.binding_indexes_for(user) {
            self.binding_grants(index, request, &scope, &mut grants);
        }
        grants
    }

    /// The first grant of `binding` (one of this policy's) for `request`, as [`Self::grants`]
    /// lists that binding's: what a subject the binding applies to gets from it, whoever it is.
    pub fn first_grant_of<'p>(
        &'p self,
        binding: &'p Binding,
        request: &Request,
    ) -> Option<Grant<'p>> {
        let index = index_in(&self.bindings, binding)?;
        let mut grants = Vec::new();
        self.binding_grants(index, request, &RequestScope::of(request), &mut grants);
        grants.into_iter().next()
    }

    pub fn can(&self, user: &UserInfo, request: &Request) -> bool {
        !self.grants(user, request).is_empty()
    }

    /// Every subject allowed to make `request`, with the grants that allow it: first the group
    /// `system:masters` (the API server's subject locator lists it first too), then the
    /// bindings' subjects in order.
    pub fn who_can<'p>(&'p self, request: &Request) -> Vec<(&'p Subject, Vec<Grant<'p>>)> {
        let privileged = &self.privileged.0.subjects[0].0;
        let mut found: Vec<(&Subject, Vec<Grant>)> =
            vec![(privileged, self.privileged_grants(request))];
        let scope = RequestScope::of(request);
        let mut allowing = Vec::new();
        for (index, binding) in self.bindings.iter().enumerate() {
            allowing.clear();
            self.binding_grants(index, request, &scope, &mut allowing);
            if allowing.is_empty() {
                continue;
            }
            for (subject, _) in &binding.subjects {
                match found.iter_mut().find(|(s, _)| *s == subject) {
                    Some((_, list)) => list.extend(allowing.iter().copied()),
                    None => found.push((subject, allowing.clone())),
                }
            }
        }
        if let Some((_, rest)) = found.split_first_mut() {
            rest.sort_by(|a, b| a.0.cmp(b.0));
        }
        found
    }

    /// The bindings that apply to `user`.
    pub fn bindings_for<'p>(&'p self, user: &UserInfo) -> Vec<&'p Binding> {
        self.binding_indexes_for(user)
            .into_iter()
            .map(|i| &self.bindings[i])
            .collect()
    }

    fn binding_indexes_for(&self, user: &UserInfo) -> Vec<usize> {
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
        indexes
    }
}

/// Where a request applies, worked out once per question.
struct RequestScope<'r> {
    non_resource: bool,
    namespace: Option<&'r str>,
}

impl<'r> RequestScope<'r> {
    fn of(request: &'r Request) -> Self {
        RequestScope {
            non_resource: matches!(request, Request::NonResource { .. }),
            namespace: request.authorizer_namespace(),
        }
    }

    /// Whether `binding` can grant the request at all.
    fn reaches(&self, binding: &Binding) -> bool {
        binding.cluster
            || (!self.non_resource
                && self.namespace.is_some()
                && binding.namespace.as_deref() == self.namespace)
    }
}

/// The rules each ClusterRole holds once the aggregation controller has run: an aggregated
/// role holds the written rules of the other ClusterRoles its selectors match (which, for an
/// aggregated one, are its aggregated rules), or its own rules while none matches.
fn aggregate(roles: &[Role]) -> Vec<Vec<(usize, usize)>> {
    let candidates = AggregationCandidates::new(roles);
    let mut effective: Vec<Option<Vec<(usize, usize)>>> = vec![None; roles.len()];
    let mut visiting = vec![false; roles.len()];
    (0..roles.len())
        .map(|i| resolve_aggregation(i, roles, &candidates, &mut effective, &mut visiting))
        .collect()
}

fn resolve_aggregation<'r>(
    i: usize,
    roles: &'r [Role],
    candidates: &AggregationCandidates<'r>,
    effective: &mut [Option<Vec<(usize, usize)>>],
    visiting: &mut [bool],
) -> Vec<(usize, usize)> {
    if let Some(done) = &effective[i] {
        return done.clone();
    }
    let own: Vec<(usize, usize)> = (0..roles[i].rules.len()).map(|j| (i, j)).collect();
    let Some(selectors) = &roles[i].aggregation else {
        return own;
    };
    // A cycle of aggregated roles has no fixed point; the controller's last write would
    // win. Stop at the role already being resolved and take its written rules.
    if visiting[i] {
        return own;
    }
    if let Some(shared) = candidates.shared_union(selectors, &roles[i].name) {
        let result = shared.unwrap_or(own);
        effective[i] = Some(result.clone());
        return result;
    }
    visiting[i] = true;
    let mut matched = false;
    let mut union: Vec<(usize, usize)> = Vec::new();
    // Rules already in the union, by what `same_rule` compares: a role aggregating from
    // thousands of others compared each new rule with every one before it.
    let mut seen: HashSet<RuleKey<'_>> = HashSet::new();
    for selector in selectors {
        let mut selected: Vec<usize> = candidates
            .for_selector(selector)
            .into_iter()
            .filter(|&j| roles[j].name != roles[i].name && selector.matches(&roles[j].labels))
            .collect();
        selected.sort_by(|&a, &b| roles[a].name.cmp(&roles[b].name));
        for j in selected {
            matched = true;
            for (holder, rule) in resolve_aggregation(j, roles, candidates, effective, visiting) {
                if seen.insert(RuleKey::of(&roles[holder].rules[rule])) {
                    union.push((holder, rule));
                }
            }
        }
    }
    visiting[i] = false;
    let result = if matched { union } else { own };
    effective[i] = Some(result.clone());
    result
}

/// What [`same_rule`] compares, as a hash key.
#[derive(PartialEq, Eq, Hash)]
struct RuleKey<'r>([&'r [Word]; 5]);

impl<'r> RuleKey<'r> {
    fn of(rule: &'r PolicyRule) -> Self {
        RuleKey([
            &rule.verbs,
            &rule.api_groups,
            &rule.resources,
            &rule.resource_names,
            &rule.non_resource_urls,
        ])
    }
}

/// The ClusterRoles an aggregation selector may pick, found through their labels rather than
/// by asking every role: a dump with thousands of ClusterRoles and hundreds of aggregated
/// ones asked each selector of each about every other.
struct AggregationCandidates<'r> {
    roles: &'r [Role],
    cluster_roles: Vec<usize>,
    by_label: HashMap<(&'r str, &'r str), Vec<usize>>,
    by_key: HashMap<&'r str, Vec<usize>>,
    /// Per set of selectors, what they aggregate when no role they pick aggregates itself
    /// (`None` when one does): copies of one application each aggregate the same roles, and
    /// the union was made again for every copy.
    shared: std::cell::RefCell<HashMap<&'r [LabelSelector], Option<SharedUnion<'r>>>>,
}

/// The rules a set of selectors aggregates, and the names of the roles they pick (an
/// aggregating role never picks itself, so the union holds only for a role of another name).
struct SharedUnion<'r> {
    picked: HashSet<&'r str>,
    union: Vec<(usize, usize)>,
}

impl<'r> AggregationCandidates<'r> {
    fn new(roles: &'r [Role]) -> Self {
        let mut candidates = AggregationCandidates {
            roles,
            cluster_roles: Vec::new(),
            by_label: HashMap::new(),
            by_key: HashMap::new(),
            shared: Default::default(),
        };
        for (i, role) in roles.iter().enumerate().filter(|(_, r)| r.cluster) {
            candidates.cluster_roles.push(i);
            for (key, value) in &role.labels {
                candidates
                    .by_label
                    .entry((key.as_str(), value.as_str()))
                    .or_default()
                    .push(i);
                candidates.by_key.entry(key.as_str()).or_default().push(i);
            }
        }
        candidates
    }

    /// What a role named `name` with `selectors` aggregates, when a union shared by every
    /// role with those selectors answers: `Some(None)` when they pick no role (the role keeps
    /// its own rules), `None` when the union must be made for this role alone.
    fn shared_union(
        &self,
        selectors: &'r [LabelSelector],
        name: &str,
    ) -> Option<Option<Vec<(usize, usize)>>> {
        let mut shared = self.shared.borrow_mut();
        let found = shared
            .entry(selectors)
            .or_insert_with(|| self.make_shared_union(selectors))
            .as_ref()?;
        if found.picked.contains(name) {
            return None;
        }
        Some((!found.picked.is_empty()).then(|| found.union.clone()))
    }

    fn make_shared_union(&self, selectors: &'r [LabelSelector]) -> Option<SharedUnion<'r>> {
        let roles = self.roles;
        let mut shared = SharedUnion {
            picked: HashSet::new(),
            union: Vec::new(),
        };
        let mut seen: HashSet<RuleKey<'_>> = HashSet::new();
        for selector in selectors {
            let mut selected: Vec<usize> = self
                .for_selector(selector)
                .into_iter()
                .filter(|&j| selector.matches(&roles[j].labels))
                .collect();
            if selected.iter().any(|&j| roles[j].aggregation.is_some()) {
                return None;
            }
            selected.sort_by(|&a, &b| roles[a].name.cmp(&roles[b].name));
            for j in selected {
                shared.picked.insert(roles[j].name.as_str());
                for (rule_index, rule) in roles[j].rules.iter().enumerate() {
                    if seen.insert(RuleKey::of(rule)) {
                        shared.union.push((j, rule_index));
                    }
                }
            }
        }
        Some(shared)
    }

    /// ClusterRoles, in their order, that meet the selector's first requirement that an
    /// index answers; all of them when none does. The caller still asks the whole selector.
    fn for_selector(&self, selector: &LabelSelector) -> Vec<usize> {
        for requirement in &selector.requirements {
            let mut found = match requirement {
                Requirement::Equals(key, value) => self
                    .by_label
                    .get(&(key.as_str(), value.as_str()))
                    .cloned()
                    .unwrap_or_default(),
                Requirement::In(key, values) => values
                    .iter()
                    .filter_map(|value| self.by_label.get(&(key.as_str(), value.as_str())))
                    .flatten()
                    .copied()
                    .collect(),
                Requirement::Exists(key) => {
                    self.by_key.get(key.as_str()).cloned().unwrap_or_default()
                }
                Requirement::NotIn(..) | Requirement::DoesNotExist(_) => continue,
            };
            found.sort_unstable();
            found.dedup();
            return found;
        }
        self.cluster_roles.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_model::{FieldPath, ObjectRef};
    use std::sync::Arc;

    fn rule_on(resources: &[&str]) -> PolicyRule {
        PolicyRule {
            verbs: vec!["get".into()].into(),
            api_groups: vec!["".into()].into(),
            resources: resources.iter().map(|r| Word::new(r)).collect(),
            resource_names: Default::default(),
            non_resource_urls: Default::default(),
            path: FieldPath::root(),
            source: Source {
                object: Arc::new(ObjectRef {
                    api_version: "rbac.authorization.k8s.io/v1".into(),
                    kind: "ClusterRole".into(),
                    namespace: None,
                    name: "reader".into(),
                }),
                path: FieldPath::root(),
                location: None,
                bootstrap: false,
            },
        }
    }

    #[test]
    fn resource_and_subresource_match_only_as_written() {
        let cases: &[(&str, &str, &str, bool)] = &[
            ("pods", "pods", "", true),
            ("pods", "pods", "exec", false),
            ("pods/exec", "pods", "exec", true),
            ("pods/exec", "pods", "", false),
            // As long as `pods/exec`, but no slash where the resource ends.
            ("podsXexec", "pods", "exec", false),
            ("pod/sexec", "pods", "exec", false),
            ("pods/exe", "pods", "exec", false),
            ("*/exec", "pods", "exec", true),
            ("*/exec", "pods", "", false),
            ("*", "pods", "exec", true),
        ];
        for &(written, resource, subresource, expected) in cases {
            assert_eq!(
                resource_matches(&rule_on(&[written]), resource, subresource),
                expected,
                "{written} against {resource}/{subresource}"
            );
        }
    }

    #[test]
    fn some_object_is_the_rule_with_its_names_cleared() {
        let named = |names: &[&str]| PolicyRule {
            resource_names: names.iter().map(|n| Word::new(n)).collect(),
            ..rule_on(&["secrets", "pods/exec"])
        };
        let requests = [
            Request::resource("get", "", "secrets", "", "db", Some("shop")),
            Request::resource("get", "", "secrets", "", "", Some("shop")),
            Request::resource("get", "", "pods", "exec", "web", Some("shop")),
            Request::resource("get", "", "pods", "", "web", Some("shop")),
            Request::resource("list", "", "secrets", "", "db", Some("shop")),
            Request::resource("get", "apps", "secrets", "", "db", Some("shop")),
            Request::NonResource {
                verb: "get".into(),
                path: "/healthz".into(),
            },
        ];
        for names in [&[][..], &["db"], &["other", "web"]] {
            let rule = named(names);
            let mut cleared = rule.clone();
            cleared.resource_names = Arc::new([]);
            for request in &requests {
                assert_eq!(
                    rule_allows_some_object(&rule, request),
                    rule_allows(&cleared, request),
                    "{names:?} {request:?}"
                );
            }
        }
        // Names still decide the exact question.
        assert!(!rule_allows(&named(&["other"]), &requests[0]));
        assert!(rule_allows_some_object(&named(&["other"]), &requests[0]));
    }

    #[test]
    fn index_in_finds_elements_by_address_only() {
        let items = vec![String::from("a"), String::from("b"), String::from("c")];
        assert_eq!(index_in(&items, &items[2]), Some(2));
        let equal_elsewhere = String::from("b");
        assert_eq!(index_in(&items, &equal_elsewhere), None);
        let other = [String::from("a")];
        assert_eq!(index_in(&items, &other[0]), None);
    }
}
