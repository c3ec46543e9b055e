//! The RBAC engine against the Kubernetes authorizer, class by class: each class of question on
//! which an earlier Palisade disagreed with Kubernetes (1.26) has a truth table with an allowed
//! and a denied case, and property tests pin the invariants over random inventories.

mod common;

use common::{inventory, res, user};
use std::fmt::Write as _;

use palisade_analysis::pss::Version;
use palisade_analysis::rbac::risk::{granting_rules, Reach, Risk, EXEC_NEEDS_CREATE};
use palisade_analysis::rbac::{Request, SubjectKind, UserInfo};
use proptest::prelude::*;

fn table(text: &str, bootstrap: bool, cases: &[(&str, UserInfo, Request, bool)]) {
    let inv = inventory(text, bootstrap);
    let wrong: Vec<String> = cases
        .iter()
        .filter(|(_, u, r, want)| inv.policy.can(u, r) != *want)
        .map(|(what, _, _, want)| {
            format!(
                "{what}: expected {}",
                if *want { "allowed" } else { "denied" }
            )
        })
        .collect();
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

const AGGREGATION: &str = r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: monitoring}
aggregationRule:
  clusterRoleSelectors:
    - matchLabels: {example.com/aggregate-to-monitoring: "true"}
rules:
  # Written by hand, and replaced by the controller as soon as a role matches.
  - {apiGroups: [""], resources: ["secrets"], verbs: ["get"]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: monitoring-pods
  labels: {example.com/aggregate-to-monitoring: "true"}
rules:
  - {apiGroups: [""], resources: ["pods"], verbs: ["list"]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: lonely}
aggregationRule:
  clusterRoleSelectors:
    - matchLabels: {example.com/aggregate-to-lonely: "true"}
rules:
  # No role matches: the controller writes nothing, and these rules stay.
  - {apiGroups: [""], resources: ["configmaps"], verbs: ["get"]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: prometheus}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: monitoring}
subjects: [{kind: User, name: prometheus}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: lonely}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: lonely}
subjects: [{kind: User, name: hermit}]
"#;

#[test]
fn aggregated_roles_keep_their_own_rules_only_while_no_role_matches() {
    table(
        AGGREGATION,
        false,
        &[
            (
                "aggregated rule",
                user("prometheus"),
                res("list", "", "pods", "", "", None),
                true,
            ),
            (
                "own rule replaced by aggregation",
                user("prometheus"),
                res("get", "", "secrets", "", "db", Some("shop")),
                false,
            ),
            (
                "own rule kept: nothing matches",
                user("hermit"),
                res("get", "", "configmaps", "", "cfg", Some("shop")),
                true,
            ),
            (
                "nothing else",
                user("hermit"),
                res("list", "", "pods", "", "", None),
                false,
            ),
        ],
    );
}

#[test]
fn impersonation_builds_the_groups_the_api_server_builds() {
    let sa = "system:serviceaccount:ci:deployer";
    let cases: [(&str, UserInfo, &[&str], &[&str]); 6] = [
        (
            "service account without groups",
            UserInfo::new(sa, &[]),
            &[
                "system:serviceaccounts",
                "system:serviceaccounts:ci",
                "system:authenticated",
            ],
            &[],
        ),
        (
            "service account with a group gets no service-account groups",
            UserInfo::new(sa, &["dev".into()]),
            &["dev", "system:authenticated"],
            &["system:serviceaccounts", "system:serviceaccounts:ci"],
        ),
        (
            "user given system:authenticated",
            UserInfo::new("alice", &["system:authenticated".into()]),
            &["system:authenticated"],
            &[],
        ),
        (
            "user given system:unauthenticated is not authenticated",
            UserInfo::new("alice", &["system:unauthenticated".into()]),
            &["system:unauthenticated"],
            &["system:authenticated"],
        ),
        (
            "anonymous",
            UserInfo::new("system:anonymous", &[]),
            &["system:unauthenticated"],
            &["system:authenticated"],
        ),
        (
            "anonymous given system:authenticated keeps only its groups plus unauthenticated",
            UserInfo::new("system:anonymous", &["system:authenticated".into()]),
            &["system:authenticated", "system:unauthenticated"],
            &[],
        ),
    ];
    for (what, user, present, absent) in cases {
        for group in present {
            assert!(
                user.groups.iter().any(|g| g == group),
                "{what}: {group} missing in {:?}",
                user.groups
            );
        }
        for group in absent {
            assert!(
                !user.groups.iter().any(|g| g == group),
                "{what}: {group} present in {:?}",
                user.groups
            );
        }
    }
    // And the groups decide: a binding to system:serviceaccounts:ci does not reach an account
    // impersonated with explicit groups.
    const CI: &str = r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: ci-view, namespace: ci}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}
