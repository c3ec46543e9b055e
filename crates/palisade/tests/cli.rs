//! End-to-end tests of the `palisade` binary: exit codes, the JSON contract, stdin, rule
//! selection, Pod Security levels and versions, and bad input that must never crash a scan.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

fn palisade() -> Command {
    Command::cargo_bin("palisade").expect("binary is built")
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn examples() -> String {
    repo_root()
        .join("examples/shop")
        .to_string_lossy()
        .into_owned()
}

fn json_of(output: &std::process::Output) -> Value {
    serde_json::from_slice(&output.stdout).expect("stdout is JSON")
}

const PRIVILEGED_POD: &str = "apiVersion: v1
kind: Pod
metadata:
  name: debug
  namespace: ops
spec:
  containers:
    - name: shell
      image: busybox:1.36
      securityContext:
        privileged: true
";

#[test]
fn scanning_the_example_reports_findings_with_places_and_exits_1() {
    let output = palisade()
        .args(["scan", &examples()])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(1));
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.contains(
            "node-agent.yaml:21:13: PAL-PSS-002 [critical] container `agent` runs privileged"
        ),
        "{text}"
    );
    assert!(text.contains("21 |             privileged: true"), "{text}");
    // The example holds manifests only: it applies to a cluster as it is.
    assert!(!text.contains("skipped"), "{text}");
    assert!(
        !text.contains('\u{1b}'),
        "no colour when stdout is not a terminal"
    );
}

#[test]
fn json_report_follows_the_contract() {
    // With a Helm values file beside the manifests (on stdin): read, and skipped.
    let output = palisade()
        .args(["scan", "--format", "json", &examples(), "-"])
        .write_stdin("# Helm values\nreplicaCount: 3\nimage: {repository: registry.example.com/shop/web, tag: 1.4.2}\n")
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(1));
    let report = json_of(&output);
    assert_eq!(report["schema_version"], 1);
    assert_eq!(report["tool"]["name"], "palisade");
    let findings = report["findings"].as_array().expect("findings");
    let privileged = findings
        .iter()
        .find(|f| f["rule"] == "PAL-PSS-002")
        .expect("privileged finding");
    assert_eq!(privileged["name"], "pss-privileged");
    assert_eq!(privileged["severity"], "critical");
    assert_eq!(privileged["category"], "pod-security");
    assert_eq!(
        privileged["object"],
        serde_json::json!({"apiVersion": "apps/v1", "kind": "DaemonSet", "namespace": "shop", "name": "log-agent"})
    );
    assert_eq!(
        privileged["path"],
        "/spec/template/spec/containers/0/securityContext/privileged"
    );
    assert_eq!(privileged["location"]["line"], 21);
    assert_eq!(privileged["location"]["column"], 13);
    assert_eq!(privileged["location"]["document"], 1);
    assert!(privileged["location"]["file"]
        .as_str()
        .is_some_and(|f| f.ends_with("node-agent.yaml")));
    assert!(privileged["controls"]
        .as_array()
        .is_some_and(|c| c.contains(&Value::from("PSS:baseline:privileged"))));
    assert!(privileged["suppressed"].is_null());
    assert_eq!(report["summary"]["files"], 6);
    assert_eq!(report["summary"]["objects"], 6);
    assert_eq!(report["summary"]["skipped"], 1);
    // The privileged agent, and the Docker socket it mounts.
    assert_eq!(report["summary"]["findings"]["critical"], 2);
    assert_eq!(report["errors"], serde_json::json!([]));
}

#[test]
fn stdin_is_scanned_as_dash() {
    let output = palisade()
        .args(["scan", "--format", "json", "-"])
        .write_stdin(PRIVILEGED_POD)
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(1));
    let report = json_of(&output);
    let finding = report["findings"]
        .as_array()
        .and_then(|f| f.iter().find(|f| f["rule"] == "PAL-PSS-002"))
        .expect("privileged")
        .clone();
    assert_eq!(finding["location"]["file"], "-");
    assert_eq!(finding["location"]["line"], 11);
    // Documents count from 1, like lines: the pod after a ConfigMap is document 2.
    let two = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: settings}}\n---\n{PRIVILEGED_POD}"
    );
    let output = palisade()
        .args([
            "scan",
            "--format",
            "json",
            "--select",
            "pss-privileged",
            "-",
        ])
        .write_stdin(two)
        .output()
        .expect("runs");
    let report = json_of(&output);
    assert_eq!(report["findings"][0]["location"]["document"], 2);
    assert_eq!(report["findings"][0]["location"]["line"], 15);
}

