//! `palisade netpol`: reach answers and exit codes, JSON explanations, the matrix formats, and
//! generated policies that Palisade's own scan accepts and whose effect reach confirms.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

fn example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/netpol")
}

fn netpol(args: &[&str], paths: &[&Path]) -> std::process::Output {
    Command::cargo_bin("palisade")
        .expect("binary")
        .arg("netpol")
        .args(args)
        .args(paths)
        .output()
        .expect("runs")
}

fn stdout(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// What the command said on stderr, once it is known to have exited with `code`.
fn stderr_after(output: &std::process::Output, code: i32) -> String {
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(code), "{stderr}");
    stderr
}

#[test]
fn reach_prints_allowed_or_denied_with_exit_codes() {
    let ex = example();
    let allowed = netpol(
        &[
            "reach",
            "shop/deployment/web",
            "shop/deployment/api",
            "--port",
            "3000",
        ],
        &[&ex],
    );
    assert_eq!(allowed.status.code(), Some(0));
    assert!(stdout(&allowed).starts_with("allowed\n"));
    assert!(stdout(&allowed)
        .contains("allowed by NetworkPolicy shop/api-from-web /spec/ingress/0 (3000/TCP)"));
    let wrong_port = netpol(
        &[
            "reach",
            "shop/deployment/web",
            "shop/deployment/api",
            "--port",
            "9090",
        ],
        &[&ex],
    );
    assert_eq!(wrong_port.status.code(), Some(1));
    assert!(stdout(&wrong_port).starts_with("denied\n"));
    // namespaceSelector AND podSelector: shop's api may reach billing, shop's web may not.
    let api = netpol(
        &[
            "reach",
            "shop/deployment/api",
            "payments/deployment/billing",
            "--port",
            "50051",
        ],
        &[&ex],
    );
    assert_eq!(api.status.code(), Some(0));
    let web = netpol(
        &[
            "reach",
            "shop/deployment/web",
            "payments/deployment/billing",
        ],
        &[&ex],
    );
    assert_eq!(web.status.code(), Some(1));
    // Kind is case-insensitive; a namespace the input does not define (here, the files
    // without namespaces.yaml) is named, since its labels are unknown.
    let debug_args = [
        "reach",
        "ops/Pod/debug",
        "shop/deployment/web",
        "--port",
        "8080",
    ];
    let without_namespaces = [ex.join("policies.yaml"), ex.join("workloads.yaml")];
    let debug = netpol(
        &debug_args,
        &without_namespaces
            .iter()
            .map(|p| p.as_path())
            .collect::<Vec<_>>(),
    );
    assert_eq!(debug.status.code(), Some(0));
    assert!(stdout(&debug).contains("namespace ops is not in the input"));
    let debug = netpol(&debug_args, &[&ex]);
    assert!(!stdout(&debug).contains("is not in the input"));
    // CIDRs: from outside in, and to the metadata endpoint.
    let outside = netpol(
        &[
            "reach",
            "203.0.113.7/32",
            "shop/deployment/web",
            "--port",
            "8080",
        ],
        &[&ex],
    );
    assert_eq!(outside.status.code(), Some(0));
    let metadata = netpol(
        &[
            "reach",
            "payments/deployment/billing",
            "169.254.169.254/32",
            "--port",
            "443",
        ],
        &[&ex],
    );
    assert_eq!(metadata.status.code(), Some(1));
    let internet = netpol(
        &[
            "reach",
            "payments/deployment/billing",
            "93.184.216.34/32",
            "--port",
            "443",
        ],
        &[&ex],
    );
    assert_eq!(internet.status.code(), Some(0));
    let dns = netpol(
        &[
            "reach",
            "payments/deployment/billing",
            "kube-system/deployment/coredns",
            "--port",
            "53/UDP",
        ],
        &[&ex],
    );
    assert_eq!(dns.status.code(), Some(0));
    let dns_tcp = netpol(
        &[
            "reach",
            "payments/deployment/billing",
            "kube-system/deployment/coredns",
            "--port",
            "53/TCP",
        ],
        &[&ex],
    );
    assert_eq!(dns_tcp.status.code(), Some(1));
}

#[test]
fn reach_json_names_the_deciding_policies() {
    let output = netpol(
        &[
            "reach",
            "shop/deployment/web",
            "shop/statefulset/db",
            "--port",
            "5432",
            "--format",
            "json",
        ],
        &[&example()],
    );
    assert_eq!(output.status.code(), Some(1));
    let body: Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(body["allowed"], false);
    assert_eq!(body["egress"]["isolated"], false);
    assert_eq!(body["ingress"]["isolated"], true);
    let policies = body["ingress"]["policies"].as_array().expect("policies");
    assert!(policies.contains(&Value::from("NetworkPolicy shop/db-from-api")));
    assert_eq!(body["ingress"]["allowing"], serde_json::json!([]));
}

#[test]
fn unknown_workloads_are_usage_errors() {
    let output = netpol(
        &["reach", "shop/deployment/nope", "shop/deployment/web"],
        &[&example()],
    );
    assert!(stderr_after(&output, 2).contains("no workload `shop/deployment/nope`"));
}

#[test]
fn matrix_in_every_format() {
    let ex = example();
    let text = stdout(&netpol(&["matrix"], &[&ex]));
    assert!(
        text.contains("shop/deployment/api → shop/statefulset/db: 5432/TCP"),
        "{text}"
    );
    assert!(
        !text.contains("shop/deployment/web → shop/statefulset/db"),
        "{text}"
    );
    let csv = stdout(&netpol(
        &["matrix", "-n", "shop", "--format", "csv"],
        &[&ex],
    ));
    assert!(csv.starts_with("from,to,ports\n"));
    assert!(
        csv.contains("shop/deployment/web,shop/deployment/api,\"3000/TCP\""),
        "{csv}"
    );
    assert!(!csv.contains("payments"), "-n keeps one namespace");
    let json: Value =
        serde_json::from_slice(&netpol(&["matrix", "--format", "json"], &[&ex]).stdout)
            .expect("json");
    assert_eq!(json["workloads"].as_array().map(Vec::len), Some(6));
    assert!(json["edges"].as_array().is_some_and(|e| e
        .iter()
        .any(|e| e["from"] == "shop/deployment/api"
            && e["to"] == "payments/deployment/billing"
            && e["ports"] == "50051/TCP")));
    let dot = stdout(&netpol(&["matrix", "--format", "dot"], &[&ex]));
    assert!(dot.starts_with("digraph reachability {") && dot.contains("[label=\"5432/TCP\"]"));
}

