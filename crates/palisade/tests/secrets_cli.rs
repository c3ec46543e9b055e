//! End-to-end: credentials found in manifests are reported by key, rule and line, and their
//! values appear in no output format, neither in messages nor in code frames.

use std::path::PathBuf;

use assert_cmd::Command;

fn palisade() -> Command {
    let mut command = Command::cargo_bin("palisade").expect("binary is built");
    command.env_remove("CI");
    command
}

fn fixture(code: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../palisade-rules/fixtures")
        .join(code)
        .join("fail.yaml")
        .to_string_lossy()
        .into_owned()
}

/// The fake credentials the fixtures carry.
const VALUES: &[&str] = &[
    "Wint3r-Is-C0ming",
    "Tr0ub4dor&3",
    "ghp_Zx8kQ2mN4pR6sT8vW0yA2cE4gI6kM8oQ0sU2",
    "S3cure-Prod-Pass",
    "MHcCAQEEIFake",
    "sk_live_51FakeFakeFakeFakeFakeFake",
    "hunter2-prod",
    "AKIAIOSFODNN7EXAMPLE",
    "c2hvcA==",
    "not-a-real-one",
];

#[test]
fn credential_values_never_reach_any_report() {
    let inputs = [
        fixture("PAL-SEC-001"),
        fixture("PAL-SEC-003"),
        fixture("PAL-SEC-004"),
    ];
    for format in ["text", "json", "sarif", "junit", "markdown", "html"] {
        let output = palisade()
            .args([
                "scan",
                "--no-config",
                "--color",
                "always",
                "--format",
                format,
            ])
            .args(&inputs)
            .output()
            .expect("runs");
        assert_eq!(output.status.code(), Some(1), "{format}");
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        for value in VALUES {
            assert!(
                !stdout.contains(value) && !stderr.contains(value),
                "{format} output shows `{value}`"
            );
        }
        // The findings are there, named by key.
        for rule in ["PAL-SEC-001", "PAL-SEC-003", "PAL-SEC-004"] {
            assert!(stdout.contains(rule), "{format} lacks {rule}");
        }
        if format == "text" {
            assert!(stdout.contains("ConfigMap key `DATABASE_URL` holds a URL with a password"));
            assert!(stdout.contains("environment variable STRIPE_KEY holds a Stripe live key"));
        }
    }
}

#[test]
fn other_rules_on_the_same_objects_keep_their_code_frames() {
    let output = palisade()
        .args(["scan", "--no-config", "--select", "PAL-RES-003"])
        .arg(fixture("PAL-SEC-004"))
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("15 |         - name: seed"),
        "code frame expected: {stdout}"
    );
}
