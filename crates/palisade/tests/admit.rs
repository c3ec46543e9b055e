//! `palisade admit` behind a real kube-apiserver (palisade-testkit): the API server calls the
//! webhook over HTTPS with the generated CA, and kubectl-level results are checked: denials
//! with Palisade's message, warnings, audit annotations, dry runs, config reload, certificate
//! reload and a graceful stop.

use std::path::Path;
use std::process::{Child, Command, Stdio};

mod common;

use common::binary;
use palisade_testkit::{
    eventually, free_port, https_get, least_privilege, stop_gracefully, TestCluster,
};
use serde_json::{json, Value};

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn certs(dir: &Path) {
    let status = Command::new(binary())
        .args([
            "admit",
            "certs",
            "--host",
            "127.0.0.1",
            "--host",
            "localhost",
            "-o",
        ])
        .arg(dir)
        .status()
        .expect("runs");
    assert!(status.success());
}

/// The webhook process; stopped (SIGKILL) if a test fails before stopping it.
struct Webhook {
    child: Child,
    url: String,
}

impl Drop for Webhook {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

fn wait_ready(url: &str, ca: &str) {
    eventually("the webhook to be ready", 30, || {
        matches!(https_get(&format!("{url}/readyz"), ca), Ok((200, _)))
    });
}

fn start(cluster: &TestCluster, dir: &Path, config: &Path) -> Webhook {
    start_as(&cluster.kubeconfig, dir, config)
}

/// The webhook reading the cluster with `kubeconfig` (its service account's token, say).
fn start_as(kubeconfig: &Path, dir: &Path, config: &Path) -> Webhook {
    start_with(kubeconfig, dir, config, free_port(), &[])
}

/// The webhook on `port`, with `extra` arguments.
fn start_with(kubeconfig: &Path, dir: &Path, config: &Path, port: u16, extra: &[&str]) -> Webhook {
    let child = Command::new(binary())
        .args([
            "admit",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--tls-cert",
        ])
        .arg(dir.join("tls.crt"))
        .arg("--tls-key")
        .arg(dir.join("tls.key"))
        .arg("--config")
        .arg(config)
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(extra)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("webhook.log")).expect("log"))
        .spawn()
        .expect("palisade admit starts");
    let url = format!("https://127.0.0.1:{port}");
    wait_ready(&url, &read(&dir.join("ca.crt")));
    Webhook { child, url }
}

fn base64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Registers the webhook for namespaces that carry a mode label (so the rest of the control
/// plane keeps working whatever the webhook does).
fn register(cluster: &TestCluster, url: &str, ca: &str) {
    cluster.apply(&format!(
        "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingWebhookConfiguration\nmetadata: {{name: palisade}}\n\
         webhooks:\n- name: validate.palisade.dev\n  admissionReviewVersions: [v1]\n  sideEffects: None\n  failurePolicy: Fail\n  \
         matchPolicy: Equivalent\n  timeoutSeconds: 5\n  clientConfig: {{url: \"{url}/validate\", caBundle: \"{}\"}}\n  \
         namespaceSelector: {{matchExpressions: [{{key: palisade.dev/mode, operator: Exists}}]}}\n  rules:\n  \
         - {{apiGroups: [\"\"], apiVersions: [\"*\"], operations: [CREATE, UPDATE], resources: [pods], scope: \"*\"}}\n  \
         - {{apiGroups: [apps], apiVersions: [\"*\"], operations: [CREATE, UPDATE], resources: [deployments], scope: \"*\"}}\n  \
         - {{apiGroups: [rbac.authorization.k8s.io], apiVersions: [\"*\"], operations: [CREATE, UPDATE], resources: [roles, rolebindings, clusterroles, clusterrolebindings], scope: \"*\"}}\n",
        base64(ca.as_bytes())
    ));
}

fn pod(name: &str, privileged: bool, host_network: bool) -> Value {
    let mut pod = json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "labels": {"app": name}},
        "spec": {
            "securityContext": {"runAsNonRoot": true, "runAsUser": 10001, "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [{
                "name": "app", "image": "registry.example.com/shop/app:1.4.2",
                "resources": {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"memory": "128Mi"}},
                "securityContext": {"allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true,
                                    "capabilities": {"drop": ["ALL"]}, "privileged": privileged}
            }]
        }
    });
    if privileged {
        // The API server refuses privileged together with allowPrivilegeEscalation: false.
        pod["spec"]["containers"][0]["securityContext"] = json!({"privileged": true});
    }
    if host_network {
        pod["spec"]["hostNetwork"] = json!(true);
    }
    pod
}

