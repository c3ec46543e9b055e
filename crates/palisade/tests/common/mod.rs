//! Helpers shared by the end-to-end tests of the install manifests.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

pub fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_palisade"))
}

/// Scans `file` with no config at `--fail-on high` and asserts that nothing unsuppressed is
/// high or critical and nothing failed to load (exit 0); returns the JSON report.
pub fn assert_clean_at_high(file: &Path) -> Value {
    let scan = Command::new(binary())
        .args([
            "scan",
            "--no-config",
            "--fail-on",
            "high",
            "--format",
            "json",
        ])
        .arg(file)
        .output()
        .expect("palisade runs");
    let report: Value = serde_json::from_slice(&scan.stdout).expect("a JSON report");
    let serious: Vec<&Value> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| {
            f["suppressed"].is_null() && matches!(f["severity"].as_str(), Some("high" | "critical"))
        })
        .collect();
    assert!(serious.is_empty(), "{serious:#?}");
    assert_eq!(
        scan.status.code(),
        Some(0),
        "errors: {}; {}",
        report["errors"],
        String::from_utf8_lossy(&scan.stderr)
    );
    report
}
