//! Attack paths, edge by edge: for each kind of hop, a case where it holds and one where the
//! input breaks it (a ClusterIP Service, a NetworkPolicy, a token not mounted, a RoleBinding
//! in another namespace, a pod that stays within baseline).

use std::sync::Arc;

use palisade_analysis::attack::{from_internet, AttackPath, Edge, Goal};
use palisade_analysis::InventoryBuilder;
use palisade_load::{load_text, Loaded};

fn paths(text: &str, goal: Goal) -> Vec<AttackPath> {
    let mut builder = InventoryBuilder::default();
    load_text(
        &Arc::from("cluster.yaml"),
        text,
        &mut |loaded| match loaded {
            Loaded::Object(object) => builder.add(&object),
            Loaded::Skipped => {}
            Loaded::Error(e) | Loaded::Warning(e) => panic!("{e}"),
        },
    );
    let inventory = builder.build(false);
    from_internet(
        &inventory.rbac,
        &inventory.network,
        &inventory.exposures,
        goal,
    )
}

fn edges(path: &AttackPath) -> Vec<Edge> {
    path.hops.iter().map(|h| h.edge).collect()
}

/// A web Deployment in `shop`, running as `web`, with `pod_extra` in its pod spec.
fn web(pod_extra: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: web, namespace: shop}}\nspec:\n  \
         selector: {{matchLabels: {{app: web}}}}\n  template:\n    metadata: {{labels: {{app: web}}}}\n    \
         spec:\n      serviceAccountName: web\n{pod_extra}      containers:\n      - name: web\n        \
         image: registry.example.com/shop/web:1.4.2\n        ports: [{{name: http, containerPort: 8080}}]\n"
    )
}

fn service(spec_extra: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Service\nmetadata: {{name: web, namespace: shop}}\nspec:\n  \
         selector: {{app: web}}\n  ports: [{{name: http, port: 80, targetPort: http}}]\n{spec_extra}"
    )
}

/// `web` is cluster-admin itself: the shortest escalation.
const ADMIN_ACCOUNT: &str =
    "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: web, namespace: shop}\n---\n\
apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: web-admin}\n\
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: admin-all}\n\
subjects: [{kind: ServiceAccount, name: web, namespace: shop}]\n---\n\
apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: admin-all}\n\
rules: [{apiGroups: [\"*\"], resources: [\"*\"], verbs: [\"*\"]}]\n";

fn join(parts: &[&str]) -> String {
    parts.join("\n---\n")
}

#[test]
fn the_internet_reaches_a_service_only_through_what_exposes_it() {
    for (how, spec_extra, ingress) in [
        ("type LoadBalancer", "  type: LoadBalancer\n", ""),
        ("type NodePort", "  type: NodePort\n", ""),
        ("externalIPs", "  externalIPs: [203.0.113.10]\n", ""),
        (
            "Ingress shop/web",
            "",
            "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: web, namespace: shop}\nspec:\n  \
             rules:\n  - host: shop.example.com\n    http:\n      paths:\n      - {path: /, pathType: Prefix, \
             backend: {service: {name: web, port: {name: http}}}}\n",
        ),
    ] {
        let mut parts = vec![ADMIN_ACCOUNT.to_string(), web(""), service(spec_extra)];
        if !ingress.is_empty() {
            parts.push(ingress.to_string());
        }
        let refs: Vec<&str> = parts.iter().map(String::as_str).collect();
        let found = paths(&join(&refs), Goal::ClusterAdmin);
        assert_eq!(found.len(), 1, "{how}: {found:?}");
        assert_eq!(
            edges(&found[0]),
            [Edge::Exposed, Edge::Reaches, Edge::MountsToken, Edge::Escalates],
            "{how}"
        );
        assert_eq!(
            found[0].hops[0].explanation,
            format!("the internet reaches it through {how}")
        );
        assert_eq!(found[0].hops[3].reached, "cluster-admin");
    }
    // A ClusterIP Service, and an Ingress that routes to another Service: no way in.
    let cluster_ip = join(&[ADMIN_ACCOUNT, &web(""), &service("")]);
    assert!(paths(&cluster_ip, Goal::ClusterAdmin).is_empty());
}

