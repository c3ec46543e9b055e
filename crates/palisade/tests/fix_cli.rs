//! `palisade fix` on real manifests: diffs, in place, copies, JSON; every comment and every
//! untouched byte kept; a second run changes nothing; and the truth, a real kube-apiserver
//! enforcing Pod Security at restricted: what Palisade calls clean after fixing is admitted
//! without a warning, what it says needs a decision is what the server still refuses.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

fn palisade() -> Command {
    Command::cargo_bin("palisade").expect("binary")
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A writable copy of `dirs` (relative to the repository) in a temporary directory.
fn copy_of(dirs: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for source in dirs {
        for entry in std::fs::read_dir(repo().join(source)).expect("dir") {
            let path = entry.expect("entry").path();
            if path.extension().is_some_and(|e| e == "yaml") {
                let name = path.file_name().expect("name");
                std::fs::copy(&path, dir.path().join(name)).expect("copy");
                let target = dir.path().join(name);
                let mut permissions = std::fs::metadata(&target).expect("meta").permissions();
                #[allow(clippy::permissions_set_readonly_false)]
                permissions.set_readonly(false);
                std::fs::set_permissions(&target, permissions).expect("writable");
            }
        }
    }
    dir
}

fn files(dir: &Path) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = std::fs::read_dir(dir)
        .expect("dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.is_file())
        .map(|p| {
            (
                p.file_name().expect("name").to_string_lossy().into_owned(),
                std::fs::read_to_string(&p).expect("read"),
            )
        })
        .collect();
    out.sort();
    out
}

fn fix(dir: &Path, extra: &[&str]) -> std::process::Output {
    palisade()
        .args(["--kubernetes-version", "v1.26", "fix", "--no-config"])
        .args(extra)
        .arg(dir)
        .output()
        .expect("runs")
}

/// The comment of every line that has one.
fn comments(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| {
            l.find(" #")
                .or_else(|| l.trim_start().starts_with('#').then_some(0))
        })
        .zip(
            text.lines()
                .filter(|l| l.contains(" #") || l.trim_start().starts_with('#')),
        )
        .map(|(at, line)| line[at..].trim().to_string())
        .collect()
}

#[test]
fn diff_writes_nothing_and_fixing_keeps_comments_and_is_idempotent() {
    let dir = copy_of(&["examples/shop", "crates/palisade/tests/data/fix"]);
    let before = files(dir.path());
    let diff = fix(dir.path(), &["--diff"]);
    assert_eq!(diff.status.code(), Some(1), "findings are left (decisions)");
    let shown = String::from_utf8_lossy(&diff.stdout);
    assert!(
        shown.contains("+++ b/") && shown.contains("+            allowPrivilegeEscalation: false"),
        "{shown}"
    );
    assert_eq!(files(dir.path()), before, "--diff writes nothing");

    let first = fix(dir.path(), &["--unsafe"]);
    assert_eq!(first.status.code(), Some(1));
    let summary = String::from_utf8_lossy(&first.stderr);
    assert!(summary.contains("finding(s) fixed; changed"), "{summary}");
    assert!(summary.contains("[needs a decision]"), "{summary}");
    let after = files(dir.path());
    assert_ne!(after, before);
    for ((name, old), (_, new)) in before.iter().zip(&after) {
        for comment in comments(old) {
            assert!(new.contains(&comment), "{name}: lost comment {comment:?}");
        }
        // The original's lines are all there, in order: fixes only add or change in place.
        let mut rest = new.lines();
        for line in old.lines() {
            let kept = rest.any(|l| l == line || edited_in_place(line, l));
            assert!(kept, "{name}: line {line:?} is gone");
        }
    }
    let second = fix(dir.path(), &["--unsafe"]);
    assert_eq!(files(dir.path()), after, "a second run changes nothing");
    assert!(String::from_utf8_lossy(&second.stderr).contains(": 0 finding(s) fixed"));
}

/// A scalar replaced where it stood: the same key, another value.
fn edited_in_place(old: &str, new: &str) -> bool {
    match (old.split_once(':'), new.split_once(':')) {
        (Some((k1, _)), Some((k2, _))) => k1 == k2,
        _ => false,
    }
}