#[test]
fn matrix_by_class_groups_what_policies_treat_alike_and_big_workload_matrices_are_refused() {
    let ex = example();
    let output = netpol(&["matrix", "--by", "class", "--format", "json"], &[&ex]);
    assert_eq!(output.status.code(), Some(0));
    let json: Value = serde_json::from_slice(&output.stdout).expect("json");
    let group_of = |list: &str, workload: &str| {
        json[list]
            .as_array()
            .and_then(|groups| {
                groups.iter().find(|g| {
                    g["workloads"]
                        .as_array()
                        .is_some_and(|w| w.iter().any(|w| w == workload))
                })
            })
            .map(|g| g["group"].as_str().unwrap_or_default().to_string())
            .unwrap_or_else(|| panic!("{workload} in no {list} group: {json}"))
    };
    let api = group_of("sources", "shop/deployment/api");
    let db = group_of("destinations", "shop/statefulset/db");
    let edge = json["edges"]
        .as_array()
        .and_then(|edges| {
            edges
                .iter()
                .find(|e| e["from"] == api.as_str() && e["to"] == db.as_str())
        })
        .unwrap_or_else(|| panic!("no edge {api} → {db}: {json}"));
    assert_eq!(edge["ports"], "5432/TCP");
    assert_eq!(
        edge["allowedBy"]["ingress"],
        serde_json::json!(["NetworkPolicy shop/db-from-api /spec/ingress/0"]),
        "{edge}"
    );
    // Each edge is one line, its keys in the order the format has always had (sorted).
    let text = String::from_utf8_lossy(&output.stdout);
    let line = text
        .lines()
        .find(|l| {
            l.contains(&format!("\"from\":\"{api}\",")) && l.contains(&format!("\"to\":\"{db}\""))
        })
        .unwrap_or_else(|| panic!("no line for {api} → {db}: {text}"));
    let line = line.trim().trim_end_matches(',');
    assert!(
        line.starts_with("{\"allowedBy\":{\"egress\":[")
            && line.ends_with(&format!(
                "]}},\"from\":\"{api}\",\"ports\":\"5432/TCP\",\"to\":\"{db}\"}}"
            ))
            && line.contains("],\"ingress\":["),
        "{line}"
    );
    // The workload pairs the groups stand for are those the workload matrix lists, with each
    // workload's pairs with itself.
    let workloads: Value = serde_json::from_slice(
        &netpol(&["matrix", "--format", "json", "--self-pairs"], &[&ex]).stdout,
    )
    .expect("json");
    assert_eq!(
        json["summary"]["workloadPairs"].as_u64(),
        workloads["edges"].as_array().map(|e| e.len() as u64)
    );
    // Each group's outside ranges are those of every member in the workload matrix.
    let members = |list: &str, group: &str| -> Vec<String> {
        json[list]
            .as_array()
            .into_iter()
            .flatten()
            .find(|g| g["group"] == group)
            .and_then(|g| g["workloads"].as_array())
            .map(|w| {
                w.iter()
                    .filter_map(|w| w.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    let of_workloads = workloads["outside"].as_array().expect("outside");
    let by_group = json["outside"].as_array().expect("outside");
    assert!(!by_group.is_empty());
    for entry in by_group {
        let group = entry["group"].as_str().unwrap_or_default();
        let list = if group.starts_with('S') {
            "sources"
        } else {
            "destinations"
        };
        for member in members(list, group) {
            let same = serde_json::json!({
                "workload": member,
                "direction": entry["direction"],
                "range": entry["range"],
                "ports": entry["ports"],
            });
            assert!(
                of_workloads.contains(&same),
                "{same} not in {of_workloads:?}"
            );
        }
    }
    let text = stdout(&netpol(&["matrix", "--by", "class"], &[&ex]));
    assert!(
        text.contains("source groups:") && text.contains("destination groups:"),
        "{text}"
    );
    assert!(
        text.contains("(payments/deployment/billing) → 11.0.0.0-169.254.169.253: 443/TCP\n"),
        "{text}"
    );
    let refused = netpol(&["matrix", "--max-pairs", "3"], &[&ex]);
    let stderr = stderr_after(&refused, 2);
    assert!(
        stderr.contains("allowed pairs (6 workloads; limit --max-pairs 3): use --by class"),
        "{stderr}"
    );
    assert!(refused.stdout.is_empty(), "nothing half-written");
}

/// The example as a cluster dump lays it out: shop's api Deployment with the ReplicaSet it
/// made and two of that ReplicaSet's pods.
fn with_owned_pods() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for file in ["namespaces.yaml", "policies.yaml", "workloads.yaml"] {
        std::fs::copy(example().join(file), dir.path().join(file)).expect("copy");
    }
    let pod = |name: &str| {
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  namespace: shop\n  labels: {{app: api, tier: backend, pod-template-hash: 7d9f}}\n  \
             ownerReferences: [{{apiVersion: apps/v1, kind: ReplicaSet, name: api-7d9f, uid: 1, controller: true}}]\n\
             spec:\n  containers:\n  - name: api\n    image: registry.example.com/shop/api:2.3.0\n    \
             ports: [{{name: http, containerPort: 3000}}, {{name: metrics, containerPort: 9090}}]\n"
        )
    };
    let dump = format!(
        "apiVersion: apps/v1\nkind: ReplicaSet\nmetadata:\n  name: api-7d9f\n  namespace: shop\n  \
         ownerReferences: [{{apiVersion: apps/v1, kind: Deployment, name: api, uid: 2, controller: true}}]\n\
         spec:\n  selector: {{matchLabels: {{app: api, pod-template-hash: 7d9f}}}}\n  template:\n    \
         metadata: {{labels: {{app: api, tier: backend, pod-template-hash: 7d9f}}}}\n    spec:\n      containers:\n      \
         - {{name: api, image: registry.example.com/shop/api:2.3.0, ports: [{{name: http, containerPort: 3000}}]}}\n\
         ---\n{}---\n{}",
        pod("api-7d9f-x1"),
        pod("api-7d9f-x2")
    );
    std::fs::write(dir.path().join("dump.yaml"), dump).expect("write");
    dir
}

#[test]
fn matrix_focus_and_noise() {
    let ex = example();
    let rows = |args: &[&str], path: &Path| -> Vec<String> {
        let output = netpol(args, &[path]);
        assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
        stdout(&output)
            .lines()
            .skip(1)
            .map(str::to_string)
            .collect()
    };
    // A workload's pairs with itself are left out unless asked for.
    let all = rows(&["matrix"], &ex);
    let with_self = rows(&["matrix", "--self-pairs"], &ex);
    assert!(all.iter().all(|row| {
        let (from, to) = row.split_once(" → ").expect("row");
        !to.starts_with(&format!("{from}:"))
    }));
    let web_to_itself = "shop/deployment/web → shop/deployment/web: 8080/TCP".to_string();
    assert!(with_self.contains(&web_to_itself), "{with_self:?}");
    assert!(!all.contains(&web_to_itself), "{all:?}");
    assert!(with_self.len() > all.len());
    // One workload at either end.
    let focused = rows(&["matrix", "--focus-workload", "shop/statefulset/db"], &ex);
    assert!(!focused.is_empty());
    assert!(
        focused.iter().all(|r| r.contains("shop/statefulset/db")),
        "{focused:?}"
    );
    assert!(focused.contains(&"shop/deployment/api → shop/statefulset/db: 5432/TCP".to_string()));
    // One destination port: only pairs allowed on it, shown with it alone.
    let port = rows(&["matrix", "--focus-port", "5432"], &ex);
    assert!(!port.is_empty());
    assert!(port.iter().all(|r| r.ends_with(": 5432/TCP")), "{port:?}");
    // The database takes 5432 over TCP only; pods no policy isolates take UDP too.
    let udp = rows(&["matrix", "--focus-port", "5432/UDP"], &ex);
    assert!(udp.iter().all(|r| r.ends_with(": 5432/UDP")), "{udp:?}");
    assert!(
        !udp.iter().any(|r| r.contains("→ shop/statefulset/db")),
        "{udp:?}"
    );
    assert!(udp.iter().any(|r| r.contains("→ ops/pod/debug")), "{udp:?}");
    // Pods and ReplicaSets a Deployment of the input made are shown as that Deployment.
    let dump = with_owned_pods();
    let header = stdout(&netpol(&["matrix"], &[dump.path()]));
    assert!(header.starts_with("6 workloads,"), "{header}");
    assert!(!header.contains("api-7d9f"), "{header}");
    let by_pod = rows(
        &["matrix", "--focus-workload", "shop/pod/api-7d9f-x1"],
        dump.path(),
    );
    assert!(
        by_pod.iter().all(|r| r.contains("shop/deployment/api")) && !by_pod.is_empty(),
        "{by_pod:?}"
    );
    // Focus narrows a workload matrix; on classes it is a usage error.
    let refused = netpol(&["matrix", "--by", "class", "--focus-port", "80"], &[&ex]);
    assert!(stderr_after(&refused, 2).contains("drop --by class"));
    let bad = netpol(&["matrix", "--focus-port", "http"], &[&ex]);
    assert!(stderr_after(&bad, 2).contains("--focus-port takes a port number"));
}

/// Writes a generated policy next to the example and returns a directory with both.
fn with_generated(args: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for entry in std::fs::read_dir(example()).expect("example") {
        let path = entry.expect("entry").path();
        std::fs::copy(&path, dir.path().join(path.file_name().expect("name"))).expect("copy");
    }
    let command: Vec<&str> = ["generate"].iter().chain(args).copied().collect();
    // Only quarantine reads the inventory, to find the workload's labels.
    let ex = example();
    let paths: Vec<&Path> = if args[0] == "quarantine" {
        vec![&ex]
    } else {
        vec![]
    };
    let output = netpol(&command, &paths);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    std::fs::write(dir.path().join("generated.yaml"), &output.stdout).expect("write");
    // Palisade's own scan accepts it: no load errors.
    let scan = Command::cargo_bin("palisade")
        .expect("binary")
        .args(["scan", "--format", "json", "--select", "netpol"])
        .arg(dir.path().join("generated.yaml"))
        .output()
        .expect("runs");
    let report: Value = serde_json::from_slice(&scan.stdout).expect("json");
    assert_eq!(
        report["errors"],
        serde_json::json!([]),
        "{}",
        stdout(&output)
    );
    assert_eq!(report["summary"]["objects"], 1);
    dir
}

/// The example's workloads with the generated policy alone (none of the example's policies).
fn generated_alone(dir: &tempfile::TempDir) -> tempfile::TempDir {
    let alone = tempfile::tempdir().expect("tempdir");
    for file in ["workloads.yaml", "generated.yaml"] {
        std::fs::copy(dir.path().join(file), alone.path().join(file)).expect("copy");
    }
    alone
}

/// billing in payments still resolves names: DNS to kube-dns stays open.
fn assert_dns_to_kube_dns_open(dir: &Path) {
    let dns = netpol(
        &[
            "reach",
            "payments/deployment/billing",
            "kube-system/deployment/coredns",
            "--port",
            "53/UDP",
        ],
        &[dir],
    );
    assert_eq!(dns.status.code(), Some(0), "DNS to kube-dns stays open");
}

#[test]
fn generated_default_deny_denies_all_but_dns() {
    let dir = with_generated(&["default-deny", "-n", "payments"]);
    let before = netpol(
        &[
            "reach",
            "shop/deployment/api",
            "payments/deployment/billing",
            "--port",
            "50051",
        ],
        &[&example()],
    );
    assert_eq!(before.status.code(), Some(0));
    // The generated policy isolates; the example's billing policy still allows api (additive).
    let after_other = netpol(
        &["reach", "ops/pod/debug", "payments/deployment/billing"],
        &[dir.path()],
    );
    assert_eq!(after_other.status.code(), Some(1));
    let dir_only = generated_alone(&dir);
    assert_dns_to_kube_dns_open(dir_only.path());
    let web = netpol(
        &[
            "reach",
            "payments/deployment/billing",
            "shop/deployment/web",
            "--port",
            "8080",
        ],
        &[dir_only.path()],
    );
    assert_eq!(web.status.code(), Some(1), "other egress is denied");
    let inbound = netpol(
        &[
            "reach",
            "shop/deployment/api",
            "payments/deployment/billing",
            "--port",
            "50051",
        ],
        &[dir_only.path()],
    );
    assert_eq!(inbound.status.code(), Some(1), "ingress is denied");
}

#[test]
fn generated_quarantine_isolates_the_workload_and_warns_about_additive_policies() {
    let output = netpol(
        &[
            "generate",
            "quarantine",
            "shop/deployment/api",
            "--style",
            "networkpolicy",
        ],
        &[&example()],
    );
    assert_eq!(output.status.code(), Some(0));
    let yaml = stdout(&output);
    assert!(
        yaml.contains("name: quarantine-api") && yaml.contains("app: api"),
        "{yaml}"
    );
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("NetworkPolicy shop/api-from-web"),
        "additive warning"
    );
    let dir = with_generated(&[
        "quarantine",
        "shop/deployment/api",
        "--style",
        "networkpolicy",
    ]);
    // Egress of api was open; the quarantine closes it.
    let egress = netpol(
        &["reach", "shop/deployment/api", "ops/pod/debug"],
        &[dir.path()],
    );
    assert_eq!(egress.status.code(), Some(1));
    let before = netpol(
        &["reach", "shop/deployment/api", "ops/pod/debug"],
        &[&example()],
    );
    assert_eq!(before.status.code(), Some(0));
}

#[test]
fn generated_quarantine_holds_against_policies_that_allow() {
    let web_to_api = [
        "reach",
        "shop/deployment/web",
        "shop/deployment/api",
        "--port",
        "3000",
    ];
    let before = netpol(&web_to_api, &[&example()]);
    assert_eq!(before.status.code(), Some(0), "shop/api-from-web allows it");
    for (style, deciding) in [
        ("admin", "denied by AdminNetworkPolicy quarantine-shop-api (priority 0) /spec/ingress/0 \"quarantine-ingress\""),
        ("cilium", "denied by CiliumNetworkPolicy shop/quarantine-api /spec/ingressDeny/0"),
    ] {
        let dir = with_generated(&["quarantine", "shop/deployment/api", "--style", style]);
        let after = netpol(&web_to_api, &[dir.path()]);
        assert_eq!(after.status.code(), Some(1), "{style}: {}", stdout(&after));
        assert!(stdout(&after).contains(deciding), "{style}: {}", stdout(&after));
        if style == "admin" {
            assert!(
                stdout(&after).contains("ingress of shop/deployment/api: decided by an AdminNetworkPolicy before the policies that isolate it"),
                "{}",
                stdout(&after)
            );
        }
        let egress = netpol(&["reach", "shop/deployment/api", "ops/pod/debug"], &[dir.path()]);
        assert_eq!(egress.status.code(), Some(1), "{style}: egress closed");
        let outside = netpol(&["reach", "shop/deployment/api", "8.8.8.8/32"], &[dir.path()]);
        assert_eq!(outside.status.code(), Some(1), "{style}: the internet closed");
        let others = netpol(&["reach", "ops/pod/debug", "shop/deployment/web", "--port", "8080"], &[dir.path()]);
        assert_eq!(others.status.code(), Some(0), "{style}: other workloads untouched");
    }
}

#[test]
fn generated_baseline_default_deny_leaves_the_namespace_its_own_policies() {
    let dir = with_generated(&["default-deny", "-n", "payments", "--style", "baseline"]);
    let yaml = std::fs::read_to_string(dir.path().join("generated.yaml")).expect("read");
    assert!(yaml.contains("kind: BaselineAdminNetworkPolicy") && yaml.contains("name: default"));
    // The example's payments/billing NetworkPolicy isolates billing and allows shop's api.
    let api = netpol(
        &[
            "reach",
            "shop/deployment/api",
            "payments/deployment/billing",
            "--port",
            "50051",
        ],
        &[dir.path()],
    );
    assert_eq!(api.status.code(), Some(0), "{}", stdout(&api));
    let dir_only = generated_alone(&dir);
    let denied = netpol(
        &[
            "reach",
            "shop/deployment/api",
            "payments/deployment/billing",
            "--port",
            "50051",
        ],
        &[dir_only.path()],
    );
    assert_eq!(
        denied.status.code(),
        Some(1),
        "without the namespace's policy: the baseline denies"
    );
    assert!(
        stdout(&denied).contains("denied by BaselineAdminNetworkPolicy default /spec/ingress/0"),
        "{}",
        stdout(&denied)
    );
    assert_dns_to_kube_dns_open(dir_only.path());
    let shop = netpol(
        &[
            "reach",
            "ops/pod/debug",
            "shop/deployment/web",
            "--port",
            "8080",
        ],
        &[dir_only.path()],
    );
    assert_eq!(
        shop.status.code(),
        Some(0),
        "other namespaces are not its subject"
    );
}

#[test]
fn generated_deny_metadata_blocks_only_the_metadata_endpoint() {
    let dir = with_generated(&["deny-metadata", "-n", "shop"]);
    let metadata = netpol(
        &[
            "reach",
            "shop/deployment/web",
            "169.254.169.254/32",
            "--port",
            "80",
        ],
        &[dir.path()],
    );
    assert_eq!(metadata.status.code(), Some(1));
    let internet = netpol(
        &[
            "reach",
            "shop/deployment/web",
            "93.184.216.34/32",
            "--port",
            "443",
        ],
        &[dir.path()],
    );
    assert_eq!(internet.status.code(), Some(0));
    let in_cluster = netpol(
        &[
            "reach",
            "shop/deployment/web",
            "shop/deployment/api",
            "--port",
            "3000",
        ],
        &[dir.path()],
    );
    assert_eq!(in_cluster.status.code(), Some(0));
    let before = netpol(
        &[
            "reach",
            "shop/deployment/web",
            "169.254.169.254/32",
            "--port",
            "80",
        ],
        &[&example()],
    );
    assert_eq!(before.status.code(), Some(0));
}

#[test]
fn broken_inputs_are_named_and_exit_2() {
    let dir = with_generated(&["default-deny", "-n", "shop"]);
    std::fs::write(
        dir.path().join("broken.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata: {name: x\n",
    )
    .expect("write");
    let output = netpol(
        &[
            "reach",
            "ops/pod/debug",
            "shop/deployment/web",
            "--port",
            "8080",
        ],
        &[dir.path()],
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stdout(&output).starts_with("allowed\n"),
        "answers from what loaded"
    );
    assert!(String::from_utf8_lossy(&output.stderr).contains("broken.yaml:"));
}

#[test]
fn reach_takes_the_destinations_named_ports() {
    let ex = example();
    // api's container port `http` is 3000, which api-from-web allows.
    let named = netpol(
        &[
            "reach",
            "shop/deployment/web",
            "shop/deployment/api",
            "--port",
            "http",
        ],
        &[&ex],
    );
    assert_eq!(named.status.code(), Some(0), "{}", stdout(&named));
    assert!(stdout(&named).contains("3000/TCP"));
    let unknown = netpol(
        &[
            "reach",
            "shop/deployment/web",
            "shop/deployment/api",
            "--port",
            "grpc",
        ],
        &[&ex],
    );
    assert!(stderr_after(&unknown, 2)
        .contains("has no container port named `grpc` (named ports: http, metrics)"));
}

const SERVICE_CASE: &str = "apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {kubernetes.io/metadata.name: shop}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: registry.example.com/shop/web:1.4.2}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api-v1, namespace: shop}
spec:
  selector: {matchLabels: {app: api, version: v1}}
  template:
    metadata: {labels: {app: api, version: v1}}
    spec:
      containers:
        - name: api
          image: registry.example.com/shop/api:1.0.0
          ports: [{name: http, containerPort: 3000}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api-v2, namespace: shop}
spec:
  selector: {matchLabels: {app: api, version: v2}}
  template:
    metadata: {labels: {app: api, version: v2}}
    spec:
      containers:
        - name: api
          image: registry.example.com/shop/api:2.0.0
          ports: [{name: http, containerPort: 3001}]
---
apiVersion: v1
kind: Service
metadata: {name: api, namespace: shop}
spec:
  selector: {app: api}
  ports:
    - {name: web, port: 80, targetPort: http}
    - {name: admin, port: 9000, targetPort: 9000}
---
apiVersion: v1
kind: Service
metadata: {name: external-db, namespace: shop}
spec:
  ports: [{port: 5432}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: api-from-web, namespace: shop}
spec:
  podSelector: {matchLabels: {app: api}}
  policyTypes: [Ingress]
  ingress:
    - from: [{podSelector: {matchLabels: {app: web}}}]
      ports: [{port: 3000}]
";

#[test]
fn reach_to_a_service_maps_its_port_to_each_backends_target_port() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("shop.yaml");
    std::fs::write(&file, SERVICE_CASE).expect("write");
    // Port 80 → targetPort http: 3000 on v1 (allowed), 3001 on v2 (not allowed): denied.
    let mixed = netpol(
        &[
            "reach",
            "shop/deployment/web",
            "shop/service/api",
            "--port",
            "80",
        ],
        &[&file],
    );
    assert_eq!(mixed.status.code(), Some(1), "{}", stdout(&mixed));
    let text = stdout(&mixed);
    assert!(text.starts_with("denied\n"), "{text}");
    assert!(
        text.contains(
            "port 80/TCP → targetPort http = 3000/TCP: backend shop/deployment/api-v1 allowed"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "port 80/TCP → targetPort http = 3001/TCP: backend shop/deployment/api-v2 denied"
        ),
        "{text}"
    );
    // The Service port by name, in JSON.
    let json = netpol(
        &[
            "reach",
            "shop/deployment/web",
            "shop/svc/api",
            "--port",
            "web",
            "--format",
            "json",
        ],
        &[&file],
    );
    let body: serde_json::Value = serde_json::from_slice(&json.stdout).expect("json");
    assert_eq!(body["allowed"], false);
    let targets: Vec<_> = body["backends"]
        .as_array()
        .expect("backends")
        .iter()
        .map(|b| {
            (
                b["workload"].clone(),
                b["targetPort"].clone(),
                b["allowed"].clone(),
            )
        })
        .collect();
    assert_eq!(
        targets,
        vec![
            ("shop/deployment/api-v1".into(), 3000.into(), true.into()),
            ("shop/deployment/api-v2".into(), 3001.into(), false.into()),
        ]
    );
    // A numeric targetPort no policy allows: denied everywhere.
    let admin = netpol(
        &[
            "reach",
            "shop/deployment/web",
            "shop/service/api",
            "--port",
            "9000",
        ],
        &[&file],
    );
    assert_eq!(admin.status.code(), Some(1));
    // A Service without a selector says why it cannot answer; an unknown port lists the ports.
    let manual = netpol(
        &["reach", "shop/deployment/web", "shop/service/external-db"],
        &[&file],
    );
    assert!(stderr_after(&manual, 2).contains("has no selector"));
    let unknown = netpol(
        &[
            "reach",
            "shop/deployment/web",
            "shop/service/api",
            "--port",
            "8080",
        ],
        &[&file],
    );
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("ports: 80 (web), 9000 (admin)"));
    // The Service's port 80 is TCP: 80/UDP is no port of it.
    let udp = netpol(
        &[
            "reach",
            "shop/deployment/web",
            "shop/service/api",
            "--port",
            "80/UDP",
        ],
        &[&file],
    );
    assert!(stderr_after(&udp, 2).contains("has no port `80`"));
}