subjects: [{kind: Group, name: "system:serviceaccounts:ci"}]
"#;
    let list = res("list", "", "pods", "", "", Some("ci"));
    table(
        CI,
        true,
        &[
            ("account groups", UserInfo::new(sa, &[]), list.clone(), true),
            (
                "explicit groups",
                UserInfo::new(sa, &["dev".into()]),
                list,
                false,
            ),
        ],
    );
}

const SCOPED: &str = r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: node-and-namespace-admin}
rules:
  - {apiGroups: [""], resources: ["nodes", "nodes/proxy", "persistentvolumes"], verbs: ["*"]}
  - {apiGroups: [""], resources: ["namespaces"], verbs: ["get", "delete"]}
  - {apiGroups: ["rbac.authorization.k8s.io"], resources: ["clusterroles"], verbs: ["bind", "get"]}
  - {apiGroups: ["certificates.k8s.io"], resources: ["certificatesigningrequests"], verbs: ["create"]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: ops, namespace: shop}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: node-and-namespace-admin}
subjects: [{kind: User, name: ops}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: sre}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: node-and-namespace-admin}
subjects: [{kind: User, name: sre}]
"#;

#[test]
fn rolebindings_never_grant_cluster_scoped_resources() {
    let shop = Some("shop");
    table(
        SCOPED,
        false,
        &[
            (
                "nodes via RoleBinding",
                user("ops"),
                res("get", "", "nodes", "", "n1", shop),
                false,
            ),
            (
                "nodes/proxy via RoleBinding",
                user("ops"),
                res("get", "", "nodes", "proxy", "n1", shop),
                false,
            ),
            (
                "PVs via RoleBinding",
                user("ops"),
                res("create", "", "persistentvolumes", "", "", shop),
                false,
            ),
            (
                "CSRs via RoleBinding",
                user("ops"),
                res(
                    "create",
                    "certificates.k8s.io",
                    "certificatesigningrequests",
                    "",
                    "",
                    shop,
                ),
                false,
            ),
            (
                "nodes via ClusterRoleBinding",
                user("sre"),
                res("get", "", "nodes", "proxy", "n1", None),
                true,
            ),
            // The API server takes a named namespace as the request's namespace.
            (
                "own namespace by name",
                user("ops"),
                res("delete", "", "namespaces", "", "shop", None),
                true,
            ),
            (
                "another namespace by name",
                user("ops"),
                res("delete", "", "namespaces", "", "prod", None),
                false,
            ),
            (
                "listing namespaces",
                user("ops"),
                res("get", "", "namespaces", "", "", shop),
                false,
            ),
            // `bind` is asked in the namespace of the RoleBinding being written.
            (
                "bind a ClusterRole in its namespace",
                user("ops"),
                res(
                    "bind",
                    "rbac.authorization.k8s.io",
                    "clusterroles",
                    "",
                    "admin",
                    shop,
                ),
                true,
            ),
            (
                "bind a ClusterRole elsewhere",
                user("ops"),
                res(
                    "bind",
                    "rbac.authorization.k8s.io",
                    "clusterroles",
                    "",
                    "admin",
                    Some("prod"),
                ),
                false,
            ),
            (
                "read a ClusterRole",
                user("ops"),
                res(
                    "get",
                    "rbac.authorization.k8s.io",
                    "clusterroles",
                    "",
                    "admin",
                    shop,
                ),
                false,
            ),
        ],
    );
    // The risk analysis asks the same authorizer: through the RoleBinding, no node risk.
    let inv = inventory(SCOPED, false);
    let role = &inv.policy.roles()[0];
    let v = Version::LATEST;
    for risk in [Risk::NodesProxy, Risk::CreatePersistentVolumes] {
        assert!(
            granting_rules(&inv.policy, role, Reach::Namespace, risk, v).is_empty(),
            "{risk:?}"
        );
        assert!(
            !granting_rules(&inv.policy, role, Reach::ClusterWide, risk, v).is_empty(),
            "{risk:?}"
        );
    }
}

