//! Escalation paths: a graph whose edges are the ways one identity becomes another, and the
//! shortest path from each subject to cluster-admin-equivalent power.
//!
//! Edges (each explained in its step):
//! * holding `*` on `*` cluster-wide → cluster-admin;
//! * creating pods (or controllers) in a namespace → every service account there, and → a node
//!   when Pod Security Admission does not enforce baseline or restricted there;
//! * reading a legacy token Secret → its service account;
//! * creating `serviceaccounts/token` → that account;
//! * impersonating users, groups or service accounts → the impersonated subject;
//! * `bind`/`escalate` with binding creation → cluster-admin (cluster-wide) or every service
//!   account of the namespace;
//! * a node → every service account whose pods the input runs (their tokens sit on nodes).

use std::collections::{HashMap, VecDeque};

use super::{Inventory, Request, Subject, SubjectKind, UserInfo};

/// A vertex of the escalation graph.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Identity {
    Subject(Subject),
    /// Control of a node (root on it).
    Node,
    ClusterAdmin,
}

impl Identity {
    pub fn display(&self) -> String {
        match self {
            Identity::Subject(s) => s.display(),
            Identity::Node => "a node".into(),
            Identity::ClusterAdmin => "cluster-admin".into(),
        }
    }
}

/// One edge: `from` can become `to`, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    pub from: Identity,
    pub to: Identity,
    pub reason: String,
}

/// A shortest path from a subject to cluster-admin.
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