#[test]
fn reach_to_a_service_is_allowed_when_every_backend_is() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("shop.yaml");
    std::fs::write(
        &file,
        SERVICE_CASE.replace("ports: [{port: 3000}]", "ports: [{port: http}]"),
    )
    .expect("write");
    let output = netpol(
        &[
            "reach",
            "shop/deployment/web",
            "shop/service/api",
            "--port",
            "80",
        ],
        &[&file],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
}

#[test]
fn reach_says_when_an_end_bypasses_network_policies() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("agents.yaml");
    std::fs::write(
        &file,
        "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: exporter, namespace: monitoring}\nspec:\n  selector: {matchLabels: {app: exporter}}\n  template:\n    metadata: {labels: {app: exporter}}\n    spec:\n      hostNetwork: true\n      containers: [{name: exporter, image: quay.io/prometheus/node-exporter:v1.8.2}]\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers: [{name: web, image: registry.example.com/shop/web:1.4.2}]\n",
    )
    .expect("write");
    let text = netpol(
        &[
            "reach",
            "shop/deployment/web",
            "monitoring/daemonset/exporter",
        ],
        &[&file],
    );
    assert!(
        stdout(&text).contains("note: monitoring/daemonset/exporter runs on the node's network"),
        "{}",
        stdout(&text)
    );
    let json = netpol(
        &[
            "reach",
            "shop/deployment/web",
            "monitoring/daemonset/exporter",
            "--format",
            "json",
        ],
        &[&file],
    );
    let body: serde_json::Value = serde_json::from_slice(&json.stdout).expect("json");
    assert_eq!(
        body["hostNetwork"],
        serde_json::json!(["monitoring/daemonset/exporter"])
    );
}