const RECONCILED: &str = r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: cluster-admin}
rules:
  - {apiGroups: [""], resources: ["pods"], verbs: ["get"]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: view
  annotations: {rbac.authorization.kubernetes.io/autoupdate: "false"}
rules:
  - {apiGroups: [""], resources: ["configmaps"], verbs: ["get"]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: root}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects: [{kind: User, name: root}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: viewers, namespace: shop}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}
subjects: [{kind: User, name: viewer}]
"#;

#[test]
fn bootstrap_roles_are_reconciled_unless_autoupdate_is_off() {
    table(
        RECONCILED,
        true,
        &[
            (
                "a redefined cluster-admin is still cluster-admin",
                user("root"),
                res("delete", "", "nodes", "", "n1", None),
                true,
            ),
            (
                "its written rule stays",
                user("root"),
                res("get", "", "pods", "", "p", Some("shop")),
                true,
            ),
            (
                "autoupdate false: view keeps only its written rules",
                user("viewer"),
                res("list", "", "pods", "", "", Some("shop")),
                false,
            ),
            (
                "autoupdate false: its written rule",
                user("viewer"),
                res("get", "", "configmaps", "", "c", Some("shop")),
                true,
            ),
        ],
    );
}

#[test]
fn system_masters_is_allowed_everything_before_rbac() {
    let root = UserInfo::new("root", &["system:masters".into()]);
    // No RBAC object at all, not even the defaults.
    table(
        "",
        false,
        &[
            (
                "masters, resource",
                root.clone(),
                res("delete", "", "nodes", "", "n1", None),
                true,
            ),
            (
                "masters, non-resource",
                root,
                Request::NonResource {
                    verb: "get".into(),
                    path: "/debug/pprof".into(),
                },
                true,
            ),
            (
                "anyone else",
                user("alice"),
                res("get", "", "pods", "", "p", Some("shop")),
                false,
            ),
        ],
    );
    let inv = inventory(SCOPED, false);
    let who = inv.policy.who_can(&res("get", "", "nodes", "", "n1", None));
    let first = &who[0];
    assert_eq!(first.0.kind, SubjectKind::Group);
    assert_eq!(first.0.name, "system:masters");
    assert!(first.1[0].describe().contains("system:masters"));
    let names: Vec<&str> = who.iter().map(|(s, _)| s.name.as_str()).collect();
    assert_eq!(
        names,
        ["system:masters", "sre"],
        "ops holds nodes only through a RoleBinding"
    );
}

#[test]
fn exec_through_get_depends_on_the_version() {
    const READER: &str = r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: reader}
rules:
  - {apiGroups: [""], resources: ["pods", "pods/exec", "pods/log"], verbs: ["get", "list"]}
"#;
    let inv = inventory(READER, false);
    let role = &inv.policy.roles()[0];
    let before = Version::new(1, 30);
    assert!(before < EXEC_NEEDS_CREATE);
    assert!(!granting_rules(&inv.policy, role, Reach::Namespace, Risk::PodExec, before).is_empty());
    assert!(granting_rules(
        &inv.policy,
        role,
        Reach::Namespace,
        Risk::PodExec,
        EXEC_NEEDS_CREATE
    )
    .is_empty());
    assert!(Risk::PodExec
        .version_note(before)
        .is_some_and(|n| n.contains("v1.30")));
}

// Property tests over random inventories.

const VERBS: &[&str] = &["get", "list", "create", "delete", "*"];
/// (group, resource): namespaced, cluster-scoped, wildcard and subresource forms.
const RESOURCES: &[(&str, &str)] = &[
    ("", "pods"),
    ("", "secrets"),
    ("", "nodes"),
    ("", "nodes/proxy"),
    ("", "persistentvolumes"),
    ("", "namespaces"),
    ("", "*"),
    ("apps", "deployments"),
];
const NAMESPACES: &[&str] = &["shop", "prod"];
const USERS: &[&str] = &["alice", "bob"];
const GROUPS: &[&str] = &["dev", "system:authenticated"];
const NAMES: &[&str] = &["", "n1"];

