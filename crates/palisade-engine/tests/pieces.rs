//! The engine's pieces one by one: the settle order, the request's namespaces, baselines and
//! verdicts, and severity overrides.

use std::collections::HashSet;
use std::io::Write;

use palisade_engine::{
    judge_object, resolve_severity_overrides, verdict, Keep, Pipeline, Quiet, ScanRequest, Verdict,
};
use palisade_model::{Finding, Severity};
use palisade_report::Report;
use palisade_rules::{Engine, Settings};

const PRIVILEGED_POD: &str = r#"{
  "apiVersion": "v1",
  "kind": "Pod",
  "metadata": {"name": "node-debugger", "namespace": "ops"},
  "spec": {
    "containers": [{
      "name": "shell",
      "image": "busybox:1.36",
      "securityContext": {"privileged": true, "allowPrivilegeEscalation": true}
    }]
  }
}"#;

fn pipeline() -> Pipeline {
    Pipeline::new(Engine::new(&Settings::default()).expect("engine"))
}

fn judged(pipeline: &Pipeline) -> Vec<Finding> {
    let value: serde_json::Value = serde_json::from_str(PRIVILEGED_POD).expect("json");
    judge_object(pipeline, &palisade_load::json::to_object(&value))
}

fn kept_about_escalation(
    findings: &[Finding],
) -> Option<(&'static str, Severity, Vec<&'static str>)> {
    findings
        .iter()
        .find(|f| f.rule.code == "PAL-PSS-014" || f.also.iter().any(|a| a.rule == "PAL-PSS-014"))
        .map(|f| {
            (
                f.rule.code,
                f.severity,
                f.also.iter().map(|a| a.rule).collect(),
            )
        })
}

#[test]
fn severities_are_overridden_before_restated_findings_fold() {
    // As written, privileged (critical) states the privilege escalation (medium).
    let (kept, severity, also) = kept_about_escalation(&judged(&pipeline())).expect("found");
    assert_eq!((kept, severity), ("PAL-PSS-002", Severity::Critical));
    assert!(also.contains(&"PAL-PSS-014"), "{also:?}");
    // A config that cares more about escalation than privilege keeps escalation's finding.
    let mut configured = pipeline();
    configured.severity.insert("PAL-PSS-002", Severity::Low);
    configured
        .severity
        .insert("PAL-PSS-014", Severity::Critical);
    let (kept, severity, also) = kept_about_escalation(&judged(&configured)).expect("found");
    assert_eq!((kept, severity), ("PAL-PSS-014", Severity::Critical));
    assert!(also.contains(&"PAL-PSS-002"), "{also:?}");
}

#[test]
fn an_exact_code_overrides_before_a_category() {
    let overrides = vec![
        ("pss".to_string(), Severity::Low),
        ("PAL-PSS-002".to_string(), Severity::High),
    ];
    let resolved = resolve_severity_overrides(&overrides, &[]);
    assert_eq!(resolved.get("PAL-PSS-002"), Some(&Severity::High));
    assert_eq!(resolved.get("PAL-PSS-014"), Some(&Severity::Low));
    assert_eq!(resolved.get("PAL-RBAC-001"), None);
}

/// Two namespaces' Deployments and the Namespace of one, scanned through a request.
const TWO_TEAMS: &str = r#"apiVersion: v1
kind: Namespace
metadata:
  name: shop
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: cart
  namespace: shop
spec:
  selector: {matchLabels: {app: cart}}
  template:
    metadata: {labels: {app: cart}}
    spec:
      containers:
        - name: cart
          image: shop/cart:2.1
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: ledger
  namespace: billing
spec:
  selector: {matchLabels: {app: ledger}}
  template:
    metadata: {labels: {app: ledger}}
    spec:
      containers:
        - name: ledger
          image: billing/ledger:7.0
"#;

fn request_over(path: &std::path::Path, keep: Keep) -> palisade_engine::Outcome {
    palisade_engine::run(
        &pipeline(),
        ScanRequest {
            paths: vec![path.to_string_lossy().into_owned()],
            more_inputs: Vec::new(),
            extras: Default::default(),
            errors: Vec::new(),
            rendered_from: &|_| false,
            relocate: &|_| {},
            keep,
            progress: &Quiet,
        },
    )
}

fn manifest() -> tempfile::NamedTempFile {
    let mut file = tempfile::Builder::new()
        .suffix(".yaml")
        .tempfile()
        .expect("temp file");
    file.write_all(TWO_TEAMS.as_bytes()).expect("write");
    file
}

fn namespaces_of(report: &Report) -> HashSet<String> {
    report
        .findings
        .iter()
        .map(|f| {
            f.object
                .namespace
                .clone()
                .unwrap_or_else(|| format!("{}/{}", f.object.kind, f.object.name))
        })
        .collect()
}

