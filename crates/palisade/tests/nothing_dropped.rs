//! Broken input is named and the rest is still read, never passed as clean: a broken List
//! item, `items` that is not a list, lines of an audit log that are not audit events, and
//! NetworkPolicies the API server would refuse. Each exits 2 (or 1 where findings decide),
//! never 0.

use assert_cmd::Command;
use serde_json::Value;

fn palisade() -> Command {
    Command::cargo_bin("palisade").expect("binary")
}

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> String {
    let path = dir.path().join(name);
    std::fs::write(&path, text).expect("write");
    path.to_string_lossy().into_owned()
}

/// A kubectl-style List whose first item has a tab where indentation belongs (line 7).
const TAB_IN_LIST: &str = "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: settings, namespace: shop}\n\tdata: {mode: fast}\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: agent, namespace: shop}\n  spec:\n    containers:\n    - name: agent\n      image: registry.example.com/agent:1.0\n      securityContext: {privileged: true}\n";

fn scan_json(path: &str) -> (Option<i32>, Value) {
    let output = palisade()
        .args(["scan", "--no-config", "--format", "json", path])
        .output()
        .expect("runs");
    let report = serde_json::from_slice(&output.stdout).expect("JSON");
    (output.status.code(), report)
}

#[test]
fn a_broken_list_item_is_a_located_error_and_the_items_after_it_are_scanned() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(&dir, "dump.yaml", TAB_IN_LIST);
    let (code, report) = scan_json(&path);
    assert_eq!(code, Some(2));
    assert_eq!(report["summary"]["objects"], 1);
    let privileged = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .any(|f| f["name"] == "pss-privileged" && f["object"]["name"] == "agent");
    assert!(privileged, "the Pod after the broken item is judged");
    let errors = report["errors"].as_array().expect("errors");
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0]["line"], 7);
    assert!(errors[0]["column"].is_u64());
    assert!(
        errors[0]["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("`items/0`")),
        "{errors:?}"
    );
}

#[test]
fn items_that_are_not_a_list_exit_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    for items in ["42", "{a: 1}", "null", "text"] {
        let path = write(
            &dir,
            "list.yaml",
            &format!("apiVersion: v1\nkind: List\nitems: {items}\n"),
        );
        let (code, report) = scan_json(&path);
        assert_eq!(code, Some(2), "items: {items}");
        assert_eq!(report["errors"][0]["line"], 3, "items: {items}");
    }
}

#[test]
fn audit_lines_that_are_not_audit_events_exit_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = write(
        &dir,
        "audit.log",
        "{}\n{\"apiVersion\":\"v1\",\"kind\":\"Event\",\"metadata\":{\"name\":\"x\"},\"reason\":\"Pulled\"}\n{\"apiVersion\":42,\"kind\":\"Event\"}\n",
    );
    let output = palisade()
        .args(["audit", "detect", "--no-config", "--format", "json", &log])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
    let report: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(report["summary"]["objects"], 0, "nothing judged");
    let lines: Vec<u64> = report["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["line"].as_u64())
        .collect();
    assert_eq!(lines, [1, 2, 3]);
}

const WORKLOADS: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers: [{name: web, image: web:1, ports: [{containerPort: 22, name: ssh}]}]\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: client, namespace: shop}\nspec:\n  selector: {matchLabels: {app: client}}\n  template:\n    metadata: {labels: {app: client}}\n    spec:\n      containers: [{name: c, image: c:1}]\n";

#[test]
fn a_policy_the_api_server_refuses_is_an_error_of_reach_and_a_finding_of_scan() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(
        &dir,
        "net.yaml",
        &format!("{WORKLOADS}---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: web, namespace: shop}}\nspec:\n  podSelector: {{matchLabels: {{app: web}}}}\n  ingress:\n    - ports: [{{port: 65536}}]\n"),
    );
    let output = palisade()
        .args([
            "netpol",
            "reach",
            "shop/deployment/client",
            "shop/deployment/web",
            &path,
        ])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(":27:16 (document 3): NetworkPolicy shop/web: `/spec/ingress/0/ports/0/port`: 65536 is not a port"),
        "{stderr}"
    );
    assert!(
        stderr.contains("NetworkPolicy shop/web left out"),
        "{stderr}"
    );

    let (code, report) = scan_json(&path);
    assert_eq!(code, Some(1));
    let invalid: Vec<&Value> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["rule"] == "PAL-NET-010")
        .collect();
    assert_eq!(invalid.len(), 1);
    assert_eq!(invalid[0]["location"]["line"], 27);
    assert_eq!(invalid[0]["path"], "/spec/ingress/0/ports/0/port");
}

#[test]
fn a_malformed_aggregation_selector_is_read_as_before_and_warned_about() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(
        &dir,
        "role.yaml",
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: monitoring}\naggregationRule:\n  clusterRoleSelectors:\n    - matchLabels: 5\nrules: []\n",
    );
    let (_, report) = scan_json(&path);
    let warnings = report["warnings"].as_array().expect("warnings");
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert_eq!(warnings[0]["line"], 6);
    assert!(warnings[0]["message"]
        .as_str()
        .is_some_and(|m| m.contains("may overstate")));
}