#[derive(Clone, Debug)]
struct RuleSpec {
    verbs: Vec<usize>,
    resources: Vec<usize>,
    named: bool,
}

#[derive(Clone, Debug)]
struct BindingSpec {
    /// `None`: a ClusterRoleBinding.
    namespace: Option<usize>,
    role: usize,
    subject: usize,
}

fn rule_spec() -> impl Strategy<Value = RuleSpec> {
    (
        proptest::collection::vec(0..VERBS.len(), 1..3),
        proptest::collection::vec(0..RESOURCES.len(), 1..3),
        any::<bool>(),
    )
        .prop_map(|(verbs, resources, named)| RuleSpec {
            verbs,
            resources,
            named,
        })
}

fn binding_spec(roles: usize) -> impl Strategy<Value = BindingSpec> {
    (
        proptest::option::of(0..NAMESPACES.len()),
        0..roles,
        0..USERS.len() + GROUPS.len() + 1,
    )
        .prop_map(|(namespace, role, subject)| BindingSpec {
            namespace,
            role,
            subject,
        })
}

fn subject_yaml(index: usize) -> String {
    if index < USERS.len() {
        format!("{{kind: User, name: {}}}", USERS[index])
    } else if index < USERS.len() + GROUPS.len() {
        format!("{{kind: Group, name: \"{}\"}}", GROUPS[index - USERS.len()])
    } else {
        "{kind: ServiceAccount, name: robot, namespace: shop}".to_string()
    }
}

fn yaml(roles: &[Vec<RuleSpec>], bindings: &[BindingSpec]) -> String {
    let mut out = String::new();
    for (i, rules) in roles.iter().enumerate() {
        let _ = writeln!(out, "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {{name: role-{i}}}\nrules:");
        for rule in rules {
            let verbs: Vec<String> = rule
                .verbs
                .iter()
                .map(|&v| format!("\"{}\"", VERBS[v]))
                .collect();
            let groups: Vec<String> = rule
                .resources
                .iter()
                .map(|&r| format!("\"{}\"", RESOURCES[r].0))
                .collect();
            let resources: Vec<String> = rule
                .resources
                .iter()
                .map(|&r| format!("\"{}\"", RESOURCES[r].1))
                .collect();
            let names = if rule.named {
                ", resourceNames: [\"n1\"]"
            } else {
                ""
            };
            let _ = writeln!(
                out,
                "  - {{apiGroups: [{}], resources: [{}], verbs: [{}]{names}}}",
                groups.join(","),
                resources.join(","),
                verbs.join(",")
            );
        }
    }
    for (i, binding) in bindings.iter().enumerate() {
        let (kind, namespace) = match binding.namespace {
            Some(ns) => ("RoleBinding", format!(", namespace: {}", NAMESPACES[ns])),
            None => ("ClusterRoleBinding", String::new()),
        };
        let _ = writeln!(
            out,
            "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: {kind}\nmetadata: {{name: binding-{i}{namespace}}}\nroleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: role-{}}}\nsubjects: [{}]",
            binding.role,
            subject_yaml(binding.subject)
        );
    }
    out
}

#[derive(Clone, Debug)]
struct Query {
    user: usize,
    verb: usize,
    resource: usize,
    name: usize,
    namespace: Option<usize>,
}

fn query() -> impl Strategy<Value = Query> {
    (
        0..USERS.len() + 1,
        0..VERBS.len() - 1,
        // Any resource but the wildcard, which names no request.
        (0..RESOURCES.len()).prop_filter("a requestable resource", |&r| RESOURCES[r].1 != "*"),
        0..NAMES.len(),
        proptest::option::of(0..NAMESPACES.len()),
    )
        .prop_map(|(user, verb, resource, name, namespace)| Query {
            user,
            verb,
            resource,
            name,
            namespace,
        })
}

impl Query {
    fn user(&self) -> UserInfo {
        match USERS.get(self.user) {
            Some(name) => UserInfo::new(name, &["dev".into()]),
            None => UserInfo::new("system:serviceaccount:shop:robot", &[]),
        }
    }

    fn request(&self) -> Request {
        let (group, resource) = RESOURCES[self.resource];
        let (resource, sub) = resource.split_once('/').unwrap_or((resource, ""));
        res(
            VERBS[self.verb],
            group,
            resource,
            sub,
            NAMES[self.name],
            self.namespace.map(|n| NAMESPACES[n]),
        )
    }
}