/// `cat pod.yaml | palisade scan`: with no path and a pipe on standard input, the pipe is
/// what is scanned (not the current directory, which here holds the repository's examples);
/// an empty pipe is an error, never a clean scan of nothing; without a pipe, the directory.
#[test]
fn a_pipe_without_a_path_is_scanned() {
    let examples = repo_root().join("examples/shop");
    let output = palisade()
        .current_dir(&examples)
        .args(["scan", "--format", "json"])
        .write_stdin(PRIVILEGED_POD)
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(1));
    let report = json_of(&output);
    assert_eq!(report["summary"]["objects"], 1, "{report}");
    assert!(report["findings"]
        .as_array()
        .is_some_and(|f| f.iter().all(|f| f["location"]["file"] == "-")));

    let empty = palisade()
        .current_dir(&examples)
        .args(["scan"])
        .write_stdin("")
        .output()
        .expect("runs");
    assert_eq!(empty.status.code(), Some(2));
    let error = String::from_utf8_lossy(&empty.stderr);
    assert!(error.contains("palisade scan ."), "{error}");

    let directory = std::process::Command::new(assert_cmd::cargo::cargo_bin("palisade"))
        .current_dir(&examples)
        .args(["scan", "--format", "json"])
        .stdin(std::process::Stdio::null())
        .output()
        .expect("runs");
    let report = json_of(&directory);
    assert!(
        report["summary"]["objects"].as_u64().is_some_and(|n| n > 1),
        "{report}"
    );
}

#[test]
fn stdin_keeps_code_frames_for_whole_input_findings() {
    let output = palisade()
        .args(["scan", "--select", "netpol-no-default-deny-ingress", "-"])
        .write_stdin(PRIVILEGED_POD)
        .output()
        .expect("runs");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("PAL-NET-001"), "{text}");
    assert!(text.contains(" | "), "a code frame from stdin: {text}");
}

#[test]
fn fail_on_sets_the_threshold_and_clean_scans_exit_0() {
    palisade()
        .args([
            "scan",
            "--fail-on",
            "critical",
            "--ignore",
            "pss-privileged,sensitive-host-path",
            &examples(),
        ])
        .assert()
        .code(0);
    palisade()
        .args(["scan", "--fail-on", "critical", &examples()])
        .assert()
        .code(1);
    let clean = palisade()
        .args(["scan", "--select", "pss-sysctls", &examples()])
        .output()
        .expect("runs");
    assert_eq!(clean.status.code(), Some(0));
    assert!(
        String::from_utf8_lossy(&clean.stdout).contains("No findings in 6 objects from 5 files")
    );
}

#[test]
fn pss_level_and_version_select_exactly_upstreams_checks() {
    let pod = "apiVersion: v1
kind: Pod
metadata: {name: build, namespace: ci}
spec:
  hostUsers: false
  containers:
    - name: buildkit
      image: moby/buildkit:v0.15.2-rootless
      securityContext:
        procMount: Unmasked
        runAsUser: 0
";
    let rules = |args: &[&str]| -> Vec<String> {
        let mut cmd = palisade();
        cmd.args(["scan", "--format", "json", "--select", "pss"])
            .args(args)
            .arg("-");
        let report = json_of(&cmd.write_stdin(pod).output().expect("runs"));
        report["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .map(|f| f["rule"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    assert_eq!(
        rules(&["--pss-level", "baseline"]),
        Vec::<String>::new(),
        "1.35+ baseline allows it"
    );
    assert_eq!(
        rules(&["--pss-level", "baseline", "--pss-version", "v1.34"]),
        vec!["PAL-PSS-008"]
    );
    let restricted = rules(&["--pss-level", "restricted", "--pss-version", "v1.35"]);
    assert!(
        restricted.contains(&"PAL-PSS-019".to_string())
            && restricted.contains(&"PAL-PSS-016".to_string())
    );
    let restricted_123 = rules(&["--pss-level", "restricted", "--pss-version", "v1.22"]);
    assert!(
        !restricted_123.contains(&"PAL-PSS-016".to_string()),
        "runAsUser is checked from 1.23"
    );
}

#[test]
fn usage_errors_exit_2_with_a_message() {
    let output = palisade()
        .args(["scan", "--select", "PAL-NOPE", &examples()])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("`PAL-NOPE` matches no rule"));
    palisade()
        .args(["scan", "--pss-version", "v2.0", &examples()])
        .assert()
        .code(2);
    palisade()
        .args(["scan", "--pss-level", "privileged", &examples()])
        .assert()
        .code(2);
    palisade()
        .args(["explain", "no-such-rule"])
        .assert()
        .code(2);
}

