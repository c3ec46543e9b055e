//! `palisade rbac`: answers and exit codes modelled on kubectl, JSON shapes, and the
//! escalation paths over the bundled RBAC example.

use std::path::Path;

use assert_cmd::Command;
use serde_json::Value;

fn rbac(args: &[&str]) -> std::process::Output {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/rbac");
    Command::cargo_bin("palisade")
        .expect("binary")
        .arg("rbac")
        .args(args)
        .arg(example)
        .output()
        .expect("runs")
}

fn stdout(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn can_i_answers_yes_or_no_with_kubectl_exit_codes() {
    let yes = rbac(&[
        "can-i",
        "get",
        "nodes",
        "--subresource",
        "proxy",
        "--as",
        "system:serviceaccount:monitoring:prometheus",
    ]);
    assert_eq!(
        (yes.status.code(), stdout(&yes).as_str()),
        (Some(0), "yes\n")
    );
    let no = rbac(&[
        "can-i",
        "list",
        "secrets",
        "-n",
        "shop",
        "--as",
        "system:serviceaccount:shop:web",
    ]);
    assert_eq!((no.status.code(), stdout(&no).as_str()), (Some(1), "no\n"));
    // A RoleBinding grants in its namespace only; without -n the question is cluster-wide.
    let in_ns = rbac(&[
        "can-i",
        "list",
        "secrets",
        "-n",
        "shop",
        "--as",
        "erin@example.com",
    ]);
    assert_eq!(in_ns.status.code(), Some(0));
    let cluster_wide = rbac(&["can-i", "list", "secrets", "--as", "erin@example.com"]);
    assert_eq!(cluster_wide.status.code(), Some(1));
    // Group membership from --as-group, bootstrap `edit` through a RoleBinding.
    let dev = rbac(&[
        "can-i",
        "create",
        "deployments.apps",
        "-n",
        "ci",
        "--as",
        "alex",
        "--as-group",
        "developers",
    ]);
    assert_eq!(dev.status.code(), Some(0));
    let no_bootstrap = rbac(&[
        "can-i",
        "create",
        "deployments.apps",
        "-n",
        "ci",
        "--as",
        "alex",
        "--as-group",
        "developers",
        "--no-bootstrap",
    ]);
    assert_eq!(no_bootstrap.status.code(), Some(1));
    // Non-resource URLs and named objects.
    let metrics = rbac(&[
        "can-i",
        "get",
        "/metrics",
        "--as",
        "system:serviceaccount:monitoring:prometheus",
    ]);
    assert_eq!(metrics.status.code(), Some(0));
    let named = rbac(&[
        "can-i",
        "update",
        "configmaps/web-config",
        "-n",
        "shop",
        "--as",
        "system:serviceaccount:shop:web",
    ]);
    assert_eq!(named.status.code(), Some(0));
    let other = rbac(&[
        "can-i",
        "update",
        "configmaps/other",
        "-n",
        "shop",
        "--as",
        "system:serviceaccount:shop:web",
    ]);
    assert_eq!(other.status.code(), Some(1));
    // Everyone authenticated may read config maps here: the example binds `view` to them.
    let everyone = rbac(&[
        "can-i",
        "get",
        "configmaps/other",
        "-n",
        "shop",
        "--as",
        "someone",
    ]);
    assert_eq!(everyone.status.code(), Some(0));
    let anonymous = rbac(&[
        "can-i",
        "get",
        "configmaps/other",
        "-n",
        "shop",
        "--as",
        "system:anonymous",
    ]);
    assert_eq!(anonymous.status.code(), Some(1));
}

#[test]
fn can_i_json_names_the_binding_and_role() {
    let output = rbac(&[
        "can-i",
        "get",
        "pods",
        "-n",
        "shop",
        "--as",
        "system:serviceaccount:monitoring:prometheus",
        "--format",
        "json",
    ]);
    let body: Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(body["allowed"], true);
    let reason = &body["reasons"][0];
    assert_eq!(reason["binding"]["kind"], "ClusterRoleBinding");
    assert_eq!(reason["binding"]["name"], "prometheus");
    assert_eq!(reason["role"]["name"], "prometheus");
    assert_eq!(
        reason["rule"]["object"]["name"], "prometheus-targets",
        "aggregated rule keeps its holder"
    );
    assert!(reason["rule"]["location"]["line"].as_u64().is_some());
}

#[test]
fn who_can_lists_subjects_with_their_grants() {
    let output = rbac(&[
        "who-can", "list", "secrets", "-n", "shop", "--format", "json",
    ]);
    assert_eq!(output.status.code(), Some(0));
    let body: Value = serde_json::from_slice(&output.stdout).expect("json");
    let subjects = body["subjects"].as_array().expect("subjects");
    let erin = subjects
        .iter()
        .find(|s| s["name"] == "erin@example.com")
        .expect("erin");
    assert_eq!(erin["kind"], "User");
    assert_eq!(erin["via"][0]["binding"]["name"], "auditors-read-secrets");
    assert!(subjects
        .iter()
        .any(|s| s["name"] == "deployer" && s["namespace"] == "ci"));
    assert!(
        subjects.iter().all(|s| s["name"] != "web"),
        "web only reads its config map"
    );
    let text = stdout(&rbac(&["who-can", "list", "secrets", "-n", "shop"]));
    assert!(text.contains("User erin@example.com\n  via RoleBinding shop/auditors-read-secrets binds Role secret-auditor"), "{text}");
}

#[test]
fn show_prints_effective_rules_per_namespace() {
    let text = stdout(&rbac(&["show", "system:serviceaccount:shop:web"]));
    assert!(text.contains("namespace ci:"), "{text}");
    assert!(text.contains("create,get,list jobs (batch)  via RoleBinding ci/web-runs-ci-jobs binds ClusterRole ci-job-runner"), "{text}");
    assert!(
        text.contains("get,watch,update configmaps (core) named web-config"),
        "{text}"
    );
}

#[test]
fn paths_explain_each_step_in_every_format() {
    let text = stdout(&rbac(&["paths"]));
    assert!(
        text.contains("User erin@example.com → cluster-admin in 3 steps:"),
        "{text}"
    );
    assert!(
        text.contains("Secret shop/web-token, the long-lived token of ServiceAccount shop/web"),
        "{text}"
    );
    assert!(
        text.contains("Group developers → cluster-admin in 2 steps:"),
        "{text}"
    );

    let json: Value =
        serde_json::from_slice(&rbac(&["paths", "--format", "json"]).stdout).expect("json");
    let erin = json["paths"]
        .as_array()
        .and_then(|p| p.iter().find(|p| p["start"]["name"] == "erin@example.com"))
        .expect("erin's path");
    assert_eq!(erin["steps"].as_array().map(Vec::len), Some(3));
    assert_eq!(erin["steps"][2]["to"]["kind"], "ClusterAdmin");

    let dot = stdout(&rbac(&["paths", "--format", "dot"]));
    assert!(
        dot.starts_with("digraph escalation {") && dot.contains("->"),
        "{dot}"
    );
    let mermaid = stdout(&rbac(&["paths", "--format", "mermaid"]));
    assert!(
        mermaid.starts_with("flowchart LR") && mermaid.contains("-->"),
        "{mermaid}"
    );

    let to_node = stdout(&rbac(&["paths", "--to", "node"]));
    assert!(
        to_node.contains("Group developers → a node in 1 step"),
        "{to_node}"
    );
    assert!(
        !to_node.contains("enforce baseline in namespace shop"),
        "shop enforces restricted: {to_node}"
    );
}

/// Like kubectl: a type Palisade does not know is asked about as written with a warning
/// (`users` and `groups` without one), `RESOURCE.VERSION.GROUP` drops the version, `-n` on a
/// cluster-scoped resource warns, and an unknown verb warns (HTTP verbs for non-resource URLs).
#[test]
fn resource_arguments_are_read_as_kubectl_reads_them() {
    let unknown = rbac(&["can-i", "get", "widgets", "--as", "alice"]);
    assert_eq!(
        unknown.status.code(),
        Some(1),
        "an answer, not a usage error"
    );
    assert_eq!(stdout(&unknown), "no\n");
    let stderr = String::from_utf8_lossy(&unknown.stderr);
    assert!(
        stderr.contains("Warning: Palisade does not know a resource type 'widgets'"),
        "{stderr}"
    );

    let users = rbac(&["can-i", "impersonate", "users", "--as", "alice"]);
    assert!(
        users.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&users.stderr)
    );

    let versioned = rbac(&[
        "can-i",
        "create",
        "deployments.v1.apps",
        "-n",
        "shop",
        "--as",
        "alice",
        "--format",
        "json",
    ]);
    let plain = rbac(&[
        "can-i",
        "create",
        "deployments.apps",
        "-n",
        "shop",
        "--as",
        "alice",
        "--format",
        "json",
    ]);
    assert_eq!(stdout(&versioned), stdout(&plain));
    assert!(versioned.stderr.is_empty());

    let nodes = rbac(&["can-i", "get", "nodes", "-n", "shop", "--as", "alice"]);
    let stderr = String::from_utf8_lossy(&nodes.stderr);
    assert!(
        stderr.contains("Warning: resource 'nodes' is not namespace scoped"),
        "{stderr}"
    );

    let verb = rbac(&["can-i", "gett", "pods", "-n", "shop", "--as", "alice"]);
    let stderr = String::from_utf8_lossy(&verb.stderr);
    assert!(
        stderr.contains("Warning: verb 'gett' is not a known verb (did you mean 'get'?)"),
        "{stderr}"
    );
    // A non-resource URL takes the request's HTTP verbs; a resource's verbs are not those.
    for http in ["post", "put", "head", "options"] {
        let asked = rbac(&["can-i", http, "/logs", "--as", "alice"]);
        assert!(
            asked.stderr.is_empty(),
            "{http}: {}",
            String::from_utf8_lossy(&asked.stderr)
        );
    }
    let watch = rbac(&["can-i", "watch", "/logs", "--as", "alice"]);
    let stderr = String::from_utf8_lossy(&watch.stderr);
    assert!(
        stderr.contains("Warning: verb 'watch' is not a known verb"),
        "{stderr}"
    );
}

