//! `palisade paths` on the bundled attack-path example: what the internet reaches and how far
//! it gets, pinned hop by hop; exit codes as for `rbac paths`.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

mod attack_example;
use attack_example::assert_the_way_in_is_named;

fn example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/paths")
}

fn paths(args: &[&str]) -> (Option<i32>, String) {
    let output = Command::cargo_bin("palisade")
        .expect("binary")
        .arg("paths")
        .args(args)
        .output()
        .expect("runs");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

/// (edge, reached, file name:line) of each hop.
fn hops(path: &Value) -> Vec<(String, String, String)> {
    path["hops"]
        .as_array()
        .expect("hops")
        .iter()
        .map(|hop| {
            let place = hop["location"]["file"].as_str().map_or(String::new(), |f| {
                let name = Path::new(f)
                    .file_name()
                    .map_or(String::new(), |n| n.to_string_lossy().into_owned());
                format!("{name}:{}", hop["location"]["line"])
            });
            (
                hop["edge"].as_str().unwrap_or_default().to_string(),
                hop["reached"].as_str().unwrap_or_default().to_string(),
                place,
            )
        })
        .collect()
}

fn owned(hops: &[(&str, &str, &str)]) -> Vec<(String, String, String)> {
    hops.iter()
        .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
        .collect()
}

#[test]
fn the_example_has_two_ways_from_the_internet_to_cluster_admin() {
    let dir = example();
    let (code, out) = paths(&["--format", "json", dir.to_str().expect("UTF-8")]);
    assert_eq!(code, Some(1), "a path exists: {out}");
    let report: Value = serde_json::from_str(&out).expect("JSON");
    let found = report["paths"].as_array().expect("paths");
    assert_eq!(found.len(), 2, "{out}");
    assert_eq!(found[0]["from"], "internet");
    assert_eq!(found[0]["to"], "cluster-admin");
    assert_eq!(
        hops(&found[0]),
        owned(&[
            ("exposed", "Service storefront/web", "storefront.yaml:36"),
            ("reaches", "Deployment storefront/web", "storefront.yaml:21"),
            (
                "mounts-token",
                "ServiceAccount storefront/web",
                "storefront.yaml:23"
            ),
            (
                "escalates",
                "ServiceAccount ci/deployer",
                "storefront.yaml:48"
            ),
            ("escalates", "cluster-admin", "ci.yaml:14"),
        ])
    );
    // Behind an Ingress, a pod in the host's process namespace: its node, then the tokens of
    // the pods on it.
    assert_eq!(
        hops(&found[1])[..3],
        owned(&[
            ("exposed", "Service payments/status", "payments.yaml:120"),
            ("reaches", "Deployment payments/status", "payments.yaml:88"),
            ("escapes-to-node", "a node", "payments.yaml:89"),
        ])[..]
    );
    // The checkout API holds no token, the console lets in the office only: neither starts one.
    assert!(
        !out.contains("payments/checkout") && !out.contains("payments/console"),
        "{out}"
    );
}

#[test]
fn text_names_every_hop_with_its_place_and_limits_apply() {
    let dir = example();
    let dir = dir.to_str().expect("UTF-8");
    let (code, out) = paths(&["--to", "node", dir]);
    assert_eq!(code, Some(1));
    assert!(
        out.starts_with("the internet → a node in 3 hops, through Deployment payments/status:\n"),
        "{out}"
    );
    assert!(
        out.contains("  1. → Service payments/status: the internet reaches it through Ingress payments/status ("),
        "{out}"
    );
    let (_, short) = paths(&["--max-hops", "5", "--format", "json", dir]);
    let report: Value = serde_json::from_str(&short).expect("JSON");
    assert_eq!(report["paths"].as_array().map(Vec::len), Some(1), "{short}");

    // Without anything exposed: no path, exit 0; without input: exit 2.
    let quiet = tempfile::tempdir().expect("tempdir");
    std::fs::copy(example().join("ci.yaml"), quiet.path().join("ci.yaml")).expect("copy");
    let (code, out) = paths(&[quiet.path().to_str().expect("UTF-8")]);
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(
        out,
        "No path from the internet to cluster-admin in the input.\n"
    );
    let (code, _) = paths(&[]);
    assert_eq!(code, Some(2));
}

/// Other starts: code running in a workload (after a compromise), an account's or a user's
/// credentials; a start the input lacks is an error. Dot and Mermaid draw the same hops.
#[test]
fn paths_start_where_told_and_draw_as_graphs() {
    let dir = example();
    let dir = dir.to_str().expect("UTF-8");
    let (code, out) = paths(&[
        "--from",
        "workload:payments/deployment/status",
        "--format",
        "json",
        dir,
    ]);
    assert_eq!(code, Some(1), "{out}");
    let report: Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(report["paths"][0]["from"], "Deployment payments/status");
    assert_eq!(
        hops(&report["paths"][0])[0],
        owned(&[("escapes-to-node", "a node", "payments.yaml:89")])[0]
    );
    // The checkout API holds no token and stays within baseline: nowhere to go from it.
    let (code, out) = paths(&["--from", "workload:payments/Deployment/checkout", dir]);
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(
        out,
        "No path from Deployment payments/checkout to cluster-admin in the input.\n"
    );
    let (code, out) = paths(&["--from", "sa:storefront/web", dir]);
    assert_eq!(code, Some(1));
    assert!(
        out.starts_with("ServiceAccount storefront/web → cluster-admin in 2 hops, through ServiceAccount ci/deployer:\n"),
        "{out}"
    );
    let (code, _) = paths(&["--from", "workload:payments/deployment/missing", dir]);
    assert_eq!(code, Some(2));
    let (code, _) = paths(&["--from", "somewhere", dir]);
    assert_eq!(code, Some(2));

    let (_, dot) = paths(&["--format", "dot", dir]);
    assert!(dot.starts_with("digraph attack_paths {"), "{dot}");
    assert!(dot.contains("v0 [label=\"the internet\"];"), "{dot}");
    assert!(
        dot.contains("-> v1 [label=\"exposed\"];") || dot.contains("[label=\"exposed\"]"),
        "{dot}"
    );
    let (_, mermaid) = paths(&["--format", "mermaid", dir]);
    assert!(
        mermaid.starts_with("flowchart LR\n  v0[\"the internet\"]\n"),
        "{mermaid}"
    );
    assert!(mermaid.contains("-->|mounts-token|"), "{mermaid}");
    assert!(mermaid.contains("-->|escapes-to-node|"), "{mermaid}");
}

/// The example applied to a real API server: `--cluster` finds the same paths, hop by hop, as
/// the files do (the cluster's objects have no file places; they name the object instead).
#[test]
fn a_live_cluster_has_the_same_paths_as_its_files() {
    let Some(cluster) = palisade_testkit::TestCluster::own("paths --cluster") else {
        return;
    };
    cluster.apply_dir(&example());
    let dir = example();
    let (_, from_files) = paths(&["--format", "json", dir.to_str().expect("UTF-8")]);
    let live = Command::cargo_bin("palisade")
        .expect("binary")
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
    let shape = |text: &str| -> Vec<Vec<(String, String)>> {
        let report: Value = serde_json::from_str(text).expect("JSON");
        report["paths"]
            .as_array()
            .expect("paths")
            .iter()
            .map(|p| {
                hops(p)
                    .into_iter()
                    .map(|(edge, reached, _)| (edge, reached))
                    .collect()
            })
            .collect()
    };
    let live_text = String::from_utf8_lossy(&live.stdout).into_owned();
    assert_eq!(shape(&live_text), shape(&from_files), "{live_text}");
}

/// In `scan`, PAL-PATH-001 sits on what exposes each Service, with the chain in its message;
/// in SARIF the chain is a code flow that starts there.
#[test]
fn scan_reports_each_exposed_start_and_sarif_walks_the_chain() {
    let output = Command::cargo_bin("palisade")
        .expect("binary")
        .args([
            "scan",
            "--no-config",
            "--select",
            "PAL-PATH-001",
            "--format",
            "sarif",
        ])
        .arg(example())
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(1));
    let log: Value = serde_json::from_slice(&output.stdout).expect("SARIF");
    let results = log["runs"][0]["results"].as_array().expect("results");
    assert_eq!(results.len(), 2);
    let first = results
        .iter()
        .find(|r| {
            r["message"]["text"]
                .as_str()
                .is_some_and(|m| m.contains("1. → Service storefront/web"))
        })
        .expect("the storefront's path");
    assert_eq!(first["level"], "error");
    let uri = |location: &Value| {
        let uri = location["physicalLocation"]["artifactLocation"]["uri"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let line = &location["physicalLocation"]["region"]["startLine"];
        format!("{}:{line}", uri.rsplit('/').next().unwrap_or_default())
    };
    let steps: Vec<String> = first["codeFlows"][0]["threadFlows"][0]["locations"]
        .as_array()
        .expect("a code flow")
        .iter()
        .map(|step| uri(&step["location"]))
        .collect();
    assert_eq!(
        steps,
        [
            "storefront.yaml:36",
            "storefront.yaml:21",
            "storefront.yaml:23",
            "storefront.yaml:48",
            "ci.yaml:14"
        ]
    );
    assert!(first["message"]["text"].as_str().is_some_and(|m| m
        .starts_with("the internet reaches cluster-admin in 5 hops: 1. → Service storefront/web")));
}

fn vulnerability_report(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../palisade-analysis/tests/data/vulns")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

/// With the images' vulnerability reports: the internet's way into the web front is named
/// (its critical, fixable minimist), and every workload whose image lets an attacker in is a
/// start of its own (`--from vulnerable`).
#[test]
fn vulnerability_reports_name_the_way_in_and_start_paths() {
    let dir = example();
    let dir = dir.to_str().expect("UTF-8");
    let trivy = vulnerability_report("trivy-storefront-web.json");
    let grype = vulnerability_report("grype-payments-status.json");
    let (code, out) = paths(&["--vulnerabilities", &trivy, "--format", "json", dir]);
    assert_eq!(code, Some(1));
    let report: Value = serde_json::from_str(&out).expect("JSON");
    assert_the_way_in_is_named(&report);

    let (code, out) = paths(&[
        "--from",
        "vulnerable",
        "--to",
        "node",
        "--vulnerabilities",
        &trivy,
        "--vulnerabilities",
        &grype,
        "--format",
        "json",
        dir,
    ]);
    assert_eq!(code, Some(1), "{out}");
    let report: Value = serde_json::from_str(&out).expect("JSON");
    let starts: Vec<(String, String)> = report["paths"]
        .as_array()
        .expect("paths")
        .iter()
        .map(|p| {
            let first = &hops(p)[0];
            (first.0.clone(), first.1.clone())
        })
        .collect();
    assert_eq!(
        starts,
        [
            (
                "exploits".to_string(),
                "Deployment payments/status".to_string()
            ),
            (
                "exploits".to_string(),
                "Deployment storefront/web".to_string()
            ),
        ]
    );
    let (code, _) = paths(&["--from", "vulnerable", dir]);
    assert_eq!(code, Some(2), "--from vulnerable needs reports");
    let (code, _) = paths(&["--vulnerabilities", dir, dir]);
    assert_eq!(code, Some(2), "a directory is not a report");
}

/// The findings a path goes through say so (a related place at the path's start); the same
/// misconfiguration off every path says nothing of the kind.
#[test]
fn findings_on_a_path_say_they_are_on_it() {
    let output = Command::cargo_bin("palisade")
        .expect("binary")
        .args(["scan", "--no-config", "--format", "json"])
        .arg(example())
        .output()
        .expect("runs");
    let report: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let findings = report["findings"].as_array().expect("findings");
    let note = |rule: &str, name: &str| {
        findings
            .iter()
            .find(|f| f["rule"] == rule && f["object"]["name"] == name)
            .unwrap_or_else(|| panic!("{rule} on {name}"))["related"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|r| r["message"].as_str())
            .find(|m| m.starts_with("on an attack path (PAL-PATH-001)"))
            .map(str::to_string)
    };
    assert_eq!(
        note("PAL-EXP-001", "web").as_deref(),
        Some("on an attack path (PAL-PATH-001): the internet reaches cluster-admin in 5 hops, starting at Service storefront/web")
    );
    // The binding's workload grant is restated under its escalation-path finding, which the
    // attack path goes through as well.
    assert!(note("PAL-RBAC-015", "web-runs-reports").is_some());
    assert!(findings
        .iter()
        .all(|f| !(f["rule"] == "PAL-RBAC-003" && f["object"]["name"] == "web-runs-reports")));
    // The checkout API is exposed too, but leads nowhere: its LoadBalancer finding has no note.
    assert_eq!(note("PAL-EXP-001", "checkout"), None);
}

/// trivy-operator's VulnerabilityReports read with the manifests (as `kubectl get -A -o yaml`
/// dumps them, or live with `--cluster`) name the way in as Trivy's own JSON does.
#[test]
fn trivy_operator_reports_in_the_input_name_the_way_in() {
    let dir = example();
    let report = vulnerability_report("trivy-operator-storefront-web.yaml");
    let (code, out) = paths(&["--format", "json", dir.to_str().expect("UTF-8"), &report]);
    assert_eq!(code, Some(1));
    let report: Value = serde_json::from_str(&out).expect("JSON");
    assert_the_way_in_is_named(&report);
}

/// `scan --vulnerabilities`: every finding on a workload the internet gets into that runs an
/// image with a way in is raised a level and says why; the same findings elsewhere, and
/// everything without the reports, keep their severity.
#[test]
fn scan_raises_findings_on_an_exposed_vulnerable_workload() {
    let scan = |extra: &[&str]| -> Vec<(String, String, String, String, Value)> {
        let output = Command::cargo_bin("palisade")
            .expect("binary")
            .args(["scan", "--no-config", "--format", "json"])
            .args(extra)
            .arg(example())
            .output()
            .expect("runs");
        assert_eq!(output.status.code(), Some(1));
        let report: Value = serde_json::from_slice(&output.stdout).expect("JSON");
        report["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .map(|f| {
                let object = &f["object"];
                (
                    f["rule"]["code"].as_str().unwrap_or_default().to_string(),
                    format!("{}/{}", object["kind"], object["name"]),
                    f["path"].as_str().unwrap_or_default().to_string(),
                    f["severity"].as_str().unwrap_or_default().to_string(),
                    f["related"].clone(),
                )
            })
            .collect()
    };
    let trivy = vulnerability_report("trivy-storefront-web.json");
    let before = scan(&[]);
    let after = scan(&["--vulnerabilities", &trivy]);
    assert_eq!(before.len(), after.len());
    fn raise(s: &str) -> &str {
        match s {
            "low" => "medium",
            "medium" => "high",
            "high" => "critical",
            other => other,
        }
    }
    let mut raised = 0;
    for (old, new) in before.iter().zip(&after) {
        assert_eq!((&old.0, &old.1, &old.2), (&new.0, &new.1, &new.2));
        let on_web = old.1 == "\"Deployment\"/\"web\"" && old.0 != "PAL-PATH-001";
        let expected = if on_web {
            raise(&old.3)
        } else {
            old.3.as_str()
        };
        assert_eq!(new.3, expected, "{} on {} at {}", old.0, old.1, old.2);
        if on_web && expected != old.3 {
            raised += 1;
            let why = new
                .4
                .as_array()
                .and_then(|r| r.last())
                .cloned()
                .unwrap_or_default();
            let message = why["message"].as_str().unwrap_or_default();
            assert!(
                message.starts_with(&format!("raised from {} to {expected}: Service storefront/web (type LoadBalancer) lets the internet in, and it runs registry.example.com/storefront/web:2.8.1, with CVE-2021-44906", old.3)),
                "{message}"
            );
        }
    }
    assert!(raised >= 3, "{raised} raised");
}
