//! Escalation paths: a graph whose edges are the ways one identity becomes another, and the
//! shortest path from each subject to cluster-admin-equivalent power (or to a node).
//!
//! Edges (each explained in its step):
//! * holding `*` on `*` cluster-wide → cluster-admin;
//! * creating pods (or controllers) in a namespace → every service account there, and → a node
//!   when Pod Security Admission does not enforce baseline or restricted there;
//! * reading a legacy token Secret → its service account;
//! * creating `serviceaccounts/token` → that account;
//! * impersonating users, groups or service accounts → the impersonated subject;
//! * `bind`/`escalate` with binding creation → cluster-admin (cluster-wide), or the power to
//!   run pods in the namespace;
//! * `escalate` with `update`/`patch` on a role bound to the subject → cluster-admin (a
//!   ClusterRole bound cluster-wide), or the power to run pods in the binding's namespace;
//! * a node → every service account whose pods the input runs (their tokens sit on nodes).
//!
//! Fan-out is shared: "can run pods in namespace N" is one vertex with an edge to each account
//! of N, so the graph stays linear in the input. Such capability vertices cost nothing on a
//! path (0-1 breadth-first search) and their steps merge into the step that reached them.

use crate::rbac::{Grant, Policy, Role, Source, TokenSecret};
use palisade_model::Word;
use std::collections::{BTreeMap, VecDeque};

// Hashed with foldhash: the graph of a large cluster looks up requests, bindings and accounts
// millions of times.
use foldhash::{HashMap, HashSet};

use super::{
    group_matches, resource_matches, verb_matches, Binding, Inventory, PolicyRule, Request,
    Subject, SubjectKind, UserInfo, PRIVILEGED_GROUP,
};

/// A power that leads to several identities at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Capability {
    RunPods,
    ReadSecrets,
    CreateTokens,
    ImpersonateServiceAccounts,
    ImpersonateAnyone,
}

/// A vertex of the escalation graph.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Identity {
    Subject(Subject),
    /// Control of a node (root on it).
    Node,
    ClusterAdmin,
    /// A shared capability, in one namespace or (`None`) in all of them.
    Capability(Capability, Option<String>),
}

impl Identity {
    pub fn display(&self) -> String {
        match self {
            Identity::Subject(s) => s.display(),
            Identity::Node => "a node".into(),
            Identity::ClusterAdmin => "cluster-admin".into(),
            Identity::Capability(c, ns) => {
                format!("{c:?} in {}", ns.as_deref().unwrap_or("every namespace"))
            }
        }
    }

    fn is_capability(&self) -> bool {
        matches!(self, Identity::Capability(..))
    }
}

/// One edge: `from` can become `to`, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    pub from: Identity,
    pub to: Identity,
    pub reason: String,
    /// The binding that grants a subject this step, when it is one of the subject's own.
    pub granted_by: Option<Source>,
}

/// A shortest path from a subject to the target; capability vertices are merged away.
#[derive(Clone, Debug)]
pub struct EscalationPath {
    pub start: Subject,
    pub steps: Vec<Step>,
}

fn sa(namespace: &str, name: &str) -> Subject {
    Subject {
        kind: SubjectKind::ServiceAccount,
        name: name.to_string(),
        namespace: Some(namespace.to_string()),
    }
}

const WORKLOAD_RESOURCES: &[(&str, &str)] = &[
    ("", "pods"),
    ("apps", "deployments"),
    ("apps", "daemonsets"),
    ("apps", "statefulsets"),
    ("apps", "replicasets"),
    ("batch", "jobs"),
    ("batch", "cronjobs"),
    ("", "replicationcontrollers"),
];

/// Whether `rule` allows `verb` on the resource regardless of object names; and the names it is
/// restricted to, if any.
fn allows_any_name<'r>(
    rule: &'r PolicyRule,
    verb: &str,
    group: &str,
    resource: &str,
    sub: &str,
) -> Option<&'r [Word]> {
    // The rule's own matchers, names left out: asked for every rule of every binding of every
    // subject, a copy of the rule without its names per question was most of the graph's cost.
    (verb_matches(rule, verb)
        && group_matches(rule, group)
        && resource_matches(rule, resource, sub))
    .then_some(&rule.resource_names[..])
}