/// `system:masters` is allowed everything by the API server itself: `can-i` says yes even
/// without RBAC defaults, and `who-can` lists it first.
#[test]
fn system_masters_comes_first_and_is_always_allowed() {
    let yes = rbac(&[
        "can-i",
        "delete",
        "nodes",
        "--as",
        "root",
        "--as-group",
        "system:masters",
        "--no-bootstrap",
    ]);
    assert_eq!(
        yes.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&yes.stderr)
    );
    let who = stdout(&rbac(&["who-can", "get", "secrets", "-n", "shop"]));
    assert!(who.starts_with("Group system:masters\n  via group system:masters, which the API server allows everything"), "{who}");
}

/// A `kubectl get -A -o yaml` dump is a `List`; a broken file next to it is reported, the answer
/// still comes from what loaded, and the exit code says something went wrong.
#[test]
fn dumps_are_read_and_broken_inputs_exit_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("dump.yaml"),
        "apiVersion: v1
kind: List
items:
- apiVersion: rbac.authorization.k8s.io/v1
  kind: Role
  metadata: {name: reader, namespace: shop}
  rules:
  - apiGroups: [\"\"]
    resources: [secrets]
    verbs: [get]
- apiVersion: rbac.authorization.k8s.io/v1
  kind: RoleBinding
  metadata: {name: reader, namespace: shop}
  roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: reader}
  subjects: [{kind: User, name: dana}]