/// What an install script or a bug report reads: the version, the build's target, and as many
/// rules as `palisade rules` lists.
#[test]
fn version_as_json_names_the_build() {
    let output = palisade()
        .args(["version", "--format", "json"])
        .output()
        .expect("runs");
    let version = json_of(&output);
    assert_eq!(version["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(version["rules"], 133);
    let target = version["target"].as_str().expect("a target");
    assert!(
        target.contains(std::env::consts::ARCH) && target.contains(std::env::consts::OS),
        "{target}"
    );
    for field in ["commit", "buildDate"] {
        assert!(version[field].is_string(), "{field}: {version}");
    }
    let text = palisade().arg("version").output().expect("runs");
    let text = String::from_utf8_lossy(&text.stdout).into_owned();
    assert!(
        text.starts_with(&format!("palisade {} ", env!("CARGO_PKG_VERSION"))),
        "{text}"
    );
}

#[test]
fn rules_and_explain_document_every_rule() {
    let output = palisade()
        .args(["rules", "--format", "json"])
        .output()
        .expect("runs");
    let rules = json_of(&output);
    let rules = rules.as_array().expect("array");
    assert_eq!(rules.len(), 133);
    assert!(rules.iter().all(|r| r["docs"]
        .as_str()
        .is_some_and(|d| d.contains("## Why is this bad?"))));
    let table = palisade().args(["rules"]).output().expect("runs");
    assert!(String::from_utf8_lossy(&table.stdout).contains("PAL-PSS-002  pss-privileged"));
    let explain = palisade()
        .args(["explain", "PAL-PSS-002"])
        .output()
        .expect("runs");
    let text = String::from_utf8_lossy(&explain.stdout);
    assert!(text.starts_with("PAL-PSS-002 pss-privileged"), "{text}");
    assert!(text.contains("Controls: PSS:baseline:privileged"), "{text}");
    assert!(text.contains("## Remediation"), "{text}");
}

#[test]
fn checked_in_rule_reference_is_current() {
    let output = palisade()
        .args(["rules", "--format", "markdown"])
        .output()
        .expect("runs");
    let generated = String::from_utf8_lossy(&output.stdout);
    let path = repo_root().join("docs/rules.md");
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    if std::env::var_os("PALISADE_UPDATE_DOCS").is_some() {
        std::fs::write(&path, generated.as_bytes()).expect("write docs/rules.md");
        return;
    }
    assert!(
        checked_in == generated,
        "docs/rules.md is stale: run `PALISADE_UPDATE_DOCS=1 cargo test -p palisade --test cli checked_in_rule_reference_is_current`"
    );
}

#[test]
fn output_file_receives_the_report() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("report.json");
    let output = palisade()
        .args(["scan", "--format", "json", "--output"])
        .arg(&out)
        .arg(examples())
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty());
    // The terminal still hears how it went, in one line.
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.starts_with("palisade: Found ")
            && stderr.contains(" critical, ")
            && stderr.trim_end().ends_with("report.json")
            && stderr.lines().count() == 1,
        "{stderr}"
    );
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(&out).expect("written")).expect("json");
    assert_eq!(report["schema_version"], 1);
}

#[test]
fn text_lists_the_most_severe_findings_first_unless_asked_otherwise() {
    let severities = |extra: &[&str]| -> Vec<String> {
        let output = palisade()
            .args(["scan", "--no-config"])
            .args(extra)
            .arg(examples())
            .output()
            .expect("runs");
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .filter_map(|l| {
                l.split_once(" [")
                    .and_then(|(_, rest)| rest.split_once(']'))
            })
            .map(|(severity, _)| severity.to_string())
            .filter(|s| ["critical", "high", "medium", "low", "info"].contains(&s.as_str()))
            .collect()
    };
    let rank = |s: &String| {
        ["info", "low", "medium", "high", "critical"]
            .iter()
            .position(|x| x == s)
    };
    let by_severity = severities(&[]);
    assert!(by_severity.len() > 10);
    assert!(
        by_severity.windows(2).all(|w| rank(&w[0]) >= rank(&w[1])),
        "{by_severity:?}"
    );
    let by_place = severities(&["--sort", "location"]);
    assert!(
        !by_place.windows(2).all(|w| rank(&w[0]) >= rank(&w[1])),
        "file order mixes severities"
    );
}

#[test]
fn secret_values_never_reach_any_output() {
    let dir = tempfile::tempdir().expect("tempdir");
    let value = "c3VwZXItc2VjcmV0LXBhc3N3b3JkLTQyCg==";
    std::fs::write(
        dir.path().join("secret.yaml"),
        format!("apiVersion: v1\nkind: Secret\nmetadata: {{name: db, namespace: shop}}\ndata:\n  password: {value}\n  password: {value}\n"),
    )
    .expect("write");
    std::fs::write(dir.path().join("pod.yaml"), PRIVILEGED_POD).expect("write");
    for format in ["text", "json"] {
        let output = palisade()
            .args(["scan", "--format", format])
            .arg(dir.path())
            .output()
            .expect("runs");
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(
            !all.contains(value),
            "{format} output leaks the secret value"
        );
        assert!(all.contains("duplicate key `password`"), "{all}");
    }
}

