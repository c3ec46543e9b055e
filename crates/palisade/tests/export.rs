//! `palisade policy export`: each exported rule gives the built-in rule's verdicts on that
//! rule's fixtures, offline (Palisade's CEL) and on a real kube-apiserver (1.30 serving `v1`,
//! every failed policy a warning; 1.26 serving `v1alpha1` behind its feature gate, with
//! variables inlined); custom rules export too; what cannot be exported is named.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;

use palisade_analysis::admission::Policies;
use palisade_model::Object;
use palisade_rules::{Engine, Selection, Settings};
use palisade_testkit::TestCluster;
use serde_json::Value;

fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_palisade"))
}

fn export(args: &[&str]) -> Output {
    Command::new(binary())
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["policy", "export", "--config", "/dev/null"])
        .args(args)
        .output()
        .expect("palisade runs")
}

fn objects_of(name: &str, text: &str) -> Vec<Object> {
    let file: Arc<str> = Arc::from(name);
    let mut out = Vec::new();
    palisade_load::load_text(&file, text, &mut |loaded| {
        if let palisade_load::Loaded::Object(object) = loaded {
            out.push(*object);
        }
    });
    out
}

/// The built-in rules that have a CEL form, by code.
fn exportable() -> Vec<&'static str> {
    palisade_rules::registry::RULES
        .iter()
        .filter(|r| !r.meta.cel.is_empty())
        .map(|r| r.meta.info.code)
        .collect()
}

const POD_KINDS: [&str; 8] = [
    "Pod",
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "Job",
    "CronJob",
    "ReplicationController",
];

/// The fixture objects of `code` a policy sees: pods and built-in workloads, from fixture
/// files that do not change the Pod Security level or version.
fn fixture_objects(code: &str) -> Vec<(String, Object)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../palisade-rules/fixtures")
        .join(code);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("fixtures")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("read");
        if text.contains("# pss-") || text.contains("# kubernetes-version:") {
            continue;
        }
        let name = file.display().to_string();
        for object in objects_of(&name, &text) {
            if POD_KINDS.contains(&object.kind()) {
                out.push((name.clone(), object));
            }
        }
    }
    out
}

/// Every rule's fixture objects, and the pods of Kubernetes' own Pod Security fixtures
/// (crates/palisade-rules/tests/data/pss, 380 documents).
fn all_objects(codes: &[&str]) -> Vec<(String, Object)> {
    let mut out: Vec<(String, Object)> = codes.iter().flat_map(|c| fixture_objects(c)).collect();
    let upstream =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../palisade-rules/tests/data/pss/objects.yaml");
    let text = std::fs::read_to_string(&upstream).expect("upstream fixtures");
    let name = upstream.display().to_string();
    out.extend(
        objects_of(&name, &text)
            .into_iter()
            .filter(|o| POD_KINDS.contains(&o.kind()))
            .map(|o| (name.clone(), o)),
    );
    out
}

/// Whether the built-in rule `code` reports anything on `object`.
fn built_in_fires(code: &str, object: &Object) -> bool {
    let engine = Engine::new(&Settings {
        selection: Selection {
            select: vec![code.to_string()],
            ignore: Vec::new(),
        },
        ..Settings::default()
    })
    .expect("engine");
    engine
        .check(object, None)
        .iter()
        .any(|f| f.rule.code == code)
}

fn policy_name(code: &str) -> String {
    format!("palisade-{}", code.to_ascii_lowercase())
}

