//! Custom rules in CEL (`custom-rules`, `custom-rules-dir`) are first-class rules: scanned,
//! selected, suppressed, overridden, listed and explained like built-in ones; `palisade policy
//! test` runs their fixtures; bad rules are located errors.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_palisade"))
}

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/policies")
}

fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(binary())
        .current_dir(dir)
        .args(args)
        .output()
        .expect("palisade runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A project using the example rules from its config, with a workload to scan.
fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join(".palisade.yaml"),
        format!(
            "custom-rules-dir: {}\ncustom-rules:\n- code: ACME-010\n  name: replicas-within-quota\n  severity: low\n  description: Deployments run at most 5 replicas.\n  match: {{kinds: [Deployment]}}\n  validations:\n  - expression: \"!has(object.spec.replicas) || object.spec.replicas <= 5\"\n    message-expression: \"'replicas ' + string(object.spec.replicas) + ' over the quota of 5'\"\n    path: /spec/replicas\n",
            examples().display()
        ),
    )
    .expect("config");
    std::fs::write(
        dir.path().join("web.yaml"),
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: shop\nspec:\n  replicas: 8\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers: [{name: web, image: docker.io/shop/web:1.4.2}]\n",
    )
    .expect("manifest");
    dir
}

fn custom_findings(report: &Value) -> Vec<(String, String, u64, bool)> {
    let mut out: Vec<_> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["rule"].as_str().is_some_and(|r| r.starts_with("ACME-")))
        .map(|f| {
            (
                f["rule"].as_str().unwrap_or("").to_string(),
                f["severity"].as_str().unwrap_or("").to_string(),
                f["location"]["line"].as_u64().unwrap_or(0),
                !f["suppressed"].is_null(),
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn custom_rules_are_scanned_like_built_in_ones() {
    let dir = project();
    let scan = run(dir.path(), &["scan", "--format", "json", "web.yaml"]);
    assert_eq!(scan.status.code(), Some(1), "{}", text(&scan.stderr));
    let report: Value = serde_json::from_slice(&scan.stdout).expect("JSON");
    assert_eq!(
        custom_findings(&report),
        [
            ("ACME-001".into(), "medium".into(), 3, false),
            ("ACME-003".into(), "high".into(), 12, false),
            ("ACME-010".into(), "low".into(), 7, false),
        ]
    );
    let quota = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["rule"] == "ACME-010")
        .expect("quota finding");
    assert_eq!(quota["message"], "replicas 8 over the quota of 5");
    assert_eq!(quota["name"], "replicas-within-quota");
    assert_eq!(quota["category"], "custom");

    // Selected and ignored by code, name or tag.
    let selected = run(
        dir.path(),
        &[
            "scan",
            "--format",
            "json",
            "--select",
            "ACME:supply-chain",
            "web.yaml",
        ],
    );
    let report: Value = serde_json::from_slice(&selected.stdout).expect("JSON");
    let rules: Vec<&str> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["rule"].as_str())
        .collect();
    assert_eq!(rules, ["ACME-003"]);
    let ignored = run(
        dir.path(),
        &[
            "scan",
            "--format",
            "json",
            "--ignore",
            "workload-team-label,ACME-003,ACME-010",
            "web.yaml",
        ],
    );
    let report: Value = serde_json::from_slice(&ignored.stdout).expect("JSON");
    assert_eq!(custom_findings(&report), []);

    // Suppressed by a comment, overridden by the config's severity map.
    let manifest = std::fs::read_to_string(dir.path().join("web.yaml")).expect("read");
    std::fs::write(
        dir.path().join("web.yaml"),
        manifest.replace(
            "  replicas: 8\n",
            "  replicas: 8  # palisade:ignore ACME-010 launch week, back to 4 on Monday\n",
        ),
    )
    .expect("write");
    let config = std::fs::read_to_string(dir.path().join(".palisade.yaml")).expect("read");
    std::fs::write(
        dir.path().join(".palisade.yaml"),
        format!("{config}severity:\n  ACME-003: critical\n"),
    )
    .expect("write");
    let scan = run(dir.path(), &["scan", "--format", "json", "web.yaml"]);
    let report: Value = serde_json::from_slice(&scan.stdout).expect("JSON");
    assert_eq!(
        custom_findings(&report),
        [
            ("ACME-001".into(), "medium".into(), 3, false),
            ("ACME-003".into(), "critical".into(), 12, false),
            ("ACME-010".into(), "low".into(), 7, true),
        ]
    );

    // SARIF describes the rule with its documentation.
    let sarif = run(dir.path(), &["scan", "--format", "sarif", "web.yaml"]);
    let sarif: Value = serde_json::from_slice(&sarif.stdout).expect("SARIF");
    let rules = sarif["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .expect("rules");
    assert!(rules.iter().any(|r| r["id"] == "ACME-010"), "{rules:?}");

    // Listed and explained.
    let listed = run(dir.path(), &["rules", "--select", "custom"]);
    let listed = text(&listed.stdout);
    for code in ["ACME-001", "ACME-002", "ACME-003", "ACME-010"] {
        assert!(listed.contains(code), "{listed}");
    }
    let explained = run(dir.path(), &["explain", "workload-team-label"]);
    assert_eq!(explained.status.code(), Some(0));
    let explained = text(&explained.stdout);
    assert!(
        explained.contains("names the team that owns it")
            && explained.contains("'team' in variables.labels")
            && explained.contains("Add `metadata.labels.team`"),
        "{explained}"
    );
}

#[test]
fn policy_test_runs_each_rules_fixtures() {
    let passed = run(Path::new("."), &["policy", "test"]);
    assert_eq!(passed.status.code(), Some(2), "a directory is required");
    let dir = tempfile::tempdir().expect("tempdir");
    let policies = dir.path().join("policies");
    copy_dir(&examples(), &policies);
    let passed = run(dir.path(), &["policy", "test", "policies"]);
    assert_eq!(passed.status.code(), Some(0), "{}", text(&passed.stdout));
    assert!(text(&passed.stdout).ends_with("3 rules, 4 fixture files: all pass\n"));

    // A mark taken away, a finding that no longer comes: both said, with the line.
    let fixture = policies.join("team-label/fail.yaml");
    let original = std::fs::read_to_string(&fixture).expect("read");
    std::fs::write(
        &fixture,
        original
            .replacen("metadata:  # expect: ACME-001\n", "metadata:\n", 1)
            .replace(
                "labels: {app: orders-db, team: \"\"}",
                "labels: {app: orders-db, team: db}",
            ),
    )
    .expect("write");
    let failed = run(dir.path(), &["policy", "test", "policies"]);
    assert_eq!(failed.status.code(), Some(1));
    let out = text(&failed.stdout);
    assert!(
        out.contains("team-label/fail.yaml:3: ACME-001 reported, not marked `# expect: ACME-001`"),
        "{out}"
    );
    assert!(
        out.contains("team-label/fail.yaml:15: expected ACME-001, not reported"),
        "{out}"
    );

    // A rule without fixtures is untested: a failure.
    std::fs::remove_dir_all(policies.join("allowed-repos")).expect("remove");
    let untested = run(dir.path(), &["policy", "test", "policies"]);
    assert_eq!(untested.status.code(), Some(1));
    assert!(text(&untested.stdout).contains("no fixtures"));
}

#[test]
fn bad_custom_rules_are_located_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cases: &[(&str, &str)] = &[
        (
            "- code: ACME-1\n  name: broken\n  severity: high\n  description: d\n  validations:\n  - expression: \"object.spec.(\"\n",
            ":7:7: `object.spec.(` does not compile",
        ),
        (
            "- code: PAL-999\n  name: mine\n  severity: high\n  description: d\n  validations: [{expression: \"true\"}]\n",
            ":2:5: `PAL-999`: PAL- codes are Palisade's own",
        ),
        (
            "- code: ACME-2\n  name: pss-privileged\n  severity: high\n  description: d\n  validations: [{expression: \"true\"}]\n",
            "the code or name is taken by PAL-PSS-002 pss-privileged",
        ),
        (
            "- code: ACME-3\n  name: no-validations\n  severity: high\n  description: d\n  validations: []\n",
            "a custom rule needs at least one validation",
        ),
        (
            "- code: ACME-5\n  name: bad-selector\n  severity: high\n  description: d\n  match: {label-selector: {matchExpressions: [{key: tier, operator: Maybe}]}}\n  validations: [{expression: \"true\"}]\n",
            "not a selector operator",
        ),
        (
            "- code: ACME-4\n  name: typo\n  severity: high\n  description: d\n  validation: [{expression: \"true\"}]\n",
            "unknown field `validation`",
        ),
    ];
    std::fs::write(
        dir.path().join("web.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: web}\n",
    )
    .expect("manifest");
    for (rules, said) in cases {
        std::fs::write(
            dir.path().join(".palisade.yaml"),
            format!(
                "custom-rules:\n  {}",
                rules.replace('\n', "\n  ").trim_end()
            ),
        )
        .expect("config");
        let scan = run(dir.path(), &["scan", "web.yaml"]);
        let stderr = text(&scan.stderr);
        assert_eq!(scan.status.code(), Some(2), "{rules}: {stderr}");
        assert!(
            stderr.contains(".palisade.yaml") && stderr.contains(said),
            "{rules}: {stderr}"
        );
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read dir").flatten() {
        let path = entry.path();
        let target = to.join(entry.file_name());
        if path.is_dir() {
            copy_dir(&path, &target);
        } else {
            std::fs::copy(&path, &target).expect("copy");
        }
    }
}

#[test]
fn the_webhook_is_sent_the_kinds_custom_rules_judge() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join(".palisade.yaml"),
        "custom-rules:\n- code: ACME-030\n  name: claims-name-a-class\n  severity: high\n  description: Volume claims name their storage class.\n  match: {kinds: [PersistentVolumeClaim]}\n  validations:\n  - {expression: \"has(object.spec.storageClassName)\", message: name a storage class}\n",
    )
    .expect("config");
    let manifests = run(dir.path(), &["admit", "manifests"]);
    assert_eq!(
        manifests.status.code(),
        Some(0),
        "{}",
        text(&manifests.stderr)
    );
    let yaml = text(&manifests.stdout);
    assert!(
        yaml.lines()
            .any(|l| l.trim_start().starts_with("resources: [pods,")
                && l.contains(", persistentvolumeclaims]")),
        "the core group's webhook rule: {yaml}"
    );
    let without = run(
        Path::new(env!("CARGO_MANIFEST_DIR")),
        &["admit", "manifests"],
    );
    assert!(!text(&without.stdout).contains("persistentvolumeclaims"));
}
