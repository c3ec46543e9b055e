//! Truth tables for the RBAC authorizer: each semantic point has a case that must be allowed
//! and one that must not. Then risky grants and escalation paths of length 1, 2 and 3.

mod common;

use common::{inventory, res, user};

use palisade_analysis::pss::Version;
use palisade_analysis::rbac::paths::{Graph, Identity};
use palisade_analysis::rbac::risk::{granting_rules, Reach, Risk};
use palisade_analysis::rbac::{Inventory, PolicyRule, Request, Subject, SubjectKind, UserInfo};

fn url(verb: &str, path: &str) -> Request {
    Request::NonResource {
        verb: verb.into(),
        path: path.into(),
    }
}

const POLICY: &str = r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: pod-reader}
rules:
  - apiGroups: [""]
    resources: ["pods", "pods/log"]
    verbs: ["get", "list", "watch"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: alice-reads-pods, namespace: shop}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: pod-reader}
subjects:
  - {kind: User, name: alice, apiGroup: rbac.authorization.k8s.io}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: oncall-reads-pods}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: pod-reader}
subjects:
  - {kind: Group, name: oncall, apiGroup: rbac.authorization.k8s.io}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: monitoring}
aggregationRule:
  clusterRoleSelectors:
    - matchLabels: {example.com/aggregate-to-monitoring: "true"}
rules: []
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: monitoring-endpoints
  labels: {example.com/aggregate-to-monitoring: "true"}
rules:
  - apiGroups: [""]
    resources: ["endpoints"]
    verbs: ["list"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: monitoring-nested
  labels: {example.com/aggregate-to-monitoring: "true"}
aggregationRule:
  clusterRoleSelectors:
    - matchExpressions: [{key: example.com/aggregate-to-nested, operator: Exists}]
rules: []
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: nested-services
  labels: {example.com/aggregate-to-nested: "yes"}
rules:
  - apiGroups: [""]
    resources: ["services"]
    verbs: ["watch"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: unrelated-secrets
  labels: {example.com/aggregate-to-monitoring: "false"}
rules:
  - apiGroups: [""]
    resources: ["secrets"]
    verbs: ["get"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: prometheus}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: monitoring}
subjects:
  - {kind: ServiceAccount, name: prometheus, namespace: monitoring}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: ops, namespace: ops}
rules:
  - apiGroups: ["*"]
    resources: ["*"]
    verbs: ["get"]
  - apiGroups: [""]
    resources: ["pods/exec"]
    verbs: ["create"]
  - apiGroups: ["apps"]
    resources: ["*/scale"]
    verbs: ["update"]
  - apiGroups: [""]
    resources: ["pods/*"]
    verbs: ["delete"]
  - apiGroups: [""]
    resources: ["configmaps"]
    resourceNames: ["app-config"]
    verbs: ["*"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: ops, namespace: ops}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: ops}
subjects:
  - {kind: ServiceAccount, name: runner}
  - {kind: Group, name: "system:serviceaccounts:ci"}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: metrics-scraper}
rules:
  - nonResourceURLs: ["/metrics", "/healthz/*"]
    verbs: ["get"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: all-sas-scrape}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: metrics-scraper}
subjects:
  - {kind: Group, name: "system:serviceaccounts"}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: scrape-in-ns, namespace: ops}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: metrics-scraper}
subjects:
  - {kind: User, name: bob}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: read-namespaces}
rules:
  - apiGroups: [""]
    resources: ["namespaces"]
    verbs: ["list"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: everyone-lists-namespaces}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: read-namespaces}
subjects:
  - {kind: Group, name: "system:authenticated"}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: public-info}
rules:
  - apiGroups: [""]
    resources: ["configmaps"]
    resourceNames: ["cluster-info"]
    verbs: ["get"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: anonymous-public-info}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: public-info}
subjects:
  - {kind: Group, name: "system:unauthenticated"}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: dev-edit, namespace: shop}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: edit}
subjects:
  - {kind: User, name: dev}
"#;

