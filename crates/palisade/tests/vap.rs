//! ValidatingAdmissionPolicies judged offline, against the real thing: each binding is
//! installed alone on a kube-apiserver (1.26, ValidatingAdmissionPolicy v1alpha1 behind its
//! feature gate), every object is sent as a dry-run create, and Palisade's verdicts for the
//! same policies, bindings, parameters and namespaces must be the server's, policy by policy,
//! with the same messages.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use palisade_testkit::{manifest_objects, TestCluster};
use serde_json::Value;

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/vap")
        .join(name)
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// (namespace/kind/name) of an object.
fn key(object: &Value) -> String {
    format!(
        "{}/{}/{}",
        object["metadata"]["namespace"].as_str().unwrap_or(""),
        object["kind"].as_str().unwrap_or(""),
        object["metadata"]["name"].as_str().unwrap_or("")
    )
}

fn collection(object: &Value) -> String {
    let namespace = object["metadata"]["namespace"]
        .as_str()
        .unwrap_or("default");
    match object["kind"].as_str() {
        Some("Pod") => format!("/api/v1/namespaces/{namespace}/pods"),
        _ => format!("/apis/apps/v1/namespaces/{namespace}/deployments"),
    }
}

/// A verdict on one object: admitted, or denied or warned about with a message.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Said {
    Admitted,
    Denied(String),
    Warned(String),
}

/// What the server says of each object.
fn server_verdicts(
    cluster: &TestCluster,
    objects: &[Value],
    binding: &str,
) -> BTreeMap<String, Said> {
    objects
        .iter()
        .map(|object| {
            let answer = cluster.post(&collection(object), object, true);
            let said = if answer.status != 201 {
                let body: Value = serde_json::from_str(&answer.body).unwrap_or(Value::Null);
                let message = body["message"].as_str().unwrap_or(&answer.body).to_string();
                assert!(
                    message.contains(&format!("with binding '{binding}'")),
                    "{}: denied by something else: {message}",
                    key(object)
                );
                Said::Denied(
                    message
                        .split_once("denied request: ")
                        .map_or(message.clone(), |(_, m)| m.to_string()),
                )
            } else if let Some(warning) = answer
                .warnings
                .iter()
                .find(|w| w.contains(&format!("with binding '{binding}'")))
            {
                let text = warning.trim_end_matches('"');
                Said::Warned(
                    text.split_once(&format!("with binding '{binding}': "))
                        .map_or(text.to_string(), |(_, m)| m.to_string()),
                )
            } else {
                Said::Admitted
            };
            (key(object), said)
        })
        .collect()
}

/// What Palisade says of each object under the policies and the one binding.
fn palisade_verdicts(
    policies: &Path,
    objects_file: &Path,
    objects: &[Value],
    binding: &str,
) -> BTreeMap<String, Said> {
    let policies = policies.to_str().expect("utf-8");
    let (_, report) = scan_json(&["--policies", policies], &[objects_file]);
    assert!(
        report["errors"].as_array().is_some_and(|e| e.is_empty()),
        "{}",
        report["errors"]
    );
    let mut verdicts: BTreeMap<String, Said> =
        objects.iter().map(|o| (key(o), Said::Admitted)).collect();
    for finding in report["findings"].as_array().expect("findings") {
        let message = finding["message"].as_str().unwrap_or("");
        // The object itself, not the pods of a workload's template.
        let admission = &finding["admission"];
        assert_eq!(admission["binding"], binding, "{finding}");
        if admission["target"] != "object" {
            continue;
        }
        let Some(rest) = message.strip_prefix("ValidatingAdmissionPolicy ") else {
            panic!("{message}");
        };
        let object = &finding["object"];
        let key = format!(
            "{}/{}/{}",
            object["namespace"].as_str().unwrap_or(""),
            object["kind"].as_str().unwrap_or(""),
            object["name"].as_str().unwrap_or("")
        );
        let subject = format!(
            "{} {}/{}: ",
            object["kind"].as_str().unwrap_or(""),
            object["namespace"].as_str().unwrap_or(""),
            object["name"].as_str().unwrap_or("")
        );
        let said = rest
            .split_once(&subject)
            .map_or(rest, |(_, m)| m)
            .to_string();
        let verdict = match admission["action"].as_str() {
            Some("Deny") if rest.contains(") denies ") => Said::Denied(said),
            Some("Warn") if rest.contains(") warns about ") => Said::Warned(said),
            Some("Audit") => continue,
            _ => panic!("{finding}"),
        };
        // The server reports the first failed validation.
        verdicts.entry(key).and_modify(|v| {
            if *v == Said::Admitted {
                *v = verdict;
            }
        });
    }
    verdicts
}

