//! `palisade audit` on audit-log files: exit codes, formats and errors as for `scan`, and
//! logged bodies never printed.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

fn fixture(code: &str, name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../palisade-rules/fixtures")
        .join(code)
        .join(name)
}

fn palisade() -> Command {
    Command::cargo_bin("palisade").expect("binary")
}

#[test]
fn detect_reports_like_scan_and_exits_like_scan() {
    let fail = fixture("PAL-AL-005", "fail.jsonl");
    let output = palisade()
        .args(["audit", "detect", "--no-config", "--format", "json"])
        .arg(&fail)
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let rules: Vec<&str> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| f["rule"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(rules, ["PAL-AL-005", "PAL-AL-005"]);
    assert_eq!(report["summary"]["objects"], 2, "events read");

    // --fail-on above what was found: exit 0; a clean log: exit 0.
    palisade()
        .args([
            "audit",
            "detect",
            "--no-config",
            "--fail-on",
            "critical",
            "--select",
            "PAL-AL-001",
        ])
        .arg(fixture("PAL-AL-001", "fail.jsonl"))
        .assert()
        .code(0);
    palisade()
        .args(["audit", "detect", "--no-config"])
        .arg(fixture("PAL-AL-001", "pass.jsonl"))
        .assert()
        .code(0);
    // SARIF works as for scan.
    let sarif = palisade()
        .args(["audit", "detect", "--no-config", "--format", "sarif"])
        .arg(&fail)
        .output()
        .expect("runs");
    let sarif: Value = serde_json::from_slice(&sarif.stdout).expect("SARIF");
    assert_eq!(
        sarif["runs"][0]["results"].as_array().map(Vec::len),
        Some(2)
    );
}

#[test]
fn a_bad_line_is_an_error_with_its_place_and_the_rest_is_judged() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("audit.log");
    let good = std::fs::read_to_string(fixture("PAL-AL-001", "fail.jsonl")).expect("fixture");
    let first = good.lines().next().expect("a line");
    std::fs::write(&log, format!("{{\"kind\":\"Event\",\"verb\n{first}\n")).expect("write");
    let output = palisade()
        .args(["audit", "detect", "--no-config", "--format", "json"])
        .arg(&log)
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
    let report: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(report["errors"][0]["line"], 1);
    assert_eq!(report["findings"].as_array().map(Vec::len), Some(1));
    assert_eq!(report["findings"][0]["location"]["line"], 2);
}

#[test]
fn usage_errors() {
    palisade().args(["audit", "detect"]).assert().code(2);
    palisade()
        .args(["audit", "detect", "--no-config", "--select", "pss"])
        .arg(fixture("PAL-AL-001", "fail.jsonl"))
        .assert()
        .code(2);
    let output = palisade()
        .args(["audit", "roles", "--for", "nobody@example.com"])
        .arg(fixture("PAL-AL-001", "fail.jsonl"))
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr)
        .contains("no request by nobody@example.com in the audit logs, allowed or denied"));
}

#[test]
fn text_reports_never_quote_a_logged_body() {
    let output = palisade()
        .args(["audit", "detect", "--no-config", "--color", "always"])
        .arg(fixture("PAL-AL-007", "fail.jsonl"))
        .output()
        .expect("runs");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("PAL-AL-007"), "{text}");
    assert!(
        !text.contains("requestObject") && !text.contains("busybox"),
        "{text}"
    );
}
