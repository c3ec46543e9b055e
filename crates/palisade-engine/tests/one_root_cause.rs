//! One root cause, one finding: rules that restate each other about the same field report it
//! once, as the most severe of them, with the others listed in `also`; a baseline Pod Security
//! problem keeps its baseline rule and severity at the restricted level.

use std::io::Write;

use palisade_engine::{scan, Pipeline};
use palisade_load::Input;
use palisade_model::{Finding, Severity};
use palisade_rules::{Engine, Selection, Settings};

fn scan_text(text: &str, select: &[&str]) -> Vec<Finding> {
    let mut file = tempfile::Builder::new()
        .suffix(".yaml")
        .tempfile()
        .expect("temp file");
    file.write_all(text.as_bytes()).expect("write");
    let settings = Settings {
        selection: Selection {
            select: select.iter().map(|s| s.to_string()).collect(),
            ignore: Vec::new(),
        },
        ..Settings::default()
    };
    let pipeline = Pipeline::new(Engine::new(&settings).expect("engine"));
    scan(
        &[Input::File(file.path().to_path_buf())],
        &pipeline,
        Vec::new(),
    )
    .findings
}

/// The (rule, path) of each finding, and the rules listed with it.
fn shape(findings: &[Finding]) -> Vec<(&'static str, String, Vec<&'static str>)> {
    let mut out: Vec<_> = findings
        .iter()
        .map(|f| {
            (
                f.rule.code,
                f.path.as_str().to_string(),
                f.also().iter().map(|a| a.rule).collect(),
            )
        })
        .collect();
    out.sort();
    out
}

const NODE_AGENT: &str = r#"apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: log-shipper
  namespace: logging
spec:
  selector:
    matchLabels: {app: log-shipper}
  template:
    metadata:
      labels: {app: log-shipper}
    spec:
      containers:
        - name: shipper
          image: registry.example.com/logging/shipper:latest
          securityContext:
            capabilities:
              add: [SYS_ADMIN]
          volumeMounts:
            - {name: run, mountPath: /host/run}
            - {name: docker, mountPath: /var/lib/docker/containers, readOnly: true}
            - {name: spool, mountPath: /spool}
      volumes:
        - name: run
          hostPath: {path: /var/run}
        - name: docker
          hostPath: {path: /var/lib/docker/containers}
        - name: spool
          hostPath: {path: /srv/spool}
"#;

const FAMILIES: &[&str] = &["pss", "image", "workload"];

#[test]
fn a_mutable_tag_is_one_finding_with_the_missing_digest_listed() {
    let findings = scan_text(NODE_AGENT, FAMILIES);
    let image: Vec<_> = shape(&findings)
        .into_iter()
        .filter(|(_, path, _)| path.ends_with("/image"))
        .collect();
    assert_eq!(
        image,
        vec![(
            "PAL-IMG-002",
            "/spec/template/spec/containers/0/image".to_string(),
            vec!["PAL-IMG-003"]
        )]
    );
}

#[test]
fn a_host_path_volume_is_one_finding_per_volume() {
    let findings = scan_text(NODE_AGENT, FAMILIES);
    let volumes: Vec<_> = shape(&findings)
        .into_iter()
        .filter(|(rule, _, _)| {
            ["PAL-PSS-004", "PAL-PSS-013", "PAL-WL-004", "PAL-WL-005"].contains(rule)
        })
        .collect();
    assert_eq!(
        volumes,
        vec![
            // /var/run: sensitive and mounted writable; /var/lib/docker: sensitive, mounted
            // read-only.
            (
                "PAL-WL-004",
                "/spec/template/spec/volumes/0/hostPath/path".to_string(),
                vec!["PAL-WL-005", "PAL-PSS-004"]
            ),
            (
                "PAL-WL-004",
                "/spec/template/spec/volumes/1/hostPath/path".to_string(),
                vec!["PAL-PSS-004"]
            ),
            // /srv/spool: not sensitive, mounted writable: the mount, with the volume's Pod
            // Security finding.
            (
                "PAL-WL-005",
                "/spec/template/spec/containers/0/volumeMounts/2".to_string(),
                vec!["PAL-PSS-004"]
            ),
        ]
    );
    let kept = findings
        .iter()
        .find(|f| f.path.as_str().ends_with("volumes/0/hostPath/path"))
        .expect("kept");
    assert_eq!(kept.severity, Severity::Critical);
    let mount = kept
        .also()
        .iter()
        .find(|a| a.rule == "PAL-WL-005")
        .expect("the writable mount is listed");
    assert!(mount.message.contains("writable"), "{mount:?}");
    assert_eq!(
        mount.path.as_str(),
        "/spec/template/spec/containers/0/volumeMounts/0"
    );
    assert!(
        mount.location.is_some(),
        "listed findings keep their place in the file"
    );
}

