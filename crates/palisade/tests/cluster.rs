//! `--cluster` and `palisade snapshot` against a real kube-apiserver (palisade-testkit): the
//! same answers as files, Secrets never read, Palisade's own least privilege, and faults that
//! end in one clear line. Each test uses its own namespaces on one shared control plane; without
//! the binaries the tests say SKIPPED and pass.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use palisade_testkit::{least_privilege, TestCluster};
use serde_json::Value;

mod attack_example;

fn palisade() -> Command {
    Command::cargo_bin("palisade").expect("binary is built")
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every `*.yaml` of an example directory, applied.
fn apply_example(cluster: &TestCluster, name: &str) {
    cluster.apply_dir(&repo_root().join("examples").join(name));
}

fn json_of(output: &std::process::Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}); stderr: {}",
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

/// (rule, kind, namespace, name, path) of every finding.
type Key = (String, String, String, String, String);

fn keys(report: &Value) -> BTreeSet<Key> {
    let text = |v: &Value| v.as_str().unwrap_or("").to_string();
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                text(&f["rule"]),
                text(&f["object"]["kind"]),
                text(&f["object"]["namespace"]),
                text(&f["object"]["name"]),
                text(&f["path"]),
            )
        })
        .collect()
}

fn scan_live(cluster: &TestCluster, extra: &[&str]) -> std::process::Output {
    palisade()
        .args(["scan", "--cluster", "--format", "json", "--kubeconfig"])
        .arg(&cluster.kubeconfig)
        .args(extra)
        .output()
        .expect("runs")
}

/// `palisade snapshot ARGS -o FILE`, which must succeed.
fn snapshot(cluster: &TestCluster, file: &Path, args: &[&str]) {
    let output = palisade()
        .arg("snapshot")
        .args(args)
        .arg("--kubeconfig")
        .arg(&cluster.kubeconfig)
        .arg("-o")
        .arg(file)
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
}

/// `v1.26` for a server that says `v1.26.5`.
fn minor_version(report: &Value) -> String {
    let version = report["cluster"]["version"]
        .as_str()
        .expect("cluster version");
    let mut parts = version.trim_start_matches('v').split('.');
    format!(
        "v{}.{}",
        parts.next().unwrap_or("1"),
        parts.next().unwrap_or("0")
    )
}

#[test]
fn a_live_scan_finds_what_the_files_show_except_where_the_api_server_defaults() {
    let Some(cluster) = TestCluster::shared("live scan vs files") else {
        return;
    };
    apply_example(cluster, "shop");
    let live = scan_live(cluster, &["-n", "shop"]);
    assert_eq!(
        live.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&live.stderr)
    );
    let live = json_of(&live);
    assert_eq!(live["cluster"]["context"], "admin");
    assert!(
        live["errors"].as_array().expect("errors").is_empty(),
        "{live}"
    );
    let files = palisade()
        .args([
            "scan",
            "--format",
            "json",
            "--kubernetes-version",
            &minor_version(&live),
        ])
        .arg(repo_root().join("examples/shop"))
        .output()
        .expect("runs");
    let files = json_of(&files);

    // What the API server's defaulting changes, and why: every container gets `resources: {}`,
    // so a missing request or limit points at that empty field instead of the container.
    let defaulted = |key: &Key| -> Key {
        let (rule, kind, ns, name, path) = key.clone();
        match path.strip_suffix("/resources") {
            Some(container) if rule.starts_with("PAL-RES-") => {
                (rule, kind, ns, name, container.to_string())
            }
            _ => (rule, kind, ns, name, path),
        }
    };
    let live_keys: BTreeSet<Key> = keys(&live).iter().map(defaulted).collect();
    let file_keys: BTreeSet<Key> = keys(&files).iter().map(defaulted).collect();
    assert_eq!(
        live_keys,
        file_keys,
        "only in the cluster: {:#?}\nonly in the files: {:#?}",
        live_keys.difference(&file_keys).collect::<Vec<_>>(),
        file_keys.difference(&live_keys).collect::<Vec<_>>()
    );
    // Pages of one object: the same answer, read through `continue` tokens.
    let paged = json_of(&scan_live(cluster, &["-n", "shop", "--chunk-size", "1"]));
    assert_eq!(keys(&paged), keys(&live));
    let audit = read(&cluster.audit_log);
    assert!(
        audit
            .lines()
            .any(|l| l.contains("/clusterroles?\\u0026limit=1\\u0026continue=")),
        "the API server saw no second page of ClusterRoles"
    );
    // Live findings have no file location and name their cluster.
    for finding in live["findings"].as_array().expect("findings") {
        assert!(finding.get("location").is_none(), "{finding}");
        assert_eq!(finding["cluster"], "admin");
    }
}

#[test]
fn the_server_version_is_the_default_pod_security_version() {
    let Some(cluster) = TestCluster::shared("default PSS version") else {
        return;
    };
    // A probe aimed at another host: restricted forbids it from Kubernetes 1.34 on.
    cluster.apply(
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: pss-version}\n---\n\
         apiVersion: v1\nkind: Pod\nmetadata: {name: probe, namespace: pss-version}\n\
         spec:\n  containers:\n  - name: app\n    image: registry.example.com/app:1.0\n    \
         livenessProbe: {httpGet: {host: 169.254.169.254, path: /, port: 80}}\n",
    );
    let default = json_of(&scan_live(
        cluster,
        &["-n", "pss-version", "--select", "pss"],
    ));
    let version = minor_version(&default);
    let explicit = json_of(&scan_live(
        cluster,
        &[
            "-n",
            "pss-version",
            "--select",
            "pss",
            "--pss-version",
            &version,
        ],
    ));
    let latest = json_of(&scan_live(
        cluster,
        &[
            "-n",
            "pss-version",
            "--select",
            "pss",
            "--pss-version",
            "latest",
        ],
    ));
    assert_eq!(keys(&default), keys(&explicit));
    let probe = |report: &Value| {
        keys(report)
            .iter()
            .any(|k| k.4.contains("livenessProbe/httpGet/host"))
    };
    assert!(probe(&latest), "{latest}");
    let minor: u32 = version
        .rsplit('.')
        .next()
        .and_then(|m| m.parse().ok())
        .unwrap_or(0);
    assert_eq!(probe(&default), minor >= 34, "server {version}");
}