fn create(
    cluster: &TestCluster,
    namespace: &str,
    object: &Value,
    dry_run: bool,
) -> palisade_testkit::Posted {
    cluster.post(
        &format!("/api/v1/namespaces/{namespace}/pods"),
        object,
        dry_run,
    )
}

#[test]
fn the_api_server_enforces_warns_and_audits_through_palisade() {
    let Some(cluster) = TestCluster::own("admission webhook behind kube-apiserver") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    certs(dir.path());
    let config = dir.path().join("palisade.yaml");
    std::fs::write(&config, "fail-on: high\n").expect("config");
    // Before the webhook: a service account that is cluster-admin (the cluster's own business).
    cluster.apply(
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: ci, labels: {palisade.dev/mode: enforce}}\n---\n\
         apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: deployer, namespace: ci}\n---\n\
         apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: ci-deployer-admin}\n\
         roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}\n\
         subjects: [{kind: ServiceAccount, name: deployer, namespace: ci}]\n",
    );
    cluster.apply(
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: prod, labels: {palisade.dev/mode: enforce}}\n---\n\
         apiVersion: v1\nkind: Namespace\nmetadata: {name: dev, labels: {palisade.dev/mode: warn}}\n---\n\
         apiVersion: v1\nkind: Namespace\nmetadata: {name: legacy, labels: {palisade.dev/mode: audit}}\n",
    );
    let webhook = start(&cluster, dir.path(), &config);
    let ca = read(&dir.path().join("ca.crt"));
    register(&cluster, &webhook.url, &ca);

    // enforce: denied with Palisade's message, which names the rule and the field.
    let denied = create(&cluster, "prod", &pod("debug", true, false), false);
    assert_eq!(denied.status, 403, "{}", denied.body);
    assert!(
        denied
            .body
            .contains("admission webhook \\\"validate.palisade.dev\\\" denied the request"),
        "{}",
        denied.body
    );
    assert!(denied.body.contains("PAL-PSS-002 pss-privileged (critical) at /spec/containers/0/securityContext/privileged"), "{}", denied.body);
    // A clean pod is admitted.
    let clean = create(&cluster, "prod", &pod("web", false, false), false);
    assert_eq!(clean.status, 201, "{}", clean.body);
    // A dry run is judged the same, and nothing is stored either way.
    let dry = create(&cluster, "prod", &pod("debug", true, false), true);
    assert_eq!(dry.status, 403, "{}", dry.body);
    assert!(dry.body.contains("PAL-PSS-002"));
    let dry_clean = create(&cluster, "prod", &pod("dry", false, false), true);
    assert_eq!(dry_clean.status, 201, "{}", dry_clean.body);

    // warn: admitted, and the client receives the findings as warnings.
    let warned = create(&cluster, "dev", &pod("debug", true, false), false);
    assert_eq!(warned.status, 201, "{}", warned.body);
    assert!(
        warned.warnings.iter().any(|w| w.contains("PAL-PSS-002")),
        "{:?}",
        warned.warnings
    );

    // audit: admitted, and the API server's audit log carries the findings.
    let audited = create(&cluster, "legacy", &pod("debug", true, false), false);
    assert_eq!(audited.status, 201, "{}", audited.body);
    assert!(audited.warnings.is_empty(), "{:?}", audited.warnings);
    eventually(
        "the audit annotation in the API server's audit log",
        10,
        || {
            read(&cluster.audit_log).lines().any(|l| {
                l.contains("\"validate.palisade.dev/findings\"")
                    && l.contains("PAL-PSS-002")
                    && l.contains("\"legacy\"")
            })
        },
    );

    // RBAC: a binding that lets `dev` run pods in `ci` opens a path to cluster-admin (through
    // the deployer service account's token): denied, and the message shows the path.
    let escalation = cluster.try_apply(
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: dev-edit, namespace: ci}\n\
         roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: edit}\n\
         subjects: [{kind: User, name: dev, apiGroup: rbac.authorization.k8s.io}]\n",
    );
    let refusal = escalation.expect_err("the escalating binding is denied");
    assert!(refusal.contains("validate.palisade.dev"), "{refusal}");
    assert!(
        refusal.contains("PAL-RBAC-015") && refusal.contains("User dev can become cluster-admin"),
        "{refusal}"
    );
    assert!(
        refusal.contains("as ServiceAccount ci/deployer"),
        "{refusal}"
    );
    // A direct cluster-admin grant is denied by the rule that reports it in scans.
    let direct = cluster.try_apply(
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: mallory-admin}\n\
         roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}\n\
         subjects: [{kind: User, name: mallory, apiGroup: rbac.authorization.k8s.io}]\n",
    );
    assert!(direct.expect_err("denied").contains("mallory"));
    // A clean pod that runs as the cluster-admin service account is judged as scan judges it.
    let mut runner = pod("runner", false, false);
    runner["spec"]["serviceAccountName"] = json!("deployer");
    let risky = create(&cluster, "ci", &runner, true);
    assert_eq!(risky.status, 403, "{}", risky.body);
    assert!(
        risky.body.contains("PAL-RBAC-") && risky.body.contains("deployer"),
        "{}",
        risky.body
    );
    // Reading pods in `ci` opens no path: admitted.
    cluster.apply(
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: auditor-view, namespace: ci}\n\
         roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}\n\
         subjects: [{kind: User, name: auditor, apiGroup: rbac.authorization.k8s.io}]\n",
    );

    // Config reload: at fail-on critical, the host network (high) no longer denies.
    let host_network = create(&cluster, "prod", &pod("logs", false, true), true);
    assert_eq!(host_network.status, 403, "{}", host_network.body);
    assert!(
        host_network.body.contains("PAL-PSS-001"),
        "{}",
        host_network.body
    );
    std::fs::write(&config, "fail-on: critical\n").expect("config");
    eventually("the reloaded config to admit the host network", 15, || {
        create(&cluster, "prod", &pod("logs", false, true), true).status == 201
    });

    // Metrics count what happened.
    let (status, metrics) = https_get(&format!("{}/metrics", webhook.url), &ca).expect("metrics");
    assert_eq!(status, 200);
    assert!(
        metrics.contains("palisade_admission_reviews_total{outcome=\"denied\",kind=\"Pod\"}"),
        "{metrics}"
    );
    assert!(
        metrics.contains("palisade_admission_reviews_total{outcome=\"warned\",kind=\"Pod\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("palisade_admission_reviews_total{outcome=\"audited\",kind=\"Pod\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("palisade_reloads_total{file=\"config\"} 1"),
        "{metrics}"
    );
    stop(webhook);
}

#[test]
fn the_webhook_as_deployed_judges_ephemeral_containers_and_uses_only_its_role() {
    let Some(cluster) = TestCluster::own("the webhook with its own role") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    certs(dir.path());
    let config = dir.path().join("palisade.yaml");
    std::fs::write(&config, "fail-on: high\n").expect("config");
    // Its manifests as shipped, but the webhook registration (which points at a Service that
    // cannot run without a kubelet): the ServiceAccount and its role are what it runs with.
    let manifests = Command::new(binary())
        .args(["admit", "manifests"])
        .output()
        .expect("runs");
    let manifests = String::from_utf8_lossy(&manifests.stdout).into_owned();
    let installable: Vec<&str> = manifests
        .split("\n---\n")
        .filter(|doc| !doc.contains("kind: ValidatingWebhookConfiguration"))
        .collect();
    cluster.apply(&installable.join("\n---\n"));
    cluster.apply(
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: tenant}\n---\n\
         apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: builder, namespace: tenant}\n",
    );
    let ca = read(&dir.path().join("ca.crt"));
    // Registered as the manifests register it, at Ignore, with the rules they ship, for the
    // tenant namespace only; the webhook arms it once ready.
    let rules: String = palisade_admit::manifests::JUDGED
        .iter()
        .map(|(group, resources)| {
            format!(
                "  - {{apiGroups: [\"{group}\"], apiVersions: [\"*\"], operations: [CREATE, UPDATE], resources: [{}], scope: \"*\"}}\n",
                resources.join(", ")
            )
        })
        .collect();
    let port = free_port();
    cluster.apply(&format!(
        "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingWebhookConfiguration\nmetadata: {{name: palisade}}\n\
         webhooks:\n- name: validate.palisade.dev\n  admissionReviewVersions: [v1]\n  sideEffects: None\n  failurePolicy: Ignore\n  \
         matchPolicy: Equivalent\n  timeoutSeconds: 5\n  clientConfig: {{url: \"https://127.0.0.1:{port}/validate\", caBundle: \"{}\"}}\n  \
         namespaceSelector: {{matchLabels: {{kubernetes.io/metadata.name: tenant}}}}\n  rules:\n{rules}",
        base64(ca.as_bytes())
    ));
    let token = cluster.token("palisade-system", "palisade-admit");
    let kubeconfig = cluster.kubeconfig_with_token("palisade-admit", &token);
    let webhook = start_with(
        &kubeconfig,
        dir.path(),
        &config,
        port,
        &["--arm-webhook", "palisade"],
    );
    let failure_policy = || {
        cluster
            .get("/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/palisade")
            .map(|c| c["webhooks"][0]["failurePolicy"].clone())
    };
    eventually("the ready webhook to arm its registration", 20, || {
        failure_policy() == Some(json!("Fail"))
    });

    // A hardened pod is admitted; a privileged debug container added to it later, through the
    // subresource `kubectl debug` uses, is judged and denied.
    let created = create(&cluster, "tenant", &pod("web", false, false), false);
    assert_eq!(created.status, 201, "{}", created.body);
    let debug = json!({"spec": {"ephemeralContainers": [{
        "name": "debugger", "image": "registry.example.com/tools/shell:1",
        "securityContext": {"privileged": true}
    }]}});
    let status = cluster.request_as(
        &cluster.admin_token(),
        "PATCH",
        "/api/v1/namespaces/tenant/pods/web/ephemeralcontainers",
        Some(&debug),
    );
    assert_eq!(status, 403, "a privileged ephemeral container is denied");
    let stored = cluster
        .get("/api/v1/namespaces/tenant/pods/web")
        .expect("the pod");
    assert!(stored["spec"]["ephemeralContainers"].is_null(), "{stored}");

    // A tenant's own annotation exempts nothing at admission.
    let mut exempt = pod("exempt", true, false);
    exempt["metadata"]["annotations"] = json!({
        "palisade.dev/ignore": "PAL-PSS-002,PAL-PSS-014,PAL-PSS-015,PAL-PSS-017,PAL-PSS-018,PAL-WL-001",
        "palisade.dev/ignore-reason": "trust me"
    });
    let refused = create(&cluster, "tenant", &exempt, true);
    assert_eq!(refused.status, 403, "{}", refused.body);

    // Its role, compared with what it asked the API server for (the audit log): nothing
    // granted that it did not use, nothing it asked for refused.
    let granted = least_privilege::granted(&manifests, &["palisade-admit"]);
    assert!(!granted.is_empty());
    let user = "system:serviceaccount:palisade-system:palisade-admit";
    let mut requests = least_privilege::requests_of(&cluster.audit_log, user);
    for _ in 0..50 {
        if least_privilege::unused(&granted, &requests).is_empty() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
        requests = least_privilege::requests_of(&cluster.audit_log, user);
    }
    assert_eq!(
        least_privilege::unused(&granted, &requests),
        [],
        "granted, never used"
    );
    assert_eq!(
        least_privilege::ungranted(&granted, &requests),
        [],
        "asked, not granted"
    );
    stop(webhook);
}

