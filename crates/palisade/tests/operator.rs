//! `palisade operator` against a real kube-apiserver (palisade-testkit): results appear and
//! disappear with the objects, within 10 s; namespaces take their reports with them; an RBAC
//! change that opens an escalation path adds a result; a restart rewrites nothing; of two
//! replicas one writes. The manifests pass their own scan.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

mod common;

use common::binary;
use palisade_testkit::{
    eventually, free_port, least_privilege, metric, stop_gracefully, TestCluster,
};
use serde_json::Value;

struct Operator {
    child: Child,
    port: u16,
}

impl Drop for Operator {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

impl Operator {
    /// Runs as the operator's own ServiceAccount, with only the RBAC its manifests grant.
    fn start(kubeconfig: &std::path::Path, identity: &str, log: &std::path::Path) -> Operator {
        Operator::start_with(kubeconfig, identity, log, &[])
    }

    fn start_with(
        kubeconfig: &std::path::Path,
        identity: &str,
        log: &std::path::Path,
        extra: &[&std::ffi::OsStr],
    ) -> Operator {
        let port = free_port();
        let child = Command::new(binary())
            .args([
                "operator",
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--identity",
                identity,
            ])
            .args(["--lease-namespace", "palisade-system", "--kubeconfig"])
            .arg(kubeconfig)
            .args(extra)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(log).expect("log"))
            .spawn()
            .expect("palisade operator starts");
        Operator { child, port }
    }

    /// One value of its /metrics, once it answers.
    fn metric(&self, name: &str) -> Option<f64> {
        metric(self.port, name)
    }

    fn wait_evaluated(&self) {
        eventually("the first evaluation", 30, || {
            self.metric("palisade_operator_evaluations_total")
                .unwrap_or(0.0)
                >= 1.0
        });
    }

    fn stop(mut self) {
        stop_gracefully(&mut self.child, "the operator");
    }
}

/// The results of the namespace's report about `name` for `rule`.
fn results(cluster: &TestCluster, namespace: &str, rule: &str, name: &str) -> Vec<Value> {
    let Some(report) = cluster.get(&format!(
        "/apis/wgpolicyk8s.io/v1alpha2/namespaces/{namespace}/policyreports/palisade"
    )) else {
        return Vec::new();
    };
    report["results"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| r["policy"] == rule && r["resources"][0]["name"] == name)
        .cloned()
        .collect()
}

fn daemonset(privileged: bool) -> String {
    format!(
        "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {{name: log-agent, namespace: web}}\n\
         spec:\n  selector: {{matchLabels: {{app: log-agent}}}}\n  template:\n    metadata: {{labels: {{app: log-agent}}}}\n    \
         spec:\n      containers:\n      - name: agent\n        image: registry.example.com/infra/log-agent:3.1.0\n        \
         securityContext: {{privileged: {privileged}}}\n"
    )
}