#[test]
fn secret_values_never_reach_palisade() {
    let Some(cluster) = TestCluster::shared("secrets stay secret") else {
        return;
    };
    const VALUE: &str = "aHVudGVyMi1saXZlLXNlY3JldA=="; // base64 of a made-up password
    cluster.apply(&format!(
        "apiVersion: v1\nkind: Namespace\nmetadata: {{name: vault}}\n---\n\
         apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: vault\n  annotations:\n    \
         kubectl.kubernetes.io/last-applied-configuration: '{{\"data\":{{\"password\":\"{VALUE}\"}}}}'\n\
         type: Opaque\ndata:\n  password: {VALUE}\n"
    ));
    // A legacy token Secret: its type is learnt by name, its token never.
    cluster.apply(
        "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: ci, namespace: vault}\n---\n\
         apiVersion: v1\nkind: Secret\nmetadata:\n  name: ci-token\n  namespace: vault\n  \
         annotations: {kubernetes.io/service-account.name: ci}\ntype: kubernetes.io/service-account-token\n",
    );
    let scan = scan_live(cluster, &["-n", "vault"]);
    let text = String::from_utf8_lossy(&scan.stdout);
    assert!(!text.contains(VALUE), "{text}");
    let report: Value = serde_json::from_str(&text).expect("JSON");
    let found = keys(&report);
    assert!(
        found
            .iter()
            .any(|k| k.0 == "PAL-SA-004" && k.3 == "ci-token" && k.4 == "/type"),
        "{found:#?}"
    );
    assert!(!found.iter().any(|k| k.0 == "PAL-SEC-001"), "{found:#?}");
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("snapshot.yaml");
    snapshot(cluster, &file, &["-n", "vault"]);
    let written = read(&file);
    assert!(!written.contains(VALUE), "the snapshot holds the value");
    assert!(!written.contains("last-applied-configuration"));
    assert!(!written.contains("managedFields"));
    assert!(
        written.contains("name: db\n"),
        "the Secret's metadata is kept"
    );
}

#[test]
fn a_snapshot_answers_every_command_as_the_cluster_does() {
    // Its own control plane: the rbac and netpol examples reuse the shop example's names.
    let Some(cluster) = TestCluster::own("snapshot = cluster") else {
        return;
    };
    let cluster = &cluster;
    apply_example(cluster, "rbac");
    apply_example(cluster, "netpol");
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("cluster.json");
    snapshot(cluster, &file, &["--format", "json"]);
    let live = json_of(&scan_live(cluster, &[]));
    let from_file = json_of(
        &palisade()
            .args([
                "scan",
                "--format",
                "json",
                "--kubernetes-version",
                &minor_version(&live),
            ])
            .arg(&file)
            .output()
            .expect("runs"),
    );
    let messages = |report: &Value| -> BTreeSet<(Key, String)> {
        report["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .map(|f| {
                let text = |v: &Value| v.as_str().unwrap_or("").to_string();
                (
                    (
                        text(&f["rule"]),
                        text(&f["object"]["kind"]),
                        text(&f["object"]["namespace"]),
                        text(&f["object"]["name"]),
                        text(&f["path"]),
                    ),
                    text(&f["message"]),
                )
            })
            .collect()
    };
    // A snapshot holds objects; the API server's `/version` is none, so the version rules
    // judge it live only (its static pods' images and the Nodes are in the snapshot).
    let objects = |report: &Value| -> BTreeSet<(Key, String)> {
        messages(report)
            .into_iter()
            .filter(|(key, _)| key.1 != "APIServer")
            .collect()
    };
    assert_eq!(objects(&live), messages(&from_file));
    assert!(!messages(&live).is_empty());

    let same = |args: &[&str]| {
        let live = palisade()
            .args(args)
            .arg("--cluster")
            .arg("--kubeconfig")
            .arg(&cluster.kubeconfig)
            .output()
            .expect("runs");
        let offline = palisade().args(args).arg(&file).output().expect("runs");
        assert_eq!(
            String::from_utf8_lossy(&live.stdout),
            String::from_utf8_lossy(&offline.stdout),
            "{args:?}"
        );
        assert_eq!(live.status.code(), offline.status.code(), "{args:?}");
        String::from_utf8_lossy(&live.stdout).into_owned()
    };
    // No --no-bootstrap: the snapshot holds the cluster's own default roles, so the bundled
    // ones are not added.
    let who = same(&["rbac", "who-can", "get", "secrets", "-n", "shop"]);
    assert!(who.contains("system:masters"), "{who}");
    same(&["rbac", "paths", "--format", "json"]);
    same(&[
        "rbac",
        "can-i",
        "create",
        "pods",
        "--as",
        "system:serviceaccount:ci:deployer",
        "-n",
        "shop",
    ]);
    same(&[
        "rbac",
        "show",
        "system:serviceaccount:monitoring:prometheus",
    ]);
    let matrix = same(&["netpol", "matrix", "--format", "csv"]);
    assert!(matrix.contains(','), "{matrix}");
}