#[test]
fn quarantine_refuses_host_network_pods_and_warns_of_a_rival_at_priority_zero() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("cluster.yaml");
    std::fs::write(
        &file,
        "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: exporter, namespace: monitoring}\nspec:\n  selector: {matchLabels: {app: exporter}}\n  template:\n    metadata: {labels: {app: exporter}}\n    spec:\n      hostNetwork: true\n      containers: [{name: exporter, image: quay.io/prometheus/node-exporter:v1.8.2}]\n---\n\
         apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers: [{name: web, image: registry.example.com/shop/web:1.4.2}]\n---\n\
         apiVersion: policy.networking.k8s.io/v1alpha1\nkind: AdminNetworkPolicy\nmetadata: {name: allow-monitoring}\nspec:\n  priority: 0\n  subject: {namespaces: {}}\n  ingress:\n  - {action: Allow, from: [{namespaces: {matchLabels: {kubernetes.io/metadata.name: monitoring}}}]}\n",
    )
    .expect("write");
    let host = netpol(
        &["generate", "quarantine", "monitoring/daemonset/exporter"],
        &[&file],
    );
    let stderr = stderr_after(&host, 2);
    assert!(host.stdout.is_empty());
    assert!(
        stderr.contains("monitoring/daemonset/exporter runs on the node's network (hostNetwork: true): no network policy isolates its pods"),
        "{stderr}"
    );
    let web = netpol(&["generate", "quarantine", "shop/deployment/web"], &[&file]);
    let stderr = stderr_after(&web, 0);
    assert!(
        stderr.contains("AdminNetworkPolicy allow-monitoring (priority 0) also has priority 0: which of the two decides is undefined"),
        "{stderr}"
    );
    assert!(
        stderr.contains("connections from outside the cluster to shop/deployment/web are left to NetworkPolicies"),
        "{stderr}"
    );
}

