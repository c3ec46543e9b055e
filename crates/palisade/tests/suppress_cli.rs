//! End-to-end: `.palisade.yaml` (discovery, overrides, errors), suppressions from every source
//! (applies, not to other rules or containers, expired, unused, strict), baselines, and the
//! machine formats (SARIF validated against the official schema, JUnit, Markdown).

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

fn palisade() -> Command {
    let mut command = Command::cargo_bin("palisade").expect("binary is built");
    command.env_remove("CI");
    command
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("mkdir");
    }
    std::fs::write(&path, text).expect("write");
    path
}

fn scan_json(dir: &Path, args: &[&str]) -> (Value, i32) {
    let output = palisade()
        .current_dir(dir)
        .args(["scan", "--format", "json"])
        .args(args)
        .output()
        .expect("runs");
    let code = output.status.code().expect("exit code");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let report = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {stdout}\nstderr: {}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    (report, code)
}

fn findings(report: &Value) -> &Vec<Value> {
    report["findings"].as_array().expect("findings")
}

/// (rule, object name, suppression kind or "-") for each finding.
fn summary_of(report: &Value) -> Vec<(String, String, String)> {
    findings(report)
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap_or("").to_string(),
                f["object"]["name"].as_str().unwrap_or("").to_string(),
                f["suppressed"]["kind"].as_str().unwrap_or("-").to_string(),
            )
        })
        .collect()
}

const CILIUM: &str = "apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: cilium-agent
  namespace: kube-system
  labels: {app.kubernetes.io/part-of: cilium}
spec:
  selector:
    matchLabels: {k8s-app: cilium}
  template:
    metadata:
      labels: {k8s-app: cilium}
    spec:
      hostNetwork: true
      containers:
        - name: agent
          image: quay.io/cilium/cilium:v1.16.3
          securityContext:
            privileged: true
";

const DEBUG_POD: &str = "apiVersion: v1
kind: Pod
metadata:
  name: debug
  namespace: kube-system
  annotations:
    palisade.dev/ignore: pss-privileged
    palisade.dev/ignore-reason: break-glass pod for INC-4411
spec:
  containers:
    - name: shell
      image: busybox:1.36
      securityContext:
        privileged: true
";

const CONFIG: &str = "select: [PAL-PSS-001, PAL-PSS-002, PAL-PSS-015, suppression]
severity:
  pss-host-namespaces: low
exceptions:
  - rules: [pss-privileged, PAL-PSS-001]
    kind: daemonset
    namespace: kube-*
    name: cilium-*
    labels: {app.kubernetes.io/part-of: cilium}
    reason: the CNI agent programs the host network
";

#[test]
fn config_is_found_above_the_scanned_path_and_its_exceptions_apply() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), ".palisade.yaml", CONFIG);
    write(dir.path(), "deploy/cilium.yaml", CILIUM);
    write(dir.path(), "deploy/debug.yaml", DEBUG_POD);
    let other = CILIUM.replace("cilium-agent", "hubble-relay");
    write(dir.path(), "deploy/hubble.yaml", &other);
    let (report, code) = scan_json(&dir.path().join("deploy"), &["."]);
    let mut got = summary_of(&report);
    got.sort();
    let expected: Vec<(String, String, String)> = [
        ("PAL-PSS-001", "cilium-agent", "config"),
        ("PAL-PSS-001", "hubble-relay", "-"),
        ("PAL-PSS-002", "cilium-agent", "config"),
        ("PAL-PSS-002", "debug", "annotation"),
        ("PAL-PSS-002", "hubble-relay", "-"),
        ("PAL-PSS-015", "cilium-agent", "-"),
        ("PAL-PSS-015", "debug", "-"),
        ("PAL-PSS-015", "hubble-relay", "-"),
    ]
    .iter()
    .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
    .collect();
    assert_eq!(got, expected);
    assert_eq!(code, 1, "hubble-relay's findings are not covered");
    let host = findings(&report)
        .iter()
        .find(|f| f["rule"] == "PAL-PSS-001")
        .expect("host namespaces");
    assert_eq!(host["severity"], "low", "severity override from the config");
    let suppressed = findings(&report)
        .iter()
        .find(|f| f["object"]["name"] == "debug" && f["rule"] == "PAL-PSS-002")
        .expect("debug pod");
    assert_eq!(
        suppressed["suppressed"]["reason"],
        "break-glass pod for INC-4411"
    );
    assert_eq!(report["summary"]["suppressed"], 3);
}