/// Whether the server serves `resource` of `group` at any version (a grant for a resource it
/// does not serve, an alpha API behind a gate say, cannot be used).
fn served(cluster: &TestCluster, group: &str, resource: &str) -> bool {
    if group.is_empty() {
        return true;
    }
    let Some(versions) = cluster.get(&format!("/apis/{group}")) else {
        return false;
    };
    versions["versions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v["groupVersion"].as_str())
        .any(|gv| {
            cluster.get(&format!("/apis/{gv}")).is_some_and(|list| {
                list["resources"]
                    .as_array()
                    .is_some_and(|r| r.iter().any(|r| r["name"] == resource))
            })
        })
}

#[test]
fn palisade_scans_with_only_its_printed_role_and_reports_what_it_may_not_read() {
    let Some(cluster) = TestCluster::shared("least privilege") else {
        return;
    };
    let role = palisade()
        .args([
            "snapshot",
            "--print-role",
            "--with-custom-resources",
            "--kubeconfig",
        ])
        .arg(&cluster.kubeconfig)
        .output()
        .expect("runs");
    assert_eq!(role.status.code(), Some(0));
    let role = String::from_utf8_lossy(&role.stdout).into_owned();
    cluster.apply(&format!(
        "{role}---\napiVersion: v1\nkind: Namespace\nmetadata: {{name: palisade}}\n---\n\
         apiVersion: v1\nkind: ServiceAccount\nmetadata: {{name: scanner, namespace: palisade}}\n---\n\
         apiVersion: v1\nkind: ServiceAccount\nmetadata: {{name: partial, namespace: palisade}}\n---\n\
         apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {{name: palisade-scanner}}\n\
         roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: palisade-reader}}\n\
         subjects: [{{kind: ServiceAccount, name: scanner, namespace: palisade}}]\n---\n\
         apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {{name: pods-only}}\n\
         rules: [{{apiGroups: [\"\"], resources: [pods, namespaces], verbs: [list]}}]\n---\n\
         apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {{name: palisade-partial}}\n\
         roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: pods-only}}\n\
         subjects: [{{kind: ServiceAccount, name: partial, namespace: palisade}}]\n---\n\
         apiVersion: v1\nkind: Namespace\nmetadata: {{name: least}}\n---\n\
         apiVersion: v1\nkind: Pod\nmetadata: {{name: root, namespace: least}}\n\
         spec:\n  containers:\n  - name: app\n    image: registry.example.com/app:1.0\n    securityContext: {{privileged: true}}\n"
    ));
    let as_sa = |name: &str| cluster.kubeconfig_with_token(name, &cluster.token("palisade", name));

    let full = palisade()
        .args(["scan", "--cluster", "--format", "json", "--kubeconfig"])
        .arg(as_sa("scanner"))
        .output()
        .expect("runs");
    let report = json_of(&full);
    assert!(
        report["errors"].as_array().expect("errors").is_empty(),
        "{}",
        report["errors"]
    );
    assert_eq!(full.status.code(), Some(1));
    assert!(keys(&report)
        .iter()
        .any(|k| k.0 == "PAL-PSS-002" && k.3 == "root"));
    // The role is list only, and every grant of a kind this cluster serves was used.
    let granted = least_privilege::granted(&role, &["palisade-reader"]);
    assert!(
        granted.iter().all(|(verb, ..)| verb == "list"),
        "{granted:?}"
    );
    let user = "system:serviceaccount:palisade:scanner";
    let mut unused = Vec::new();
    for _ in 0..50 {
        let requests = least_privilege::requests_of(&cluster.audit_log, user);
        unused = least_privilege::unused(&granted, &requests)
            .into_iter()
            .filter(|(_, group, resource, _)| served(cluster, group, resource))
            .collect();
        if unused.is_empty() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    assert_eq!(unused, [], "granted, never used");

    let partial = palisade()
        .args(["scan", "--cluster", "--format", "json", "--kubeconfig"])
        .arg(as_sa("partial"))
        .output()
        .expect("runs");
    assert_eq!(partial.status.code(), Some(2), "forbidden kinds are errors");
    let report = json_of(&partial);
    let errors: Vec<String> = report["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| e["message"].as_str().unwrap_or("").to_string())
        .collect();
    assert!(
        errors
            .iter()
            .any(|e| e.starts_with("deployments.apps: forbidden (403)")),
        "{errors:?}"
    );
    assert!(
        errors
            .iter()
            .any(|e| e.starts_with("secrets: forbidden (403)")),
        "{errors:?}"
    );
    assert!(!errors.iter().any(|e| e.starts_with("pods:")), "{errors:?}");
    assert!(
        keys(&report)
            .iter()
            .any(|k| k.0 == "PAL-PSS-002" && k.3 == "root"),
        "what could be read is still reported"
    );
}

#[test]
fn custom_resources_with_a_pod_template_are_scanned_and_owned_pods_are_not() {
    let Some(cluster) = TestCluster::shared("pod-carrying CRDs") else {
        return;
    };
    let applied = cluster.apply(
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: rollouts.argoproj.io}\n\
         spec:\n  group: argoproj.io\n  scope: Namespaced\n  names: {kind: Rollout, plural: rollouts, singular: rollout, listKind: RolloutList}\n  \
         versions:\n  - name: v1alpha1\n    served: true\n    storage: true\n    schema:\n      openAPIV3Schema:\n        type: object\n        \
         properties:\n          spec:\n            type: object\n            properties:\n              replicas: {type: integer}\n              \
         template: {type: object, x-kubernetes-preserve-unknown-fields: true}\n---\n\
         apiVersion: v1\nkind: Namespace\nmetadata: {name: rollouts}\n---\n\
         apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api, namespace: rollouts}\n\
         spec:\n  selector: {matchLabels: {app: api}}\n  template:\n    metadata: {labels: {app: api}}\n    \
         spec:\n      containers:\n      - name: api\n        image: registry.example.com/api:1.0\n---\n\
         apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata: {name: canary, namespace: rollouts}\n\
         spec:\n  replicas: 2\n  template:\n    metadata: {labels: {app: canary}}\n    \
         spec:\n      containers:\n      - name: app\n        image: registry.example.com/canary:1.0\n        securityContext: {privileged: true}\n",
    );
    let owner = applied.uid("Deployment rollouts/api");
    // A pod as the Deployment's ReplicaSet would make it (no scheduler runs: it only exists).
    cluster.apply(&format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: api-7d9f-x2x\n  namespace: rollouts\n  labels: {{app: api}}\n  \
         ownerReferences: [{{apiVersion: apps/v1, kind: Deployment, name: api, uid: {owner}, controller: true}}]\n\
         spec:\n  containers:\n  - name: api\n    image: registry.example.com/api:1.0\n---\n\
         apiVersion: v1\nkind: Pod\nmetadata: {{name: standalone, namespace: rollouts}}\n\
         spec:\n  containers:\n  - name: app\n    image: registry.example.com/api:1.0\n"
    ));
    let report = json_of(&scan_live(cluster, &["-n", "rollouts"]));
    let found = keys(&report);
    assert!(
        found.iter().any(|k| k.0 == "PAL-PSS-002"
            && k.1 == "Rollout"
            && k.3 == "canary"
            && k.4 == "/spec/template/spec/containers/0/securityContext/privileged"),
        "{found:#?}"
    );
    assert!(found.iter().any(|k| k.1 == "Deployment" && k.3 == "api"));
    assert!(found.iter().any(|k| k.1 == "Pod" && k.3 == "standalone"));
    assert!(
        !found.iter().any(|k| k.3 == "api-7d9f-x2x"),
        "owned pod reported: {found:#?}"
    );
}