fn resource(
    verb: &str,
    group: &str,
    resource: &str,
    sub: &str,
    name: &str,
    ns: Option<&str>,
) -> Request {
    Request::Resource {
        verb: verb.into(),
        group: group.into(),
        resource: resource.into(),
        subresource: sub.into(),
        name: name.into(),
        namespace: ns.map(str::to_string),
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

/// The escalation graph of an inventory.
pub struct Graph {
    pub edges: HashMap<Identity, Vec<Step>>,
}

impl Graph {
    pub fn build(inventory: &Inventory) -> Self {
        let policy = &inventory.policy;
        let namespaces = inventory.namespace_names();
        // Service accounts per namespace: declared, used by workloads, named in bindings, plus
        // `default`, which every namespace has.
        let mut accounts: HashMap<String, Vec<String>> = HashMap::new();
        for ns in &namespaces {
            accounts
                .entry(ns.clone())
                .or_default()
                .push("default".into());
        }
        fn add_account(ns: &str, name: &str, accounts: &mut HashMap<String, Vec<String>>) {
            let list = accounts.entry(ns.to_string()).or_default();
            if !list.iter().any(|a| a == name) {
                list.push(name.to_string());
            }
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
        let users: Vec<&Subject> = subjects
            .iter()
            .filter(|s| s.kind == SubjectKind::User)
            .collect();
        let groups: Vec<&Subject> = subjects
            .iter()
            .filter(|s| s.kind == SubjectKind::Group)
            .collect();

        let mut edges: HashMap<Identity, Vec<Step>> = HashMap::new();
        for subject in &subjects {
            let from = Identity::Subject(subject.clone());
            let user = UserInfo::of_subject(subject);
            let mut steps = Vec::new();
            let mut step = |to: Identity, reason: String| {
                if to != from {
                    steps.push(Step {
                        from: from.clone(),
                        to,
                        reason,
                    });
                }
            };
            let via =
                |request: &Request| policy.grants(&user, request).first().map(|g| g.describe());

            if let Some(grant) = via(&resource("*", "*", "*", "", "", None)) {
                step(
                    Identity::ClusterAdmin,
                    format!("holds `*` on `*` cluster-wide ({grant})"),
                );
                edges.insert(from.clone(), steps);
                continue;
            }
            let bindings = policy.bindings_for(&user);
            if bindings.is_empty() {
                continue;
            }
            let cluster_scope = bindings.iter().any(|b| b.cluster);
            let scope: Vec<&String> = if cluster_scope {
                namespaces.iter().collect()
            } else {
                namespaces
                    .iter()
                    .filter(|ns| bindings.iter().any(|b| b.namespace.as_ref() == Some(*ns)))
                    .collect()
            };

            for bind_kind in ["bind", "escalate"] {
                let can_bind = via(&resource(
                    bind_kind,
                    "rbac.authorization.k8s.io",
                    "clusterroles",
                    "",
                    "cluster-admin",
                    None,
                ));
                let can_create = via(&resource(
                    "create",
                    "rbac.authorization.k8s.io",
                    "clusterrolebindings",
                    "",
                    "",
                    None,
                ));
                if let (Some(a), Some(_)) = (can_bind, can_create) {
                    step(
                        Identity::ClusterAdmin,
                        format!("can {bind_kind} ClusterRole cluster-admin and create ClusterRoleBindings ({a})"),
                    );
                }
            }
            for group in &groups {
                if let Some(grant) = via(&resource(
                    "impersonate",
                    "",
                    "groups",
                    "",
                    &group.name,
                    None,
                )) {
                    step(
                        Identity::Subject((*group).clone()),
                        format!("can impersonate group {} ({grant})", group.name),
                    );
                }
            }
            for target in &users {
                if let Some(grant) = via(&resource(
                    "impersonate",
                    "",
                    "users",
                    "",
                    &target.name,
                    None,
                )) {
                    step(
                        Identity::Subject((*target).clone()),
                        format!("can impersonate user {} ({grant})", target.name),
                    );
                }
            }
            for ns in scope {
                let ns_accounts = accounts.get(ns).map(Vec::as_slice).unwrap_or_default();
                let creates = WORKLOAD_RESOURCES.iter().find_map(|(group, res)| {
                    via(&resource("create", group, res, "", "", Some(ns))).map(|g| (*res, g))
                });
                if let Some((res, grant)) = &creates {
                    for account in ns_accounts {
                        step(
                            Identity::Subject(sa(ns, account)),
                            format!("can create {res} in namespace {ns} ({grant}), so it can run a pod as ServiceAccount {ns}/{account}"),
                        );
                    }
                    if !inventory.forbids_privileged_pods(ns) {
                        step(
                            Identity::Node,
                            format!(
                                "can create {res} in namespace {ns} ({grant}), where Pod Security Admission does not enforce baseline, so it can run a privileged pod and take over its node"
                            ),
                        );
                    }
                }
                let can_grant_in_ns = ["bind", "escalate"].iter().find_map(|verb| {
                    via(&resource(
                        verb,
                        "rbac.authorization.k8s.io",
                        "clusterroles",
                        "",
                        "admin",
                        Some(ns),
                    ))
                    .or_else(|| {
                        via(&resource(
                            verb,
                            "rbac.authorization.k8s.io",
                            "roles",
                            "",
                            "",
                            Some(ns),
                        ))
                    })
                });
                let can_create_rb = via(&resource(
                    "create",
                    "rbac.authorization.k8s.io",
                    "rolebindings",
                    "",
                    "",
                    Some(ns),
                ));
                if let (Some(grant), Some(_), None) = (&can_grant_in_ns, &can_create_rb, &creates) {
                    for account in ns_accounts {
                        step(
                            Identity::Subject(sa(ns, account)),
                            format!("can grant itself any role in namespace {ns} ({grant}), then run a pod as ServiceAccount {ns}/{account}"),
                        );
                    }
                }
                for secret in inventory
                    .token_secrets
                    .iter()
                    .filter(|t| &t.namespace == ns)
                {
                    if let Some(grant) =
                        via(&resource("get", "", "secrets", "", &secret.name, Some(ns)))
                    {
                        step(
                            Identity::Subject(sa(ns, &secret.service_account)),
                            format!(
                                "can read Secret {ns}/{}, the long-lived token of ServiceAccount {ns}/{} ({grant})",
                                secret.name, secret.service_account
                            ),
                        );
                    }
                }
                for account in ns_accounts {
                    if let Some(grant) = via(&resource(
                        "create",
                        "",
                        "serviceaccounts",
                        "token",
                        account,
                        Some(ns),
                    )) {
                        step(
                            Identity::Subject(sa(ns, account)),
                            format!(
                                "can create tokens for ServiceAccount {ns}/{account} ({grant})"
                            ),
                        );
                    }
                    if let Some(grant) = via(&resource(
                        "impersonate",
                        "",
                        "serviceaccounts",
                        "",
                        account,
                        Some(ns),
                    )) {
                        step(
                            Identity::Subject(sa(ns, account)),
                            format!("can impersonate ServiceAccount {ns}/{account} ({grant})"),
                        );
                    }
                }
            }
            edges.insert(from, steps);
        }
        let node_steps: Vec<Step> = inventory
            .workloads
            .iter()
            .map(|w| Step {
                from: Identity::Node,
                to: Identity::Subject(sa(&w.namespace, &w.service_account)),
                reason: format!(
                    "a node holds the tokens of the pods it runs, such as {} {}/{} running as ServiceAccount {}/{}",
                    w.object.kind, w.namespace, w.object.name, w.namespace, w.service_account
                ),
            })
            .collect();
        edges.insert(Identity::Node, node_steps);
        Graph { edges }
    }

    /// For every identity that can reach `target`, the first step of a shortest path there
    /// (one breadth-first search backwards from the target).
    fn next_steps(&self, target: &Identity) -> HashMap<&Identity, &Step> {
        let mut reverse: HashMap<&Identity, Vec<&Step>> = HashMap::new();
        for steps in self.edges.values() {
            for step in steps {
                reverse.entry(&step.to).or_default().push(step);
            }
        }
        let mut next: HashMap<&Identity, &Step> = HashMap::new();
        let mut queue: VecDeque<&Identity> = VecDeque::from([target]);
        let mut seen = std::collections::HashSet::from([target]);
        while let Some(node) = queue.pop_front() {
            for step in reverse.get(node).map(Vec::as_slice).unwrap_or_default() {
                if seen.insert(&step.from) {
                    next.insert(&step.from, step);
                    queue.push_back(&step.from);
                }
            }
        }
        next
    }

    /// The shortest path to `target` from every subject for which `start` is true.
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
                let mut at = Identity::Subject(subject.clone());
                let mut steps = Vec::new();
                while &at != target {
                    let step = next.get(&at)?;
                    steps.push((*step).clone());
                    at = step.to.clone();
                }
                Some(EscalationPath {
                    start: subject.clone(),
                    steps,
                })
            })
            .collect()
    }
}