#[test]
fn the_objects_change_only_in_the_fields_the_fixes_own() {
    let dir = copy_of(&["crates/palisade/tests/data/fix", "examples/shop"]);
    let before: Vec<(String, Vec<Value>)> = files(dir.path())
        .into_iter()
        .map(|(name, text)| {
            (
                name,
                palisade_testkit::manifest_objects(&text).unwrap_or_default(),
            )
        })
        .collect();
    let output = fix(dir.path(), &["--unsafe", "--format", "json"]);
    let report: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let edits = report["edits"].as_array().expect("edits");
    assert!(!edits.is_empty());
    for edit in edits {
        assert!(edit["rule"].as_str().is_some_and(|r| r.starts_with("PAL-")));
        assert!(edit["object"]["kind"].is_string() && edit["path"].is_string());
        assert!(edit["lines"]["start"].as_u64() <= edit["lines"]["end"].as_u64());
        assert!(matches!(edit["safety"].as_str(), Some("safe" | "unsafe")));
    }
    // The fields the fixes write: their paths' last keys, under securityContext or the spec.
    let owned = [
        "allowPrivilegeEscalation",
        "capabilities",
        "runAsNonRoot",
        "seccompProfile",
        "readOnlyRootFilesystem",
        "automountServiceAccountToken",
        "imagePullPolicy",
        "securityContext",
    ];
    let after: Vec<(String, Vec<Value>)> = files(dir.path())
        .into_iter()
        .map(|(name, text)| {
            (
                name,
                palisade_testkit::manifest_objects(&text).expect("still parses"),
            )
        })
        .collect();
    for ((name, old), (_, new)) in before.iter().zip(&after) {
        assert_eq!(old.len(), new.len(), "{name}");
        for (a, b) in old.iter().zip(new) {
            assert_eq!(without(a, &owned), without(b, &owned), "{name}");
        }
    }
}

/// `value` without the keys in `owned`, anywhere.
fn without(value: &Value, owned: &[&str]) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(k, _)| !owned.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), without(v, owned)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(|v| without(v, owned)).collect()),
        other => other.clone(),
    }
}

#[test]
fn output_dir_writes_copies_and_exit_codes_follow_what_is_left() {
    let dir = copy_of(&["crates/palisade/tests/data/fix"]);
    let before = files(dir.path());
    let out = tempfile::tempdir().expect("tempdir");
    // Only the safe, mechanical Pod Security fixes: every one of them can be made.
    let output = palisade()
        .args([
            "--kubernetes-version",
            "v1.26",
            "fix",
            "--no-config",
            "--select",
            "pss-allow-privilege-escalation,pss-seccomp-restricted",
            "--output-dir",
        ])
        .arg(out.path())
        .arg(dir.path())
        .output()
        .expect("runs");
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(files(dir.path()), before, "originals untouched");
    let relative: PathBuf = dir
        .path()
        .components()
        .filter(|c| matches!(c, std::path::Component::Normal(_)))
        .collect();
    let copies = files(&out.path().join(relative));
    assert_eq!(copies.len(), 5, "one copy per changed file: {copies:?}");
    assert!(copies
        .iter()
        .all(|(_, text)| text.contains("allowPrivilegeEscalation: false")));
}

#[test]
fn what_cannot_be_edited_as_written_is_left_and_said() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = "apiVersion: v1\nkind: Pod\nmetadata: {name: odd, namespace: shop}\nspec:\n  containers:\n  - name: app\n    image: registry.example.com/app:1\n    securityContext:\n      allowPrivilegeEscalation: |\n        true\n";
    std::fs::write(dir.path().join("pod.yaml"), text).expect("write");
    let output = fix(
        dir.path(),
        &[
            "--select",
            "pss-allow-privilege-escalation",
            "--format",
            "json",
        ],
    );
    assert_eq!(output.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(report["left"][0]["reason"], "cannot edit", "{report}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("pod.yaml")).expect("read"),
        text
    );
}

/// The collection a pod-carrying object is created in.
fn collection(object: &Value, namespace: &str) -> Option<String> {
    let (group, plural) = match object["kind"].as_str()? {
        "Pod" => ("", "pods"),
        "ReplicationController" => ("", "replicationcontrollers"),
        "Deployment" => ("apps", "deployments"),
        "StatefulSet" => ("apps", "statefulsets"),
        "DaemonSet" => ("apps", "daemonsets"),
        "ReplicaSet" => ("apps", "replicasets"),
        "Job" => ("batch", "jobs"),
        "CronJob" => ("batch", "cronjobs"),
        _ => return None,
    };
    let version = object["apiVersion"].as_str()?;
    Some(if group.is_empty() {
        format!("/api/{version}/namespaces/{namespace}/{plural}")
    } else {
        format!("/apis/{version}/namespaces/{namespace}/{plural}")
    })
}