/// A kubeconfig for the test server with `cluster` and `user` fields replaced.
fn kubeconfig_variant(
    cluster: &TestCluster,
    dir: &Path,
    name: &str,
    cluster_fields: &str,
    user: &str,
) -> PathBuf {
    let original = read(&cluster.kubeconfig);
    let ca = original
        .split("certificate-authority-data: \"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("CA in the kubeconfig");
    let text = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {{{cluster_fields}, certificate-authority-data: \"{ca}\"}}\n\
         users:\n- name: u\n  user: {user}\ncontexts:\n- name: {name}\n  context: {{cluster: c, user: u}}\ncurrent-context: {name}\n"
    );
    let path = dir.join(format!("{name}.kubeconfig"));
    std::fs::write(&path, text).expect("write kubeconfig");
    path
}

#[test]
fn faults_end_in_one_line_that_names_the_context() {
    let Some(cluster) = TestCluster::shared("faults") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let server = format!("server: \"{}\"", cluster.server);
    let token = format!("{{token: \"{}\"}}", cluster.admin_token());
    let run = |kubeconfig: &Path, extra: &[&str]| {
        let output = palisade()
            .args(["scan", "--cluster", "--kubeconfig"])
            .arg(kubeconfig)
            .args(extra)
            .output()
            .expect("runs");
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        assert_eq!(output.status.code(), Some(2), "{stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        stderr
    };
    let bad_token = kubeconfig_variant(
        cluster,
        dir.path(),
        "expired",
        &server,
        "{token: \"not-a-real-token\"}",
    );
    let stderr = run(&bad_token, &[]);
    assert!(
        stderr.contains("cluster `expired`") && stderr.contains("unauthorized (401)"),
        "{stderr}"
    );

    let unreachable = kubeconfig_variant(
        cluster,
        dir.path(),
        "gone",
        "server: \"https://127.0.0.1:1\"",
        &token,
    );
    let stderr = run(&unreachable, &[]);
    assert!(
        stderr.contains("cluster `gone` (https://127.0.0.1:1)") && stderr.contains("cannot reach"),
        "{stderr}"
    );

    let wrong_name = kubeconfig_variant(
        cluster,
        dir.path(),
        "tls",
        &format!("{server}, tls-server-name: \"api.example.com\""),
        &token,
    );
    let stderr = run(&wrong_name, &[]);
    assert!(
        stderr.contains("cluster `tls`") && stderr.to_lowercase().contains("certificate"),
        "{stderr}"
    );

    // A server that accepts connections and never answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("listener");
    let port = silent.local_addr().expect("address").port();
    let hanging = kubeconfig_variant(
        cluster,
        dir.path(),
        "slow",
        &format!("server: \"https://127.0.0.1:{port}\""),
        &token,
    );
    let started = std::time::Instant::now();
    let stderr = run(&hanging, &["--request-timeout", "1s"]);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(20),
        "{stderr}"
    );
    assert!(stderr.contains("cluster `slow`"), "{stderr}");

    let missing = run(&cluster.kubeconfig, &["--context", "staging"]);
    assert!(
        missing.contains("context `staging` is not in the kubeconfig (contexts: admin, nobody)"),
        "{missing}"
    );
}

#[test]
fn kubeconfig_resolution_follows_kubectl() {
    let Some(cluster) = TestCluster::shared("kubeconfig resolution") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let server = format!("server: \"{}\"", cluster.server);
    let token = format!("{{token: \"{}\"}}", cluster.admin_token());
    let first = kubeconfig_variant(cluster, dir.path(), "first", &server, &token);
    let missing = dir.path().join("not-there.kubeconfig");
    let joined = std::env::join_paths([
        missing.as_path(),
        first.as_path(),
        cluster.kubeconfig.as_path(),
    ])
    .expect("paths join");
    let context_of = |extra: &[&str]| {
        let output = palisade()
            .args([
                "scan",
                "--cluster",
                "--format",
                "json",
                "--select",
                "PAL-PSS-002",
                "-n",
                "none",
            ])
            .args(extra)
            .env("KUBECONFIG", &joined)
            .env("HOME", dir.path())
            .output()
            .expect("runs");
        json_of(&output)["cluster"]["context"]
            .as_str()
            .unwrap_or("")
            .to_string()
    };
    // Missing files are skipped; the first file's current-context wins; contexts of every
    // file can be chosen.
    assert_eq!(context_of(&[]), "first");
    assert_eq!(context_of(&["--context", "admin"]), "admin");

    // Client certificates signed by the CA the API server trusts.
    let output = palisade()
        .args([
            "scan",
            "--cluster",
            "--format",
            "json",
            "-n",
            "none",
            "--kubeconfig",
        ])
        .arg(cluster.kubeconfig_with_client_certificate())
        .output()
        .expect("runs");
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(json_of(&output)["cluster"]["context"], "carol");

    // Exec credential plugins run as kubectl runs them.
    let plugin = kubeconfig_variant(
        cluster,
        dir.path(),
        "exec",
        &server,
        &format!(
            "{{exec: {{apiVersion: client.authentication.k8s.io/v1, interactiveMode: Never, command: sh, args: [-c, \"echo '{{\\\"apiVersion\\\":\\\"client.authentication.k8s.io/v1\\\",\\\"kind\\\":\\\"ExecCredential\\\",\\\"status\\\":{{\\\"token\\\":\\\"{}\\\"}}}}'\"]}}}}",
            cluster.admin_token()
        ),
    );
    let output = palisade()
        .args([
            "scan",
            "--cluster",
            "--format",
            "json",
            "-n",
            "none",
            "--kubeconfig",
        ])
        .arg(&plugin)
        .output()
        .expect("runs");
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(json_of(&output)["cluster"]["context"], "exec");
}

/// A CustomResourceDefinition that keeps whatever `spec` (and `specs`) it is given. Groups
/// under `k8s.io` need the approval annotation, as the upstream CRDs carry it.
fn open_crd(group: &str, kind: &str, plural: &str, scope: &str, version: &str) -> String {
    format!(
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: {plural}.{group}\n  \
         annotations: {{api-approved.kubernetes.io: \"https://github.com/kubernetes-sigs/network-policy-api/pull/30\"}}\n\
         spec:\n  group: {group}\n  scope: {scope}\n  names: {{kind: {kind}, plural: {plural}, listKind: {kind}List}}\n  \
         versions:\n  - name: {version}\n    served: true\n    storage: true\n    schema:\n      openAPIV3Schema:\n        type: object\n        \
         properties:\n          spec: {{type: object, x-kubernetes-preserve-unknown-fields: true}}\n          \
         specs: {{type: array, items: {{type: object, x-kubernetes-preserve-unknown-fields: true}}}}\n"
    )
}

#[test]
fn netpol_reads_administrator_and_cilium_policies_from_the_cluster() {
    // Its own control plane: cluster-wide policies would change what other tests read.
    let Some(cluster) = TestCluster::own("policy tiers") else {
        return;
    };
    let cluster = &cluster;
    cluster.apply(&format!(
        "{}---\n{}",
        open_crd(
            "policy.networking.k8s.io",
            "AdminNetworkPolicy",
            "adminnetworkpolicies",
            "Cluster",
            "v1alpha1"
        ),
        open_crd(
            "cilium.io",
            "CiliumNetworkPolicy",
            "ciliumnetworkpolicies",
            "Namespaced",
            "v2"
        ),
    ));
    cluster.apply(
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: tiers-a}\n---\n\
         apiVersion: v1\nkind: Namespace\nmetadata: {name: tiers-b}\n---\n\
         apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: tiers-a}\n\
         spec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    \
         spec:\n      containers:\n      - name: web\n        image: registry.example.com/web:1.0\n---\n\
         apiVersion: v1\nkind: Pod\nmetadata: {name: client, namespace: tiers-b, labels: {app: client}}\n\
         spec:\n  containers:\n  - name: client\n    image: registry.example.com/client:1.0\n---\n\
         apiVersion: policy.networking.k8s.io/v1alpha1\nkind: AdminNetworkPolicy\nmetadata: {name: fence-a}\n\
         spec:\n  priority: 3\n  subject: {namespaces: {matchLabels: {kubernetes.io/metadata.name: tiers-a}}}\n  \
         ingress:\n  - {name: not-from-b, action: Deny, from: [{namespaces: {matchLabels: {kubernetes.io/metadata.name: tiers-b}}}]}\n---\n\
         apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: no-world, namespace: tiers-b}\n\
         spec:\n  endpointSelector: {matchLabels: {app: client}}\n  enableDefaultDeny: {egress: false}\n  egressDeny:\n  - toEntities: [world]\n",
    );
    let reach = |from: &str, to: &str| {
        palisade()
            .args(["netpol", "reach", from, to, "--cluster", "--kubeconfig"])
            .arg(&cluster.kubeconfig)
            .output()
            .expect("runs")
    };
    let fenced = reach("tiers-b/pod/client", "tiers-a/deployment/web");
    let text = String::from_utf8_lossy(&fenced.stdout);
    assert_eq!(
        fenced.status.code(),
        Some(1),
        "{text}{}",
        String::from_utf8_lossy(&fenced.stderr)
    );
    assert!(
        text.contains(
            "denied by AdminNetworkPolicy fence-a (priority 3) /spec/ingress/0 \"not-from-b\""
        ),
        "{text}"
    );
    let world = reach("tiers-b/pod/client", "8.8.8.8/32");
    let text = String::from_utf8_lossy(&world.stdout);
    assert_eq!(world.status.code(), Some(1), "{text}");
    assert!(
        text.contains("denied by CiliumNetworkPolicy tiers-b/no-world /spec/egressDeny/0"),
        "{text}"
    );
    let back = reach("tiers-a/deployment/web", "tiers-b/pod/client");
    assert_eq!(
        back.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&back.stdout)
    );
}