#[test]
fn exported_rules_judge_their_fixtures_like_the_built_in_rules() {
    let codes = exportable();
    assert!(codes.len() >= 10, "{codes:?}");
    let output = export(&["--select", &codes.join(",")]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    let mut policies = Policies::default();
    for object in objects_of("exported.yaml", &text) {
        policies.add_policy_or_binding(&object);
    }
    assert!(policies.problems.is_empty(), "{:?}", policies.problems);
    let mut judged = 0;
    let mut denied = 0;
    for (file, object) in all_objects(&codes) {
        let verdicts = policies.judge(&object);
        for code in &codes {
            let name = policy_name(code);
            let exported = verdicts
                .iter()
                .any(|v| v.policy == name && v.target == "object");
            let built_in = built_in_fires(code, &object);
            assert_eq!(
                exported,
                built_in,
                "{code} on {} in {file}: exported policy {}, built-in rule {}",
                object.reference.display_name(),
                if exported { "denies" } else { "admits" },
                if built_in { "fires" } else { "passes" }
            );
            judged += 1;
            denied += usize::from(exported);
        }
    }
    // Ten rules over some 400 objects.
    assert!(
        judged >= 3_500 && denied >= 400,
        "{judged} judged, {denied} denied"
    );
}

#[test]
fn what_cannot_be_exported_is_named_and_versions_pick_the_api() {
    let all = export(&[]);
    assert_eq!(all.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&all.stderr);
    assert!(
        stderr.contains("PAL-RBAC-001") && stderr.contains("judges the whole input together"),
        "{stderr}"
    );
    assert!(stderr.contains("judges the audit log"), "{stderr}");
    let v1 = String::from_utf8_lossy(&all.stdout);
    assert!(v1.contains("apiVersion: admissionregistration.k8s.io/v1\n"));
    assert!(v1.contains("variables:"));

    let beta = export(&["--kubernetes-version", "v1.28", "--select", "PAL-PSS-002"]);
    let text = String::from_utf8_lossy(&beta.stdout);
    assert!(
        text.contains("admissionregistration.k8s.io/v1beta1"),
        "{text}"
    );
    assert!(String::from_utf8_lossy(&beta.stderr)
        .contains("--feature-gates=ValidatingAdmissionPolicy=true"));

    let alpha = export(&["--kubernetes-version", "v1.26", "--select", "PAL-PSS-002"]);
    let text = String::from_utf8_lossy(&alpha.stdout);
    assert!(
        text.contains("admissionregistration.k8s.io/v1alpha1"),
        "{text}"
    );
    assert!(!text.contains("variables"), "inlined before 1.28: {text}");
    assert!(
        !text.contains("validationActions"),
        "1.26 bindings only deny: {text}"
    );
    let warn_on_126 = export(&["--kubernetes-version", "v1.26", "--action", "Warn"]);
    assert_eq!(warn_on_126.status.code(), Some(2));
    let too_old = export(&["--kubernetes-version", "v1.25"]);
    assert_eq!(too_old.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&too_old.stderr).contains("no ValidatingAdmissionPolicy"));
}

#[test]
fn custom_rules_export_with_their_selectors_and_messages() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join(".palisade.yaml");
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/policies");
    std::fs::write(
        &config,
        format!("custom-rules-dir: {}\n", examples.display()),
    )
    .expect("config");
    let output = Command::new(binary())
        .args(["policy", "export", "--select", "ACME", "--config"])
        .arg(&config)
        .output()
        .expect("runs");
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8_lossy(&output.stdout);
    let objects = objects_of("exported.yaml", &text);
    let team = objects
        .iter()
        .find(|o| {
            o.reference.name == "palisade-acme-001" && o.kind() == "ValidatingAdmissionPolicy"
        })
        .expect("ACME-001 exported");
    let json = palisade_load::json::to_json(&team.root);
    assert_eq!(
        json["spec"]["matchConstraints"]["objectSelector"]["matchExpressions"][0]["key"],
        "palisade.example.com/unowned"
    );
    let resources: BTreeSet<&str> = json["spec"]["matchConstraints"]["resourceRules"]
        .as_array()
        .expect("rules")
        .iter()
        .flat_map(|r| r["resources"].as_array().into_iter().flatten())
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(
        resources,
        BTreeSet::from(["cronjobs", "daemonsets", "deployments", "statefulsets"])
    );
    assert!(json["spec"]["validations"][0]["messageExpression"]
        .as_str()
        .is_some_and(|m| m.contains("names no owning team")));

    // A custom rule using CEL the target Kubernetes does not have yet is named, not exported.
    std::fs::write(
        &config,
        "custom-rules:\n- code: ACME-020\n  name: pod-ips-private\n  severity: high\n  description: Pods ask for private host IPs only.\n  match: {kinds: [Pod]}\n  validations:\n  - expression: \"!has(object.spec.hostAliases) || object.spec.hostAliases.all(h, ip(h.ip).isLoopback() || cidr('10.0.0.0/8').containsIP(h.ip))\"\n",
    )
    .expect("config");
    let old = Command::new(binary())
        .args([
            "policy",
            "export",
            "--select",
            "ACME",
            "--kubernetes-version",
            "v1.29",
            "--config",
        ])
        .arg(&config)
        .output()
        .expect("runs");
    assert_eq!(old.status.code(), Some(0));
    assert!(!String::from_utf8_lossy(&old.stdout).contains("palisade-acme-020"));
    let said = String::from_utf8_lossy(&old.stderr);
    assert!(
        said.contains("ACME-020 pod-ips-private: it uses the")
            && said.contains("from 1.30, not in 1.29"),
        "{said}"
    );
    let new = Command::new(binary())
        .args([
            "policy",
            "export",
            "--select",
            "ACME",
            "--kubernetes-version",
            "v1.30",
            "--config",
        ])
        .arg(&config)
        .output()
        .expect("runs");
    assert!(String::from_utf8_lossy(&new.stdout).contains("palisade-acme-020"));
}