#[test]
fn an_added_capability_is_one_finding() {
    let findings = scan_text(NODE_AGENT, FAMILIES);
    let capability: Vec<_> = shape(&findings)
        .into_iter()
        .filter(|(_, path, _)| path.contains("capabilities/add"))
        .collect();
    assert_eq!(
        capability,
        vec![(
            "PAL-WL-002",
            "/spec/template/spec/containers/0/securityContext/capabilities/add/0".to_string(),
            vec!["PAL-PSS-003"]
        )]
    );
}

#[test]
fn a_container_adding_several_dangerous_capabilities_is_one_finding() {
    // What a CNI or mesh init container typically asks for.
    let text = r#"apiVersion: apps/v1
kind: DaemonSet
metadata: {name: kube-flannel, namespace: kube-flannel}
spec:
  selector:
    matchLabels: {app: flannel}
  template:
    metadata:
      labels: {app: flannel}
    spec:
      containers:
        - name: kube-flannel
          image: docker.io/flannel/flannel:v0.25.1
          securityContext:
            privileged: false
            capabilities:
              add: ["NET_ADMIN", "NET_RAW"]
"#;
    let findings = scan_text(text, FAMILIES);
    let capability: Vec<_> = shape(&findings)
        .into_iter()
        .filter(|(rule, _, _)| *rule == "PAL-WL-002" || *rule == "PAL-PSS-003")
        .collect();
    assert_eq!(
        capability,
        vec![(
            "PAL-WL-002",
            "/spec/template/spec/containers/0/securityContext/capabilities/add".to_string(),
            vec!["PAL-PSS-003", "PAL-PSS-003"]
        )]
    );
    let kept = findings
        .iter()
        .find(|f| f.rule.code == "PAL-WL-002")
        .expect("kept");
    assert!(
        kept.message.contains("NET_ADMIN") && kept.message.contains("NET_RAW"),
        "{}",
        kept.message
    );
}

#[test]
fn a_rule_alone_reports_what_it_finds() {
    let findings = scan_text(NODE_AGENT, &["image-not-pinned-by-digest"]);
    assert_eq!(shape(&findings).len(), 1);
    assert!(findings[0].also().is_empty());
}

#[test]
fn baseline_problems_keep_their_rule_at_the_restricted_level() {
    // Restricted is the default level: the hostPath volume is the baseline rule's (high), and
    // the restricted volume-type rule reports only what baseline allows (an NFS volume).
    let text = r#"apiVersion: v1
kind: Pod
metadata: {name: backup, namespace: ops}
spec:
  containers:
    - name: backup
      image: registry.example.com/ops/backup:2.1.0@sha256:6f4b8e7c0b1a2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e
  volumes:
    - name: host
      hostPath: {path: /srv/backup}
    - name: share
      nfs: {server: nfs.example.com, path: /exports/backup}
"#;
    let findings = scan_text(text, &["pss-host-path-volumes", "pss-restricted-volumes"]);
    let rules: Vec<_> = shape(&findings)
        .into_iter()
        .map(|(rule, path, _)| (rule, path))
        .collect();
    assert_eq!(
        rules,
        vec![
            ("PAL-PSS-004", "/spec/volumes/0/hostPath".to_string()),
            ("PAL-PSS-013", "/spec/volumes/1/nfs".to_string()),
        ]
    );
    let alone = scan_text(text, &["pss-host-path-volumes"]);
    assert_eq!(
        alone.len(),
        1,
        "the baseline rule alone reports at restricted level"
    );
    assert_eq!(alone[0].severity, Severity::High);
}