/// Every kind of bad input gives an error that names the file (and, where there is one, the
/// document, line and column); the good file next to it is still scanned; the exit code is 2.
#[test]
fn bad_input_is_reported_and_never_stops_the_scan() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    std::fs::write(root.join("good.yaml"), PRIVILEGED_POD).expect("write");
    let mut bomb = String::from("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bomb}\nx0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for i in 1..10 {
        let p = i - 1;
        bomb.push_str(&format!(
            "x{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
        ));
    }
    let deep_block: String = (0..10_000)
        .map(|d| format!("{}k:\n", " ".repeat(d)))
        .collect();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "malformed.yaml",
            b"apiVersion: v1\nkind: Pod\nmetadata:\n  name: [unclosed\n".to_vec(),
            "flow sequence",
        ),
        ("alias-bomb.yaml", bomb.into_bytes(), "alias bomb"),
        (
            "deep-flow.json",
            format!("{}{}", "[".repeat(10_000), "]".repeat(10_000)).into_bytes(),
            "",
        ),
        ("deep-block.yaml", deep_block.into_bytes(), "nesting deeper"),
        (
            "invalid-utf8.yaml",
            b"apiVersion: v1\nkind: ConfigMap\ndata:\n  k: caf\xe9\n".to_vec(),
            "invalid UTF-8",
        ),
        (
            "binary.yaml",
            vec![0x7f, b'E', b'L', b'F', 0, 1, 2, 3, 0, 0],
            "binary file",
        ),
        (
            "scalar.yaml",
            b"just a sentence\n".to_vec(),
            "document is a string",
        ),
        (
            "sequence.json",
            b"[{\"apiVersion\": \"v1\"}]".to_vec(),
            "document is a sequence",
        ),
        (
            "unknown-kind.yaml",
            b"apiVersion: apps/v1\nkind: Deploymnet\nmetadata: {name: web}\n".to_vec(),
            "unknown kind `Deploymnet`",
        ),
    ];
    for (name, content, _) in &cases {
        std::fs::write(root.join(name), content).expect("write");
    }
    // kubectl reads a duplicate key with its last value: a warning, not a lost object.
    std::fs::write(
        root.join("duplicate.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec: {}\nspec: {}\n",
    )
    .expect("write");
    let output = palisade()
        .args(["scan", "--format", "json"])
        .arg(root)
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
    let report = json_of(&output);
    let errors = report["errors"].as_array().expect("errors");
    for (name, _, needle) in &cases {
        let error = errors
            .iter()
            .find(|e| e["file"].as_str().is_some_and(|f| f.ends_with(name)))
            .unwrap_or_else(|| panic!("no error for {name}: {errors:?}"));
        let message = error["message"].as_str().unwrap_or_default();
        assert!(message.contains(needle), "{name}: {message}");
        let binary_or_encoding = ["binary.yaml"].contains(name);
        if !binary_or_encoding {
            assert!(
                error["line"].as_u64().is_some_and(|l| l >= 1),
                "{name} has a line: {error}"
            );
            assert!(
                error["column"].as_u64().is_some_and(|c| c >= 1),
                "{name} has a column: {error}"
            );
        }
    }
    let findings = report["findings"].as_array().expect("findings");
    assert!(
        findings.iter().any(|f| f["rule"] == "PAL-PSS-002"
            && f["location"]["file"]
                .as_str()
                .is_some_and(|p| p.ends_with("good.yaml"))),
        "the good file is still scanned"
    );
    assert!(
        !errors.iter().any(|e| e["file"]
            .as_str()
            .is_some_and(|f| f.ends_with("duplicate.yaml"))),
        "{errors:?}"
    );
    let warning = &report["warnings"][0];
    assert!(warning["file"]
        .as_str()
        .is_some_and(|f| f.ends_with("duplicate.yaml")));
    assert_eq!(warning["line"], 5);
    let text = palisade().arg("scan").arg(root).output().expect("runs");
    let stdout = String::from_utf8_lossy(&text.stdout);
    assert!(
        stdout.contains("error: ")
            && stdout.contains("warning: ")
            && stdout.contains(
                "duplicate.yaml:5:1 (document 1): duplicate key `spec` (first at line 4)"
            ),
        "{stdout}"
    );
}

#[test]
fn a_huge_scalar_is_read_without_trouble() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut content = String::from(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: big, namespace: ops}\ndata:\n  blob: ",
    );
    content.push_str(&"x".repeat(100 * 1024 * 1024));
    content.push('\n');
    std::fs::write(dir.path().join("big.yaml"), &content).expect("write");
    drop(content);
    std::fs::write(dir.path().join("pod.yaml"), PRIVILEGED_POD).expect("write");
    let output = palisade()
        .args(["scan", "--format", "json"])
        .arg(dir.path())
        .output()
        .expect("runs");
    let report = json_of(&output);
    assert_eq!(report["summary"]["objects"], 2, "{}", report["errors"]);
    assert_eq!(output.status.code(), Some(1));
}

#[test]
fn missing_paths_are_errors_and_other_paths_still_scan() {
    let output = palisade()
        .args([
            "scan",
            "--format",
            "json",
            "/no/such/manifests",
            &examples(),
        ])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
    let report = json_of(&output);
    assert_eq!(report["errors"][0]["file"], "/no/such/manifests");
    assert_eq!(report["summary"]["objects"], 6);
}

#[test]
fn namespace_flags_keep_findings_on_objects_there_and_on_those_namespaces() {
    let shop = palisade()
        .args(["scan", "--format", "json", "-n", "shop", &examples()])
        .output()
        .expect("runs");
    let report = json_of(&shop);
    let findings = report["findings"].as_array().expect("findings");
    assert!(!findings.is_empty());
    assert!(findings.iter().all(|f| f["object"]["namespace"] == "shop"
        || (f["object"]["kind"] == "Namespace" && f["object"]["name"] == "shop")));
    assert!(findings.iter().any(|f| f["object"]["kind"] == "Namespace"));
    let elsewhere = palisade()
        .args([
            "scan",
            "--format",
            "json",
            "-n",
            "payments,ops",
            &examples(),
        ])
        .output()
        .expect("runs");
    assert_eq!(elsewhere.status.code(), Some(0));
    let report = json_of(&elsewhere);
    assert_eq!(report["findings"].as_array().map(Vec::len), Some(0));
    assert_eq!(report["summary"]["findings"]["critical"], 0);
}