const CALICO_POLICY: &str = "apiVersion: crd.projectcalico.org/v1
kind: GlobalNetworkPolicy
metadata:
  name: deny-egress-to-metadata
spec:
  selector: all()
  types: [Egress]
  egress:
    - action: Deny
      destination:
        nets: [169.254.169.254/32]
";

#[test]
fn policy_kinds_that_are_not_evaluated_are_named_never_ignored_in_silence() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("calico.yaml"), CALICO_POLICY).expect("write");
    // The analysis commands say it on stderr...
    let output = netpol(&["matrix"], &[&example(), dir.path()]);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(
        stderr.contains("GlobalNetworkPolicy deny-egress-to-metadata: a Calico cluster-wide policy, which Palisade does not evaluate"),
        "{stderr}"
    );
    // ... and a scan lists it among its warnings, with its place.
    let output = Command::cargo_bin("palisade")
        .expect("binary")
        .args(["scan", "--no-config", "--format", "json"])
        .arg(dir.path())
        .output()
        .expect("runs");
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    let warnings = report["warnings"].as_array().expect("warnings");
    assert!(
        warnings.iter().any(|w| w["message"]
            .as_str()
            .is_some_and(|m| m.contains("a Calico cluster-wide policy"))
            && w["line"] == 1),
        "{warnings:#?}"
    );
}