/// The collection `object` is created in.
fn collection(object: &Value, namespace: &str) -> String {
    let api_version = object["apiVersion"].as_str().unwrap_or("v1");
    let kind = object["kind"].as_str().unwrap_or("");
    let plural = palisade_analysis::admission::plural(kind);
    if api_version == "v1" {
        format!("/api/v1/namespaces/{namespace}/{plural}")
    } else {
        format!("/apis/{api_version}/namespaces/{namespace}/{plural}")
    }
}

/// Every policy a dry-run create of `object` warns about, or `None` when the server refuses
/// the object for another reason (a fixture that is not a valid object).
fn server_warnings(
    cluster: &TestCluster,
    object: &Value,
    namespace: &str,
) -> Option<BTreeSet<String>> {
    let answer = cluster.post(&collection(object, namespace), object, true);
    if answer.status != 201 {
        // Warn bindings never refuse: a refusal is the object's own validation (Kubernetes'
        // Pod Security fixtures include pods the API server's validation rejects).
        assert!(
            !answer.body.contains("ValidatingAdmissionPolicy"),
            "{}",
            answer.body
        );
        return None;
    }
    // The API server truncates, then drops, warnings past 4,096 characters in all: the
    // verdicts are only all there below that.
    let total: usize = answer.warnings.iter().map(String::len).sum();
    assert!(
        total < 4_000,
        "{total} characters of warnings: {:?}",
        answer.warnings
    );
    Some(
        answer
            .warnings
            .iter()
            .filter_map(|w| {
                let (_, rest) = w.split_once("ValidatingAdmissionPolicy '")?;
                Some(rest.split('\'').next()?.to_string())
            })
            .collect(),
    )
}

fn prepare(cluster: &TestCluster, namespaces: &BTreeSet<String>) {
    for namespace in namespaces {
        cluster.apply(&format!(
            "apiVersion: v1\nkind: Namespace\nmetadata: {{name: {namespace}}}\n"
        ));
        // Pods need their namespace's default ServiceAccount, which only a controller
        // manager would create.
        cluster.apply(&format!(
            "apiVersion: v1\nkind: ServiceAccount\nmetadata: {{name: default, namespace: {namespace}}}\n"
        ));
    }
}

/// Waits until the exported policies judge: a privileged pod is warned about.
fn settle(cluster: &TestCluster, expect: &dyn Fn(&TestCluster) -> bool) {
    for _ in 0..100 {
        if expect(cluster) {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(300));
    }
    panic!("the exported policies never took effect");
}

const PRIVILEGED_POD: &str = r#"{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "probe", "namespace": "default"}, "spec": {"containers": [{"name": "c", "image": "registry.example.com/app:1", "securityContext": {"privileged": true}}]}}"#;

const WORST_POD: &str = r#"{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "worst", "namespace": "default"}, "spec": {"hostNetwork": true, "securityContext": {"runAsNonRoot": false, "runAsUser": 0}, "volumes": [{"name": "root", "hostPath": {"path": "/"}}], "containers": [{"name": "c", "image": "registry.example.com/app:1", "ports": [{"containerPort": 80, "hostPort": 80}], "volumeMounts": [{"name": "root", "mountPath": "/host"}], "securityContext": {"privileged": true, "allowPrivilegeEscalation": true, "seccompProfile": {"type": "Unconfined"}, "capabilities": {"add": ["SYS_ADMIN"]}}}]}}"#;