/// Nothing to check is an error, not a clean bill of health: an empty directory, an empty
/// stdin, `rbac` or `netpol` without an input, `node` on a machine that is not a node.
#[test]
fn nothing_to_check_is_an_error_unless_allowed() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("README.md"), "# not a manifest\n").expect("write");
    let empty = palisade()
        .arg("scan")
        .arg(dir.path())
        .output()
        .expect("runs");
    assert_eq!(empty.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&empty.stderr).contains("no Kubernetes object in the input"));
    palisade()
        .args(["scan", "--allow-empty"])
        .arg(dir.path())
        .assert()
        .code(0);
    palisade()
        .args(["scan", "-"])
        .write_stdin("")
        .assert()
        .code(2);

    for command in [
        &["rbac", "who-can", "get", "secrets"][..],
        &["netpol", "matrix"][..],
    ] {
        let output = palisade()
            .args(command)
            .current_dir(repo_root().join("examples/rbac"))
            .output()
            .expect("runs");
        assert_eq!(output.status.code(), Some(2), "{command:?}");
        assert!(
            String::from_utf8_lossy(&output.stderr).contains("no input"),
            "{command:?}"
        );
    }

    let node = palisade()
        .args(["node", "--root"])
        .arg(dir.path())
        .output()
        .expect("runs");
    assert_eq!(node.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&node.stderr).contains("not a Kubernetes node"));
}

/// `rbac paths` exits 1 when a path to the target exists, as `can-i` exits 1 for "no": CI can
/// gate on it.
#[test]
fn rbac_paths_exit_1_when_a_path_exists() {
    let rbac = repo_root().join("examples/rbac");
    let found = palisade()
        .args(["rbac", "paths"])
        .arg(&rbac)
        .output()
        .expect("runs");
    assert_eq!(found.status.code(), Some(1));
    let said = String::from_utf8_lossy(&found.stdout);
    // The path the example is built around: a Secret reader, through a long-lived token and
    // a Job, to cluster-admin.
    assert!(
        said.contains("User erin@example.com → cluster-admin in 3 steps:")
            && said.contains("the long-lived token of ServiceAccount shop/web")
            && said.contains("so it can run a pod in namespace ci as ServiceAccount ci/deployer"),
        "{said}"
    );
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("view.yaml"),
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: viewers, namespace: shop}\n\
         roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}\n\
         subjects: [{kind: User, name: alice}]\n",
    )
    .expect("write");
    let none = palisade()
        .args(["rbac", "paths"])
        .arg(dir.path())
        .output()
        .expect("runs");
    assert_eq!(none.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&none.stdout).trim(),
        "No subject can reach cluster-admin."
    );
}

/// `--kubernetes-version` (and `kubernetes-version:` in the config) decide what changed between
/// versions: before v1.31 `get` on pods/exec opens a shell; the finding says what it assumed.
#[test]
fn the_kubernetes_version_comes_from_the_flag_or_the_config() {
    let fixture =
        repo_root().join("crates/palisade-rules/fixtures/PAL-RBAC-004/pass.from-1-31.yaml");
    let exec_findings = |output: std::process::Output| -> Vec<String> {
        let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
        report["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .map(|f| f["message"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    let scan = |extra: &[&str], dir: &Path| {
        palisade()
            .current_dir(dir)
            .args(extra)
            .args(["scan", "--select", "rbac-pod-exec", "--format", "json"])
            .arg(&fixture)
            .output()
            .expect("runs")
    };
    let dir = tempfile::tempdir().expect("tempdir");
    assert!(
        exec_findings(scan(&[], dir.path())).is_empty(),
        "latest: get is no shell"
    );
    let flagged = exec_findings(scan(&["--kubernetes-version", "v1.30"], dir.path()));
    assert_eq!(flagged.len(), 1, "{flagged:?}");
    assert!(
        flagged[0].contains("assuming Kubernetes v1.30"),
        "{flagged:?}"
    );
    // The config is looked up next to the scanned files; here it is named.
    let config = dir.path().join("palisade.yaml");
    let scan_with_config = || {
        palisade()
            .args([
                "scan",
                "--select",
                "rbac-pod-exec",
                "--format",
                "json",
                "--config",
            ])
            .arg(&config)
            .arg(&fixture)
            .output()
            .expect("runs")
    };
    std::fs::write(&config, "kubernetes-version: v1.29\n").expect("write");
    let configured = exec_findings(scan_with_config());
    assert!(
        configured
            .iter()
            .any(|m| m.contains("assuming Kubernetes v1.29")),
        "{configured:?}"
    );
    std::fs::write(&config, "kubernetes-version: one-thirty\n").expect("write");
    let bad = scan_with_config();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("kubernetes-version in the config"));
}