#[test]
fn outside_ranges_in_every_matrix_format_and_reach_to_a_range() {
    let ex = example();
    // billing may reach everything outside on 443 but 10.0.0.0/8 and the metadata address:
    // three maximal ranges, in every format.
    let text = stdout(&netpol(&["matrix"], &[&ex]));
    for row in [
        "payments/deployment/billing → 0.0.0.0-9.255.255.255: 443/TCP",
        "payments/deployment/billing → 11.0.0.0-169.254.169.253: 443/TCP",
        "payments/deployment/billing → 169.254.169.255-255.255.255.255: 443/TCP",
        // Nothing isolates api's egress: both families whole.
        "shop/deployment/api → 0.0.0.0/0: all ports",
        "shop/deployment/api → ::/0: all ports",
    ] {
        assert!(text.contains(&format!("{row}\n")), "{row}\n{text}");
    }
    assert!(
        !text.contains("payments/deployment/billing → 10."),
        "{text}"
    );
    let csv = stdout(&netpol(&["matrix", "--format", "csv"], &[&ex]));
    assert!(
        csv.contains("payments/deployment/billing,0.0.0.0-9.255.255.255,\"443/TCP\"\n"),
        "{csv}"
    );
    let json: Value =
        serde_json::from_slice(&netpol(&["matrix", "--format", "json"], &[&ex]).stdout)
            .expect("json");
    assert!(json["outside"]
        .as_array()
        .is_some_and(|o| o.contains(&serde_json::json!({
            "workload": "payments/deployment/billing",
            "direction": "egress",
            "range": "11.0.0.0-169.254.169.253",
            "ports": "443/TCP"
        }))));
    let dot = stdout(&netpol(&["matrix", "--format", "dot"], &[&ex]));
    assert!(
        dot.contains("\"0.0.0.0-9.255.255.255\" [shape=ellipse];"),
        "{dot}"
    );
    let quiet = stdout(&netpol(&["matrix", "--no-outside"], &[&ex]));
    assert!(
        quiet.starts_with("6 workloads, 16 allowed pairs, 0 outside ranges"),
        "{quiet}"
    );
    // The header counts the rows it heads, focused or not.
    for focus in [
        &[][..],
        &["--focus-port", "5432"],
        &["--focus-workload", "shop/deployment/web"],
    ] {
        let args: Vec<&str> = ["matrix", "--no-outside"]
            .iter()
            .chain(focus)
            .copied()
            .collect();
        let text = stdout(&netpol(&args, &[&ex]));
        let rows = text
            .lines()
            .skip(1)
            .filter(|l| !l.contains("(via "))
            .count();
        assert!(
            text.starts_with(&format!(
                "6 workloads, {rows} allowed pairs, 0 outside ranges"
            )),
            "{focus:?}: {text}"
        );
    }
    // reach takes a range: allowed on the ports allowed to all of it.
    let billing = "payments/deployment/billing";
    let inside = netpol(
        &["reach", billing, "11.0.0.0-11.0.0.255", "--port", "443"],
        &[&ex],
    );
    assert_eq!(inside.status.code(), Some(0), "{}", stdout(&inside));
    assert!(stdout(&inside).contains("→ 11.0.0.0/24: 443/TCP"));
    let across = netpol(
        &["reach", billing, "9.255.255.0-10.0.0.5", "--port", "443"],
        &[&ex],
    );
    let answer = stdout(&across);
    assert_eq!(across.status.code(), Some(1), "{answer}");
    assert!(answer.contains("    9.255.255.0/24: 443/TCP\n"), "{answer}");
    assert!(answer.contains("    10.0.0.0/30: no ports\n"), "{answer}");
    let reversed = netpol(&["reach", billing, "10.0.0.9-10.0.0.1"], &[&ex]);
    assert!(stderr_after(&reversed, 2).contains("is no address range"));
}

