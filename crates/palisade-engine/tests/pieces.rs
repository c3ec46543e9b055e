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
        .find(|f| f.rule.code == "PAL-PSS-014" || f.also().iter().any(|a| a.rule == "PAL-PSS-014"))
        .map(|f| {
            (
                f.rule.code,
                f.severity,
                f.also().iter().map(|a| a.rule).collect(),
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
            default_namespace: None,
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
                default_namespace: None,
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

const SHOP_DEPLOYMENT: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata: {name: web, labels: {app: web}}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
        - name: web
          image: shop/web:1.4.2
"#;

const SHOP_DEFAULT_DENY: &str = r#"apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny}
spec:
  podSelector: {}
  policyTypes: [Ingress]
"#;

const BLOG_DEPLOYMENT: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata: {name: blog, labels: {app: blog}}
spec:
  selector: {matchLabels: {app: blog}}
  template:
    metadata: {labels: {app: blog}}
    spec:
      containers:
        - name: blog
          image: ghost:5.80.0
"#;

/// A scan of `paths`, objects that name no namespace applied to `default_namespace` if given.
fn scan_paths(paths: &[&std::path::Path], default_namespace: Option<&str>) -> Report {
    palisade_engine::run(
        &pipeline(),
        ScanRequest {
            paths: paths
                .iter()
                .map(|p| p.to_string_lossy().into_owned())
                .collect(),
            more_inputs: Vec::new(),
            default_namespace: default_namespace.map(str::to_string),
            extras: Default::default(),
            errors: Vec::new(),
            rendered_from: &|_| false,
            relocate: &|_| {},
            keep: Keep::default(),
            progress: &Quiet,
        },
    )
    .report
}

/// The files the missing-ingress-default-deny rule points at, scanning `paths`.
fn missing_default_deny(
    paths: &[&std::path::Path],
    default_namespace: Option<&str>,
) -> Vec<String> {
    let mut files: Vec<String> = scan_paths(paths, default_namespace)
        .findings
        .iter()
        .filter(|f| f.rule.code == "PAL-NET-001")
        .filter_map(|f| f.location.as_ref().map(|l| l.file.to_string()))
        .collect();
    files.sort();
    files
}

#[test]
fn namespace_less_manifests_of_two_projects_are_two_namespaces() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (shop, blog) = (dir.path().join("shop"), dir.path().join("blog"));
    std::fs::create_dir_all(&shop).expect("shop");
    std::fs::create_dir_all(&blog).expect("blog");
    std::fs::write(shop.join("deployment.yaml"), SHOP_DEPLOYMENT).expect("write");
    std::fs::write(shop.join("default-deny.yaml"), SHOP_DEFAULT_DENY).expect("write");
    std::fs::write(blog.join("deployment.yaml"), BLOG_DEPLOYMENT).expect("write");
    let blog_file = blog.join("deployment.yaml").to_string_lossy().into_owned();
    // Two roots: shop's default deny isolates shop's pods, not blog's.
    assert_eq!(
        missing_default_deny(&[&shop, &blog], None),
        vec![blog_file.clone()]
    );
    // One root holding both, the blog a kustomization of its own: the same.
    std::fs::write(
        blog.join("kustomization.yaml"),
        "resources: [deployment.yaml]\n",
    )
    .expect("write");
    assert_eq!(missing_default_deny(&[dir.path()], None), vec![blog_file]);
    // Told they are applied to one namespace, shop's policy covers both.
    assert!(missing_default_deny(&[&shop, &blog], Some("team")).is_empty());
    // A kustomization that names its namespace puts the blog there.
    std::fs::write(
        blog.join("kustomization.yaml"),
        "namespace: blog\nresources: [deployment.yaml]\n",
    )
    .expect("write");
    let outcome_blog = missing_default_deny(&[dir.path()], None);
    assert_eq!(outcome_blog.len(), 1, "{outcome_blog:?}");
}

const MONITORING: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata: {name: grafana, namespace: monitoring, labels: {app: grafana}}
spec:
  selector: {matchLabels: {app: grafana}}
  template:
    metadata: {labels: {app: grafana}}
    spec:
      containers:
        - name: grafana
          image: grafana/grafana:11.2.0
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: prometheus, namespace: monitoring}
spec:
  podSelector: {matchLabels: {app.kubernetes.io/name: prometheus}}
  policyTypes: [Ingress]
"#;

const ARGO_CRD: &str = r#"apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: applications.argoproj.io}
spec:
  group: argoproj.io
  names: {kind: Application, plural: applications}
  scope: Namespaced
  versions: [{name: v1alpha1, served: true, storage: true}]
"#;

/// The severity and message of each finding of `code`, scanning `paths`.
fn findings_of(paths: &[&std::path::Path], code: &str) -> Vec<(Severity, String)> {
    scan_paths(paths, None)
        .findings
        .iter()
        .filter(|f| f.rule.code == code)
        .map(|f| (f.severity, f.message.to_string()))
        .collect()
}

#[test]
fn only_an_operator_of_the_policys_own_project_may_make_its_pods() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (monitoring, argo) = (dir.path().join("monitoring"), dir.path().join("argo-cd"));
    std::fs::create_dir_all(&monitoring).expect("mkdir");
    std::fs::create_dir_all(&argo).expect("mkdir");
    std::fs::write(monitoring.join("prometheus.yaml"), MONITORING).expect("write");
    std::fs::write(argo.join("crds.yaml"), ARGO_CRD).expect("write");
    // Argo CD's CRD says nothing about who makes the monitoring project's pods.
    assert_eq!(
        findings_of(&[&monitoring, &argo], "PAL-NET-004"),
        vec![(
            Severity::Low,
            "NetworkPolicy monitoring/prometheus selects no workload of namespace monitoring"
                .to_string()
        )]
    );
    // An operator the project itself installs may.
    std::fs::write(
        monitoring.join("crds.yaml"),
        ARGO_CRD.replace("argoproj.io", "monitoring.coreos.com"),
    )
    .expect("write");
    assert_eq!(
        findings_of(&[&monitoring, &argo], "PAL-NET-004"),
        vec![(
            Severity::Info,
            "NetworkPolicy monitoring/prometheus selects no pod in the input; the operator of CustomResourceDefinition applications.monitoring.coreos.com may create matching pods at runtime"
                .to_string()
        )]
    );
}

#[test]
fn admission_judges_a_peer_authentication_alone() {
    // PAL-MESH-001 reads the whole input (webhook ports need Services and workloads), yet a
    // PeerAuthentication alone brings its findings about: admission still judges it.
    let value = serde_json::json!({
        "apiVersion": "security.istio.io/v1",
        "kind": "PeerAuthentication",
        "metadata": {"name": "default", "namespace": "istio-system"},
        "spec": {"mtls": {"mode": "PERMISSIVE"}},
    });
    let object = palisade_load::json::to_object(&value);
    let pipeline = pipeline();
    assert!(pipeline.engine.judges(&object));
    let rules: Vec<&str> = judge_object(&pipeline, &object)
        .iter()
        .map(|f| f.rule.code)
        .collect();
    assert_eq!(rules, ["PAL-MESH-001"]);
}