#[test]
fn suppressed_findings_do_not_fail_the_scan_and_strict_mode_ignores_manifest_suppressions() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "debug.yaml", DEBUG_POD);
    let args = ["--no-config", "--select", "pss-privileged", "debug.yaml"];
    let (report, code) = scan_json(dir.path(), &args);
    assert_eq!(code, 0, "the only finding is suppressed");
    assert_eq!(report["summary"]["findings"]["critical"], 0);
    assert_eq!(
        findings(&report).len(),
        1,
        "suppressed findings stay in the report"
    );

    let (report, code) = scan_json(dir.path(), &[&args[..], &["--strict"]].concat());
    assert_eq!(code, 1);
    assert!(findings(&report)[0]["suppressed"].is_null());

    // Comments too: honoured normally, ignored under --strict.
    let commented = DEBUG_POD
        .replace("    palisade.dev/ignore: pss-privileged\n", "")
        .replace(
            "privileged: true",
            "privileged: true # palisade:ignore PAL-PSS-002 break-glass",
        );
    write(dir.path(), "commented.yaml", &commented);
    let args = [
        "--no-config",
        "--select",
        "pss-privileged",
        "commented.yaml",
    ];
    let (report, code) = scan_json(dir.path(), &args);
    assert_eq!(
        (code, &findings(&report)[0]["suppressed"]["kind"]),
        (0, &Value::from("comment"))
    );
    let (report, code) = scan_json(dir.path(), &[&args[..], &["--strict"]].concat());
    assert_eq!(code, 1);
    assert!(findings(&report)[0]["suppressed"].is_null());

    // Strict mode still honours config exceptions.
    write(
        dir.path(),
        "strict.yaml",
        "strict: true\nexceptions:\n  - {rules: [PAL-PSS-002], name: debug, reason: lab cluster only}\n",
    );
    let (report, code) = scan_json(
        dir.path(),
        &[
            "--config",
            "strict.yaml",
            "--select",
            "pss-privileged",
            "debug.yaml",
        ],
    );
    assert_eq!(code, 0);
    assert_eq!(findings(&report)[0]["suppressed"]["kind"], "config");
}

#[test]
fn expired_and_unused_config_exceptions_are_reported_in_the_config_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "cilium.yaml", CILIUM);
    write(
        dir.path(),
        ".palisade.yaml",
        "exceptions:\n\
         - rules: [pss-privileged]\n  name: cilium-*\n  reason: CNI\n  expires: 2024-01-31\n\
         - rules: [pss-host-namespaces]\n  name: calico-*\n  reason: old CNI\n",
    );
    let (report, code) = scan_json(
        dir.path(),
        &[
            "--select",
            "PAL-PSS-001,PAL-PSS-002,suppression",
            "cilium.yaml",
        ],
    );
    assert_eq!(code, 1);
    let by_rule = |rule: &str| -> Vec<&Value> {
        findings(&report)
            .iter()
            .filter(|f| f["rule"] == rule)
            .collect()
    };
    assert!(
        by_rule("PAL-PSS-002")[0]["suppressed"].is_null(),
        "expired: no longer suppresses"
    );
    let expired = by_rule("PAL-SUP-002");
    assert_eq!(expired.len(), 1);
    assert_eq!(expired[0]["location"]["line"], 2);
    assert!(expired[0]["location"]["file"]
        .as_str()
        .is_some_and(|f| f.ends_with(".palisade.yaml")));
    let unused = by_rule("PAL-SUP-003");
    assert_eq!(unused.len(), 1);
    assert_eq!(unused[0]["location"]["line"], 6);
    assert_eq!(unused[0]["object"]["kind"], "PalisadeConfig");
}