fn check(cases: &[(&str, UserInfo, Request, bool)], bootstrap: bool) {
    let inv = inventory(POLICY, bootstrap);
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

#[test]
fn rolebinding_to_clusterrole_grants_in_its_namespace_only() {
    check(
        &[
            (
                "alice lists pods in shop",
                user("alice"),
                res("list", "", "pods", "", "", Some("shop")),
                true,
            ),
            (
                "alice lists pods in ops",
                user("alice"),
                res("list", "", "pods", "", "", Some("ops")),
                false,
            ),
            (
                "alice lists pods cluster-wide",
                user("alice"),
                res("list", "", "pods", "", "", None),
                false,
            ),
            (
                "alice deletes pods in shop",
                user("alice"),
                res("delete", "", "pods", "", "", Some("shop")),
                false,
            ),
        ],
        false,
    );
}

#[test]
fn clusterrolebinding_grants_everywhere() {
    let oncall = UserInfo::new("carol", &["oncall".into()]);
    check(
        &[
            (
                "oncall lists pods in ops",
                oncall.clone(),
                res("list", "", "pods", "", "", Some("ops")),
                true,
            ),
            (
                "oncall lists pods cluster-wide",
                oncall.clone(),
                res("list", "", "pods", "", "", None),
                true,
            ),
            (
                "oncall reads pod logs",
                oncall.clone(),
                res("get", "", "pods", "log", "web-0", Some("ops")),
                true,
            ),
            (
                "carol without the group",
                user("carol"),
                res("list", "", "pods", "", "", None),
                false,
            ),
        ],
        false,
    );
}

#[test]
fn aggregated_clusterroles_include_matching_roles_transitively() {
    let prom = user("system:serviceaccount:monitoring:prometheus");
    check(
        &[
            (
                "aggregated endpoints",
                prom.clone(),
                res("list", "", "endpoints", "", "", None),
                true,
            ),
            (
                "nested aggregation",
                prom.clone(),
                res("watch", "", "services", "", "", None),
                true,
            ),
            (
                "label value does not match",
                prom.clone(),
                res("get", "", "secrets", "", "x", None),
                false,
            ),
            (
                "other verbs",
                prom.clone(),
                res("delete", "", "endpoints", "", "", None),
                false,
            ),
        ],
        false,
    );
}

#[test]
fn wildcards_subresources_and_resource_names() {
    let runner = user("system:serviceaccount:ops:runner");
    let ns = Some("ops");
    check(
        &[
            (
                "* group * resource get",
                runner.clone(),
                res("get", "batch", "jobs", "", "j", ns),
                true,
            ),
            (
                "* does not cover other verbs",
                runner.clone(),
                res("list", "batch", "jobs", "", "", ns),
                false,
            ),
            (
                "pods/exec exact",
                runner.clone(),
                res("create", "", "pods", "exec", "web-0", ns),
                true,
            ),
            (
                "pods does not grant pods/exec",
                runner.clone(),
                res("create", "", "pods", "attach", "web-0", ns),
                false,
            ),
            (
                "*/scale matches any resource's scale",
                runner.clone(),
                res("update", "apps", "deployments", "scale", "web", ns),
                true,
            ),
            (
                "*/scale is not the resource",
                runner.clone(),
                res("update", "apps", "deployments", "", "web", ns),
                false,
            ),
            (
                "pods/* is not a wildcard",
                runner.clone(),
                res("delete", "", "pods", "exec", "web-0", ns),
                false,
            ),
            (
                "resourceNames allow the named object",
                runner.clone(),
                res("update", "", "configmaps", "", "app-config", ns),
                true,
            ),
            (
                "resourceNames deny other objects",
                runner.clone(),
                res("update", "", "configmaps", "", "other", ns),
                false,
            ),
            (
                "resourceNames never allow list",
                runner.clone(),
                res("list", "", "configmaps", "", "", ns),
                false,
            ),
        ],
        false,
    );
}

#[test]
fn non_resource_urls_come_from_clusterrolebindings_only() {
    let sa = user("system:serviceaccount:shop:web");
    check(
        &[
            ("exact URL", sa.clone(), url("get", "/metrics"), true),
            (
                "trailing * prefix",
                sa.clone(),
                url("get", "/healthz/etcd"),
                true,
            ),
            (
                "prefix needs the *",
                sa.clone(),
                url("get", "/metrics/cadvisor"),
                false,
            ),
            (
                "verb must match",
                sa.clone(),
                url("post", "/metrics"),
                false,
            ),
            (
                "a RoleBinding cannot grant URLs",
                user("bob"),
                url("get", "/metrics"),
                false,
            ),
        ],
        false,
    );
}

#[test]
fn subjects_and_implicit_groups() {
    check(
        &[
            (
                "SA subject without namespace takes the RoleBinding's",
                user("system:serviceaccount:ops:runner"),
                res("get", "", "pods", "", "p", Some("ops")),
                true,
            ),
            (
                "same SA name elsewhere",
                user("system:serviceaccount:shop:runner"),
                res("get", "", "pods", "", "p", Some("ops")),
                false,
            ),
            (
                "system:serviceaccounts:<ns> group",
                user("system:serviceaccount:ci:builder"),
                res("get", "", "pods", "", "p", Some("ops")),
                true,
            ),
            (
                "not in that namespace group",
                user("system:serviceaccount:qa:builder"),
                res("get", "", "pods", "", "p", Some("ops")),
                false,
            ),
            (
                "system:authenticated covers any user",
                user("mallory"),
                res("list", "", "namespaces", "", "", None),
                true,
            ),
            (
                "anonymous is not authenticated",
                user("system:anonymous"),
                res("list", "", "namespaces", "", "", None),
                false,
            ),
            (
                "anonymous is unauthenticated",
                user("system:anonymous"),
                res("get", "", "configmaps", "", "cluster-info", None),
                true,
            ),
            (
                "users are not unauthenticated",
                user("mallory"),
                res("get", "", "configmaps", "", "cluster-info", None),
                false,
            ),
            (
                "extra groups from --as-group",
                UserInfo::new("x", &["oncall".into()]),
                res("get", "", "pods", "", "p", None),
                true,
            ),
        ],
        false,
    );
}

#[test]
fn bootstrap_roles_mean_what_they_mean_in_a_cluster() {
    let dev = user("dev");
    let edit_deployments = res("create", "apps", "deployments", "", "", Some("shop"));
    check(
        &[(
            "edit creates deployments",
            dev.clone(),
            edit_deployments.clone(),
            true,
        )],
        true,
    );
    check(
        &[(
            "without bootstrap, edit is unknown",
            dev.clone(),
            edit_deployments,
            false,
        )],
        false,
    );
    check(
        &[
            (
                "edit cannot touch roles",
                dev.clone(),
                res(
                    "create",
                    "rbac.authorization.k8s.io",
                    "roles",
                    "",
                    "",
                    Some("shop"),
                ),
                false,
            ),
            (
                "system:masters is cluster-admin",
                UserInfo::new("root", &["system:masters".into()]),
                res("delete", "", "nodes", "", "n1", None),
                true,
            ),
        ],
        true,
    );
}

/// A cluster's own policy (a snapshot or dump) holds the `cluster-admin` role and binding the
/// API server creates; the bundled defaults must not add what that cluster does not have.
#[test]
fn a_whole_clusters_policy_gets_no_bundled_defaults() {
    const DUMP: &str = r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: cluster-admin}
rules:
  - {apiGroups: ["*"], resources: ["*"], verbs: ["*"]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: cluster-admin}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects: [{kind: Group, name: "system:masters", apiGroup: rbac.authorization.k8s.io}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: dev-edits, namespace: shop}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: edit}