/// Whether the server serves `resource` of `group` in some version (a group can be served
/// without all its resources: ValidatingAdmissionPolicy is off in 1.26 by default).
fn serves(cluster: &TestCluster, group: &str, resource: &str) -> bool {
    if group.is_empty() {
        return true;
    }
    let Some(versions) = cluster.get(&format!("/apis/{group}")) else {
        return false;
    };
    versions["versions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v["groupVersion"].as_str())
        .any(|group_version| {
            cluster
                .get(&format!("/apis/{group_version}"))
                .is_some_and(|list| {
                    list["resources"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .any(|r| r["name"] == resource)
                })
        })
}

/// The operator as installed, running as its own ServiceAccount.
fn install_and_start(cluster: &TestCluster, dir: &std::path::Path, identity: &str) -> Operator {
    install(cluster);
    Operator::start(
        &kubeconfig_of_operator(cluster),
        identity,
        &dir.join(format!("{identity}.log")),
    )
}

/// The install manifests, applied as printed (the API server accepts the CRDs' schemas and
/// the RBAC); returned as applied.
fn install(cluster: &TestCluster) -> String {
    let manifests = Command::new(binary())
        .args(["operator", "manifests"])
        .output()
        .expect("runs");
    let manifests = String::from_utf8_lossy(&manifests.stdout).into_owned();
    cluster.apply(&manifests);
    manifests
}

/// A kubeconfig with the operator's ServiceAccount token: only the RBAC its manifests grant.
fn kubeconfig_of_operator(cluster: &TestCluster) -> std::path::PathBuf {
    let token = cluster.token("palisade-system", "palisade-operator");
    cluster.kubeconfig_with_token("palisade-operator", &token)
}

#[test]
fn the_clusters_admission_policies_are_judged_in_the_reports() {
    let Some(cluster) =
        TestCluster::own_version("operator and admission policies on 1.30", 30, &[])
    else {
        return;
    };
    cluster.apply(
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop, labels: {team: shop}}\n---\n\
         apiVersion: v1\nkind: ConfigMap\nmetadata: {name: replica-limit, namespace: default}\ndata: {max: \"3\"}\n---\n\
         apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\nspec:\n  replicas: 5\n  \
         selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      \
         containers: [{name: web, image: docker.io/shop/web:1.4.2}]\n",
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let operator = install_and_start(&cluster, dir.path(), "one");
    operator.wait_evaluated();
    // Policies that arrive later are judged against what already runs: the API server only
    // judges new requests.
    cluster.apply(
        "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicy\nmetadata: {name: replica-limit}\nspec:\n  \
         paramKind: {apiVersion: v1, kind: ConfigMap}\n  matchConstraints:\n    resourceRules:\n    \
         - {apiGroups: [apps], apiVersions: [v1], operations: [CREATE, UPDATE], resources: [deployments]}\n  validations:\n  \
         - expression: \"object.spec.replicas <= int(params.data.max)\"\n    \
         messageExpression: \"'at most ' + params.data.max + ' replicas'\"\n---\n\
         apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicyBinding\nmetadata: {name: replica-limit-shop}\nspec:\n  \
         policyName: replica-limit\n  validationActions: [Warn]\n  paramRef: {name: replica-limit, namespace: default, parameterNotFoundAction: Deny}\n  \
         matchResources: {namespaceSelector: {matchLabels: {team: shop}}}\n---\n\
         apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicy\nmetadata: {name: allowed-repos}\nspec:\n  \
         matchConstraints:\n    resourceRules:\n    - {apiGroups: [\"\"], apiVersions: [v1], operations: [CREATE], resources: [pods]}\n  \
         validations:\n  - expression: \"object.spec.containers.all(c, c.image.startsWith('registry.example.com/'))\"\n    \
         message: images come from registry.example.com\n---\n\
         apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicyBinding\nmetadata: {name: allowed-repos}\nspec:\n  \
         policyName: allowed-repos\n  validationActions: [Deny]\n",
    );
    eventually("the admission policies' results", 15, || {
        results(&cluster, "shop", "PAL-VAP-001", "web").len() == 2
    });
    let found = results(&cluster, "shop", "PAL-VAP-001", "web");
    let by_policy = |policy: &str| {
        found
            .iter()
            .find(|r| r["properties"]["admissionPolicy"] == policy)
            .unwrap_or_else(|| panic!("{policy}: {found:?}"))
            .clone()
    };
    let replicas = by_policy("replica-limit");
    assert_eq!(replicas["severity"], "medium");
    assert_eq!(replicas["properties"]["admissionAction"], "Warn");
    assert_eq!(
        replicas["properties"]["admissionBinding"],
        "replica-limit-shop"
    );
    assert_eq!(replicas["properties"]["admissionTarget"], "object");
    assert!(
        replicas["message"]
            .as_str()
            .is_some_and(|m| m.ends_with(": at most 3 replicas")),
        "{replicas}"
    );
    let repos = by_policy("allowed-repos");
    assert_eq!(repos["severity"], "high");
    assert_eq!(repos["properties"]["admissionTarget"], "pod-template");
    assert!(
        repos["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("the pods of Deployment shop/web")),
        "{repos}"
    );

    // A parameter changes: the verdict follows.
    cluster.apply(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: replica-limit, namespace: default}\ndata: {max: \"10\"}\n",
    );
    eventually("the replica result to go", 15, || {
        results(&cluster, "shop", "PAL-VAP-001", "web").len() == 1
    });
    // The binding goes: so do its results.
    cluster.delete(
        "/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicybindings/allowed-repos",
    );
    eventually("the repository result to go", 15, || {
        results(&cluster, "shop", "PAL-VAP-001", "web").is_empty()
    });
    operator.stop();
}

/// The config comes from a ConfigMap the kubelet updates under the pod: an edit reaches the
/// running operator, and its reports follow, without a restart.
#[test]
fn a_config_change_reaches_the_running_operator() {
    let Some(cluster) = TestCluster::own("operator config reload") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("palisade.yaml");
    std::fs::write(&config, "fail-on: high\n").expect("config");
    install(&cluster);
    cluster.apply("apiVersion: v1\nkind: Namespace\nmetadata: {name: web}\n");
    cluster.apply(&daemonset(true));
    let kubeconfig = kubeconfig_of_operator(&cluster);
    let operator = Operator::start_with(
        &kubeconfig,
        "one",
        &dir.path().join("operator.log"),
        &["--config".as_ref(), config.as_os_str()],
    );
    eventually("the privileged result", 20, || {
        results(&cluster, "web", "PAL-PSS-002", "log-agent")
            .first()
            .is_some_and(|r| r["result"] == "fail")
    });
    assert_eq!(
        operator.metric("palisade_operator_config_reloads_total"),
        Some(0.0)
    );

    std::fs::write(
        &config,
        "fail-on: high\nexceptions:\n- rules: [PAL-PSS-002]\n  namespace: web\n  reason: the log agent reads the node's journal\n",
    )
    .expect("config");
    // Excepted: still listed, as skipped, with the reason (as a scan lists it suppressed).
    let skipped = || {
        results(&cluster, "web", "PAL-PSS-002", "log-agent")
            .first()
            .is_some_and(|r| r["result"] == "skip")
    };
    eventually("the excepted result to be skipped", 20, skipped);
    let result = results(&cluster, "web", "PAL-PSS-002", "log-agent");
    assert!(
        result[0]["properties"]["suppressed"]
            .as_str()
            .is_some_and(|reason| reason.contains("journal")),
        "{result:?}"
    );
    assert_eq!(
        operator.metric("palisade_operator_config_reloads_total"),
        Some(1.0)
    );

    // A broken edit keeps the config in force.
    std::fs::write(&config, "exceptions: [\n").expect("config");
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(
        operator.metric("palisade_operator_config_reloads_total"),
        Some(1.0)
    );
    assert!(skipped());
    let log = std::fs::read_to_string(dir.path().join("operator.log")).expect("log");
    assert!(log.contains("keeping the old config"), "{log}");
    operator.stop();
}

#[test]
fn reports_follow_the_cluster() {
    let Some(cluster) = TestCluster::own("operator behind kube-apiserver") else {
        return;
    };
    let manifests = install(&cluster);
    cluster.apply("apiVersion: v1\nkind: Namespace\nmetadata: {name: web}\n");
    let kubeconfig = kubeconfig_of_operator(&cluster);
    let dir = tempfile::tempdir().expect("tempdir");
    let operator = Operator::start(&kubeconfig, "one", &dir.path().join("one.log"));
    operator.wait_evaluated();

    // A privileged DaemonSet: a fail result for the privileged rule, pointing at it.
    cluster.apply(&daemonset(true));
    eventually("the privileged result", 10, || {
        !results(&cluster, "web", "PAL-PSS-002", "log-agent").is_empty()
    });
    let result = &results(&cluster, "web", "PAL-PSS-002", "log-agent")[0];
    assert_eq!(result["result"], "fail");
    assert_eq!(result["severity"], "critical");
    assert_eq!(result["rule"], "pss-privileged");
    assert_eq!(result["resources"][0]["kind"], "DaemonSet");
    assert_eq!(
        result["properties"]["path"],
        "/spec/template/spec/containers/0/securityContext/privileged"
    );
    assert!(result["properties"]["controls"]
        .as_str()
        .is_some_and(|c| c.contains("CIS-5.2.2")));

    // Fixed: the result goes.
    cluster.apply(&daemonset(false));
    eventually("the fixed result to go", 10, || {
        results(&cluster, "web", "PAL-PSS-002", "log-agent").is_empty()
    });

    // An RBAC change that opens an escalation path adds a result.
    cluster.apply(
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: ci}\n---\n\
         apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: deployer, namespace: ci}\n---\n\
         apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: ci-deployer-admin}\n\
         roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}\n\
         subjects: [{kind: ServiceAccount, name: deployer, namespace: ci}]\n---\n\
         apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: dev-edit, namespace: ci}\n\
         roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: edit}\n\
         subjects: [{kind: User, name: dev, apiGroup: rbac.authorization.k8s.io}]\n",
    );
    eventually("the escalation path result", 10, || {
        results(&cluster, "ci", "PAL-RBAC-015", "dev-edit")
            .iter()
            .any(|r| {
                r["message"]
                    .as_str()
                    .is_some_and(|m| m.contains("User dev can become cluster-admin"))
            })
    });

    // A restart rewrites nothing that did not change.
    let writes_before = operator
        .metric("palisade_operator_report_writes_total")
        .unwrap_or(0.0);
    assert!(writes_before >= 3.0, "{writes_before}");
    operator.stop();
    let restarted = Operator::start(&kubeconfig, "one", &dir.path().join("restarted.log"));
    restarted.wait_evaluated();
    eventually("leading again", 10, || {
        restarted.metric("palisade_operator_leader") == Some(1.0)
    });
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(
        restarted.metric("palisade_operator_report_writes_total"),
        Some(0.0)
    );

    // Two replicas: one leads and writes.
    let second = Operator::start(&kubeconfig, "two", &dir.path().join("two.log"));
    second.wait_evaluated();
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(restarted.metric("palisade_operator_leader"), Some(1.0));
    assert_eq!(second.metric("palisade_operator_leader"), Some(0.0));
    cluster.apply(&daemonset(true));
    eventually("the privileged result again", 10, || {
        !results(&cluster, "web", "PAL-PSS-002", "log-agent").is_empty()
    });
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(
        second.metric("palisade_operator_report_writes_total"),
        Some(0.0)
    );
    assert!(
        restarted
            .metric("palisade_operator_report_writes_total")
            .unwrap_or(0.0)
            >= 1.0
    );

    // Deleting a namespace removes its reports.
    cluster.delete("/api/v1/namespaces/web");
    eventually("the namespace's report to go", 30, || {
        cluster
            .get("/apis/wgpolicyk8s.io/v1alpha2/namespaces/web/policyreports/palisade")
            .is_none()
    });
    // The leader that stops hands over at once.
    restarted.stop();
    eventually("the second replica to lead", 10, || {
        second.metric("palisade_operator_leader") == Some(1.0)
    });
    second.stop();

    // Every permission the manifests grant was used, as the API server's audit log shows,
    // and nothing it asked for was refused.
    let granted = least_privilege::granted(
        &manifests,
        &[
            "palisade-operator-read",
            "palisade-operator-reports",
            "palisade-operator-lease",
        ],
    );
    let user = "system:serviceaccount:palisade-system:palisade-operator";
    // The API server writes its audit log in batches: read until it holds everything, or 10 s.
    let mut requests = least_privilege::requests_of(&cluster.audit_log, user);
    for _ in 0..50 {
        if least_privilege::unused(&granted, &requests).is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
        requests = least_privilege::requests_of(&cluster.audit_log, user);
    }
    // Grants this cluster cannot exercise: kinds of groups it does not serve (Cilium, Istio,
    // AdminNetworkPolicy: read where installed), and deleting a report, which happens only
    // when a namespace has no finding left (every namespace here has some).
    let unused: Vec<_> = least_privilege::unused(&granted, &requests)
        .into_iter()
        .filter(|(verb, group, resource, _)| {
            serves(&cluster, group, resource)
                && !(verb == "delete"
                    && group == "wgpolicyk8s.io"
                    && resource.ends_with("policyreports"))
        })
        .collect();
    assert_eq!(unused, [], "granted, never used");
    // Secrets are asked for and refused: the operator says so and goes on (the manifests tell
    // how to grant them); nothing else is refused.
    let refused: Vec<_> = least_privilege::ungranted(&granted, &requests)
        .into_iter()
        .filter(|(_, group, resource, _)| !(group.is_empty() && resource == "secrets"))
        .collect();
    assert_eq!(refused, [], "asked, not granted");
}