#[test]
fn rule_options_come_from_the_config() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "cilium.yaml", CILIUM);
    let args = ["--select", "image-registry-not-allowed", "cilium.yaml"];
    let (report, code) = scan_json(dir.path(), &args);
    assert_eq!(
        (findings(&report).len(), code),
        (0, 0),
        "off until configured"
    );
    write(
        dir.path(),
        ".palisade.yaml",
        "rules:\n  PAL-IMG-001:\n    allowed-registries: [registry.example.com]\n",
    );
    let (report, code) = scan_json(dir.path(), &args);
    assert_eq!(code, 1);
    assert_eq!(findings(&report).len(), 1);
    assert!(findings(&report)[0]["message"]
        .as_str()
        .is_some_and(|m| m.contains("from `quay.io`")));
}

const VAULT_AGENT: &str = "apiVersion: v1
kind: Pod
metadata:
  name: vault-agent
  namespace: shop
spec:
  containers:
    - name: agent
      image: registry.example.com/vault-agent:1.17.0
  volumes:
    - name: vault-token
      projected:
        sources:
          - serviceAccountToken:
              audience: vault
              expirationSeconds: 7200
";

#[test]
fn number_options_come_from_the_config_and_wrong_types_are_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "vault.yaml", VAULT_AGENT);
    let args = ["--select", "long-lived-projected-token", "vault.yaml"];
    let (report, code) = scan_json(dir.path(), &args);
    assert_eq!(
        (findings(&report).len(), code),
        (0, 0),
        "within the default day"
    );
    write(
        dir.path(),
        ".palisade.yaml",
        "rules:\n  long-lived-projected-token:\n    max-expiration-seconds: 3600\n",
    );
    let (report, code) = scan_json(dir.path(), &args);
    assert_eq!((findings(&report).len(), code), (1, 1));
    write(
        dir.path(),
        ".palisade.yaml",
        "rules:\n  long-lived-projected-token:\n    max-expiration-seconds: an hour\n",
    );
    let output = palisade()
        .current_dir(dir.path())
        .args(["scan"])
        .args(args)
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(".palisade.yaml:3:5")
            && stderr.contains("must be a whole number (0 or more)"),
        "{stderr}"
    );
}

#[test]
fn config_errors_name_the_file_line_and_column() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "cilium.yaml", CILIUM);
    write(
        dir.path(),
        ".palisade.yaml",
        "exceptions:\n  - rules: [pss-privileged]\n    namespce: kube-system\n    reason: CNI\n",
    );
    let output = palisade()
        .current_dir(dir.path())
        .args(["scan", "cilium.yaml"])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(".palisade.yaml:3:5: unknown field `namespce`"),
        "{stderr}"
    );
}

#[test]
fn baselines_hide_known_findings_even_after_lines_move() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "cilium.yaml", CILIUM);
    let (_, code) = scan_json(
        dir.path(),
        &[
            "--no-config",
            "--select",
            "pss",
            "--write-baseline",
            "baseline.json",
            "cilium.yaml",
        ],
    );
    assert_eq!(code, 0, "writing the baseline accepts today's findings");
    assert!(dir.path().join("baseline.json").is_file());
    // Lines shift (a comment on top) and a new privileged sidecar appears.
    let changed = format!(
        "# owned by team-network\n{}        - name: sidecar\n          image: busybox:1.36\n          securityContext:\n            privileged: true\n",
        CILIUM
    );
    write(dir.path(), "cilium.yaml", &changed);
    let (report, code) = scan_json(
        dir.path(),
        &[
            "--no-config",
            "--select",
            "pss",
            "--baseline",
            "baseline.json",
            "cilium.yaml",
        ],
    );
    assert_eq!(code, 1);
    let new: Vec<String> = findings(&report)
        .iter()
        .map(|f| f["path"].as_str().unwrap_or("").to_string())
        .filter(|p| !p.contains("/containers/1/"))
        .collect();
    assert!(
        new.is_empty(),
        "only the sidecar's findings are new: {new:?}"
    );
    assert!(!findings(&report).is_empty());
    assert!(report["summary"]["baseline"]
        .as_u64()
        .is_some_and(|n| n > 0));
    let output = palisade()
        .current_dir(dir.path())
        .args(["scan", "--baseline", "cilium.yaml", "cilium.yaml"])
        .output()
        .expect("runs");
    assert_eq!(
        output.status.code(),
        Some(2),
        "a manifest is not a baseline"
    );
}