/// Waits until the server's answer on `probe` shows the binding `in_force` (or not), so it
/// is judged only once it took (or lost) effect.
fn settle(cluster: &TestCluster, probe: &Value, binding: &str, in_force: bool) {
    for _ in 0..100 {
        let said = server_verdicts(cluster, std::slice::from_ref(probe), binding);
        if (said.values().next() != Some(&Said::Admitted)) == in_force {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(300));
    }
    panic!("{}: binding {binding} did not take effect", key(probe));
}

/// Installs each binding of `bindings_file` alone and compares every object's verdict;
/// returns how many were judged and how many refused or warned about.
fn differential(
    cluster: &TestCluster,
    policies_file: &str,
    bindings_file: &str,
    version: &str,
) -> (usize, usize) {
    cluster.apply(
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop, labels: {team: shop}}\n---\n\
         apiVersion: v1\nkind: Namespace\nmetadata: {name: other}\n",
    );
    // Pods need their namespace's default ServiceAccount, which only a controller manager
    // would create.
    for namespace in ["shop", "other", "default"] {
        cluster.apply(&format!(
            "apiVersion: v1\nkind: ServiceAccount\nmetadata: {{name: default, namespace: {namespace}}}\n"
        ));
    }
    let policies = read(&data(policies_file));
    cluster.apply(&policies);
    let objects_text = read(&data("objects.yaml"));
    let objects = manifest_objects(&objects_text).expect("objects");
    let bindings = manifest_objects(&read(&data(bindings_file))).expect("bindings");
    let namespaces = "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop, labels: {team: shop}}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: other}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: default}\n";
    let dir = tempfile::tempdir().expect("tempdir");
    let objects_file = dir.path().join("objects.yaml");
    std::fs::write(&objects_file, &objects_text).expect("write");
    let mut judged = 0;
    let mut refused = 0;
    for binding in &bindings {
        let name = binding["metadata"]["name"]
            .as_str()
            .expect("name")
            .to_string();
        let text = serde_json::to_string(binding).expect("json");
        // Palisade first: its verdicts say which object shows the binding in force.
        let policy_file = dir.path().join(format!("{name}.yaml"));
        std::fs::write(
            &policy_file,
            format!("{policies}---\n{namespaces}---\n{text}\n"),
        )
        .expect("write");
        let offline = palisade_verdicts(&policy_file, &objects_file, &objects, &name);
        cluster.apply(&text);
        let probe = objects
            .iter()
            .find(|o| offline.get(&key(o)).is_some_and(|s| *s != Said::Admitted));
        match probe {
            Some(probe) => settle(cluster, probe, &name, true),
            None => std::thread::sleep(std::time::Duration::from_secs(3)),
        }
        let online = server_verdicts(cluster, &objects, &name);
        for (object, server) in &online {
            let ours = offline.get(object).cloned().unwrap_or(Said::Admitted);
            // Evaluation errors are worded by each engine its own way: the verdict must
            // agree, the words only for the policy's own messages.
            match server {
                Said::Denied(m) if m.contains("resulted in error") => assert!(
                    matches!(ours, Said::Denied(_)),
                    "{name} {object}: the server fails closed ({m}), Palisade says {ours:?}"
                ),
                _ => assert_eq!(&ours, server, "binding {name}, {object}"),
            }
            judged += 1;
            refused += usize::from(*server != Said::Admitted);
        }
        cluster.delete(&format!(
            "/apis/admissionregistration.k8s.io/{version}/validatingadmissionpolicybindings/{name}"
        ));
        if let Some(probe) = probe {
            settle(cluster, probe, &name, false);
        }
    }
    assert_eq!(judged, bindings.len() * objects.len());
    (judged, refused)
}