/// The example with web let into the database too.
fn with_web_into_db(dir: &Path) {
    std::fs::create_dir_all(dir).expect("dir");
    for file in ["namespaces.yaml", "workloads.yaml"] {
        std::fs::copy(example().join(file), dir.join(file)).expect("copy");
    }
    let policies = std::fs::read_to_string(example().join("policies.yaml")).expect("read");
    let opened = policies.replacen(
        "    - from: [{podSelector: {matchLabels: {tier: backend}}}]\n      ports: [{port: 5432}]",
        "    - from: [{podSelector: {matchLabels: {tier: backend}}}, {podSelector: {matchLabels: {app: web}}}]\n      ports: [{port: 5432}]",
        1,
    );
    assert_ne!(opened, policies, "the example's db policy changed shape");
    std::fs::write(dir.join("policies.yaml"), opened).expect("write");
}

#[test]
fn diff_lists_what_opened_and_closed_between_directories_and_git_revisions() {
    let ex = example();
    let dir = tempfile::tempdir().expect("tempdir");
    let new = dir.path().join("new");
    with_web_into_db(&new);
    let diff = |args: &[&str]| netpol(&[&["diff"], args].concat(), &[]);
    let (ex_text, new_text) = (ex.to_string_lossy(), new.to_string_lossy());
    // Opened: exit 1, with the rule that lets it through.
    let output = diff(&[&ex_text, &new_text]);
    assert_eq!(output.status.code(), Some(1), "{}", stdout(&output));
    let text = stdout(&output);
    assert!(text.contains("1 connections opened, 0 closed"), "{text}");
    assert!(
        text.contains("+ shop/deployment/web → shop/statefulset/db: 5432/TCP (by NetworkPolicy shop/db-from-api /spec/ingress/0)\n"),
        "{text}"
    );
    // Reversed, it only closes: exit 0.
    let back = diff(&[&new_text, &ex_text]);
    assert_eq!(back.status.code(), Some(0));
    assert!(stdout(&back).contains("- shop/deployment/web → shop/statefulset/db: 5432/TCP (was by NetworkPolicy shop/db-from-api /spec/ingress/0)"));
    let json: Value =
        serde_json::from_slice(&diff(&[&ex_text, &new_text, "--format", "json"]).stdout)
            .expect("json");
    assert_eq!(json["opened"], 1);
    assert_eq!(json["changes"][0]["opened"], "5432/TCP");
    assert_eq!(json["changes"][0]["closed"], Value::Null);
    let markdown = stdout(&diff(&[&ex_text, &new_text, "--format", "markdown"]));
    assert!(
        markdown.contains("| ➕ opened | `shop/deployment/web` | `shop/statefulset/db` | 5432/TCP | NetworkPolicy shop/db-from-api /spec/ingress/0 |"),
        "{markdown}"
    );
    // Two git revisions of a repository: REV:DIR.
    let repo = dir.path().join("repo");
    let git = |args: &[&str]| {
        let status = std::process::Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
            .args(args)
            .current_dir(&repo)
            .status()
            .expect("git");
        assert!(status.success(), "git {args:?}");
    };
    std::fs::create_dir_all(repo.join("k8s")).expect("repo");
    for file in ["namespaces.yaml", "workloads.yaml", "policies.yaml"] {
        std::fs::copy(ex.join(file), repo.join("k8s").join(file)).expect("copy");
    }
    git(&["init", "-q"]);
    git(&["add", "."]);
    git(&["commit", "-q", "-m", "before"]);
    with_web_into_db(&repo.join("k8s"));
    git(&["commit", "-q", "-am", "after"]);
    let output = Command::cargo_bin("palisade")
        .expect("binary")
        .args(["netpol", "diff", "HEAD~1:k8s", "HEAD:k8s"])
        .current_dir(&repo)
        .output()
        .expect("runs");
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout(&output).contains("+ shop/deployment/web → shop/statefulset/db: 5432/TCP"));
    // Neither a path nor a revision: a usage error.
    let bad = diff(&["no-such-dir", &new_text]);
    assert!(stderr_after(&bad, 2).contains("neither a file or directory nor a git revision"));
}