fn sarif_schema_check(log: &Value) {
    const ID: &str =
        "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";
    let schema: Value = serde_json::from_str(include_str!(
        "../../palisade-report/tests/data/sarif-schema-2.1.0.json"
    ))
    .expect("schema");
    let mut schemas = boon::Schemas::new();
    let mut compiler = boon::Compiler::new();
    compiler.add_resource(ID, schema).expect("resource");
    let index = compiler.compile(ID, &mut schemas).expect("compiles");
    if let Err(e) = schemas.validate(log, index) {
        panic!("invalid SARIF: {e:#}");
    }
}

#[test]
fn sarif_of_a_real_scan_is_valid_and_ready_for_code_scanning() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "debug.yaml", DEBUG_POD);
    let output = palisade()
        .current_dir(&repo)
        .args([
            "scan",
            "--no-config",
            "--format",
            "sarif",
            "examples/shop",
            "examples/rbac",
        ])
        .arg(dir.path().join("debug.yaml"))
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(1));
    let log: Value = serde_json::from_slice(&output.stdout).expect("json");
    sarif_schema_check(&log);
    let run = &log["runs"][0];
    let results = run["results"].as_array().expect("results");
    let first = &results[0]["locations"][0]["physicalLocation"];
    assert_eq!(first["artifactLocation"]["uriBaseId"], "%SRCROOT%");
    assert!(first["artifactLocation"]["uri"]
        .as_str()
        .is_some_and(|u| u.starts_with("examples/")));
    assert!(first["region"]["startLine"].as_u64().is_some_and(|l| l > 0));
    let fingerprints: std::collections::HashSet<&str> = results
        .iter()
        .map(|r| {
            r["partialFingerprints"]["palisade/v1"]
                .as_str()
                .expect("fp")
        })
        .collect();
    assert_eq!(fingerprints.len(), results.len(), "fingerprints are unique");
    assert!(
        results.iter().any(|r| r["relatedLocations"].is_array()),
        "RBAC findings relate"
    );
    let suppressed: Vec<&Value> = results
        .iter()
        .filter(|r| r["suppressions"].is_array())
        .collect();
    assert_eq!(suppressed.len(), 1);
    assert_eq!(suppressed[0]["suppressions"][0]["kind"], "inSource");
    assert_eq!(
        suppressed[0]["suppressions"][0]["justification"],
        "break-glass pod for INC-4411"
    );
}

#[test]
fn junit_and_markdown_cover_every_finding() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let (report, _) = scan_json(&repo, &["--no-config", "examples/shop"]);
    let count = findings(&report).len();
    let junit = palisade()
        .current_dir(&repo)
        .args(["scan", "--no-config", "--format", "junit", "examples/shop"])
        .output()
        .expect("runs");
    let xml = String::from_utf8_lossy(&junit.stdout);
    assert!(xml.starts_with("<?xml"));
    assert_eq!(xml.matches("<failure ").count(), count);
    assert!(xml.contains(&format!("failures=\"{count}\"")));
    let markdown = palisade()
        .current_dir(&repo)
        .args([
            "scan",
            "--no-config",
            "--format",
            "markdown",
            "examples/shop",
        ])
        .output()
        .expect("runs");
    let md = String::from_utf8_lossy(&markdown.stdout);
    assert!(md.starts_with(&format!("### Palisade: {count} findings")));
    assert_eq!(
        md.lines()
            .filter(|l| l.starts_with("| ") && l.contains("PAL-"))
            .count(),
        count
    );
}