#[test]
fn what_palisade_calls_clean_after_fixing_the_api_server_admits_at_restricted() {
    let Some(cluster) = palisade_testkit::TestCluster::own("fix against Pod Security") else {
        return;
    };
    cluster.apply(
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: restricted\n  labels:\n    \
         pod-security.kubernetes.io/enforce: restricted\n    pod-security.kubernetes.io/warn: restricted\n",
    );
    let dir = copy_of(&["crates/palisade/tests/data/fix", "examples/shop"]);
    let fixed = fix(dir.path(), &["--unsafe", "--pss-level", "restricted"]);
    assert!(fixed.status.code().is_some_and(|c| c <= 1));
    // Palisade's verdict per object after fixing.
    let scan = palisade()
        .args([
            "--kubernetes-version",
            "v1.26",
            "scan",
            "--no-config",
            "--select",
            "pss",
            "--pss-level",
            "restricted",
            "--format",
            "json",
        ])
        .arg(dir.path())
        .output()
        .expect("runs");
    let report: Value = serde_json::from_slice(&scan.stdout).expect("JSON");
    let flagged: BTreeSet<(String, String)> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["object"]["kind"].as_str().unwrap_or("").to_string(),
                f["object"]["name"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    let mut judged = 0;
    for (name, text) in files(dir.path()) {
        for mut object in palisade_testkit::manifest_objects(&text).expect("parses") {
            let Some(path) = collection(&object, "restricted") else {
                continue;
            };
            object["metadata"]["namespace"] = Value::String("restricted".into());
            let key = (
                object["kind"].as_str().unwrap_or("").to_string(),
                object["metadata"]["name"]
                    .as_str()
                    .unwrap_or("")
                    .to_string(),
            );
            let answer = cluster.post(&path, &object, true);
            let warned = answer
                .warnings
                .iter()
                .any(|w| w.contains("violate PodSecurity"));
            let refused = answer.status == 403 || warned;
            if flagged.contains(&key) {
                assert!(refused, "{name} {key:?}: Palisade says it needs a decision, the server admits it: {answer:?}");
            } else {
                assert_eq!(answer.status, 201, "{name} {key:?}: {}", answer.body);
                assert!(
                    !warned,
                    "{name} {key:?}: clean to Palisade, warned by the server: {:?}",
                    answer.warnings
                );
            }
            judged += 1;
        }
    }
    assert!(judged >= 8, "{judged} workloads judged");
    // The real manifests, unhardened as published, are clean once fixed.
    for name in [
        "frontend",
        "redis-master",
        "redis-replica",
        "vllm-gemma-deployment",
    ] {
        assert!(
            !flagged.iter().any(|(_, n)| n == name),
            "{name} still flagged: {flagged:?}"
        );
    }
    assert!(
        flagged.iter().any(|(kind, _)| kind == "DaemonSet"),
        "the privileged node agent still needs a decision: {flagged:?}"
    );
}

#[test]
fn a_helm_chart_is_not_edited_and_the_summary_says_where_to_fix_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let chart = dir.path().join("shop");
    std::fs::create_dir_all(chart.join("templates")).expect("dirs");
    std::fs::write(
        chart.join("Chart.yaml"),
        "apiVersion: v2\nname: shop\nversion: 0.1.0\n",
    )
    .expect("write");
    let template = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\nspec:\n  template:\n    spec:\n      containers:\n      - name: web\n        image: {{ .Values.image }}\n";
    std::fs::write(chart.join("templates/web.yaml"), template).expect("write");
    let output = fix(dir.path(), &["--unsafe"]);
    assert_eq!(output.status.code(), Some(0), "nothing else to fix");
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(said.contains("is a Helm chart, not edited"), "{said}");
    assert!(said.contains("palisade scan --render"), "{said}");
    assert_eq!(
        std::fs::read_to_string(chart.join("templates/web.yaml")).expect("read"),
        template
    );
}