#[test]
fn offline_verdicts_are_the_api_servers_policy_by_policy() {
    let Some(cluster) = TestCluster::own_with(
        "ValidatingAdmissionPolicy behind kube-apiserver",
        &[
            "--feature-gates=ValidatingAdmissionPolicy=true",
            "--runtime-config=admissionregistration.k8s.io/v1alpha1=true",
        ],
    ) else {
        return;
    };
    let (_, refused) = differential(&cluster, "policies.yaml", "bindings.yaml", "v1alpha1");
    assert!(
        refused >= 10,
        "{refused} refusals: the cases exercise the policies"
    );
}

#[test]
fn the_same_policies_in_v1_give_the_same_answers_on_kubernetes_1_30() {
    let Some(cluster) = TestCluster::own_version("ValidatingAdmissionPolicy v1 on 1.30", 30, &[])
    else {
        return;
    };
    let (_, refused) = differential(&cluster, "policies-v1.yaml", "bindings-v1.yaml", "v1");
    assert!(refused >= 12, "{refused} refusals and warnings");
}

fn scan_json(args: &[&str], files: &[&Path]) -> (Option<i32>, Value) {
    let output = Command::cargo_bin("palisade")
        .expect("binary")
        .args([
            "scan",
            "--no-config",
            "--select",
            "PAL-VAP-001",
            "--format",
            "json",
        ])
        .args(args)
        .args(files)
        .output()
        .expect("runs");
    (
        output.status.code(),
        serde_json::from_slice(&output.stdout).expect("JSON"),
    )
}

#[test]
fn workloads_are_judged_through_their_pods_and_actions_set_the_severity() {
    let dir = tempfile::tempdir().expect("tempdir");
    let policies = dir.path().join("policies.yaml");
    std::fs::write(
        &policies,
        "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicy\nmetadata: {name: repos}\nspec:\n  matchConstraints:\n    resourceRules: [{apiGroups: [\"\"], apiVersions: [v1], operations: [CREATE], resources: [pods]}]\n  variables:\n  - {name: images, expression: \"object.spec.containers.map(c, c.image)\"}\n  validations:\n  - expression: \"variables.images.all(i, i.startsWith('registry.example.com/'))\"\n    messageExpression: \"'images from elsewhere: ' + variables.images.filter(i, !i.startsWith('registry.example.com/')).join(', ')\"\n  auditAnnotations:\n  - {key: images, valueExpression: \"variables.images.join(',')\"}\n  - {key: nothing, valueExpression: \"null\"}\n---\napiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicyBinding\nmetadata: {name: repos-warn}\nspec: {policyName: repos, validationActions: [Warn, Audit]}\n",
    )
    .expect("write");
    let objects = dir.path().join("web.yaml");
    std::fs::write(
        &objects,
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers: [{name: web, image: docker.io/web:1}]\n",
    )
    .expect("write");
    let (code, report) = scan_json(
        &["--policies", policies.to_str().expect("utf-8")],
        &[&objects],
    );
    assert_eq!(code, Some(1));
    let findings = report["findings"].as_array().expect("findings");
    assert_eq!(findings.len(), 2, "{findings:?}");
    let severities: Vec<&str> = findings
        .iter()
        .map(|f| f["severity"].as_str().unwrap_or(""))
        .collect();
    assert!(
        severities.contains(&"medium") && severities.contains(&"low"),
        "{severities:?}"
    );
    for finding in findings {
        let message = finding["message"].as_str().unwrap_or("");
        assert!(
            message.starts_with("the pods of Deployment shop/web"),
            "{message}"
        );
        assert!(
            message.ends_with("images from elsewhere: docker.io/web:1"),
            "{message}"
        );
        assert_eq!(finding["path"], "/spec/template/spec");
        assert_eq!(finding["related"][0]["location"]["line"], 10, "{finding}");
        let admission = &finding["admission"];
        assert_eq!(admission["policy"], "repos", "{finding}");
        assert_eq!(admission["binding"], "repos-warn");
        assert_eq!(admission["validation"], 0);
        assert_eq!(admission["target"], "pod-template");
        assert_eq!(
            admission["auditAnnotations"],
            serde_json::json!({"repos/images": "docker.io/web:1"}),
            "a null value is no annotation"
        );
        let action = admission["action"].as_str().unwrap_or("");
        let severity = finding["severity"].as_str().unwrap_or("");
        assert!(
            matches!((action, severity), ("Warn", "medium") | ("Audit", "low")),
            "{finding}"
        );
    }
}