/// The steps `binding` (to `role`) gives whoever it applies to, in the order they are found:
/// the same for every member of a group it binds, so they are worked out once per binding for
/// those (every service account is in `system:serviceaccounts` and `system:authenticated`).
#[allow(clippy::too_many_arguments)]
fn binding_steps(
    policy: &Policy,
    inventory: &Inventory,
    namespaces: &[String],
    known_accounts: &HashSet<(&str, &str)>,
    binding: &Binding,
    role: &Role,
    emit: &mut dyn FnMut(Identity, std::fmt::Arguments<'_>),
) {
    let scope = if binding.cluster {
        None
    } else {
        binding.namespace.clone()
    };
    let where_ = scope
        .as_deref()
        .map_or("in every namespace".to_string(), |ns| {
            format!("in namespace {ns}")
        });
    let via = format!("{} binds {} {}", binding.display(), role.kind(), role.name);
    let capability = |c| Identity::Capability(c, scope.clone());
    for rule in policy.rules_of(role) {
        if let Some((_, res)) = WORKLOAD_RESOURCES.iter().find(|(g, r)| {
            allows_any_name(rule, "create", g, r, "").is_some_and(<[Word]>::is_empty)
        }) {
            emit(
                capability(Capability::RunPods),
                format_args!("can create {res} {where_} ({via})"),
            );
        }
        match allows_any_name(rule, "get", "", "secrets", "") {
            Some([]) => emit(
                capability(Capability::ReadSecrets),
                format_args!("can read Secrets {where_} ({via})"),
            ),
            Some(names) => {
                for secret in inventory.token_secrets.iter().filter(|t| {
                    names.iter().any(|n| *n == t.name)
                        && scope.as_ref().is_none_or(|ns| *ns == t.namespace)
                }) {
                    emit(
                        Identity::Subject(sa(&secret.namespace, &secret.service_account)),
                        format_args!(
                            "can read Secret {}/{}, the long-lived token of ServiceAccount {}/{} ({via})",
                            secret.namespace, secret.name, secret.namespace, secret.service_account
                        ),
                    );
                }
            }
            None => {}
        }
        for (verb, sub, capability_kind, what) in [
            (
                "create",
                "token",
                Capability::CreateTokens,
                "can create tokens for",
            ),
            (
                "impersonate",
                "",
                Capability::ImpersonateServiceAccounts,
                "can impersonate",
            ),
        ] {
            match allows_any_name(rule, verb, "", "serviceaccounts", sub) {
                Some([]) => emit(
                    capability(capability_kind),
                    format_args!("{what} service accounts {where_} ({via})"),
                ),
                Some(names) => {
                    let namespaces_here: Vec<&String> = match &scope {
                        Some(ns) => vec![ns],
                        None => namespaces.iter().collect(),
                    };
                    for ns in namespaces_here {
                        for name in names
                            .iter()
                            .filter(|name| known_accounts.contains(&(ns.as_str(), name.as_str())))
                        {
                            emit(
                                Identity::Subject(sa(ns, name)),
                                format_args!("{what} ServiceAccount {ns}/{name} ({via})"),
                            );
                        }
                    }
                }
                None => {}
            }
        }
        if binding.cluster {
            for (resource, kind) in [("users", SubjectKind::User), ("groups", SubjectKind::Group)] {
                match allows_any_name(rule, "impersonate", "", resource, "") {
                    Some([]) => emit(
                        Identity::Capability(Capability::ImpersonateAnyone, None),
                        format_args!(
                            "can impersonate any {} ({via})",
                            &resource[..resource.len() - 1]
                        ),
                    ),
                    Some(names) => {
                        for name in names {
                            let target = Subject {
                                kind,
                                name: name.to_string(),
                                namespace: None,
                            };
                            emit(
                                Identity::Subject(target),
                                format_args!("can impersonate {} {name} ({via})", kind.as_str()),
                            );
                        }
                    }
                    None => {}
                }
            }
        }
    }
}

/// Where `binding` names `subject` (its entry in `subjects`), or the binding when it names
/// the subject only through a group.
fn entry_of(binding: &Binding, subject: &Subject) -> Source {
    binding
        .subjects
        .iter()
        .find(|(s, _)| s == subject)
        .map_or_else(|| binding.source.clone(), |(_, at)| at.clone())
}

/// The escalation graph of an inventory.
pub struct Graph {
    /// Ordered, so that ties between equally short paths break the same way every run.
    pub edges: BTreeMap<Identity, Vec<Step>>,
}

impl Graph {
    pub fn build(inventory: &Inventory) -> Self {
        let policy = &inventory.policy;
        let namespaces = inventory.namespace_names();
        // Service accounts per namespace: declared, used by workloads, named in bindings, plus
        // `default`, which every namespace has.
        let mut accounts: HashMap<String, Vec<String>> = HashMap::default();
        fn add_account(ns: &str, name: &str, accounts: &mut HashMap<String, Vec<String>>) {
            let list = accounts.entry(ns.to_string()).or_default();
            if !list.iter().any(|a| a == name) {
                list.push(name.to_string());
            }
        }
        for ns in &namespaces {
            add_account(ns, "default", &mut accounts);
        }
        for account in &inventory.service_accounts {
            add_account(&account.namespace, &account.name, &mut accounts);
        }
        for workload in &inventory.workloads {
            add_account(
                &workload.namespace,
                &workload.service_account,
                &mut accounts,
            );
        }
        let mut subjects: Vec<Subject> = Vec::new();
        for binding in policy.bindings() {
            for (subject, _) in &binding.subjects {
                if let (SubjectKind::ServiceAccount, Some(ns)) = (subject.kind, &subject.namespace)
                {
                    add_account(ns, &subject.name, &mut accounts);
                }
                subjects.push(subject.clone());
            }
        }
        for (ns, names) in &accounts {
            subjects.extend(names.iter().map(|n| sa(ns, n)));
        }
        subjects.sort();
        subjects.dedup();
        // Only accounts the input knows are steps' targets: any other has no edge out (it
        // holds no binding), so a step to it leads nowhere, and a cluster-wide grant on named
        // accounts would otherwise reach that name in every namespace (quadratic in copies of
        // one application, each with its own ClusterRoleBinding and namespaces).
        let known_accounts: HashSet<(&str, &str)> = accounts
            .iter()
            .flat_map(|(ns, names)| names.iter().map(move |n| (ns.as_str(), n.as_str())))
            .collect();
        let mut token_secrets_in: HashMap<&str, Vec<&TokenSecret>> = HashMap::default();
        for secret in &inventory.token_secrets {
            token_secrets_in
                .entry(secret.namespace.as_str())
                .or_default()
                .push(secret);
        }
        let enforcing = inventory.namespaces_forbidding_privileged_pods();

        let mut edges: BTreeMap<Identity, Vec<Step>> = BTreeMap::new();
        // The binding whose rules are being read: it grants the steps added meanwhile.
        let granted_by: std::cell::RefCell<Option<Source>> = std::cell::RefCell::new(None);
        // One step per pair of vertices, the first found: the search below only ever takes
        // the first of equal steps, and a subject whose roles grant one thing many times over
        // (most of a large cluster's edges) would hold a copy per rule. Each subject's steps
        // are indexed by the hash of their target (checked against the step itself, so a
        // collision keeps both), kept for the whole build: a subject bound in many places
        // (a group every copy of an application binds) gets steps at many times, and
        // gathering its targets again at each was quadratic in copies. The other vertices'
        // steps are made without repeats.
        let mut step_index: foldhash::HashMap<Identity, foldhash::HashMap<u64, usize>> =
            Default::default();
        let target_hash = foldhash::fast::FixedState::default();
        // The reason is written out only for a step that is kept: most are repeats.
        let mut add = |from: &Identity, to: Identity, reason: std::fmt::Arguments<'_>| {
            if &to == from {
                return;
            }
            if let Identity::Subject(_) = from {
                use std::hash::BuildHasher;
                let steps = edges.get(from).map(Vec::as_slice).unwrap_or_default();
                let index = match step_index.get_mut(from) {
                    Some(index) => index,
                    None => step_index.entry(from.clone()).or_default(),
                };
                let hash = target_hash.hash_one(&to);
                match index.get(&hash) {
                    Some(&at) if steps[at].to == to => return,
                    Some(_) => {
                        if steps.iter().any(|step| step.to == to) {
                            return;
                        }
                    }
                    None => {
                        index.insert(hash, steps.len());
                    }
                }
            }
            edges.entry(from.clone()).or_default().push(Step {
                from: from.clone(),
                to,
                reason: reason.to_string(),
                granted_by: granted_by.borrow().clone(),
            });
        };

        // Shared fan-out from capabilities to the identities they lead to.
        for ns in &namespaces {
            let ns_accounts = accounts.get(ns).map(Vec::as_slice).unwrap_or_default();
            let in_ns = |c| Identity::Capability(c, Some(ns.clone()));
            for c in [
                Capability::RunPods,
                Capability::ReadSecrets,
                Capability::CreateTokens,
                Capability::ImpersonateServiceAccounts,
            ] {
                add(&Identity::Capability(c, None), in_ns(c), format_args!(""));
            }
            for account in ns_accounts {
                let to = || Identity::Subject(sa(ns, account));
                add(
                    &in_ns(Capability::RunPods),
                    to(),
                    format_args!(
                        "so it can run a pod in namespace {ns} as ServiceAccount {ns}/{account}"
                    ),
                );
                add(
                    &in_ns(Capability::CreateTokens),
                    to(),
                    format_args!("so it can request a token for ServiceAccount {ns}/{account}"),
                );
                add(
                    &in_ns(Capability::ImpersonateServiceAccounts),
                    to(),
                    format_args!("so it can act as ServiceAccount {ns}/{account}"),
                );
            }
            if !enforcing.contains(ns.as_str()) {
                add(
                    &in_ns(Capability::RunPods),
                    Identity::Node,
                    format_args!("and Pod Security Admission does not enforce baseline in namespace {ns}, so it can run a privileged pod there and take over its node"),
                );
            }
            for secret in token_secrets_in.get(ns.as_str()).into_iter().flatten() {
                add(
                    &in_ns(Capability::ReadSecrets),
                    Identity::Subject(sa(ns, &secret.service_account)),
                    format_args!(
                        "including Secret {ns}/{}, the long-lived token of ServiceAccount {ns}/{}",
                        secret.name, secret.service_account
                    ),
                );
            }
        }
        for target in subjects
            .iter()
            .filter(|s| s.kind != SubjectKind::ServiceAccount)
        {
            add(
                &Identity::Capability(Capability::ImpersonateAnyone, None),
                Identity::Subject(target.clone()),
                format_args!("so it can act as {}", target.display()),
            );
        }
        // A node holds the tokens of every account its pods run as: one step per account, named
        // after the first workload that runs as it.
        let mut accounts_run: HashSet<(&str, &str)> = Default::default();
        for workload in &inventory.workloads {
            if !accounts_run.insert((&workload.namespace, &workload.service_account)) {
                continue;
            }
            add(
                &Identity::Node,
                Identity::Subject(sa(&workload.namespace, &workload.service_account)),
                format_args!(
                    "which holds the tokens of the pods it runs, such as {} {}/{} running as ServiceAccount {}/{}",
                    workload.object.kind, workload.namespace, workload.object.name, workload.namespace, workload.service_account
                ),
            );
        }

        // Each subject's own edges, from the rules of the bindings that apply to it; the steps
        // of a binding that applies through a group, by binding.
        let mut group_steps: HashMap<usize, Vec<(Identity, String)>> = HashMap::default();
        let everything = Request::resource("*", "*", "*", "", "", None);
        let first_grants: std::cell::RefCell<HashMap<Request, HashMap<usize, Option<Grant<'_>>>>> =
            Default::default();
        let mut role_verbs: HashMap<usize, (bool, bool)> = HashMap::default();
        for subject in &subjects {
            *granted_by.borrow_mut() = None;
            let from = Identity::Subject(subject.clone());
            let user = UserInfo::of_subject(subject);
            let bindings: Vec<&Binding> = policy.bindings_for(&user);
            let privileged = user.groups.iter().any(|g| g == PRIVILEGED_GROUP);
            // The first grant of `request` among the subject's bindings, in order (as `grants`
            // lists them), each binding judged once per request for all the subjects it
            // applies to; the binding that grants it becomes the step's source.
            let describe = |request: &Request| {
                let grant = if privileged {
                    policy.grants(&user, request).into_iter().next()
                } else {
                    let mut memo = first_grants.borrow_mut();
                    if !memo.contains_key(request) {
                        memo.insert(request.clone(), HashMap::default());
                    }
                    let by_binding = memo.get_mut(request)?;
                    bindings.iter().find_map(|binding| {
                        *by_binding
                            .entry(std::ptr::from_ref(*binding) as usize)
                            .or_insert_with(|| policy.first_grant_of(binding, request))
                    })
                }?;
                *granted_by.borrow_mut() = Some(entry_of(grant.binding, subject));
                Some(grant.describe())
            };
            if let Some(grant) = describe(&everything) {
                add(
                    &from,
                    Identity::ClusterAdmin,
                    format_args!("holds `*` on `*` cluster-wide ({grant})"),
                );
                continue;
            }
            // Whether a role bound to the subject holds `bind` or `escalate` (and `escalate`)
            // on RBAC roles at all (names and scope aside): without it, none of the checks of
            // those verbs below can allow anything, and they are skipped. Asked for every
            // binding of every subject, they made inputs with many group bindings (every
            // service account's) quadratic; each binding is judged once.
            let (may_bind, may_escalate) = if privileged {
                (true, true)
            } else {
                bindings
                    .iter()
                    .fold((false, false), |(bind, escalate), binding| {
                        let (b, e) = *role_verbs
                            .entry(std::ptr::from_ref(*binding) as usize)
                            .or_insert_with(|| {
                                let holds = |verbs: &[&str]| {
                                    policy
                                        .role_of(binding)
                                        .into_iter()
                                        .flat_map(|role| policy.rules_of(role))
                                        .any(|rule| {
                                            verbs.iter().any(|v| verb_matches(rule, v))
                                                && group_matches(rule, "rbac.authorization.k8s.io")
                                                && (resource_matches(rule, "clusterroles", "")
                                                    || resource_matches(rule, "roles", ""))
                                        })
                                };
                                (holds(&["bind", "escalate"]), holds(&["escalate"]))
                            });
                        (bind || b, escalate || e)
                    })
            };
            for binding in &bindings {
                let Some(role) = policy.role_of(binding) else {
                    continue;
                };
                *granted_by.borrow_mut() = Some(entry_of(binding, subject));
                let steps = |emit: &mut dyn FnMut(Identity, std::fmt::Arguments<'_>)| {
                    binding_steps(
                        policy,
                        inventory,
                        &namespaces,
                        &known_accounts,
                        binding,
                        role,
                        emit,
                    )
                };
                if binding.subjects.iter().any(|(s, _)| s == subject) {
                    steps(&mut |to, reason| add(&from, to, reason));
                    continue;
                }
                let recorded = group_steps
                    .entry(std::ptr::from_ref(*binding) as usize)
                    .or_insert_with(|| {
                        let mut recorded = Vec::new();
                        steps(&mut |to, reason| recorded.push((to, reason.to_string())));
                        recorded
                    });
                for (to, reason) in recorded.iter() {
                    add(&from, to.clone(), format_args!("{reason}"));
                }
            }
            // bind/escalate need binding creation too.
            for verb in ["bind", "escalate"].into_iter().filter(|_| may_bind) {
                let role_verb = describe(&Request::resource(
                    verb,
                    "rbac.authorization.k8s.io",
                    "clusterroles",
                    "",
                    "cluster-admin",
                    None,
                ));
                let create = describe(&Request::resource(
                    "create",
                    "rbac.authorization.k8s.io",
                    "clusterrolebindings",
                    "",
                    "",
                    None,
                ));
                if let (Some(grant), Some(_)) = (role_verb, create) {
                    add(&from, Identity::ClusterAdmin, format_args!("can {verb} ClusterRole cluster-admin and create ClusterRoleBindings ({grant})"));
                }
            }
            // `escalate` with `update` or `patch` on a role bound to the subject: it can write
            // any permission into that role, and the binding hands it over. A ClusterRole bound
            // cluster-wide leads to cluster-admin; a role bound in a namespace, to everything
            // there. Aggregated ClusterRoles are left out: the controller rewrites their rules.
            for binding in bindings.iter().filter(|_| may_escalate) {
                let Some(role) = policy.role_of(binding) else {
                    continue;
                };
                if role.aggregation.is_some() {
                    continue;
                }
                let (resource, role_namespace) = if role.cluster {
                    ("clusterroles", None)
                } else {
                    ("roles", role.namespace.as_deref())
                };
                let may = |verb: &str| {
                    describe(&Request::resource(
                        verb,
                        "rbac.authorization.k8s.io",
                        resource,
                        "",
                        &role.name,
                        role_namespace,
                    ))
                };
                let Some(escalate) = may("escalate") else {
                    continue;
                };
                let Some(edit) = may("update").or_else(|| may("patch")) else {
                    continue;
                };
                let grants = if escalate == edit {
                    escalate
                } else {
                    format!("{escalate}; {edit}")
                };
                let what = format!(
                    "can escalate and edit {} {} ({grants}), which {} binds to it",
                    role.kind(),
                    role.name,
                    binding.display()
                );
                if binding.cluster {
                    add(
                        &from,
                        Identity::ClusterAdmin,
                        format_args!("{what} cluster-wide: it can give that role `*` on `*`"),
                    );
                } else if let Some(ns) = &binding.namespace {
                    add(
                        &from,
                        Identity::Capability(Capability::RunPods, Some(ns.clone())),
                        format_args!("{what} in namespace {ns}: it can give itself any permission there, including pod creation"),
                    );
                }
            }
            let mut role_binding_namespaces: Vec<&str> = bindings
                .iter()
                .filter(|b| may_bind && !b.cluster)
                .filter_map(|b| b.namespace.as_deref())
                .collect();
            role_binding_namespaces.sort_unstable();
            role_binding_namespaces.dedup();
            for ns in role_binding_namespaces {
                let grant = ["bind", "escalate"].iter().find_map(|verb| {
                    describe(&Request::resource(
                        verb,
                        "rbac.authorization.k8s.io",
                        "clusterroles",
                        "",
                        "admin",
                        Some(ns),
                    ))
                    .or_else(|| {
                        describe(&Request::resource(
                            verb,
                            "rbac.authorization.k8s.io",
                            "roles",
                            "",
                            "",
                            Some(ns),
                        ))
                    })
                });
                let create = describe(&Request::resource(
                    "create",
                    "rbac.authorization.k8s.io",
                    "rolebindings",
                    "",
                    "",
                    Some(ns),
                ));
                if let (Some(grant), Some(_)) = (grant, create) {
                    add(
                        &from,
                        Identity::Capability(Capability::RunPods, Some(ns.to_string())),
                        format_args!("can grant itself any role in namespace {ns} ({grant}), including pod creation"),
                    );
                }
            }
            *granted_by.borrow_mut() = None;
        }
        Graph { edges }
    }

    /// For every vertex that can reach `target`, the first step of a shortest path there, by a
    /// 0-1 breadth-first search backwards (steps out of capability vertices cost nothing).
    fn next_steps(&self, target: &Identity) -> foldhash::HashMap<&Identity, &Step> {
        // Keyed by identities (names), asked for every step of every walk: foldhash, not
        // SipHash.
        let mut reverse: foldhash::HashMap<&Identity, Vec<&Step>> = Default::default();
        for steps in self.edges.values() {
            for step in steps {
                reverse.entry(&step.to).or_default().push(step);
            }
        }
        let mut distance: foldhash::HashMap<&Identity, usize> = Default::default();
        distance.insert(target, 0);
        let mut next: foldhash::HashMap<&Identity, &Step> = Default::default();
        let mut queue: VecDeque<(&Identity, usize)> = VecDeque::from([(target, 0)]);
        while let Some((node, d)) = queue.pop_front() {
            if distance.get(node).is_some_and(|&best| best < d) {
                continue;
            }
            for step in reverse.get(node).map(Vec::as_slice).unwrap_or_default() {
                let weight = usize::from(!step.from.is_capability());
                let candidate = d + weight;
                let best = distance.get(&step.from).copied();
                // Among equally short paths, prefer the step whose target orders first (running
                // pods before reading Secrets before requesting tokens).
                if best == Some(candidate)
                    && next
                        .get(&step.from)
                        .is_some_and(|current| step.to < current.to)
                {
                    next.insert(&step.from, step);
                }
                if best.is_none_or(|best| candidate < best) {
                    distance.insert(&step.from, candidate);
                    next.insert(&step.from, step);
                    if weight == 0 {
                        queue.push_front((&step.from, candidate));
                    } else {
                        queue.push_back((&step.from, candidate));
                    }
                }
            }
        }
        next
    }

    /// The shortest path from `start` (a node, say) to `target`, steps through capability
    /// vertices merged; `None` when there is none.
    pub fn path_from(&self, start: &Identity, target: &Identity) -> Option<Vec<Step>> {
        let next = self.next_steps(target);
        walk(&next, start, target)
    }

    /// The shortest path to `target` from every subject for which `start` is true, with steps
    /// through capability vertices merged into one explained step.
    pub fn paths_to(
        &self,
        target: &Identity,
        start: impl Fn(&Subject) -> bool,
    ) -> Vec<EscalationPath> {
        let next = self.next_steps(target);
        let mut starts: Vec<&Subject> = self
            .edges
            .keys()
            .filter_map(|id| match id {
                Identity::Subject(s) if start(s) => Some(s),
                _ => None,
            })
            .collect();
        starts.sort();
        starts
            .into_iter()
            .filter_map(|subject| {
                let steps = walk(&next, &Identity::Subject(subject.clone()), target)?;
                Some(EscalationPath {
                    start: subject.clone(),
                    steps,
                })
            })
            .collect()
    }
}

/// Follows `next` from `start` to `target`, merging the steps through capability vertices into
/// the step that reached them; `None` when `start` cannot get there.
fn walk(
    next: &foldhash::HashMap<&Identity, &Step>,
    start: &Identity,
    target: &Identity,
) -> Option<Vec<Step>> {
    let mut at = start.clone();
    let mut steps: Vec<Step> = Vec::new();
    let mut merging: Option<Step> = None;
    while &at != target {
        let step = next.get(&at)?;
        let combined = match merging.take() {
            Some(mut open) => {
                if !step.reason.is_empty() {
                    open.reason = format!("{}, {}", open.reason, step.reason);
                }
                open.to = step.to.clone();
                open
            }
            None => (*step).clone(),
        };
        if combined.to.is_capability() {
            merging = Some(combined);
        } else {
            steps.push(combined);
        }
        at = step.to.clone();
        if steps.len() > 64 {
            return None;
        }
    }
    Some(steps)
}