subjects: [{kind: User, name: dev, apiGroup: rbac.authorization.k8s.io}]
"#;
    let create = res("create", "apps", "deployments", "", "", Some("shop"));
    // This cluster has no `edit` role (someone deleted it): the binding grants nothing.
    let inv = inventory(DUMP, true);
    assert!(!inv.policy.can(&user("dev"), &create));
    let root = UserInfo::new("root", &["system:masters".into()]);
    assert!(inv
        .policy
        .can(&root, &res("delete", "", "nodes", "", "n1", None)));
    // Manifests without the cluster's own defaults still get them.
    let manifests = DUMP
        .split_once("---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding")
        .map(|(_, rest)| {
            format!("apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding{rest}")
        });
    let inv = inventory(&manifests.expect("binding"), true);
    assert!(inv.policy.can(&user("dev"), &create));
}

#[test]
fn who_can_lists_every_allowed_subject_with_the_grant() {
    let inv = inventory(POLICY, false);
    let who = inv
        .policy
        .who_can(&res("list", "", "pods", "", "", Some("shop")));
    let names: Vec<String> = who.iter().map(|(s, _)| s.display()).collect();
    assert_eq!(
        names,
        vec!["Group system:masters", "User alice", "Group oncall"]
    );
    assert!(who[0].1[0].describe().contains("before RBAC is asked"));
    let grant = &who[1].1[0];
    assert_eq!(
        grant.describe(),
        "RoleBinding shop/alice-reads-pods binds ClusterRole pod-reader"
    );
    assert!(inv
        .policy
        .who_can(&res("list", "", "pods", "", "", Some("qa")))
        .iter()
        .all(|(s, _)| s.name != "alice"));
}