/// Installed as `admit manifests` prints it, with no webhook pod able to run (no kubelet here,
/// as with a missing certificate or an image that cannot be pulled): the cluster's writes go
/// through. Armed with nothing behind it, they are refused; deleting the registration, as the
/// README's "Recovering" says, lets them through again.
#[test]
fn installing_as_printed_never_locks_the_cluster_out() {
    let Some(cluster) = TestCluster::own("installing the webhook with no pod to answer") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    certs(dir.path());
    let manifests = manifests_with_ca(dir.path());
    cluster.apply(&manifests);
    let settings = |name: &str| {
        json!({"apiVersion": "v1", "kind": "ConfigMap",
               "metadata": {"name": name, "namespace": "default"},
               "data": {"LOG_LEVEL": "info"}})
    };
    let created = cluster.post(
        "/api/v1/namespaces/default/configmaps",
        &settings("checkout-settings"),
        false,
    );
    assert_eq!(created.status, 201, "{}", created.body);

    cluster.apply(&manifests.replace("failurePolicy: Ignore", "failurePolicy: Fail"));
    let mut refused = None;
    eventually("the armed registration to reach the API server", 15, || {
        let answer = cluster.post(
            "/api/v1/namespaces/default/configmaps",
            &settings("cart-settings"),
            true,
        );
        let locked = answer.status >= 400;
        refused = Some(answer);
        locked
    });
    let refused = refused.expect("an answer");
    assert!(
        refused.body.contains("failed calling webhook"),
        "{}",
        refused.body
    );

    cluster
        .delete("/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/palisade");
    eventually(
        "writes to go through once the registration is deleted",
        15,
        || {
            cluster
                .post(
                    "/api/v1/namespaces/default/configmaps",
                    &settings("cart-settings"),
                    false,
                )
                .status
                == 201
        },
    );
}