/// Kubernetes version currency live: the API server's `/version` (the test server is 1.26.5,
/// past its end of life since 2024-02-28 and behind the 1.26.6 fixes), and each kubelet
/// version the Nodes report, one finding per version however many Nodes run it; trivy-operator's
/// VulnerabilityReports in the cluster name how the internet gets in.
#[test]
fn versions_and_vulnerability_reports_are_read_from_the_cluster() {
    // Its own control plane: Nodes and a CRD are cluster-wide.
    let Some(cluster) = TestCluster::own("versions live") else {
        return;
    };
    let cluster = &cluster;
    let node = |name: &str, version: &str| {
        format!(
            "apiVersion: v1\nkind: Node\nmetadata: {{name: {name}}}\n\
             status:\n  nodeInfo:\n    kubeletVersion: {version}\n    kubeProxyVersion: {version}\n    \
             machineID: m\n    systemUUID: s\n    bootID: b\n    kernelVersion: 6.1.0\n    \
             osImage: Debian GNU/Linux 12\n    containerRuntimeVersion: containerd://1.7.0\n    \
             operatingSystem: linux\n    architecture: amd64\n"
        )
    };
    cluster.apply(
        &[
            node("worker-1", "v1.26.5"),
            node("worker-2", "v1.26.5"),
            node("worker-3", "v1.35.1"),
        ]
        .join("---\n"),
    );
    for name in ["worker-1", "worker-3"] {
        let stored = cluster.get(&format!("/api/v1/nodes/{name}")).expect("node");
        assert!(
            stored["status"]["nodeInfo"]["kubeletVersion"].is_string(),
            "the API server kept no nodeInfo: {stored}"
        );
    }
    let report = json_of(&scan_live(
        cluster,
        &["--select", "version", "--as-of", "2026-12-07"],
    ));
    let found: Vec<(String, String, String, String)> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            let text = |v: &Value| v.as_str().unwrap_or("").to_string();
            (
                text(&f["rule"]),
                format!(
                    "{} {}",
                    text(&f["object"]["kind"]),
                    text(&f["object"]["name"])
                ),
                text(&f["path"]),
                text(&f["message"]),
            )
        })
        .collect();
    let mut summary: Vec<(&str, &str)> =
        found.iter().map(|f| (f.0.as_str(), f.1.as_str())).collect();
    summary.sort();
    assert_eq!(
        summary,
        [
            ("PAL-VER-001", "APIServer admin"),
            ("PAL-VER-001", "Node worker-1"),
            ("PAL-VER-002", "APIServer admin"),
            ("PAL-VER-002", "Node worker-1"),
        ],
        "{found:#?}"
    );
    let message = |rule: &str, object: &str| {
        found
            .iter()
            .find(|f| f.0 == rule && f.1 == object)
            .map(|f| f.3.clone())
            .unwrap_or_default()
    };
    let server = message("PAL-VER-001", "APIServer admin");
    assert!(server.starts_with("kube-apiserver v1.26.5 (from the API server's /version): Kubernetes 1.26 is past its end of life (2024-02-28)"), "{server}");
    let server = message("PAL-VER-002", "APIServer admin");
    assert!(
        server.contains("CVE-2023-2728 (fixed in 1.26.6)"),
        "{server}"
    );
    let kubelet = message("PAL-VER-002", "Node worker-1");
    assert!(
        kubelet.contains("CVE-2023-5528 (fixed in 1.26.11)"),
        "{kubelet}"
    );
    let worker = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["object"]["name"] == "worker-1")
        .expect("worker-1's finding");
    assert_eq!(worker["path"], "/status/nodeInfo/kubeletVersion");
    assert_eq!(
        worker["related"][0]["object"]["name"], "worker-2",
        "the second Node at 1.26.5 is the same finding"
    );

    // trivy-operator's reports, as its CRD serves them.
    let crd = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n\
        metadata: {name: vulnerabilityreports.aquasecurity.github.io}\n\
        spec:\n  group: aquasecurity.github.io\n  scope: Namespaced\n  \
        names: {kind: VulnerabilityReport, plural: vulnerabilityreports, listKind: VulnerabilityReportList, singular: vulnerabilityreport}\n  \
        versions:\n  - name: v1alpha1\n    served: true\n    storage: true\n    schema:\n      openAPIV3Schema:\n        type: object\n        \
        properties:\n          report: {type: object, x-kubernetes-preserve-unknown-fields: true}\n";
    apply_example(cluster, "paths");
    let report = read(
        &repo_root()
            .join("crates/palisade-analysis/tests/data/vulns/trivy-operator-storefront-web.yaml"),
    );
    cluster.apply(&format!("{crd}---\n{report}"));
    let live = palisade()
        .args(["paths", "--cluster", "--format", "json", "--kubeconfig"])
        .arg(&cluster.kubeconfig)
        .output()
        .expect("runs");
    assert_eq!(
        live.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&live.stderr)
    );
    attack_example::assert_the_way_in_is_named(&json_of(&live));
}