const RISKY: &str = r#"
apiVersion: v1
kind: Namespace
metadata:
  name: ci
---
apiVersion: v1
kind: Namespace
metadata:
  name: prod
  labels: {pod-security.kubernetes.io/enforce: restricted}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: deployer, namespace: ci}
---
apiVersion: v1
kind: Secret
type: kubernetes.io/service-account-token
metadata:
  name: reporter-token
  namespace: prod
  annotations: {kubernetes.io/service-account.name: reporter}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: root-for-ops}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects:
  - {kind: User, name: ops-lead}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: deployer-admin}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects:
  - {kind: ServiceAccount, name: deployer, namespace: ci}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: dev-edit-ci, namespace: ci}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: edit}
subjects:
  - {kind: User, name: dev}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: secret-reader, namespace: prod}
rules:
  - apiGroups: [""]
    resources: ["secrets"]
    verbs: ["get"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: auditor-secrets, namespace: prod}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: secret-reader}
subjects:
  - {kind: User, name: auditor}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: pod-runner, namespace: ci}
rules:
  - apiGroups: [""]
    resources: ["pods"]
    verbs: ["create"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: reporter-runs-pods, namespace: ci}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: pod-runner}
subjects:
  - {kind: ServiceAccount, name: reporter, namespace: prod}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: viewer}
rules:
  - apiGroups: [""]
    resources: ["pods"]
    verbs: ["get", "list"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: intern-view}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: viewer}
subjects:
  - {kind: User, name: intern}
"#;

/// The rules of the named role that grant `risk` through a ClusterRoleBinding.
fn risk<'i>(inv: &'i Inventory, role: &str, risk: Risk) -> Vec<&'i PolicyRule> {
    let role = inv
        .policy
        .roles()
        .iter()
        .find(|r| r.name == role)
        .unwrap_or_else(|| panic!("role {role}"));
    granting_rules(&inv.policy, role, Reach::ClusterWide, risk, Version::LATEST)
}

#[test]
fn risky_rules_are_found_through_bootstrap_and_aggregation() {
    let inv = inventory(RISKY, true);
    assert!(!risk(&inv, "cluster-admin", Risk::ClusterAdmin).is_empty());
    assert!(risk(&inv, "edit", Risk::ClusterAdmin).is_empty());
    // `edit` aggregates its rules from system:aggregate-to-edit.
    assert!(!risk(&inv, "edit", Risk::ReadSecrets).is_empty());
    assert!(!risk(&inv, "edit", Risk::CreateWorkloads).is_empty());
    assert!(!risk(&inv, "edit", Risk::PodExec).is_empty());
    assert!(
        risk(&inv, "view", Risk::ReadSecrets).is_empty(),
        "view does not read secrets"
    );
    assert!(!risk(&inv, "secret-reader", Risk::ReadSecrets).is_empty());
    assert!(risk(&inv, "viewer", Risk::CreateWorkloads).is_empty());
}

