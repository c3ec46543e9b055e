//! `palisade audit` against a real API server's audit log: roles generated from what a
//! controller did replace its `admin` binding and still allow exactly that; `unused` lists the
//! rest of `admin`; an exec, a Secret list and a cluster-admin binding come out as findings.

use std::process::Command;

use palisade_testkit::{eventually, TestCluster};
use serde_json::{json, Value};

fn palisade(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(args)
        .output()
        .expect("palisade runs")
}

const NS: &str = "audit-ctl";
const SA: &str = "system:serviceaccount:audit-ctl:operator";

/// What the operator does on each reconcile: read its config, list and watch its pods, record
/// an event, write its state, look for its lease. Every status must be a non-403.
fn reconcile(cluster: &TestCluster, token: &str, round: u32) -> Vec<(String, u16)> {
    let calls: Vec<(&str, String, Option<Value>)> = vec![
        (
            "GET",
            format!("/api/v1/namespaces/{NS}/configmaps/operator-config"),
            None,
        ),
        (
            "GET",
            format!("/api/v1/namespaces/{NS}/pods?limit=100"),
            None,
        ),
        (
            "GET",
            format!("/api/v1/namespaces/{NS}/pods?watch=true&timeoutSeconds=1"),
            None,
        ),
        (
            "POST",
            format!("/api/v1/namespaces/{NS}/events"),
            Some(json!({
                "apiVersion": "v1", "kind": "Event",
                "metadata": {"name": format!("operator-reconcile-{round}"), "namespace": NS},
                "involvedObject": {"kind": "ConfigMap", "name": "operator-config", "namespace": NS},
                "reason": "Reconciled", "message": "reconciled", "type": "Normal"
            })),
        ),
        (
            "PATCH",
            format!("/api/v1/namespaces/{NS}/configmaps/operator-state"),
            Some(json!({"data": {"round": round.to_string()}})),
        ),
        (
            "GET",
            format!("/apis/coordination.k8s.io/v1/namespaces/{NS}/leases/operator"),
            None,
        ),
    ];
    calls
        .into_iter()
        .map(|(method, path, body)| {
            let status = cluster.request_as(token, method, &path, body.as_ref());
            (format!("{method} {path}"), status)
        })
        .collect()
}