#[test]
fn the_config_schema_is_printed_checked_in_and_accepts_the_documented_example() {
    let output = palisade()
        .args(["config", "schema"])
        .output()
        .expect("runs");
    assert!(output.status.success());
    let printed = String::from_utf8(output.stdout).expect("utf-8");
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let checked_in = repo.join("docs/config.schema.json");
    if std::env::var_os("PALISADE_UPDATE_DOCS").is_some() {
        std::fs::write(&checked_in, &printed).expect("write");
    }
    assert_eq!(
        std::fs::read_to_string(&checked_in).unwrap_or_default(),
        printed,
        "docs/config.schema.json is stale: PALISADE_UPDATE_DOCS=1 cargo test -p palisade --test suppress_cli"
    );
    let schema: Value = serde_json::from_str(&printed).expect("json");
    let example: Value = serde_json::json!({
        "select": ["pss", "rbac"],
        "fail-on": "high",
        "pss": {"level": "baseline", "version": "v1.30"},
        "severity": {"PAL-NET-003": "low"},
        "exceptions": [{"rules": ["pss-privileged"], "kind": "DaemonSet", "name": "cilium-*",
                        "labels": {"k8s-app": "cilium"}, "reason": "CNI", "expires": "2027-01-31"}],
        "strict": false
    });
    let mut schemas = boon::Schemas::new();
    let mut compiler = boon::Compiler::new();
    compiler
        .add_resource("urn:palisade-config", schema)
        .expect("resource");
    let index = compiler
        .compile("urn:palisade-config", &mut schemas)
        .expect("compiles");
    schemas
        .validate(&example, index)
        .expect("the example is valid");
    let typo = serde_json::json!({"exceptions": [{"rules": ["x"], "reason": "r", "nmae": "y"}]});
    assert!(
        schemas.validate(&typo, index).is_err(),
        "unknown keys are rejected"
    );
}

#[test]
fn progress_appears_only_on_a_terminal() {
    let dir = tempfile::tempdir().expect("tempdir");
    for i in 0..250 {
        write(
            dir.path(),
            &format!("m/pod-{i}.yaml"),
            &DEBUG_POD.replace("name: debug", &format!("name: debug-{i}")),
        );
    }
    let output = palisade()
        .current_dir(dir.path())
        .args(["scan", "--no-config", "--select", "pss-privileged"])
        .args(["--format", "json", "-o", "out.json", "m"])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(0));
    // No progress without a terminal; the report went to a file, so stderr says how it went.
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        stderr,
        "palisade: No findings in 250 objects from 250 files; 250 suppressed; report written to out.json\n"
    );
    // Under a pseudo-terminal (util-linux `script`), the bar is drawn and cleared on stderr.
    if Path::new("/usr/bin/script").exists() {
        let binary = assert_cmd::cargo::cargo_bin("palisade");
        let command = format!(
            "{} scan --no-config --select pss-privileged --format json -o out.json m",
            binary.display()
        );
        let tty = std::process::Command::new("/usr/bin/script")
            .current_dir(dir.path())
            .env_remove("CI")
            .args(["-qec", &command, "/dev/null"])
            .output()
            .expect("script runs");
        let shown = String::from_utf8_lossy(&tty.stdout);
        assert!(
            shown.contains("scanning"),
            "progress bar on a TTY: {shown:?}"
        );
        let quiet = std::process::Command::new("/usr/bin/script")
            .current_dir(dir.path())
            .env_remove("CI")
            .args(["-qec", &format!("{command} --no-progress"), "/dev/null"])
            .output()
            .expect("script runs");
        assert!(!String::from_utf8_lossy(&quiet.stdout).contains("scanning"));
    }
}