#[test]
fn escalation_paths_of_length_one_two_and_three() {
    let inv = inventory(RISKY, true);
    let graph = Graph::build(&inv);
    let paths = graph.paths_to(&Identity::ClusterAdmin, |s| !s.is_system());
    let by_start = |name: &str| paths.iter().find(|p| p.start.name == name);

    let ops_lead = by_start("ops-lead").expect("ops-lead is cluster-admin");
    assert_eq!(ops_lead.steps.len(), 1);
    assert!(
        ops_lead.steps[0]
            .reason
            .contains("ClusterRoleBinding root-for-ops"),
        "{:?}",
        ops_lead.steps
    );

    let dev = by_start("dev").expect("dev can run a pod as ci/deployer");
    assert_eq!(dev.steps.len(), 2, "{:#?}", dev.steps);
    assert!(dev.steps[0]
        .reason
        .contains("can create pods in namespace ci"));
    assert_eq!(dev.steps[0].to.display(), "ServiceAccount ci/deployer");

    let auditor = by_start("auditor").expect("auditor reads a token that runs pods in ci");
    assert_eq!(auditor.steps.len(), 3, "{:#?}", auditor.steps);
    assert!(auditor.steps[0]
        .reason
        .contains("Secret prod/reporter-token"));
    assert_eq!(auditor.steps[1].to.display(), "ServiceAccount ci/deployer");

    assert!(by_start("intern").is_none(), "reading pods leads nowhere");
}

/// `escalate` with `update` or `patch` on the ClusterRole a ClusterRoleBinding gives the
/// subject is cluster-admin in one step (it writes `*` on `*` into its own role); either verb
/// alone, or an aggregated role the controller rewrites, is not.
#[test]
fn escalating_ones_own_bound_role_is_cluster_admin() {
    let bot = |name: &str, verbs: &str, aggregated: bool| {
        let aggregation = if aggregated {
            "aggregationRule:\n  clusterRoleSelectors: [{matchLabels: {team: platform}}]\n"
        } else {
            ""
        };
        format!(
            "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {{name: {name}}}\n{aggregation}\
             rules:\n- apiGroups: [rbac.authorization.k8s.io]\n  resources: [clusterroles]\n  resourceNames: [{name}]\n  verbs: [{verbs}]\n---\n\
             apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {{name: {name}}}\n\
             roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: {name}}}\n\
             subjects: [{{kind: ServiceAccount, name: {name}, namespace: platform}}]\n---\n"
        )
    };
    let text = [
        bot("updates", "get, update, escalate", false),
        bot("patches", "patch, escalate", false),
        bot("edits-only", "get, update, patch", false),
        bot("escalates-only", "escalate", false),
        bot("aggregated", "update, escalate", true),
    ]
    .concat();
    let inv = inventory(&text, true);
    let graph = Graph::build(&inv);
    let paths = graph.paths_to(&Identity::ClusterAdmin, |s| !s.is_system());
    let mut starts: Vec<(&str, usize)> = paths
        .iter()
        .map(|p| (p.start.name.as_str(), p.steps.len()))
        .collect();
    starts.sort();
    assert_eq!(starts, [("patches", 1), ("updates", 1)], "{paths:#?}");
    let step = &paths[0].steps[0];
    assert!(
        step.reason.contains("can escalate and edit ClusterRole")
            && step
                .reason
                .ends_with("cluster-wide: it can give that role `*` on `*`"),
        "{}",
        step.reason
    );
}