const AGGREGATION_CHAINS: &str = r#"apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: palisade-test-everything}
aggregationRule:
  # An empty selector selects every ClusterRole, cluster-admin's included.
  clusterRoleSelectors: [{}]
rules: []
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: palisade-test-chain-top}
aggregationRule:
  clusterRoleSelectors: [{matchLabels: {palisade-test/chain: top}}]
rules: []
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: palisade-test-chain-middle
  labels: {palisade-test/chain: top}
aggregationRule:
  clusterRoleSelectors: [{matchLabels: {palisade-test/chain: middle}}]
rules:
  # Written by hand, replaced by what the middle aggregates.
  - {apiGroups: [""], resources: [secrets], verbs: [get]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: palisade-test-chain-leaf
  labels: {palisade-test/chain: middle}
rules:
  - {apiGroups: [""], resources: [configmaps], verbs: [list]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: palisade-test-lonely}
aggregationRule:
  clusterRoleSelectors: [{matchLabels: {palisade-test/nobody: here}}]
rules:
  - {apiGroups: [""], resources: [services], verbs: [get]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: palisade-test-everything}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: palisade-test-everything}
subjects: [{kind: User, name: palisade-test-everyone, apiGroup: rbac.authorization.k8s.io}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: palisade-test-chain-top}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: palisade-test-chain-top}
subjects: [{kind: User, name: palisade-test-top, apiGroup: rbac.authorization.k8s.io}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: palisade-test-lonely}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: palisade-test-lonely}
subjects: [{kind: User, name: palisade-test-hermit, apiGroup: rbac.authorization.k8s.io}]
"#;