/// `admit manifests` with the CA in `dir` as the webhook's caBundle.
fn manifests_with_ca(dir: &Path) -> String {
    let manifests = Command::new(binary())
        .args(["admit", "manifests", "--ca-bundle"])
        .arg(dir.join("ca.crt"))
        .output()
        .expect("runs");
    assert!(manifests.status.success());
    String::from_utf8_lossy(&manifests.stdout).into_owned()
}

/// SIGTERM: the process drains and exits 0.
fn stop(mut webhook: Webhook) {
    stop_gracefully(&mut webhook.child, "the webhook");
}

#[test]
fn a_new_certificate_is_served_without_a_restart() {
    let Some(cluster) = TestCluster::own("admission certificate reload") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    certs(dir.path());
    let config = dir.path().join("palisade.yaml");
    std::fs::write(&config, "fail-on: high\n").expect("config");
    let webhook = start(&cluster, dir.path(), &config);
    let old_ca = read(&dir.path().join("ca.crt"));
    let renewed = tempfile::tempdir().expect("tempdir");
    certs(renewed.path());
    let new_ca = read(&renewed.path().join("ca.crt"));
    assert!(https_get(&format!("{}/healthz", webhook.url), &new_ca).is_err());
    for file in ["tls.crt", "tls.key"] {
        std::fs::copy(renewed.path().join(file), dir.path().join(file)).expect("copy");
    }
    eventually("the new certificate to be served", 15, || {
        matches!(
            https_get(&format!("{}/healthz", webhook.url), &new_ca),
            Ok((200, _))
        )
    });

    assert!(https_get(&format!("{}/healthz", webhook.url), &old_ca).is_err());
    stop(webhook);
}