fn inventories() -> impl Strategy<Value = (Vec<Vec<RuleSpec>>, Vec<BindingSpec>, Vec<Query>)> {
    proptest::collection::vec(proptest::collection::vec(rule_spec(), 1..3), 1..4).prop_flat_map(
        |roles| {
            let count = roles.len();
            (
                Just(roles),
                proptest::collection::vec(binding_spec(count), 0..6),
                proptest::collection::vec(query(), 1..12),
            )
        },
    )
}

/// The RBAC authorizer as Kubernetes writes it (`plugin/pkg/auth/authorizer/rbac`), over the
/// generated specs themselves rather than Palisade's model: a request is allowed when a
/// binding names the user, one of its groups or its service account, applies where the request
/// is (a ClusterRoleBinding anywhere, a RoleBinding in its own namespace), and a rule of its
/// role matches verb, API group, resource (`*`, `resource`, `resource/sub`) and name (any, when
/// the rule lists none). Each rule's `apiGroups` and `resources` are separate lists, so a rule
/// matches any pairing of them, as the API server reads it.
fn oracle_allows(roles: &[Vec<RuleSpec>], bindings: &[BindingSpec], q: &Query) -> bool {
    let (user, groups): (String, Vec<&str>) = match USERS.get(q.user) {
        Some(name) => (name.to_string(), vec!["dev", "system:authenticated"]),
        None => (
            "system:serviceaccount:shop:robot".to_string(),
            vec![
                "system:serviceaccounts",
                "system:serviceaccounts:shop",
                "system:authenticated",
            ],
        ),
    };
    let verb = VERBS[q.verb];
    let (group, resource) = RESOURCES[q.resource];
    let name = NAMES[q.name];
    let namespace = q.namespace.map(|n| NAMESPACES[n]);
    let names_the_user = |subject: usize| {
        if subject < USERS.len() {
            USERS[subject] == user
        } else if subject < USERS.len() + GROUPS.len() {
            groups.contains(&GROUPS[subject - USERS.len()])
        } else {
            user == "system:serviceaccount:shop:robot"
        }
    };
    let rule_allows = |rule: &RuleSpec| {
        let verbs = rule.verbs.iter().map(|&v| VERBS[v]);
        let api_groups = rule.resources.iter().map(|&r| RESOURCES[r].0);
        let resources = rule.resources.iter().map(|&r| RESOURCES[r].1);
        verbs.clone().any(|v| v == "*" || v == verb)
            && api_groups.clone().any(|g| g == "*" || g == group)
            && resources.clone().any(|r| r == "*" || r == resource)
            && (!rule.named || name == "n1")
    };
    bindings.iter().any(|binding| {
        let applies = match binding.namespace {
            None => true,
            Some(ns) => namespace == Some(NAMESPACES[ns]),
        };
        applies && names_the_user(binding.subject) && roles[binding.role].iter().any(rule_allows)
    })
}