#[test]
fn a_request_keeps_the_namespaces_asked_for_and_their_namespace_objects() {
    let file = manifest();
    let all = request_over(file.path(), Keep::default()).report;
    assert!(namespaces_of(&all).contains("billing"));
    let shop = request_over(
        file.path(),
        Keep {
            namespaces: vec!["shop".into()],
            ..Keep::default()
        },
    )
    .report;
    let kept = namespaces_of(&shop);
    assert!(
        kept.contains("shop") && kept.contains("Namespace/shop"),
        "{kept:?}"
    );
    assert!(!kept.contains("billing"), "{kept:?}");
    assert_eq!(
        shop.summary.findings.total(),
        shop.findings.len(),
        "counted again after filtering"
    );
    assert!(!shop.rules.is_empty(), "the report lists its rules");
}

#[test]
fn a_baseline_hides_what_it_accepted_and_the_whole_report_is_kept_to_write_a_new_one() {
    let file = manifest();
    let first = request_over(file.path(), Keep::default()).report;
    let cart: HashSet<String> = first
        .findings
        .iter()
        .filter(|f| f.object.name == "cart")
        .filter_map(|f| f.fingerprint.map(|p| p.to_string()))
        .collect();
    assert!(!cart.is_empty());
    let outcome = request_over(
        file.path(),
        Keep {
            baseline: Some(cart.clone()),
            unbaselined: true,
            ..Keep::default()
        },
    );
    assert_eq!(outcome.report.summary.baseline, cart.len());
    assert!(outcome
        .report
        .findings
        .iter()
        .all(|f| f.object.name != "cart"));
    let whole = outcome.unbaselined.expect("kept");
    assert_eq!(whole.findings.len(), first.findings.len());
}

#[test]
fn fingerprints_are_taken_where_relocated_findings_end() {
    let file = manifest();
    let moved = |report: &mut Report| {
        for finding in &mut report.findings {
            if let Some(location) = finding.location.as_mut() {
                location.file = "charts/shop/templates/deployment.yaml".into();
            }
        }
    };
    let outcome = |relocate: &dyn Fn(&mut Report)| {
        palisade_engine::run(
            &pipeline(),
            ScanRequest {
                paths: vec![file.path().to_string_lossy().into_owned()],
                more_inputs: Vec::new(),
                extras: Default::default(),
                errors: Vec::new(),
                rendered_from: &|_| false,
                relocate,
                keep: Keep::default(),
                progress: &Quiet,
            },
        )
        .report
    };
    let relocated = outcome(&moved);
    let mut expected = outcome(&|_| {});
    moved(&mut expected);
    let prints = |report: &Report| -> Vec<u64> {
        report
            .findings
            .iter()
            .filter_map(|f| f.fingerprint.map(|p| p.hash))
            .collect()
    };
    // The fingerprint of a finding at the source file, as a scan of the source would take it.
    let at_source: Vec<u64> = expected
        .findings
        .iter()
        .map(palisade_model::fingerprint)
        .collect();
    assert_eq!(prints(&relocated), at_source);
    assert_ne!(prints(&expected), at_source, "unrelocated prints differ");
}

#[test]
fn verdicts_put_errors_first_then_emptiness_then_findings() {
    let file = manifest();
    let report = request_over(file.path(), Keep::default()).report;
    assert!(report
        .findings
        .iter()
        .any(|f| f.severity >= Severity::Medium));
    assert_eq!(
        verdict(&report, Severity::Info, false, false),
        Verdict::Findings
    );
    // Writing a baseline accepts today's findings.
    assert_eq!(
        verdict(&report, Severity::Info, true, false),
        Verdict::Clean
    );
    // Above every finding's severity.
    let worst = report
        .findings
        .iter()
        .map(|f| f.severity)
        .max()
        .expect("some");
    if worst < Severity::Critical {
        assert_eq!(
            verdict(&report, Severity::Critical, false, false),
            Verdict::Clean
        );
    }
    let mut broken = report.clone();
    broken.errors.push(palisade_model::LoadError {
        file: "broken.yaml".into(),
        document: Some(1),
        line: Some(3),
        column: Some(1),
        message: "mapping values are not allowed here".into(),
    });
    assert_eq!(
        verdict(&broken, Severity::Info, true, true),
        Verdict::Errors
    );
    let empty = Report::default();
    assert_eq!(
        verdict(&empty, Severity::Info, false, false),
        Verdict::Empty
    );
    assert_eq!(verdict(&empty, Severity::Info, false, true), Verdict::Clean);
}