/// Every file below `dir`, by path relative to it.
fn tree(dir: &Path) -> Vec<(String, String)> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, String)>) {
        for entry in std::fs::read_dir(dir).expect("dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let relative = path
                    .strip_prefix(root)
                    .expect("below")
                    .to_string_lossy()
                    .into_owned();
                out.push((relative, std::fs::read_to_string(&path).expect("read")));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

#[test]
fn over_a_cluster_or_its_snapshot_fixed_manifests_are_written_and_the_cluster_is_not_touched() {
    let Some(cluster) = palisade_testkit::TestCluster::own("fix over a cluster") else {
        return;
    };
    for file in [
        "namespace.yaml",
        "web.yaml",
        "postgres.yaml",
        "node-agent.yaml",
    ] {
        cluster.apply(
            &std::fs::read_to_string(repo().join("examples/shop").join(file)).expect("read"),
        );
    }
    let before = cluster
        .get("/apis/apps/v1/namespaces/shop/deployments/web")
        .expect("deployed");
    let out = tempfile::tempdir().expect("tempdir");
    let live = palisade()
        .args([
            "fix",
            "--no-config",
            "--unsafe",
            "--cluster",
            "-n",
            "shop",
            "--output-dir",
        ])
        .arg(out.path().join("live"))
        .arg("--kubeconfig")
        .arg(&cluster.kubeconfig)
        .output()
        .expect("runs");
    assert_eq!(
        live.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&live.stderr)
    );
    let written = tree(&out.path().join("live"));
    let names: Vec<&str> = written.iter().map(|(n, _)| n.as_str()).collect();
    assert!(names.contains(&"shop/deployment-web.yaml"), "{names:?}");
    assert!(
        names.contains(&"shop/statefulset-postgres.yaml"),
        "{names:?}"
    );
    for (name, text) in &written {
        for server_field in [
            "resourceVersion",
            "uid:",
            "managedFields",
            "creationTimestamp",
            "status:",
        ] {
            assert!(!text.contains(server_field), "{name}: {server_field}");
        }
        let objects = palisade_testkit::manifest_objects(text).expect("a manifest");
        assert_eq!(objects.len(), 1, "{name}");
        // Ready for `kubectl apply`: the API server takes it (dry run).
        let object = &objects[0];
        if let Some(path) = collection(object, "shop") {
            let answer = cluster.post(&path, object, true);
            assert!(
                matches!(answer.status, 201 | 409),
                "{name}: {}",
                answer.body
            );
        }
    }
    let web = &written
        .iter()
        .find(|(n, _)| n == "shop/deployment-web.yaml")
        .expect("web")
        .1;
    assert!(web.contains("allowPrivilegeEscalation: false"), "{web}");
    // Nothing was written to the cluster.
    let after = cluster
        .get("/apis/apps/v1/namespaces/shop/deployments/web")
        .expect("still there");
    assert_eq!(
        before["metadata"]["resourceVersion"],
        after["metadata"]["resourceVersion"]
    );

    // The same from a snapshot of the cluster.
    let snapshot = out.path().join("snapshot.yaml");
    let taken = palisade()
        .args(["snapshot", "-n", "shop", "-o"])
        .arg(&snapshot)
        .arg("--kubeconfig")
        .arg(&cluster.kubeconfig)
        .output()
        .expect("runs");
    assert!(
        taken.status.success(),
        "{}",
        String::from_utf8_lossy(&taken.stderr)
    );
    // A snapshot holds ConfigMap values and pods' environment: its owner's only.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&snapshot)
            .expect("snapshot")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let original = std::fs::read_to_string(&snapshot).expect("snapshot");
    let offline = palisade()
        .args(["fix", "--no-config", "--unsafe", "--output-dir"])
        .arg(out.path().join("offline"))
        .arg(&snapshot)
        .output()
        .expect("runs");
    assert_eq!(offline.status.code(), Some(1));
    assert_eq!(
        std::fs::read_to_string(&snapshot).expect("snapshot"),
        original,
        "the snapshot is left as it is"
    );
    assert_eq!(
        tree(&out.path().join("offline")),
        written,
        "the same manifests as from the cluster"
    );
}

/// Runs `palisade fix --interactive DIR` on a terminal (util-linux `script` gives it one),
/// answering `answer` to every question.
fn interactive(dir: &Path, answer: &str) -> Option<std::process::Output> {
    let script = ["/usr/bin/script", "/bin/script"]
        .into_iter()
        .find(|p| Path::new(p).is_file())?;
    let binary = assert_cmd::cargo::cargo_bin("palisade");
    let command = format!(
        "{} fix --no-config --interactive {}",
        binary.display(),
        dir.display()
    );
    let mut child = std::process::Command::new(script)
        .args(["-qec", &command, "/dev/null"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .ok()?;
    use std::io::Write as _;
    child.stdin.take()?.write_all(answer.as_bytes()).ok()?;
    child.wait_with_output().ok()
}

#[test]
fn interactive_asks_on_a_terminal_and_writes_only_what_is_accepted() {
    let dir = copy_of(&["examples/shop"]);
    let before = files(dir.path());
    let Some(declined) = interactive(dir.path(), "n\nn\nn\nn\nn\nn\n") else {
        eprintln!("SKIPPED: util-linux `script` is not installed (it gives the test a terminal)");
        return;
    };
    let shown = String::from_utf8_lossy(&declined.stdout);
    assert!(
        shown.contains("write ") && shown.contains("[y/N]"),
        "{shown}"
    );
    assert_eq!(files(dir.path()), before, "declined: nothing written");
    interactive(dir.path(), "y\ny\ny\ny\ny\ny\n").expect("runs");
    assert_ne!(files(dir.path()), before, "accepted: written");
    // Not on a terminal: refused, with the way to review instead.
    let output = fix(dir.path(), &["--interactive"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--diff"));
}

#[test]
fn diffs_never_print_a_secret_or_a_credential_in_their_context() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api, namespace: shop}\nspec:\n  selector: {matchLabels: {app: api}}\n  template:\n    metadata: {labels: {app: api}}\n    spec:\n      containers:\n      - name: api\n        image: registry.example.com/api:1\n        env:\n        - name: DB_PASSWORD\n          value: hunter2-hunter2\n        - name: SENTRY_DSN\n          value: https://user:s3cretpass@sentry.example.com/1\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: api}\nstringData: {token: tok-abcdef123456}\n";
    std::fs::write(dir.path().join("api.yaml"), text).expect("write");
    let output = fix(dir.path(), &["--diff", "--unsafe"]);
    let shown = String::from_utf8_lossy(&output.stdout);
    assert!(
        shown.contains("+          allowPrivilegeEscalation: false")
            || shown.contains("allowPrivilegeEscalation: false"),
        "{shown}"
    );
    for value in ["hunter2", "s3cretpass", "tok-abcdef123456"] {
        assert!(!shown.contains(value), "{value} printed:\n{shown}");
    }
    assert!(shown.contains("value: <hidden>"), "{shown}");
}

#[test]
fn manifests_refuse_an_api_server_cidr_that_is_not_one() {
    for command in [["admit", "manifests"], ["operator", "manifests"]] {
        let output = palisade()
            .args(command)
            .args(["--api-server-cidr", "10.0.0.1"])
            .output()
            .expect("runs");
        assert_eq!(output.status.code(), Some(2), "{command:?}");
        assert!(String::from_utf8_lossy(&output.stderr).contains("not a CIDR"));
        let good = palisade()
            .args(command)
            .args(["--api-server-cidr", "192.0.2.10/32"])
            .output()
            .expect("runs");
        assert!(String::from_utf8_lossy(&good.stdout).contains("cidr: 192.0.2.10/32"));
    }
}

#[test]
fn a_broken_file_is_named_and_left_as_it_is_while_the_others_are_fixed() {
    let dir = copy_of(&["crates/palisade/tests/data/fix"]);
    let broken = "apiVersion: v1\nkind: Pod\nmetadata: {name: [x\n";
    std::fs::write(dir.path().join("broken.yaml"), broken).expect("write");
    let output = fix(dir.path(), &[]);
    assert_eq!(output.status.code(), Some(2));
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(said.contains("broken.yaml:4:1 (document 1)"), "{said}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("broken.yaml")).expect("read"),
        broken
    );
    let fixed = std::fs::read_to_string(dir.path().join("vllm.yaml")).expect("read");
    assert!(fixed.contains("allowPrivilegeEscalation: false"));
}