#[test]
fn privileged_pods_lead_to_nodes_only_where_pod_security_allows_them() {
    let inv = inventory(RISKY, true);
    let graph = Graph::build(&inv);
    let to_node = graph.paths_to(&Identity::Node, |s| s.name == "dev" || s.name == "reporter");
    let dev = to_node
        .iter()
        .find(|p| p.start.name == "dev")
        .expect("ci has no enforce label");
    assert_eq!(dev.steps.len(), 1);
    assert!(dev.steps[0]
        .reason
        .contains("Pod Security Admission does not enforce"));
    assert!(!inv.forbids_privileged_pods("ci"));
    assert!(inv.forbids_privileged_pods("prod"));
    let forbidding = inv.namespaces_forbidding_privileged_pods();
    assert!(forbidding.contains("prod") && !forbidding.contains("ci"));
    for namespace in &inv.namespaces {
        assert_eq!(
            forbidding.contains(namespace.name.as_str()),
            inv.forbids_privileged_pods(&namespace.name),
            "{}",
            namespace.name
        );
    }
}

/// Each aggregation selector operator picks the ClusterRoles its labels match, and only
/// ClusterRoles; rules two picked roles share are held once, in the order of the roles' names.
#[test]
fn aggregation_selectors_pick_by_every_operator() {
    let piece = |name: &str, labels: &str, resource: &str| {
        format!(
            "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {{name: {name}, labels: {{{labels}}}}}\n\
             rules:\n- {{apiGroups: [\"\"], resources: [{resource}], verbs: [get]}}\n---\n"
        )
    };
    let aggregator = |name: &str, selector: &str| {
        format!(
            "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {{name: {name}}}\n\
             aggregationRule:\n  clusterRoleSelectors: [{selector}]\nrules: []\n---\n"
        )
    };
    let text = [
        piece("a-pods", "tier: web, team: blue", "pods"),
        piece("b-services", "tier: db", "services"),
        piece("c-pods-again", "tier: cache, team: red", "pods"),
        piece("d-secrets", "", "secrets"),
        // A namespaced Role with matching labels is never aggregated.
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: e-nodes, namespace: x, labels: {tier: web}}\nrules:\n- {apiGroups: [\"\"], resources: [nodes], verbs: [get]}\n---\n".to_string(),
        aggregator("equals", "{matchLabels: {tier: web}}"),
        aggregator("in", "{matchExpressions: [{key: tier, operator: In, values: [db, cache]}]}"),
        aggregator("exists", "{matchExpressions: [{key: team, operator: Exists}]}"),
        aggregator("not-in", "{matchExpressions: [{key: tier, operator: NotIn, values: [web]}]}"),
        aggregator("does-not-exist", "{matchExpressions: [{key: tier, operator: DoesNotExist}]}"),
        aggregator("both", "{matchLabels: {team: red}, matchExpressions: [{key: tier, operator: In, values: [web, cache]}]}"),
        aggregator("none", "{matchLabels: {tier: gone}}"),
        // Two roles with one selector aggregate the same rules; a role never aggregates
        // itself, even where another role of its name is picked.
        aggregator("equals-again", "{matchLabels: {tier: web}}"),
        piece("twin", "group: twin", "configmaps"),
        aggregator("twin", "{matchLabels: {group: twin}}"),
        aggregator("twin-reader", "{matchLabels: {group: twin}}"),
    ]
    .concat();
    let inv = inventory(&text, false);
    let resources_of = |name: &str| -> Vec<String> {
        let role = inv
            .policy
            .roles()
            .iter()
            .rfind(|r| r.name == name)
            .unwrap_or_else(|| panic!("role {name}"));
        inv.policy
            .rules_of(role)
            .flat_map(|rule| rule.resources.iter().map(|r| r.to_string()))
            .collect()
    };
    let cases: &[(&str, &[&str])] = &[
        ("equals", &["pods"]),
        ("in", &["services", "pods"]),
        ("exists", &["pods"]),
        // Every other ClusterRole without `tier: web`, aggregators included: what they
        // aggregate, or their own (empty) rules while resolving.
        ("not-in", &["services", "pods", "secrets", "configmaps"]),
        (
            "does-not-exist",
            &["pods", "secrets", "services", "configmaps"],
        ),
        ("both", &["pods"]),
        ("none", &[]),
        ("equals-again", &["pods"]),
        ("twin", &[]),
        ("twin-reader", &["configmaps"]),
    ];
    for (name, expected) in cases {
        assert_eq!(resources_of(name), *expected, "{name}");
    }
}

/// A cluster-wide grant on named service accounts leads to the accounts of that name the input
/// has (declared, used by a workload, named in a binding, or `default`), in whichever
/// namespace: not to the name in every namespace, where it has no binding and leads nowhere.
#[test]
fn named_account_grants_reach_the_accounts_that_exist() {
    let namespaces: String = ["apps", "web", "batch", "deploy"]
        .iter()
        .map(|ns| format!("apiVersion: v1\nkind: Namespace\nmetadata: {{name: {ns}}}\n---\n"))
        .collect();
    let text = format!(
        "{namespaces}\
         apiVersion: v1\nkind: ServiceAccount\nmetadata: {{name: deployer, namespace: deploy}}\n---\n\
         apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {{name: token-minter}}\n\
         rules:\n- {{apiGroups: [\"\"], resources: [serviceaccounts/token], resourceNames: [deployer, default], verbs: [create]}}\n---\n\
         apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {{name: minter}}\n\
         roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: token-minter}}\n\
         subjects: [{{kind: ServiceAccount, name: minter, namespace: ci}}]\n---\n\
         apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {{name: deployer-admin}}\n\
         roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}}\n\
         subjects: [{{kind: ServiceAccount, name: deployer, namespace: deploy}}]\n"
    );
    let inv = inventory(&text, true);
    let graph = Graph::build(&inv);
    let minter = Identity::Subject(Subject {
        kind: SubjectKind::ServiceAccount,
        name: "minter".into(),
        namespace: Some("ci".into()),
    });
    let mut reached: Vec<String> = graph.edges[&minter]
        .iter()
        .map(|step| step.to.display())
        .collect();
    reached.sort();
    let mut expected = vec!["ServiceAccount deploy/deployer".to_string()];
    // `default` is in every namespace: the minter's own, and those the bundled default
    // policy binds in.
    for ns in [
        "apps",
        "batch",
        "ci",
        "deploy",
        "web",
        "kube-public",
        "kube-system",
    ] {
        expected.push(format!("ServiceAccount {ns}/default"));
    }
    expected.sort();
    assert_eq!(reached, expected);

    let paths = graph.paths_to(&Identity::ClusterAdmin, |s| s.name == "minter");
    assert_eq!(paths.len(), 1, "{paths:#?}");
    assert_eq!(paths[0].steps.len(), 2, "{:#?}", paths[0].steps);
    assert_eq!(
        paths[0].steps[0].to.display(),
        "ServiceAccount deploy/deployer"
    );
}

/// A binding to a group gives each member the same steps, each granted by the binding (at its
/// role reference), and a member the binding also names gets them at its own entry.
#[test]
fn group_bindings_give_every_member_their_steps() {
    let text = "\
apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: builder, namespace: ci}\n---\n\
apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: tester, namespace: ci}\n---\n\
apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: pod-maker}\n\
rules:\n- {apiGroups: [\"\"], resources: [pods], verbs: [create]}\n---\n\
apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: ci-makes-pods, namespace: ci}\n\
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: pod-maker}\n\
subjects:\n- {kind: Group, name: \"system:serviceaccounts:ci\"}\n- {kind: ServiceAccount, name: tester, namespace: ci}\n";
    let inv = inventory(text, true);
    let graph = Graph::build(&inv);
    for (account, entry) in [("builder", "/roleRef"), ("tester", "/subjects/1")] {
        let from = Identity::Subject(Subject {
            kind: SubjectKind::ServiceAccount,
            name: account.into(),
            namespace: Some("ci".into()),
        });
        let step = graph.edges[&from]
            .iter()
            .find(|step| step.reason.starts_with("can create pods in namespace ci"))
            .unwrap_or_else(|| panic!("{account}: {:#?}", graph.edges[&from]));
        let granted_by = step.granted_by.as_ref().expect("granted by the binding");
        assert_eq!(granted_by.object.name, "ci-makes-pods", "{account}");
        assert_eq!(granted_by.path.as_str(), entry, "{account}");
    }
}

/// A subject bound in several places, with other subjects' bindings between, keeps one step
/// per target: the first binding's (the graph keeps an index of each subject's targets for
/// the whole build).
#[test]
fn a_subject_bound_many_times_keeps_one_step_per_target() {
    let binding = |name: &str, namespace: &str, subject: &str| {
        format!(
            "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\n\
metadata: {{name: {name}, namespace: {namespace}}}\n\
roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: pod-maker}}\n\
subjects:\n- {{kind: User, name: {subject}, apiGroup: rbac.authorization.k8s.io}}\n---\n"
        )
    };
    let mut text = String::from(
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: pod-maker}\n\
rules:\n- {apiGroups: [\"\"], resources: [pods], verbs: [create]}\n---\n",
    );
    for (name, namespace, subject) in [
        ("first", "shop", "alice"),
        ("between", "shop", "bob"),
        ("again", "shop", "alice"),
        ("elsewhere", "billing", "alice"),
        ("between-again", "billing", "bob"),
        ("once-more", "shop", "alice"),
    ] {
        text.push_str(&binding(name, namespace, subject));
    }
    let graph = Graph::build(&inventory(&text, true));
    let alice = Identity::Subject(Subject {
        kind: SubjectKind::User,
        name: "alice".into(),
        namespace: None,
    });
    let steps = &graph.edges[&alice];
    let targets: Vec<String> = steps.iter().map(|s| s.to.display()).collect();
    let mut unique = targets.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), targets.len(), "{targets:#?}");
    let granted = |namespace: &str| {
        steps
            .iter()
            .find(|s| {
                s.reason
                    .starts_with(&format!("can create pods in namespace {namespace}"))
            })
            .and_then(|s| s.granted_by.as_ref())
            .map(|g| g.object.name.clone())
    };
    assert_eq!(granted("shop").as_deref(), Some("first"), "{targets:#?}");
    assert_eq!(
        granted("billing").as_deref(),
        Some("elsewhere"),
        "{targets:#?}"
    );
}