#[test]
fn kubernetes_own_roles_are_named_not_located_in_a_file_the_user_lacks() {
    let output = palisade()
        .args(["scan", "--no-config", "--format", "json"])
        .arg(repo_root().join("examples"))
        .output()
        .expect("runs");
    let report = json_of(&output);
    let related: Vec<&Value> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .flat_map(|f| f["related"].as_array().into_iter().flatten())
        .collect();
    assert!(related.iter().any(|r| r["message"]
        .as_str()
        .is_some_and(|m| m.contains("part of Kubernetes' default RBAC policy"))));
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(!text.contains("<bootstrap>"), "no built-in file named");
}

#[test]
fn typos_in_rule_names_get_a_suggestion() {
    let output = palisade()
        .args(["explain", "pss-privilegd"])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("did you mean `pss-privileged`?"));
    let output = palisade()
        .args(["scan", "--select", "PAL-PSS-0002"])
        .arg(examples())
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("did you mean `PAL-PSS-002`?"));
}

#[test]
fn node_does_not_offer_flags_that_do_not_apply() {
    let output = palisade().args(["node", "--help"]).output().expect("runs");
    let help = String::from_utf8_lossy(&output.stdout);
    // A flag is offered where a line of the help starts with it, followed by its value.
    let offered = |flag: &str| {
        help.lines().any(|l| {
            l.trim_start()
                .strip_prefix(flag)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\n']))
                && l.starts_with("  ")
                && !l.starts_with("          ")
        })
    };
    for hidden in [
        "--pss-level",
        "--pss-version",
        "--no-bootstrap",
        "--cluster",
    ] {
        assert!(!offered(hidden), "{hidden} in node --help");
    }
    assert!(offered("--root"));
}

#[test]
fn completions_and_manual_pages_are_generated() {
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let output = palisade()
            .args(["completions", shell])
            .output()
            .expect("runs");
        assert_eq!(output.status.code(), Some(0), "{shell}");
        let script = String::from_utf8_lossy(&output.stdout);
        assert!(
            script.contains("palisade") && script.contains("pss-level"),
            "{shell}"
        );
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let output = palisade()
        .args(["man", "--dir"])
        .arg(dir.path())
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(0));
    let scan = std::fs::read_to_string(dir.path().join("palisade-scan.1")).expect("page");
    assert!(scan.contains("palisade\\-scan") && scan.contains("\\-\\-fail\\-on"));
    assert!(dir.path().join("palisade-rbac-can-i.1").is_file());
}

/// Examples are written to fit 80 columns, long commands split with `\`: a terminal of 80
/// columns shows them exactly as written (clap re-wraps what is longer, and a re-wrapped
/// command cannot be pasted).
#[test]
fn help_examples_fit_80_columns_and_are_not_rewrapped() {
    let commands: &[&[&str]] = &[
        &[],
        &["scan"],
        &["node"],
        &["rbac", "can-i"],
        &["rbac", "who-can"],
        &["rbac", "paths"],
        &["netpol", "reach"],
        &["netpol", "generate", "quarantine"],
        &["operator"],
        &["admit"],
        &["snapshot"],
        &["audit", "detect"],
        &["audit", "roles"],
        &["audit", "unused"],
        &["completions"],
    ];
    for command in commands {
        let help = |columns: &str| {
            let output = palisade()
                .env("COLUMNS", columns)
                .args(*command)
                .arg("--help")
                .output()
                .expect("runs");
            String::from_utf8_lossy(&output.stdout)
                .split_once("Example")
                .map(|(_, examples)| examples.split("\n\n").next().unwrap_or("").to_string())
                .unwrap_or_default()
        };
        let narrow = help("80");
        assert!(!narrow.is_empty(), "{command:?} has examples");
        assert_eq!(
            narrow,
            help("200"),
            "{command:?}: examples re-wrapped at 80 columns"
        );
        assert!(
            narrow.lines().all(|l| l.chars().count() <= 80),
            "{command:?}"
        );
    }
}

#[test]
fn rules_take_format_text_like_every_other_command() {
    let table = palisade().args(["rules"]).output().expect("runs");
    let text = palisade()
        .args(["rules", "--format", "text"])
        .output()
        .expect("runs");
    assert_eq!(text.status.code(), Some(0));
    assert_eq!(text.stdout, table.stdout);
}