/// Whether the API server allows `user` to `verb` `resource` (core group) cluster-wide.
fn server_allows(cluster: &TestCluster, user: &str, verb: &str, resource: &str) -> bool {
    let review = serde_json::json!({
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SubjectAccessReview",
        "spec": {"user": user, "resourceAttributes": {"verb": verb, "resource": resource}},
    });
    let posted = cluster.post(
        "/apis/authorization.k8s.io/v1/subjectaccessreviews",
        &review,
        false,
    );
    let answer: Value = serde_json::from_str(&posted.body).expect("a review");
    answer["status"]["allowed"] == true
}

#[test]
fn aggregation_chains_and_empty_selectors_are_read_as_the_controller_converges() {
    let Some(cluster) = TestCluster::shared("aggregation_chains") else {
        return;
    };
    if !cluster.controller_manager {
        eprintln!(
            "SKIPPED aggregation_chains: needs kube-controller-manager beside kube-apiserver"
        );
        return;
    }
    cluster.apply(AGGREGATION_CHAINS);
    let rules_of = |name: &str| {
        cluster
            .get(&format!(
                "/apis/rbac.authorization.k8s.io/v1/clusterroles/{name}"
            ))
            .map(|role| role["rules"].to_string())
            .unwrap_or_default()
    };
    palisade_testkit::eventually("the aggregation controller converges", 30, || {
        rules_of("palisade-test-chain-top").contains("configmaps")
            && rules_of("palisade-test-everything").contains("\"*\"")
    });
    let file = tempfile::Builder::new()
        .suffix(".yaml")
        .tempfile()
        .expect("temp file");
    std::fs::write(file.path(), AGGREGATION_CHAINS).expect("write");
    let questions = [
        ("palisade-test-top", "list", "configmaps"),
        ("palisade-test-top", "get", "secrets"),
        ("palisade-test-hermit", "get", "services"),
        ("palisade-test-hermit", "get", "configmaps"),
        ("palisade-test-everyone", "delete", "nodes"),
        ("palisade-test-everyone", "escalate", "clusterroles"),
    ];
    let mut disagreements = Vec::new();
    for (user, verb, resource) in questions {
        let server = server_allows(cluster, user, verb, resource);
        let output = palisade()
            .args(["rbac", "can-i", verb, resource, "--as", user])
            .arg(file.path())
            .output()
            .expect("runs");
        let palisade_allows = output.status.code() == Some(0);
        if server != palisade_allows {
            disagreements.push(format!(
                "{user} {verb} {resource}: the server says {server}, palisade {palisade_allows}"
            ));
        }
    }
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
    // Both answers agree with what the chain means, so the test cannot pass by both being wrong.
    assert!(server_allows(
        cluster,
        "palisade-test-top",
        "list",
        "configmaps"
    ));
    assert!(!server_allows(
        cluster,
        "palisade-test-top",
        "get",
        "secrets"
    ));
}

/// `rule kind/name` of every finding of a live scan.
fn live_findings(cluster: &TestCluster) -> Vec<String> {
    let output = scan_live(cluster, &["--no-config", "--select", "rbac,namespaces"]);
    json_of(&output)["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            format!(
                "{} {}/{}",
                f["rule"].as_str().unwrap_or(""),
                f["object"]["kind"].as_str().unwrap_or(""),
                f["object"]["name"].as_str().unwrap_or("")
            )
        })
        .collect()
}