fn events_of(report: &Value, rule: &str) -> Vec<String> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["rule"] == rule)
        .map(|f| f["message"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn roles_from_the_audit_log_replace_admin_and_attacks_are_found() {
    let Some(cluster) = TestCluster::shared("audit roles and detections") else {
        return;
    };
    cluster.apply(&format!(
        "apiVersion: v1\nkind: Namespace\nmetadata: {{name: {NS}}}\n---\n\
         apiVersion: v1\nkind: ServiceAccount\nmetadata: {{name: operator, namespace: {NS}}}\n---\n\
         apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: operator-config, namespace: {NS}}}\ndata: {{interval: 30s}}\n---\n\
         apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: operator-state, namespace: {NS}}}\ndata: {{round: \"0\"}}\n---\n\
         apiVersion: v1\nkind: Secret\nmetadata: {{name: operator-webhook-key, namespace: {NS}}}\nstringData: {{key: do-not-print-me}}\n---\n\
         apiVersion: v1\nkind: Pod\nmetadata: {{name: worker, namespace: {NS}}}\nspec:\n  containers: [{{name: app, image: registry.example.com/worker:1.0}}]\n---\n\
         apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {{name: operator-admin, namespace: {NS}}}\n\
         roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: admin}}\n\
         subjects: [{{kind: ServiceAccount, name: operator, namespace: {NS}}}]\n"
    ));
    let token = cluster.token(NS, "operator");
    eventually("the admin binding takes effect", 30, || {
        reconcile(cluster, &token, 1).iter().all(|(_, s)| *s != 403)
    });
    // The attacks: a Secret list by the operator, an exec and a cluster-admin binding by the
    // admin.
    assert_eq!(
        cluster.request_as(
            &token,
            "GET",
            &format!("/api/v1/namespaces/{NS}/secrets"),
            None
        ),
        200
    );
    let exec = cluster.post(
        &format!("/api/v1/namespaces/{NS}/pods/worker/exec?command=sh&stdin=true&stdout=true"),
        &json!({}),
        false,
    );
    assert_ne!(exec.status, 403, "{}", exec.body);
    cluster.apply(&format!(
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {{name: audit-ctl-backdoor}}\n\
         roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}}\n\
         subjects: [{{kind: ServiceAccount, name: operator, namespace: {NS}}}]\n"
    ));
    cluster.delete("/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/audit-ctl-backdoor");
    let log = cluster.audit_log.to_string_lossy().into_owned();

    // Detections.
    let detect = palisade(&["audit", "detect", "--format", "json", &log]);
    let report: Value = serde_json::from_slice(&detect.stdout).expect("JSON report");
    assert_eq!(
        detect.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&detect.stderr)
    );
    let secret_lists = events_of(&report, "PAL-AL-003");
    assert!(
        secret_lists
            .iter()
            .any(|m| m.contains("ServiceAccount audit-ctl/operator")
                && m.contains("namespace audit-ctl")),
        "{secret_lists:?}"
    );
    let execs = events_of(&report, "PAL-AL-001");
    assert!(
        execs.iter().any(|m| m.contains("Pod audit-ctl/worker")),
        "{execs:?}"
    );
    let bindings = events_of(&report, "PAL-AL-005");
    assert!(
        bindings
            .iter()
            .any(|m| m.contains("ClusterRoleBinding audit-ctl-backdoor")),
        "{bindings:?}"
    );
    let finding = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["rule"] == "PAL-AL-005")
        .expect("a binding finding");
    assert_eq!(finding["location"]["file"], log.as_str());
    assert!(finding["location"]["line"].as_u64().is_some_and(|l| l > 0));
    let everything = String::from_utf8_lossy(&detect.stdout);
    assert!(!everything.contains("do-not-print-me"));

    // Unused: `admin` grants far more than the operator used.
    let dir = tempfile::tempdir().expect("tempdir");
    let binding = dir.path().join("binding.yaml");
    std::fs::write(
        &binding,
        format!(
            "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {{name: operator-admin, namespace: {NS}}}\n\
             roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: admin}}\n\
             subjects: [{{kind: ServiceAccount, name: operator, namespace: {NS}}}]\n"
        ),
    )
    .expect("write");
    let unused = palisade(&[
        "audit",
        "unused",
        "--for",
        SA,
        "--rbac",
        &binding.to_string_lossy(),
        "--format",
        "json",
        &log,
    ]);
    assert_eq!(
        unused.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&unused.stderr)
    );
    let unused: Value = serde_json::from_slice(&unused.stdout).expect("JSON");
    let rules = unused["unused"].as_array().expect("unused rules");
    let grants = |resource: &str| {
        rules.iter().any(|r| {
            r["rule"]["resources"]
                .as_array()
                .is_some_and(|list| list.iter().any(|x| x == resource))
        })
    };
    assert!(
        grants("deployments"),
        "admin's deployment rule was never used"
    );
    assert!(!rules.is_empty());

    // Roles from the log replace the admin binding.
    let roles = palisade(&["audit", "roles", "--for", SA, &log]);
    assert_eq!(
        roles.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&roles.stderr)
    );
    let yaml = String::from_utf8(roles.stdout).expect("UTF-8");
    let generated = dir.path().join("roles.yaml");
    std::fs::write(&generated, &yaml).expect("write");
    cluster.delete(&format!(
        "/apis/rbac.authorization.k8s.io/v1/namespaces/{NS}/rolebindings/operator-admin"
    ));
    cluster.apply(&yaml);
    eventually("the generated roles allow every call again", 30, || {
        reconcile(cluster, &token, 2).iter().all(|(_, s)| *s != 403)
    });
    // And nothing else: the server and Palisade agree.
    assert_eq!(
        cluster.request_as(
            &token,
            "DELETE",
            &format!("/apis/apps/v1/namespaces/{NS}/deployments"),
            None
        ),
        403
    );
    let ask = |verb: &str, target: &str| {
        palisade(&[
            "rbac",
            "can-i",
            verb,
            target,
            "-n",
            NS,
            "--as",
            SA,
            &generated.to_string_lossy(),
        ])
        .status
        .code()
    };
    assert_eq!(ask("list", "pods"), Some(0));
    assert_eq!(ask("patch", "configmaps/operator-state"), Some(0));
    assert_eq!(ask("delete", "deployments.apps"), Some(1));
    assert_eq!(ask("get", "secrets/operator-webhook-key"), Some(1));
    assert_eq!(
        cluster.request_as(
            &token,
            "GET",
            &format!("/api/v1/namespaces/{NS}/secrets/operator-webhook-key"),
            None
        ),
        403,
        "the roles keep the Secret list the operator made, not a get it never made"
    );
}