#[test]
fn the_operator_manifests_pass_their_own_scan_at_high() {
    let manifests = Command::new(binary())
        .args(["operator", "manifests"])
        .output()
        .expect("runs");
    assert!(manifests.status.success());
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("operator.yaml");
    std::fs::write(&file, &manifests.stdout).expect("write");
    let report = common::assert_clean_at_high(&file);
    assert_eq!(report["summary"]["objects"], 15, "with the ConfigMap");
}

#[test]
fn the_lease_is_renewed_while_an_evaluation_holds_the_thread() {
    let Some(cluster) = TestCluster::own("lease renewal behind kube-apiserver") else {
        return;
    };
    cluster.apply("apiVersion: v1\nkind: Namespace\nmetadata: {name: palisade-system}\n");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let client = cluster.client();
    let renew_time = || {
        cluster
            .get("/apis/coordination.k8s.io/v1/namespaces/palisade-system/leases/palisade-operator")
            .and_then(|l| l["spec"]["renewTime"].as_str().map(str::to_string))
    };
    runtime.block_on(async {
        let elector = palisade_operator::lease::Elector::new(
            client,
            "palisade-system",
            "palisade-operator",
            "one",
        );
        let renewal = palisade_operator::lease::Renewal::start(
            elector,
            Duration::from_millis(500),
            Box::new(|_| {}),
        );
        let mut leading = renewal.leading.clone();
        tokio::time::timeout(Duration::from_secs(10), leading.wait_for(|l| *l))
            .await
            .expect("leads within 10 s")
            .expect("leads");
        // An evaluation that holds its thread for 4 s (the operator runs them like this).
        let seen = tokio::task::block_in_place(|| {
            let mut seen = std::collections::BTreeSet::new();
            for _ in 0..8 {
                std::thread::sleep(Duration::from_millis(500));
                seen.extend(renew_time());
            }
            seen
        });
        assert!(
            seen.len() >= 4,
            "renewed while the evaluation ran: {seen:?}"
        );
        assert!(*renewal.leading.borrow());
        renewal.stop().await;
    });
    let holder = cluster
        .get("/apis/coordination.k8s.io/v1/namespaces/palisade-system/leases/palisade-operator")
        .and_then(|l| l["spec"]["holderIdentity"].as_str().map(str::to_string));
    assert_eq!(holder.as_deref(), Some(""), "given up on stop");
}