",
    )
    .expect("write");
    let run = |extra: &[&str]| {
        Command::cargo_bin("palisade")
            .expect("binary")
            .args([
                "rbac", "can-i", "get", "secrets", "-n", "shop", "--as", "dana",
            ])
            .args(extra)
            .arg(dir.path())
            .output()
            .expect("runs")
    };
    assert_eq!(run(&[]).status.code(), Some(0));
    std::fs::write(dir.path().join("broken.yaml"), "kind: Role\nmetadata: [\n").expect("write");
    let output = run(&[]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(stdout(&output), "yes\n");
    assert!(String::from_utf8_lossy(&output.stderr).contains("broken.yaml"));
}

#[test]
fn answers_can_go_to_a_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("who.json");
    let out_arg = out.to_string_lossy().into_owned();
    let output = rbac(&[
        "who-can", "get", "secrets", "-n", "shop", "--format", "json", "-o", &out_arg,
    ]);
    assert_eq!(output.status.code(), Some(0));
    assert!(output.stdout.is_empty());
    let answer: Value =
        serde_json::from_str(&std::fs::read_to_string(&out).expect("written")).expect("json");
    assert!(answer.to_string().contains("erin@example.com"), "{answer}");
}

#[test]
fn inputs_read_as_kubectl_reads_them_are_said_on_stderr() {
    let dir = tempfile::tempdir().expect("tempdir");
    // `verbs` twice: kubectl keeps the last, and so does the answer.
    std::fs::write(
        dir.path().join("role.yaml"),
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: reader, namespace: shop}\nrules:\n  - apiGroups: [\"\"]\n    resources: [secrets]\n    verbs: [list]\n    verbs: [get]\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: reader, namespace: shop}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: reader}\nsubjects: [{kind: User, name: alice}]\n",
    )
    .expect("write");
    let output = Command::cargo_bin("palisade")
        .expect("binary")
        .args([
            "rbac", "can-i", "get", "secrets", "-n", "shop", "--as", "alice",
        ])
        .arg(dir.path())
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(0), "the last `verbs` counts");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("palisade: warning: ") && stderr.contains("duplicate key `verbs`"),
        "{stderr}"
    );
}

/// Roles and bindings that share the names of Kubernetes' default ones (reconciled with them
/// as the API server does), bound to people.
const NAMED_LIKE_DEFAULTS: &str = include_str!("data/named-like-defaults.yaml");

#[test]
fn roles_named_like_defaults_are_reported_in_the_users_file_only() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("rbac.yaml");
    std::fs::write(&file, NAMED_LIKE_DEFAULTS).expect("write");
    let output = Command::cargo_bin("palisade")
        .expect("binary")
        .args([
            "scan",
            "--no-config",
            "--select",
            "rbac",
            "--format",
            "json",
        ])
        .arg(&file)
        .output()
        .expect("runs");
    let report: Value = serde_json::from_slice(&output.stdout).expect("json");
    let findings = report["findings"].as_array().expect("findings");
    assert!(findings.len() >= 3, "{findings:#?}");
    let mut places = Vec::new();
    for finding in findings {
        places.push(&finding["location"]);
        for listed in ["related", "also"] {
            for entry in finding[listed].as_array().into_iter().flatten() {
                places.push(&entry["location"]);
            }
        }
    }
    let elsewhere: Vec<&&Value> = places
        .iter()
        .filter(|place| !place.is_null() && place["file"].as_str() != file.to_str())
        .collect();
    assert!(elsewhere.is_empty(), "{elsewhere:#?}");
}