#[test]
fn the_severity_of_each_action_is_configurable() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("policies.yaml"),
        "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicy\nmetadata: {name: replicas}\nspec:\n  matchConstraints:\n    resourceRules: [{apiGroups: [apps], apiVersions: [v1], operations: [CREATE], resources: [deployments]}]\n  validations: [{expression: \"object.spec.replicas <= 3\", message: at most 3 replicas}]\n---\napiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicyBinding\nmetadata: {name: replicas}\nspec: {policyName: replicas, validationActions: [Deny, Warn]}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\nspec:\n  replicas: 5\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers: [{name: web, image: registry.example.com/web:1}]\n",
    )
    .expect("write");
    std::fs::write(
        dir.path().join(".palisade.yaml"),
        "rules:\n  admission-policy-denies: {deny-severity: critical, warn-severity: low}\n",
    )
    .expect("config");
    let output = Command::cargo_bin("palisade")
        .expect("binary")
        .current_dir(dir.path())
        .args([
            "scan",
            "--select",
            "PAL-VAP-001",
            "--format",
            "json",
            "policies.yaml",
        ])
        .output()
        .expect("runs");
    let report: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let mut said: Vec<(String, String)> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["admission"]["action"].as_str().unwrap_or("").to_string(),
                f["severity"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    said.sort();
    assert_eq!(
        said,
        [
            ("Deny".to_string(), "critical".to_string()),
            ("Warn".to_string(), "low".to_string())
        ]
    );
    std::fs::write(
        dir.path().join(".palisade.yaml"),
        "rules:\n  admission-policy-denies: {deny-severity: severe}\n",
    )
    .expect("config");
    let refused = Command::cargo_bin("palisade")
        .expect("binary")
        .current_dir(dir.path())
        .args(["scan", "policies.yaml"])
        .output()
        .expect("runs");
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("must be a severity"));
}

#[test]
fn broken_policies_are_located_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let policies = dir.path().join("policies.yaml");
    std::fs::write(
        &policies,
        "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicy\nmetadata: {name: broken}\nspec:\n  matchConstraints:\n    resourceRules: [{apiGroups: [\"\"], apiVersions: [v1], operations: [CREATE], resources: [pods]}]\n  validations:\n  - expression: \"object.spec.(\"\n---\napiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicyBinding\nmetadata: {name: orphan}\nspec: {policyName: nowhere, validationActions: [Deny]}\n",
    )
    .expect("write");
    let (code, report) = scan_json(&[], &[&policies]);
    assert_eq!(code, Some(2));
    let errors = report["errors"].as_array().expect("errors");
    let lines: Vec<u64> = errors.iter().filter_map(|e| e["line"].as_u64()).collect();
    assert!(lines.contains(&8), "the expression's line: {errors:?}");
    assert!(lines.contains(&13), "the binding's policyName: {errors:?}");
    assert!(errors.iter().any(|e| e["message"]
        .as_str()
        .is_some_and(|m| m.contains("does not compile"))));
    assert!(errors.iter().any(|e| e["message"]
        .as_str()
        .is_some_and(|m| m.contains("enforces nothing"))));
}