/// Attack paths in the cluster's reports: the operator runs the same engine, so the exposed
/// web front that leads to cluster-admin is a result of the storefront namespace's report,
/// and goes when the token is no longer mounted.
#[test]
fn attack_paths_are_published_and_follow_the_cluster() {
    let Some(cluster) = TestCluster::own("operator and attack paths") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    cluster
        .apply_dir(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/paths"));
    let operator = install_and_start(&cluster, dir.path(), "one");
    eventually("the attack path's result", 30, || {
        results(&cluster, "storefront", "PAL-PATH-001", "web")
            .first()
            .is_some_and(|r| r["result"] == "fail" && r["severity"] == "critical")
    });
    let result = results(&cluster, "storefront", "PAL-PATH-001", "web");
    assert!(
        result[0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("the internet reaches cluster-admin")),
        "{result:?}"
    );
    // The web account's token no longer mounted: the path, and its result, go.
    cluster.apply(
        "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: web, namespace: storefront}\nautomountServiceAccountToken: false\n",
    );
    eventually("the result to go", 30, || {
        results(&cluster, "storefront", "PAL-PATH-001", "web").is_empty()
    });
    operator.stop();
}

/// How long a component stays down in the restart test: long enough for every watch to fail
/// and back off a few times.
const OUTAGE: Duration = Duration::from_secs(10);

/// Kills `component` of the control plane, keeps it down for [`OUTAGE`], brings it back:
/// when it was back.
fn outage(cluster: &TestCluster, component: &str) -> std::time::Instant {
    cluster.take_down(component);
    std::thread::sleep(OUTAGE);
    cluster.bring_up(component);
    std::time::Instant::now()
}

/// A FlowSchema that puts the operator's ServiceAccount and a noisy neighbour's in a priority
/// level of the fewest seats (one share) that rejects (429) what it cannot seat at once.
const STARVED: &str = "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: noisy, namespace: palisade-system}\n---\n\
apiVersion: flowcontrol.apiserver.k8s.io/v1beta3\nkind: PriorityLevelConfiguration\n\
metadata: {name: palisade-starved}\nspec:\n  type: Limited\n  limited:\n    nominalConcurrencyShares: 1\n    \
limitResponse: {type: Reject}\n---\napiVersion: flowcontrol.apiserver.k8s.io/v1beta3\nkind: FlowSchema\n\
metadata: {name: palisade-operator}\nspec:\n  priorityLevelConfiguration: {name: palisade-starved}\n  \
matchingPrecedence: 100\n  distinguisherMethod: {type: ByUser}\n  rules:\n  - subjects:\n    - kind: ServiceAccount\n      \
serviceAccount: {name: palisade-operator, namespace: palisade-system}\n    - kind: ServiceAccount\n      \
serviceAccount: {name: noisy, namespace: palisade-system}\n    resourceRules:\n    - {verbs: [\"*\"], apiGroups: [\"*\"], \
resources: [\"*\"], namespaces: [\"*\"], clusterScope: true}\n    nonResourceRules:\n    - {verbs: [\"*\"], nonResourceURLs: [\"*\"]}\n";

#[test]
fn throttled_by_priority_and_fairness_it_backs_off_and_converges() {
    // Fifteen seats in all, so the operator's level has one.
    let Some(cluster) = TestCluster::own_with(
        "operator throttled by API Priority and Fairness",
        &[
            "--max-requests-inflight=10",
            "--max-mutating-requests-inflight=5",
        ],
    ) else {
        return;
    };
    install(&cluster);
    cluster.apply(STARVED);
    cluster.apply("apiVersion: v1\nkind: Namespace\nmetadata: {name: web}\n");
    cluster.apply(&daemonset(true));
    let noisy = cluster.token("palisade-system", "noisy");
    let kubeconfig = kubeconfig_of_operator(&cluster);
    let dir = tempfile::tempdir().expect("tempdir");
    // The operator starts while a neighbour of its priority level keeps the level's seat busy.
    let (operator, (flood_served, flood_refused)) = std::thread::scope(|scope| {
        let flood =
            scope.spawn(|| cluster.flood_as(&noisy, "/openapi/v2", 16, Duration::from_secs(10)));
        let operator = Operator::start(&kubeconfig, "one", &dir.path().join("one.log"));
        (operator, flood.join().expect("the flood"))
    });
    eventually("the privileged result once the flood ends", 60, || {
        !results(&cluster, "web", "PAL-PSS-002", "log-agent").is_empty()
    });
    let (requests, throttled) = cluster.audited_requests(
        "system:serviceaccount:palisade-system:palisade-operator",
        429,
    );
    eprintln!(
        "throttled: the neighbour was served {flood_served} and refused {flood_refused}; the operator sent {requests} requests, {throttled} refused with 429"
    );
    // The level was full, and the operator was refused for real...
    assert!(flood_refused > 0, "the neighbour filled nothing");
    assert!(throttled > 0, "the operator was never throttled");
    // ...and backed off: a few tries per kind it lists, not a retry storm (the neighbour,
    // which does not back off, sends thousands in the same time).
    assert!(
        throttled * 5 < flood_refused,
        "{throttled} of the operator's requests refused, against {flood_refused} of a caller that never backs off"
    );
    operator.stop();
}

#[test]
fn reports_converge_after_the_api_server_and_etcd_come_back() {
    let Some(cluster) = TestCluster::own("operator across API server and etcd restarts") else {
        return;
    };
    cluster.apply("apiVersion: v1\nkind: Namespace\nmetadata: {name: web}\n");
    let dir = tempfile::tempdir().expect("tempdir");
    let operator = install_and_start(&cluster, dir.path(), "one");
    operator.wait_evaluated();
    cluster.apply(&daemonset(true));
    eventually("the privileged result", 10, || {
        !results(&cluster, "web", "PAL-PSS-002", "log-agent").is_empty()
    });

    // The API server crashes and comes back after the outage; a fix made the moment it is
    // back shows within 10 s. Its watches cannot resume where they were (410 Gone): every
    // kind lists again, and what did not change is not written again: the fix is one write.
    eventually("the report written", 10, || {
        operator.metric("palisade_operator_synced") == Some(1.0)
    });
    let writes = operator
        .metric("palisade_operator_report_writes_total")
        .unwrap_or(0.0);
    let relists = operator
        .metric("palisade_operator_relists_total")
        .unwrap_or(0.0);
    let back = outage(&cluster, "apiserver");
    cluster.apply(&daemonset(false));
    // The report is read back (a CRD's objects are served a moment after the server is
    // ready; a missing report is no fix) without the result.
    eventually("the fix to show after the API server's restart", 10, || {
        cluster
            .get("/apis/wgpolicyk8s.io/v1alpha2/namespaces/web/policyreports/palisade")
            .is_some()
            && results(&cluster, "web", "PAL-PSS-002", "log-agent").is_empty()
    });
    eprintln!(
        "API server restart: the fix showed {:?} after it was back",
        back.elapsed()
    );
    assert!(
        operator
            .metric("palisade_operator_relists_total")
            .unwrap_or(0.0)
            > relists,
        "the watches listed again"
    );
    eventually("the operator synced", 10, || {
        operator.metric("palisade_operator_synced") == Some(1.0)
    });
    assert_eq!(
        operator.metric("palisade_operator_report_writes_total"),
        Some(writes + 1.0),
        "the fix is one write; the relist wrote nothing"
    );

    // etcd crashes and comes back: the API server stays up, its watches resume.
    let back = outage(&cluster, "etcd");
    cluster.apply(&daemonset(true));
    eventually("the regression to show after etcd's restart", 10, || {
        !results(&cluster, "web", "PAL-PSS-002", "log-agent").is_empty()
    });
    eprintln!(
        "etcd restart: the regression showed {:?} after it was back",
        back.elapsed()
    );
    // One report for the namespace, whatever was retried.
    let reports = cluster
        .get("/apis/wgpolicyk8s.io/v1alpha2/namespaces/web/policyreports")
        .expect("reports");
    assert_eq!(reports["items"].as_array().map(Vec::len), Some(1));
    operator.stop();
}