#[test]
fn explain_says_which_rules_share_a_finding() {
    let explain = |rule: &str| {
        let output = palisade().args(["explain", rule]).output().expect("runs");
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    assert!(explain("image-tag-mutable")
        .contains("Lists with its findings: PAL-IMG-003 (image-not-pinned-by-digest)"));
    assert!(explain("PAL-IMG-003")
        .contains("Listed with the findings of: PAL-IMG-002 (image-tag-mutable)"));
    assert!(
        explain("pss-restricted-volumes").contains("Leaves to PAL-PSS-004 (pss-host-path-volumes)")
    );
}

/// `--k8s-data` replaces the bundled release data (a newer file); `--as-of` moves the day
/// end-of-life is judged on; a broken data file is an error that names it, never a clean scan.
#[test]
fn kubernetes_release_data_and_the_day_can_be_given() {
    let dir = tempfile::tempdir().expect("tempdir");
    let node = dir.path().join("node.yaml");
    std::fs::write(
        &node,
        "apiVersion: v1\nkind: Node\nmetadata: {name: worker-1}\nstatus:\n  nodeInfo:\n    kubeletVersion: v1.35.2\n",
    )
    .expect("write");
    let scan = |extra: &[&str]| {
        let output = palisade()
            .args([
                "scan",
                "--no-config",
                "--select",
                "PAL-VER-001",
                "--format",
                "json",
            ])
            .args(extra)
            .arg(&node)
            .output()
            .expect("runs");
        let findings = serde_json::from_slice::<serde_json::Value>(&output.stdout)
            .ok()
            .and_then(|r| r["findings"].as_array().map(Vec::len));
        (
            output.status.code(),
            findings,
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    // 1.35 is supported until 2027-02-28: nothing on 2026-12-07, a reminder in January, a
    // finding after it ended.
    assert_eq!(scan(&["--as-of", "2026-12-07"]).1, Some(0));
    assert_eq!(scan(&["--as-of", "2027-01-05"]).1, Some(1));
    assert_eq!(scan(&["--as-of", "2027-03-01"]).1, Some(1));
    // Data that ends 1.35 early.
    let data = dir.path().join("releases.json");
    std::fs::write(
        &data,
        r#"{"updated": "2026-12-01", "releases": [{"minor": "1.35", "endOfLife": "2026-11-30"}], "vulnerabilities": []}"#,
    )
    .expect("write");
    let data_arg = data.to_string_lossy().into_owned();
    let (code, found, _) = scan(&["--as-of", "2026-12-07", "--k8s-data", &data_arg]);
    assert_eq!((code, found), (Some(1), Some(1)));
    std::fs::write(&data, "{\"releases\": 3}").expect("write");
    let (code, _, stderr) = scan(&["--k8s-data", &data_arg]);
    assert_eq!(code, Some(2));
    assert!(
        stderr.contains("releases.json") && stderr.contains("no `releases` list"),
        "{stderr}"
    );
    let (code, _, stderr) = scan(&["--as-of", "next week"]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("is not a YYYY-MM-DD date"), "{stderr}");
}

/// A container without a `resources` block is one finding (the memory limit's) that lists
/// what else is missing; the other gaps are restated under it, not reported beside it.
#[test]
fn one_missing_resources_block_is_one_finding() {
    let output = palisade()
        .args([
            "scan",
            "--no-config",
            "--select",
            "resources",
            "--format",
            "json",
        ])
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/shop/postgres.yaml"))
        .output()
        .expect("runs");
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let findings = report["findings"].as_array().expect("findings");
    assert_eq!(findings.len(), 1, "{findings:#?}");
    let finding = &findings[0];
    assert_eq!(finding["rule"], "PAL-RES-003");
    assert!(
        finding["message"]
            .as_str()
            .is_some_and(|m| m
                .contains("has no memory limit (nor a memory request, cpu request or cpu limit)")),
        "{finding}"
    );
    let also: Vec<&str> = finding["also"]
        .as_array()
        .expect("also")
        .iter()
        .filter_map(|a| a["rule"].as_str())
        .collect();
    assert_eq!(also, ["PAL-RES-002", "PAL-RES-001", "PAL-RES-004"]);
}

/// `runAsUser: 0`, `runAsNonRoot: false` and `runAsGroup: 0` on one container are one root
/// cause, "runs as root": one finding with the other two restated under it. Another container
/// that only misses runAsNonRoot keeps its own finding.
#[test]
fn running_as_root_is_one_finding() {
    let findings = findings_of(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: web, namespace: shop}\nspec:\n  containers:\n  - name: app\n    image: registry.example.com/app:1.0\n    securityContext:\n      runAsUser: 0\n      runAsNonRoot: false\n      runAsGroup: 0\n  - name: side\n    image: registry.example.com/side:1.0\n",
        "PAL-PSS-015,PAL-PSS-016,PAL-WL-006",
    );
    let found: Vec<(&str, &str, Vec<String>)> = findings
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap_or_default(),
                f["path"].as_str().unwrap_or_default(),
                also_of(f),
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            (
                "PAL-PSS-016",
                "/spec/containers/0/securityContext/runAsUser",
                vec!["PAL-WL-006".to_string(), "PAL-PSS-015".to_string()]
            ),
            (
                "PAL-PSS-015",
                "/spec/containers/1/securityContext/runAsNonRoot",
                vec![]
            ),
        ]
    );
}