#[test]
fn a_fresh_cluster_is_not_a_list_of_findings_until_its_defaults_change() {
    let Some(cluster) = TestCluster::own("a_fresh_cluster") else {
        return;
    };
    let fresh = live_findings(&cluster);
    // Kubernetes' own default bindings and namespaces, as a fresh cluster has them, are judged
    // as a file scan judges the bundled defaults. (A build may add bindings of its own that
    // upstream Kubernetes lacks: those are the cluster's, and may be reported.)
    let about_defaults: Vec<&String> = fresh
        .iter()
        .filter(|f| {
            [
                "ClusterRoleBinding/system:basic-user",
                "ClusterRoleBinding/system:discovery",
                "ClusterRoleBinding/system:public-info-viewer",
                "Namespace/kube-system",
                "Namespace/kube-public",
                "Namespace/kube-node-lease",
            ]
            .iter()
            .any(|d| f.ends_with(d))
        })
        .collect();
    assert!(about_defaults.is_empty(), "{fresh:#?}");
    // A subject the cluster adds to a default binding is the cluster's: reported.
    cluster.apply(
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata:\n  name: system:discovery\n  annotations: {rbac.authorization.kubernetes.io/autoupdate: \"true\"}\n  labels: {kubernetes.io/bootstrapping: rbac-defaults}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: \"system:discovery\"}\nsubjects:\n  - {apiGroup: rbac.authorization.k8s.io, kind: Group, name: \"system:authenticated\"}\n  - {apiGroup: rbac.authorization.k8s.io, kind: Group, name: \"system:unauthenticated\"}\n",
    );
    let changed = live_findings(&cluster);
    let discovery: Vec<&String> = changed
        .iter()
        .filter(|f| f.as_str() == "PAL-RBAC-012 ClusterRoleBinding/system:discovery")
        .collect();
    assert_eq!(discovery.len(), 1, "{changed:#?}");
}

#[test]
fn netpol_diff_compares_files_with_the_live_cluster() {
    let Some(cluster) = TestCluster::own("netpol diff against the cluster") else {
        return;
    };
    apply_example(&cluster, "netpol");
    // The example with web let into the database: applying the cluster's state over it
    // would close that connection.
    let dir = tempfile::tempdir().expect("tempdir");
    let example = repo_root().join("examples/netpol");
    for file in ["namespaces.yaml", "workloads.yaml"] {
        std::fs::copy(example.join(file), dir.path().join(file)).expect("copy");
    }
    let policies = read(&example.join("policies.yaml")).replacen(
        "    - from: [{podSelector: {matchLabels: {tier: backend}}}]\n      ports: [{port: 5432}]",
        "    - from: [{podSelector: {matchLabels: {tier: backend}}}, {podSelector: {matchLabels: {app: web}}}]\n      ports: [{port: 5432}]",
        1,
    );
    std::fs::write(dir.path().join("policies.yaml"), policies).expect("write");
    let diff = |old: &Path| {
        palisade()
            .args(["netpol", "diff"])
            .arg(old)
            .args(["--cluster", "--kubeconfig"])
            .arg(&cluster.kubeconfig)
            .output()
            .expect("runs")
    };
    let output = diff(dir.path());
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        text.contains("- shop/deployment/web → shop/statefulset/db: 5432/TCP (was by NetworkPolicy shop/db-from-api /spec/ingress/0)"),
        "{text}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(!text.contains("+ shop/"), "{text}");
    // The files the cluster was made from: no connection of theirs differs.
    let same = diff(&example);
    let text = String::from_utf8_lossy(&same.stdout).into_owned();
    assert!(
        !text.contains("shop/deployment/web → shop/statefulset/db"),
        "{text}"
    );
    assert!(text.contains("0 closed"), "{text}");
}

/// The front doors live: an IngressClass says which controller serves an Ingress (ingress-nginx,
/// not the Traefik that also runs), and a Gateway API HTTPRoute sends to api through its
/// gateway's pods. Without the IngressClass every controller would be said to reach web; without
/// the HTTPRoute, nothing would reach api.
#[test]
fn netpol_reads_ingress_classes_and_routes_from_the_cluster() {
    // Its own control plane: a CRD and a cluster-wide IngressClass change what others read.
    let Some(cluster) = TestCluster::own("front doors") else {
        return;
    };
    let cluster = &cluster;
    cluster.apply(&open_crd(
        "gateway.networking.k8s.io",
        "HTTPRoute",
        "httproutes",
        "Namespaced",
        "v1",
    ));
    apply_example(cluster, "netpol");
    cluster.apply(
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: ingress-nginx}\n---\n\
         apiVersion: v1\nkind: Namespace\nmetadata: {name: traefik}\n---\n\
         apiVersion: v1\nkind: Namespace\nmetadata: {name: gateways}\n---\n\
         apiVersion: networking.k8s.io/v1\nkind: IngressClass\nmetadata: {name: nginx}\nspec: {controller: k8s.io/ingress-nginx}\n---\n\
         apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\nspec:\n  selector: {app: web}\n  ports: [{name: http, port: 80, targetPort: http}]\n---\n\
         apiVersion: v1\nkind: Service\nmetadata: {name: api, namespace: shop}\nspec:\n  selector: {app: api}\n  ports: [{port: 80, targetPort: 3000}]\n---\n\
         apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: storefront, namespace: shop}\nspec:\n  ingressClassName: nginx\n  rules:\n  - host: shop.example.com\n    http:\n      paths:\n      \
         - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}\n---\n\
         apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: api-route, namespace: shop}\nspec:\n  parentRefs: [{name: public, namespace: gateways}]\n  \
         rules: [{backendRefs: [{name: api, port: 80}]}]\n---\n\
         apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: ingress-nginx-controller, namespace: ingress-nginx}\nspec:\n  \
         selector: {matchLabels: {app.kubernetes.io/name: ingress-nginx}}\n  template:\n    metadata: {labels: {app.kubernetes.io/name: ingress-nginx}}\n    \
         spec:\n      containers: [{name: controller, image: registry.k8s.io/ingress-nginx/controller:v1.10.1}]\n---\n\
         apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: traefik, namespace: traefik}\nspec:\n  \
         selector: {matchLabels: {app.kubernetes.io/name: traefik}}\n  template:\n    metadata: {labels: {app.kubernetes.io/name: traefik}}\n    \
         spec:\n      containers: [{name: traefik, image: docker.io/traefik:v3.0}]\n---\n\
         apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: public-istio, namespace: gateways}\nspec:\n  \
         selector: {matchLabels: {gateway.networking.k8s.io/gateway-name: public}}\n  template:\n    metadata: {labels: {gateway.networking.k8s.io/gateway-name: public}}\n    \
         spec:\n      containers: [{name: istio-proxy, image: docker.io/istio/proxyv2:1.22.1}]\n",
    );
    let reach = |to: &str| {
        let output = palisade()
            .args([
                "netpol",
                "reach",
                "internet",
                to,
                "--cluster",
                "--kubeconfig",
            ])
            .arg(&cluster.kubeconfig)
            .output()
            .expect("runs");
        format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    };
    let web = reach("shop/deployment/web");
    assert!(
        web.contains("Ingress shop/storefront: ingress-nginx/deployment/ingress-nginx-controller → shop/deployment/web: 8080/TCP allowed"),
        "{web}"
    );
    assert!(!web.contains("traefik/deployment/traefik"), "{web}");
    let api = reach("shop/deployment/api");
    assert!(
        api.contains("HTTPRoute shop/api-route: gateways/deployment/public-istio → shop/deployment/api: 3000/TCP denied"),
        "{api}"
    );
}