#[test]
fn the_install_manifests_pass_their_own_scan_at_high() {
    let dir = tempfile::tempdir().expect("tempdir");
    certs(dir.path());
    let text = manifests_with_ca(dir.path());
    for kind in [
        "kind: Namespace",
        "kind: ServiceAccount",
        "kind: ClusterRole",
        "kind: ClusterRoleBinding",
        "kind: Deployment",
        "kind: Service",
        "kind: NetworkPolicy",
        "kind: PodDisruptionBudget",
        "kind: PriorityClass",
        "kind: ConfigMap",
        "kind: ValidatingWebhookConfiguration",
    ] {
        assert!(text.contains(kind), "{kind} missing");
    }
    for setting in [
        "failurePolicy: Ignore",
        "--arm-webhook, palisade",
        "--config, /config/palisade.yaml",
        "sideEffects: None",
        "timeoutSeconds: 5",
        "matchPolicy: Equivalent",
        "replicas: 2",
        "caBundle: ",
    ] {
        assert!(text.contains(setting), "{setting} missing");
    }
    let file = dir.path().join("install.yaml");
    std::fs::write(&file, &text).expect("write");
    let report = common::assert_clean_at_high(&file);
    assert_eq!(
        report["summary"]["objects"], 12,
        "with the PriorityClass and the ConfigMap"
    );
}