#[test]
fn the_api_server_gives_each_exported_rule_the_built_in_verdicts() {
    let Some(cluster) = TestCluster::own_version("policy export on 1.30", 30, &[]) else {
        return;
    };
    let codes = exportable();
    let output = export(&["--select", &codes.join(","), "--action", "Warn"]);
    assert_eq!(output.status.code(), Some(0));
    let mut objects = Vec::new();
    let mut namespaces = BTreeSet::from(["default".to_string()]);
    for (file, object) in all_objects(&codes) {
        let namespace = object
            .reference
            .namespace
            .clone()
            .unwrap_or_else(|| "default".to_string());
        namespaces.insert(namespace.clone());
        objects.push((file, namespace, object));
    }
    prepare(&cluster, &namespaces);
    cluster.apply(&String::from_utf8_lossy(&output.stdout));
    // Each policy and binding takes effect on its own: wait until a pod that breaks every
    // rule is warned about by every policy.
    let probe: Value = serde_json::from_str(WORST_POD).expect("json");
    settle(&cluster, &|cluster| {
        server_warnings(cluster, &probe, "default")
            .is_some_and(|w| codes.iter().all(|code| w.contains(&policy_name(code))))
    });
    let (mut judged, mut refused_as_invalid, mut warned) = (0, 0, 0);
    for (file, namespace, object) in &objects {
        let mut json = palisade_load::json::to_json(&object.root);
        json["metadata"]["namespace"] = Value::String(namespace.clone());
        let Some(warnings) = server_warnings(&cluster, &json, namespace) else {
            refused_as_invalid += 1;
            continue;
        };
        for code in &codes {
            let server = warnings.contains(&policy_name(code));
            let built_in = built_in_fires(code, object);
            assert_eq!(
                server,
                built_in,
                "{code} on {} in {file}: the API server {}, the built-in rule {}",
                object.reference.display_name(),
                if server { "warns" } else { "admits" },
                if built_in { "fires" } else { "passes" }
            );
            judged += 1;
            warned += usize::from(server);
        }
    }
    assert!(
        judged >= 3_000 && warned >= 400 && refused_as_invalid * 4 < objects.len(),
        "{judged} judged, {warned} warned, {refused_as_invalid} not valid objects"
    );
}

#[test]
fn v1alpha1_exports_hold_on_kubernetes_1_26() {
    let Some(cluster) = TestCluster::own_with(
        "policy export v1alpha1 on 1.26",
        &[
            "--feature-gates=ValidatingAdmissionPolicy=true",
            "--runtime-config=admissionregistration.k8s.io/v1alpha1=true",
        ],
    ) else {
        return;
    };
    let codes = exportable();
    let output = export(&[
        "--select",
        &codes.join(","),
        "--kubernetes-version",
        "v1.26",
    ]);
    assert_eq!(output.status.code(), Some(0));
    prepare(&cluster, &BTreeSet::from(["default".to_string()]));
    cluster.apply(&String::from_utf8_lossy(&output.stdout));
    let probe: Value = serde_json::from_str(PRIVILEGED_POD).expect("json");
    settle(&cluster, &|cluster| {
        cluster
            .post(&collection(&probe, "default"), &probe, true)
            .body
            .contains("ValidatingAdmissionPolicy 'palisade-pal-pss-")
    });
    // A pod every exported rule admits is admitted: every inlined expression compiles and
    // holds on it (a policy that failed to compile would deny it, failurePolicy Fail).
    let restricted: Value = serde_json::from_str(r#"{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "restricted", "namespace": "default"}, "spec": {"securityContext": {"runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}}, "containers": [{"name": "c", "image": "registry.example.com/app:1", "securityContext": {"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}}}]}}"#).expect("json");
    let answer = cluster.post(&collection(&restricted, "default"), &restricted, true);
    assert_eq!(answer.status, 201, "{}", answer.body);
}