/// Whether the API server could ask `q` at all: a cluster-scoped resource is never requested
/// in a namespace (and a namespace's own name is its namespace), so such queries have no
/// answer to compare.
fn askable(q: &Query) -> bool {
    let (_, resource) = RESOURCES[q.resource];
    let cluster_scoped =
        ["nodes", "nodes/proxy", "persistentvolumes", "namespaces"].contains(&resource);
    !(cluster_scoped && q.namespace.is_some()) && resource != "namespaces"
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// `can-i` says yes exactly when `who-can` lists the user, one of its groups, or its
    /// service account.
    #[test]
    fn can_i_agrees_with_who_can((roles, bindings, queries) in inventories()) {
        let inv = inventory(&yaml(&roles, &bindings), false);
        for q in &queries {
            let user = q.user();
            let request = q.request();
            let listed = inv.policy.who_can(&request).iter().any(|(s, _)| match s.kind {
                SubjectKind::Group => user.groups.contains(&s.name),
                _ => s.user_name() == user.name,
            });
            prop_assert_eq!(inv.policy.can(&user, &request), listed, "{:?}", q);
        }
    }

    /// `can-i` answers as Kubernetes' authorizer does, computed apart from Palisade's model.
    #[test]
    fn can_i_agrees_with_an_independent_authorizer((roles, bindings, queries) in inventories()) {
        let inv = inventory(&yaml(&roles, &bindings), false);
        for q in queries.iter().filter(|q| askable(q)) {
            prop_assert_eq!(
                inv.policy.can(&q.user(), &q.request()),
                oracle_allows(&roles, &bindings, q),
                "{:?}\n{}", q, yaml(&roles, &bindings)
            );
        }
    }

    /// No grant of a cluster-scoped request comes from a RoleBinding.
    #[test]
    fn rolebindings_never_grant_cluster_scoped_requests((roles, bindings, queries) in inventories()) {
        let inv = inventory(&yaml(&roles, &bindings), false);
        for q in &queries {
            let request = q.request();
            if request.is_cluster_scoped() {
                for grant in inv.policy.grants(&q.user(), &request) {
                    prop_assert!(grant.binding.cluster, "{:?} via {}", q, grant.describe());
                }
            }
        }
    }

    /// Adding a binding never takes a permission away.
    #[test]
    fn adding_a_binding_never_removes_a_permission(
        (roles, bindings, queries) in inventories(),
        extra in binding_spec(1),
    ) {
        let before = inventory(&yaml(&roles, &bindings), false);
        let mut more = bindings.clone();
        more.push(extra);
        let after = inventory(&yaml(&roles, &more), false);
        for q in &queries {
            if before.policy.can(&q.user(), &q.request()) {
                prop_assert!(after.policy.can(&q.user(), &q.request()), "{:?}", q);
            }
        }
    }

    /// The risk analysis holds a risk through a binding exactly when `can-i` allows one of the
    /// risk's requests through that binding, for some object name.
    #[test]
    fn risk_findings_agree_with_can_i((roles, bindings, _) in inventories()) {
        let inv = inventory(&yaml(&roles, &bindings), false);
        let probes: [(Risk, &[&str], &str, &str); 3] = [
            (Risk::NodesProxy, &["get", "create"], "nodes", "proxy"),
            (Risk::ReadSecrets, &["get", "list", "watch"], "secrets", ""),
            (Risk::CreatePersistentVolumes, &["create"], "persistentvolumes", ""),
        ];
        for binding in inv.policy.bindings() {
            let Some(role) = inv.policy.role_of(binding) else { continue };
            let reach = if binding.cluster { Reach::ClusterWide } else { Reach::Namespace };
            let namespace = binding.namespace.as_deref().or(Some("anywhere"));
            for (risk, verbs, resource, sub) in probes {
                let held = !granting_rules(&inv.policy, role, reach, risk, Version::LATEST).is_empty();
                let allowed = verbs.iter().any(|verb| {
                    NAMES.iter().any(|name| {
                        let request = res(verb, "", resource, sub, name, namespace);
                        !inv.policy.rules_allowing(binding, &request).is_empty()
                    })
                });
                prop_assert_eq!(held, allowed, "{:?} through {}", risk, binding.display());
            }
        }
    }
}

/// A resource type unknown in a known group (`deployments` in `batch`) is scoped by its group
/// and resource, never matched by its name alone.
#[test]
fn unknown_types_of_a_known_group_are_told_apart_by_group() {
    let text = r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: deployers}
rules:
  - {apiGroups: [apps], resources: [deployments], verbs: [create]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: odd}
rules:
  - {apiGroups: [batch], resources: [deployments], verbs: [get]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: deployers}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: deployers}
subjects: [{kind: User, name: dana}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: odd}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: odd}
subjects: [{kind: User, name: otto}]
"#;
    table(
        text,
        false,
        &[
            (
                "deployments in apps",
                user("dana"),
                res("create", "apps", "deployments", "", "", Some("shop")),
                true,
            ),
            (
                "deployments.batch is not apps' deployments",
                user("dana"),
                res("create", "batch", "deployments", "", "", Some("shop")),
                false,
            ),
            (
                "a rule naming deployments in batch",
                user("otto"),
                res("get", "batch", "deployments", "", "nightly", Some("shop")),
                true,
            ),
            (
                "nor is it apps' deployments",
                user("otto"),
                res("get", "apps", "deployments", "", "web", Some("shop")),
                false,
            ),
        ],
    );
}