/// CEL libraries by the Kubernetes version that introduced them: what the API server of that
/// version refuses, Palisade refuses for it, at the expression.
#[test]
fn expressions_compile_as_the_target_kubernetes_version_compiles_them() {
    let policy = |name: &str, expression: &str| {
        format!(
            "apiVersion: admissionregistration.k8s.io/v1alpha1\nkind: ValidatingAdmissionPolicy\nmetadata: {{name: {name}}}\nspec:\n  matchConstraints:\n    resourceRules: [{{apiGroups: [\"\"], apiVersions: [v1], operations: [CREATE], resources: [pods]}}]\n  validations:\n  - expression: \"{expression}\"\n"
        )
    };
    let later = [
        (
            "optional",
            "object.?spec.?hostNetwork.orValue(false) == false",
        ),
        ("quantity", "quantity('1Gi').isGreaterThan(quantity('1Mi'))"),
        ("ip", "ip('10.0.0.1').family() == 4"),
    ];
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, expression) in later {
        let file = dir.path().join(format!("{name}.yaml"));
        std::fs::write(&file, policy(name, expression)).expect("write");
        let (code, report) = scan_json(&["--kubernetes-version", "v1.26"], &[&file]);
        assert_eq!(code, Some(2), "{name}: {report}");
        let errors = report["errors"].as_array().expect("errors");
        assert!(
            errors.iter().any(|e| e["line"] == 8
                && e["message"]
                    .as_str()
                    .is_some_and(|m| m.contains("not in 1.26"))),
            "{name}: {errors:?}"
        );
        let (code, report) = scan_json(&[], &[&file]);
        assert_eq!(
            code,
            Some(0),
            "{name} is fine for the newest Kubernetes: {report}"
        );
    }
    // The truth: Kubernetes 1.26 refuses each of them.
    let Some(cluster) = TestCluster::own_with(
        "CEL by Kubernetes version on 1.26",
        &[
            "--feature-gates=ValidatingAdmissionPolicy=true",
            "--runtime-config=admissionregistration.k8s.io/v1alpha1=true",
        ],
    ) else {
        return;
    };
    for (name, expression) in later {
        let object = manifest_objects(&policy(name, expression))
            .expect("policy")
            .remove(0);
        let answer = cluster.post(
            "/apis/admissionregistration.k8s.io/v1alpha1/validatingadmissionpolicies",
            &object,
            true,
        );
        assert_eq!(answer.status, 422, "{name}: {}", answer.body);
    }
    // And admits what 1.26 has.
    let object = manifest_objects(&policy(
        "lists",
        "[1, 2].sum() == 3 && 'a,b'.split(',').size() == 2",
    ))
    .expect("policy")
    .remove(0);
    let answer = cluster.post(
        "/apis/admissionregistration.k8s.io/v1alpha1/validatingadmissionpolicies",
        &object,
        true,
    );
    assert_eq!(answer.status, 201, "{}", answer.body);
}

#[test]
fn a_live_scan_judges_running_objects_against_the_clusters_own_policies() {
    let Some(cluster) = TestCluster::own_with(
        "ValidatingAdmissionPolicy of a live cluster",
        &[
            "--feature-gates=ValidatingAdmissionPolicy=true",
            "--runtime-config=admissionregistration.k8s.io/v1alpha1=true",
        ],
    ) else {
        return;
    };
    // Objects that predate the policy: the API server only judges new requests, Palisade
    // tells which running objects the policy would refuse today.
    cluster.apply(
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop, labels: {team: shop}}\n---\n\
         apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: big, namespace: shop, labels: {team: shop}}\n\
         spec:\n  replicas: 8\n  selector: {matchLabels: {app: big}}\n  template:\n    metadata: {labels: {app: big}}\n    \
         spec:\n      containers: [{name: app, image: registry.example.com/app:1}]\n---\n\
         apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: small, namespace: shop, labels: {team: shop}}\n\
         spec:\n  replicas: 2\n  selector: {matchLabels: {app: small}}\n  template:\n    metadata: {labels: {app: small}}\n    \
         spec:\n      containers: [{name: app, image: registry.example.com/app:1}]\n",
    );
    cluster.apply(&read(&data("policies.yaml")));
    let bindings = manifest_objects(&read(&data("bindings.yaml"))).expect("bindings");
    // One binding without parameters, one with a ConfigMap's (read from the cluster too).
    for name in ["max-replicas", "replicas-from-params"] {
        let binding = bindings
            .iter()
            .find(|b| b["metadata"]["name"] == name)
            .expect("binding");
        cluster.apply(&serde_json::to_string(binding).expect("json"));
    }
    let output = Command::cargo_bin("palisade")
        .expect("binary")
        .args([
            "scan",
            "--cluster",
            "--select",
            "PAL-VAP-001",
            "--format",
            "json",
            "-n",
            "shop",
            "--kubeconfig",
        ])
        .arg(&cluster.kubeconfig)
        .output()
        .expect("runs");
    let report: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert!(
        report["errors"].as_array().is_some_and(|e| e.is_empty()),
        "{}",
        report["errors"]
    );
    let messages: Vec<&str> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["message"].as_str())
        .collect();
    assert_eq!(
        messages,
        [
            "ValidatingAdmissionPolicy max-replicas (binding max-replicas) denies Deployment shop/big: at most 5 replicas",
            "ValidatingAdmissionPolicy replicas-from-params (binding replicas-from-params) denies Deployment shop/big: more replicas than the team's quota",
        ]
    );
    assert_eq!(output.status.code(), Some(1));
}