#[test]
fn network_policies_decide_whether_the_traffic_gets_in() {
    let exposed = service("  type: LoadBalancer\n");
    let policy = |ingress: &str| {
        format!(
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: web, namespace: shop}}\nspec:\n  \
             podSelector: {{matchLabels: {{app: web}}}}\n  policyTypes: [Ingress]\n{ingress}"
        )
    };
    let cases = [
        ("deny all", policy(""), false),
        (
            "the office only",
            policy("  ingress:\n  - from: [{ipBlock: {cidr: 198.51.100.0/24}}]\n"),
            false,
        ),
        (
            "everyone on 8080",
            policy(
                "  ingress:\n  - from: [{ipBlock: {cidr: 0.0.0.0/0}}]\n    ports: [{port: 8080}]\n",
            ),
            true,
        ),
        (
            "another pod only",
            policy("  ingress:\n  - from: [{podSelector: {matchLabels: {app: gateway}}}]\n"),
            false,
        ),
    ];
    for (what, policy, reachable) in cases {
        let text = join(&[ADMIN_ACCOUNT, &web(""), &exposed, &policy]);
        let found = paths(&text, Goal::ClusterAdmin);
        assert_eq!(!found.is_empty(), reachable, "{what}: {found:?}");
        if reachable {
            assert!(
                found[0].hops[1].explanation.contains("8080"),
                "{what}: {}",
                found[0].hops[1].explanation
            );
        }
    }
}

#[test]
fn a_token_is_held_unless_automount_is_off_where_it_counts() {
    let exposed = service("  type: LoadBalancer\n");
    let account_off = ADMIN_ACCOUNT.replace(
        "metadata: {name: web, namespace: shop}\n",
        "metadata: {name: web, namespace: shop}\nautomountServiceAccountToken: false\n",
    );
    for (what, account, pod, held) in [
        ("nothing set", ADMIN_ACCOUNT.to_string(), "", true),
        (
            "the pod says no",
            ADMIN_ACCOUNT.to_string(),
            "      automountServiceAccountToken: false\n",
            false,
        ),
        ("the account says no", account_off.clone(), "", false),
        (
            "the pod overrides the account",
            account_off,
            "      automountServiceAccountToken: true\n",
            true,
        ),
    ] {
        let text = join(&[&account, &web(pod), &exposed]);
        let found = paths(&text, Goal::ClusterAdmin);
        assert_eq!(!found.is_empty(), held, "{what}: {found:?}");
    }
}

#[test]
fn escalation_follows_the_bindings_scope() {
    let exposed = service("  type: LoadBalancer\n");
    let runner = "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: web, namespace: shop}\n---\n\
apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: deployer, namespace: ci}\n---\n\
apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: deployer-admin}\n\
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: admin-all}\n\
subjects: [{kind: ServiceAccount, name: deployer, namespace: ci}]\n---\n\
apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: admin-all}\n\
rules: [{apiGroups: [\"*\"], resources: [\"*\"], verbs: [\"*\"]}]\n---\n\
apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: pod-runner}\n\
rules: [{apiGroups: [\"\"], resources: [pods], verbs: [create]}]\n";
    let binding = |namespace: &str| {
        format!(
            "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {{name: web-runs-pods, namespace: {namespace}}}\n\
             roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: pod-runner}}\n\
             subjects: [{{kind: ServiceAccount, name: web, namespace: shop}}]\n"
        )
    };
    // Pods in `ci` run as the deployer: through it, cluster-admin.
    let found = paths(
        &join(&[runner, &web(""), &exposed, &binding("ci")]),
        Goal::ClusterAdmin,
    );
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].hops.len(), 5);
    assert_eq!(found[0].hops[3].reached, "ServiceAccount ci/deployer");
    // The same grant in `shop`, where no stronger account lives: no path to cluster-admin.
    let found = paths(
        &join(&[runner, &web(""), &exposed, &binding("shop")]),
        Goal::ClusterAdmin,
    );
    assert!(found.is_empty(), "{found:?}");
}

#[test]
fn a_pod_beyond_baseline_hands_over_its_node() {
    let exposed = service("  type: LoadBalancer\n");
    let account = "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: web, namespace: shop}\nautomountServiceAccountToken: false\n";
    let found = paths(
        &join(&[account, &web("      hostPID: true\n"), &exposed]),
        Goal::Node,
    );
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        edges(&found[0]),
        [Edge::Exposed, Edge::Reaches, Edge::EscapesToNode]
    );
    let within_baseline = paths(&join(&[account, &web(""), &exposed]), Goal::Node);
    assert!(within_baseline.is_empty(), "{within_baseline:?}");
}