#[test]
fn workloads_not_isolated_are_listed_with_their_namespaces_missing_default_deny() {
    let text = r#"apiVersion: v1
kind: Namespace
metadata: {name: shop}
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
metadata: {name: api, namespace: shop}
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers: [{name: api, image: registry.example.com/shop/api:2.0.1}]
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: node-exporter, namespace: shop}
spec:
  selector: {matchLabels: {app: node-exporter}}
  template:
    metadata: {labels: {app: node-exporter}}
    spec:
      hostNetwork: true
      containers: [{name: exporter, image: quay.io/prometheus/node-exporter:v1.8.2}]
"#;
    let findings = scan_text(text, &["netpol", "pss-host-namespaces"]);
    let listed = |rule: &str| -> Vec<(String, &'static str)> {
        let finding = findings
            .iter()
            .find(|f| f.rule.code == rule)
            .unwrap_or_else(|| panic!("{rule} reported: {:?}", shape(&findings)));
        let mut out: Vec<_> = finding
            .also()
            .iter()
            .map(|a| (a.object.display_name(), a.rule))
            .collect();
        out.sort();
        out
    };
    let workloads = |rule| {
        vec![
            ("Deployment shop/api".to_string(), rule),
            ("Deployment shop/web".to_string(), rule),
        ]
    };
    assert_eq!(listed("PAL-NET-001"), workloads("PAL-NET-003"));
    assert_eq!(listed("PAL-NET-002"), workloads("PAL-NET-003"));
    assert!(
        findings.iter().all(|f| f.rule.code != "PAL-NET-003"),
        "no workload is reported not isolated on its own: {:?}",
        shape(&findings)
    );
    // The host-network DaemonSet: NetworkPolicies do not apply, said once, with the Pod
    // Security finding about the same field.
    assert_eq!(
        listed("PAL-PSS-001"),
        vec![("DaemonSet shop/node-exporter".to_string(), "PAL-NET-008")]
    );
    assert_eq!(findings.len(), 3, "{:?}", shape(&findings));
}

#[test]
fn restated_findings_keep_the_order_of_the_input() {
    let mut text = String::from("apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n");
    let names: Vec<String> = (0..12).map(|i| format!("worker-{i:02}")).collect();
    for name in &names {
        text.push_str(&format!(
            "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {name}, namespace: shop}}\nspec:\n  selector: {{matchLabels: {{app: {name}}}}}\n  template:\n    metadata: {{labels: {{app: {name}}}}}\n    spec:\n      containers: [{{name: app, image: registry.example.com/shop/{name}:1.0.0}}]\n"
        ));
    }
    let findings = scan_text(&text, &["netpol"]);
    let deny = findings
        .iter()
        .find(|f| f.rule.code == "PAL-NET-001")
        .unwrap_or_else(|| panic!("default deny reported: {:?}", shape(&findings)));
    let listed: Vec<String> = deny.also().iter().map(|a| a.object.name.clone()).collect();
    assert_eq!(
        listed, names,
        "the workloads in the order they are written, every run"
    );
}

#[test]
fn objects_without_a_namespace_are_in_the_namespace_they_are_applied_to() {
    let text = r#"apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: registry.example.com/shop/web:1.4.2}]
"#;
    let findings = scan_text(
        text,
        &["memory-limit-missing", "netpol-no-default-deny-ingress"],
    );
    assert_eq!(findings.len(), 2, "{:?}", shape(&findings));
    for finding in &findings {
        assert!(
            finding.message.contains("the namespace it is applied to")
                && !finding.message.contains("namespace default"),
            "{}",
            finding.message
        );
    }
}

#[test]
fn the_default_account_and_its_mounted_token_are_one_finding() {
    let findings = scan_text(NODE_AGENT, &["service-accounts"]);
    assert_eq!(
        shape(&findings),
        vec![(
            "PAL-SA-001",
            "/spec/template/spec".to_string(),
            vec!["PAL-SA-002"]
        )]
    );
    // An account of its own that still mounts its token: that finding alone.
    let own = NODE_AGENT.replace(
        "    spec:\n      containers:",
        "    spec:\n      serviceAccountName: log-shipper\n      containers:",
    );
    assert_ne!(own, NODE_AGENT);
    assert_eq!(
        shape(&scan_text(&own, &["service-accounts"])),
        vec![("PAL-SA-001", "/spec/template/spec".to_string(), vec![])]
    );
}