/// Roles repeat a handful of verbs, groups and resources thousands of times over: each rule
/// holds a shared copy, equal to what was written.
#[test]
fn rules_share_their_words() {
    let text = "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: a, namespace: shop}\n\
                rules: [{apiGroups: [apps], resources: [deployments], verbs: [get, list]}]\n---\n\
                apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: b}\n\
                rules: [{apiGroups: [apps], resources: [deployments, statefulsets], verbs: [list, get]}]\n";
    let inv = inventory(text, false);
    let rule_of = |name: &str| {
        let role = inv
            .policy
            .roles()
            .iter()
            .find(|r| r.name == name)
            .unwrap_or_else(|| panic!("role {name}"));
        &role.rules[0]
    };
    let (a, b) = (rule_of("a"), rule_of("b"));
    assert_eq!(a.verbs[..], ["get", "list"]);
    assert_eq!(b.resources[..], ["deployments", "statefulsets"]);
    assert!(std::ptr::eq(a.verbs[0].as_str(), b.verbs[1].as_str()));
    // Two roles of one shape share the list itself.
    let c = rule_of("a");
    assert!(std::sync::Arc::ptr_eq(&a.api_groups, &b.api_groups) && std::ptr::eq(a, c));
    assert!(std::ptr::eq(
        a.api_groups[0].as_str(),
        b.api_groups[0].as_str()
    ));
    assert!(std::ptr::eq(
        a.resources[0].as_str(),
        b.resources[0].as_str()
    ));
}