/// A moving tag pulled only when absent, without a digest, is one root cause: PAL-IMG-002's
/// finding restates the missing digest and the stale pull policy. `Never` on a versioned image
/// is its own problem and keeps its own finding.
#[test]
fn a_moving_tag_and_its_pull_policy_are_one_finding() {
    let findings = findings_of(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: web, namespace: shop}\nspec:\n  containers:\n  - name: app\n    image: registry.example.com/app:latest\n    imagePullPolicy: IfNotPresent\n  - name: pinned\n    image: registry.example.com/app:1.0\n    imagePullPolicy: Never\n",
        "images",
    );
    let found: Vec<(&str, usize)> = findings
        .iter()
        .map(|f| (f["rule"].as_str().unwrap_or_default(), also_of(f).len()))
        .collect();
    assert_eq!(
        found,
        [("PAL-IMG-002", 2), ("PAL-IMG-003", 0), ("PAL-IMG-004", 0)]
    );
}

/// A privileged container can escalate and holds every capability: its privilege-escalation
/// and capability findings are restated under the privileged one, not reported beside it.
#[test]
fn a_privileged_container_is_one_finding() {
    let findings = findings_of(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: web, namespace: shop}\nspec:\n  securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}\n  containers:\n  - name: app\n    image: registry.example.com/app:1.0\n    securityContext:\n      privileged: true\n      allowPrivilegeEscalation: true\n      capabilities:\n        add: [SYS_ADMIN]\n",
        "pss,PAL-WL-002",
    );
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert_eq!(findings[0]["rule"], "PAL-PSS-002");
    let mut also = also_of(&findings[0]);
    also.sort_unstable();
    assert_eq!(
        also,
        ["PAL-PSS-003", "PAL-PSS-014", "PAL-PSS-018", "PAL-WL-002"]
    );
}

/// A binding whose grant is the first step of an escalation path: its risky grants are steps
/// of that path, restated under the path's finding rather than beside it.
#[test]
fn risky_grants_on_an_escalation_path_are_restated_under_it() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../palisade-rules/fixtures/PAL-RBAC-015/fail.yaml");
    let yaml = std::fs::read_to_string(fixture).expect("fixture");
    let findings = findings_of(&yaml, "rbac");
    let on_dev: Vec<&serde_json::Value> = findings
        .iter()
        .filter(|f| f["object"]["name"] == "dev-edit")
        .collect();
    assert_eq!(on_dev.len(), 1, "{on_dev:#?}");
    assert_eq!(on_dev[0]["rule"], "PAL-RBAC-015");
    let also = also_of(on_dev[0]);
    assert!(
        also.contains(&"PAL-RBAC-003".to_string()) && also.contains(&"PAL-RBAC-002".to_string()),
        "{also:?}"
    );
}

/// The findings of `scan --select SELECT --format json` over one manifest written as `yaml`.
fn findings_of(yaml: &str, select: &str) -> Vec<serde_json::Value> {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("manifest.yaml");
    std::fs::write(&file, yaml).expect("write");
    let output = palisade()
        .args([
            "scan",
            "--no-config",
            "--select",
            select,
            "--format",
            "json",
        ])
        .arg(&file)
        .output()
        .expect("runs");
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    report["findings"].as_array().cloned().unwrap_or_default()
}

/// The rule codes a finding restates under `also`.
fn also_of(finding: &serde_json::Value) -> Vec<String> {
    finding["also"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| a["rule"].as_str().map(str::to_string))
        .collect()
}

#[test]
fn namespace_less_projects_are_told_apart_unless_a_default_namespace_joins_them() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (shop, blog) = (dir.path().join("shop"), dir.path().join("blog"));
    for (project, app) in [(&shop, "web"), (&blog, "ghost")] {
        std::fs::create_dir_all(project).expect("mkdir");
        std::fs::write(
            project.join("deployment.yaml"),
            format!(
                "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {app}}}\nspec:\n  selector: {{matchLabels: {{app: {app}}}}}\n  template:\n    metadata: {{labels: {{app: {app}}}}}\n    spec:\n      containers:\n        - {{name: {app}, image: 'example/{app}:1.0.0'}}\n"
            ),
        )
        .expect("write");
    }
    std::fs::write(
        shop.join("default-deny.yaml"),
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: default-deny}\nspec:\n  podSelector: {}\n  policyTypes: [Ingress]\n",
    )
    .expect("write");
    let missing_default_deny = |extra: &[&str]| {
        let mut args = vec![
            "scan",
            "--no-config",
            "--select",
            "PAL-NET-001",
            "--format",
            "json",
        ];
        args.extend_from_slice(extra);
        let output = palisade()
            .args(&args)
            .arg(&shop)
            .arg(&blog)
            .output()
            .expect("runs");
        json_of(&output)["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .map(|f| {
                f["location"]["file"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string()
            })
            .collect::<Vec<_>>()
    };
    // Each project is its own namespace: the blog has no default deny.
    assert_eq!(
        missing_default_deny(&[]),
        vec![blog.join("deployment.yaml").to_string_lossy().into_owned()]
    );
    // Applied to one namespace, the shop's policy isolates the blog's pods too.
    assert!(missing_default_deny(&["--default-namespace", "team"]).is_empty());
    // A name the API server would refuse is a usage error, before anything is read.
    let output = palisade()
        .args(["scan", "--default-namespace", "Team_A"])
        .arg(&shop)
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("`Team_A` is not a namespace name"));
}