/// The example behind an ingress-nginx controller and an Istio gateway: an Ingress sends `/`
/// to web and `/api` to api, an HTTPRoute sends to api; with `controllers`, the controllers'
/// workloads are in the input.
fn behind_front_doors(dir: &Path, controllers: bool) {
    for file in ["namespaces.yaml", "policies.yaml", "workloads.yaml"] {
        std::fs::copy(example().join(file), dir.join(file)).expect("copy");
    }
    let mut routes = String::from(
        "apiVersion: networking.k8s.io/v1\nkind: IngressClass\nmetadata:\n  name: nginx\n  annotations: {ingressclass.kubernetes.io/is-default-class: \"true\"}\nspec: {controller: k8s.io/ingress-nginx}\n---\n\
         apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\nspec:\n  selector: {app: web}\n  ports: [{name: http, port: 80, targetPort: http}]\n---\n\
         apiVersion: v1\nkind: Service\nmetadata: {name: api, namespace: shop}\nspec:\n  selector: {app: api}\n  ports: [{port: 80, targetPort: 3000}]\n---\n\
         apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: storefront, namespace: shop}\nspec:\n  rules:\n  - host: shop.example.com\n    http:\n      paths:\n      \
         - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}\n      \
         - {path: /api, pathType: Prefix, backend: {service: {name: api, port: {number: 80}}}}\n---\n\
         apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: api-route, namespace: shop}\nspec:\n  parentRefs: [{name: public, namespace: gateways}]\n  \
         rules: [{backendRefs: [{name: api, port: 80}]}]\n",
    );
    if controllers {
        routes.push_str(
            "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: ingress-nginx-controller, namespace: ingress-nginx}\nspec:\n  \
             selector: {matchLabels: {app.kubernetes.io/name: ingress-nginx}}\n  template:\n    metadata: {labels: {app.kubernetes.io/name: ingress-nginx}}\n    \
             spec:\n      containers: [{name: controller, image: registry.k8s.io/ingress-nginx/controller:v1.10.1}]\n---\n\
             apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: public-istio, namespace: gateways}\nspec:\n  \
             selector: {matchLabels: {gateway.networking.k8s.io/gateway-name: public}}\n  template:\n    metadata: {labels: {gateway.networking.k8s.io/gateway-name: public}}\n    \
             spec:\n      containers: [{name: istio-proxy, image: docker.io/istio/proxyv2:1.22.1}]\n",
        );
    }
    std::fs::write(dir.join("routes.yaml"), routes).expect("write");
}

#[test]
fn what_the_internet_reaches_through_ingresses_and_routes() {
    let dir = tempfile::tempdir().expect("tempdir");
    behind_front_doors(dir.path(), true);
    let text = stdout(&netpol(&["matrix"], &[dir.path()]));
    assert!(
        text.contains("ingress-nginx/deployment/ingress-nginx-controller → shop/deployment/web: 8080/TCP (via Ingress shop/storefront)\n"),
        "{text}"
    );
    // api takes traffic from web only: the routes to it are denied, and not listed.
    assert!(
        !text.contains("→ shop/deployment/api: 3000/TCP (via"),
        "{text}"
    );
    let web = netpol(&["reach", "internet", "shop/deployment/web"], &[dir.path()]);
    assert_eq!(web.status.code(), Some(0), "{}", stdout(&web));
    assert!(stdout(&web).contains(
        "Ingress shop/storefront: ingress-nginx/deployment/ingress-nginx-controller → shop/deployment/web: 8080/TCP allowed"
    ));
    let api = netpol(&["reach", "internet", "shop/deployment/api"], &[dir.path()]);
    let answer = stdout(&api);
    assert_eq!(api.status.code(), Some(1), "{answer}");
    assert!(answer.contains("HTTPRoute shop/api-route: gateways/deployment/public-istio → shop/deployment/api: 3000/TCP denied"), "{answer}");
    assert!(answer.contains("Ingress shop/storefront: ingress-nginx/deployment/ingress-nginx-controller → shop/deployment/api: 3000/TCP denied"), "{answer}");
    // Let the ingress controller's namespace in: the Ingress hop opens, the gateway's does not.
    std::fs::write(
        dir.path().join("api-from-ingress.yaml"),
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: api-from-ingress, namespace: shop}\nspec:\n  \
         podSelector: {matchLabels: {app: api}}\n  ingress:\n  - from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: ingress-nginx}}}]\n",
    )
    .expect("write");
    let json: Value = serde_json::from_slice(
        &netpol(
            &[
                "reach",
                "internet",
                "shop/deployment/api",
                "--format",
                "json",
            ],
            &[dir.path()],
        )
        .stdout,
    )
    .expect("json");
    assert_eq!(json["allowed"], true);
    let routes = json["routes"].as_array().expect("routes");
    assert!(routes
        .iter()
        .any(|r| r["route"] == "Ingress shop/storefront" && r["allowed"] == true));
    assert!(routes
        .iter()
        .any(|r| r["route"] == "HTTPRoute shop/api-route" && r["allowed"] == false));
    // Controllers not in the input: a pod nobody labelled sends, named as such.
    let bare = tempfile::tempdir().expect("tempdir");
    behind_front_doors(bare.path(), false);
    let text = stdout(&netpol(&["matrix"], &[bare.path()]));
    assert!(
        text.contains("the ingress controller (not in the input) → shop/deployment/web: 8080/TCP (via Ingress shop/storefront)\n"),
        "{text}"
    );
    let none = netpol(&["reach", "internet", "ops/pod/debug"], &[bare.path()]);
    assert_eq!(none.status.code(), Some(1));
    assert!(stdout(&none).contains("no Ingress or HTTPRoute of the input sends to ops/pod/debug"));
}

#[test]
fn stray_files_are_skipped_with_a_warning_and_api_lists_are_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    // A chart's values beside the manifests, and a NetworkPolicyList as the API returns it:
    // items without apiVersion and kind.
    std::fs::write(
        dir.path().join("values.yaml"),
        "replicaCount: 2\nimage: {repository: nginx}\n",
    )
    .expect("write");
    std::fs::write(
        dir.path().join("policies.yaml"),
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicyList\nmetadata: {resourceVersion: \"7\"}\nitems:\n\
         - metadata: {name: deny-all, namespace: shop}\n  spec: {podSelector: {}, policyTypes: [Ingress, Egress]}\n",
    )
    .expect("write");
    std::fs::copy(
        example().join("workloads.yaml"),
        dir.path().join("workloads.yaml"),
    )
    .expect("copy");
    let output = netpol(
        &["reach", "shop/deployment/web", "shop/deployment/api"],
        &[dir.path()],
    );
    let stderr = stderr_after(&output, 1);
    assert!(
        stderr.contains("values.yaml: 1 document with neither apiVersion nor kind (no Kubernetes object), skipped"),
        "{stderr}"
    );
    // The list's policy was read: shop is denied both ways.
    assert!(
        stdout(&output).contains("NetworkPolicy shop/deny-all"),
        "{}",
        stdout(&output)
    );
}
