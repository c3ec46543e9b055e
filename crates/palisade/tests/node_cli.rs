//! End-to-end `palisade node --root` on the node trees in `tests/data/node/`: a hardened
//! kubeadm control plane passes every check, a weak one fails every check at its file, line
//! and flag, and a kubelet configured by its config file alone gets no false failure. Git
//! keeps neither modes nor owners, so each test copies its tree and sets them as a node
//! would have them.

use std::collections::BTreeSet;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

fn palisade() -> Command {
    let mut command = Command::cargo_bin("palisade").expect("binary is built");
    command.env_remove("CI");
    command
}

fn tree(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/node")
        .join(name)
}

/// Copies a tree with every file at `file_mode` and every directory at `dir_mode`.
fn node_copy(name: &str, file_mode: u32, dir_mode: u32) -> tempfile::TempDir {
    let target = tempfile::tempdir().expect("tempdir");
    let mut pending = vec![(tree(name), target.path().to_path_buf())];
    while let Some((from, to)) = pending.pop() {
        std::fs::create_dir_all(&to).expect("mkdir");
        for entry in std::fs::read_dir(&from).expect("readable tree") {
            let entry = entry.expect("entry");
            let destination = to.join(entry.file_name());
            if entry.path().is_dir() {
                pending.push((entry.path(), destination));
            } else {
                std::fs::copy(entry.path(), &destination).expect("copy");
                std::fs::set_permissions(&destination, std::fs::Permissions::from_mode(file_mode))
                    .expect("chmod");
            }
        }
        std::fs::set_permissions(&to, std::fs::Permissions::from_mode(dir_mode)).expect("chmod");
    }
    target
}

fn scan(root: &Path, extra: &[&str]) -> (Value, i32, String) {
    let output = palisade()
        .args(["node", "--no-config", "--format", "json", "--root"])
        .arg(root)
        .args(extra)
        .output()
        .expect("runs");
    let report = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    });
    let code = output.status.code().expect("exit code");
    (
        report,
        code,
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn findings(report: &Value) -> Vec<Value> {
    report["findings"].as_array().cloned().unwrap_or_default()
}

/// `rule file:line:column` for a finding, the file relative to the tree.
fn place(finding: &Value, root: &Path) -> String {
    let location = &finding["location"];
    let file = location["file"].as_str().unwrap_or("");
    let relative = file
        .strip_prefix(root.to_str().unwrap_or(""))
        .unwrap_or(file);
    format!(
        "{} {relative}:{}:{}",
        finding["rule"].as_str().unwrap_or(""),
        location["line"],
        location["column"]
    )
}

#[test]
fn a_hardened_kubeadm_control_plane_passes_every_check() {
    let node = node_copy("hardened", 0o600, 0o700);
    let (report, code, stderr) = scan(node.path(), &[]);
    assert_eq!(findings(&report), Vec::<Value>::new(), "{stderr}");
    assert_eq!(code, 0);
    assert!(report.get("absent").is_none(), "{report}");
    // Static pods, kubelet config, encryption config and audit policy, plus the kubelet's
    // flags from its drop-in and kubeadm-flags.env.
    assert_eq!(report["summary"]["files"], 7);
    assert_eq!(report["summary"]["objects"], 9);
}

#[test]
fn a_weak_control_plane_fails_every_check_at_its_file_line_and_flag() {
    let node = node_copy("weak", 0o644, 0o755);
    let running_as_root = std::fs::metadata("/proc/self")
        .map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
        .unwrap_or(false);
    if running_as_root {
        std::os::unix::fs::chown(
            node.path().join("etc/kubernetes/admin.conf"),
            Some(1000),
            Some(1000),
        )
        .expect("chown");
    }
    let (report, code, _) = scan(node.path(), &[]);
    assert_eq!(code, 1);
    let all = findings(&report);

    // Every CIS check of the node families fails at least once.
    let mut cis: BTreeSet<String> = BTreeSet::new();
    for finding in &all {
        let message = finding["message"].as_str().unwrap_or("");
        if let Some(rest) = message.strip_prefix("CIS ") {
            cis.insert(rest.split(':').next().unwrap_or("").to_string());
        }
    }
    let mut expected: Vec<&str> = vec![
        "1.1.1",
        "1.1.3",
        "1.1.5",
        "1.1.7",
        "1.1.11",
        "1.1.12",
        "1.1.13",
        "1.1.15",
        "1.1.17",
        "1.1.20",
        "1.1.21",
        "1.2.1",
        "1.2.2",
        "1.2.3",
        "1.2.4",
        "1.2.5",
        "1.2.6",
        "1.2.7",
        "1.2.8",
        "1.2.9",
        "1.2.10",
        "1.2.11",
        "1.2.12",
        "1.2.13",
        "1.2.14",
        "1.2.15",
        "1.2.16",
        "1.2.17",
        "1.2.18",
        "1.2.19",
        "1.2.21",
        "1.2.22",
        "1.2.23",
        "1.2.24",
        "1.2.25",
        "1.2.26",
        "1.2.28",
        "1.2.29",
        "1.3.1",
        "1.3.2",
        "1.3.3",
        "1.3.4",
        "1.3.5",
        "1.3.6",
        "1.3.7",
        "1.4.1",
        "1.4.2",
        "2.1",
        "2.2",
        "2.3",
        "2.4",
        "2.5",
        "2.6",
        "2.7",
        "3.1.1",
        "3.2.1",
        "3.2.2",
        "4.1.1",
        "4.1.5",
        "4.1.7",
        "4.1.9",
        "4.2.1",
        "4.2.2",
        "4.2.3",
        "4.2.4",
        "4.2.5",
        "4.2.6",
        "4.2.7",
        "4.2.9",
        "4.2.10",
        "4.2.11",
        "4.2.12",
        "4.2.13",
        "5.2.1",
        "v1.6 1.2.18",
        "v1.6 1.2.19",
        "v1.8 4.2.6",
    ];
    if running_as_root {
        expected.push("1.1.14");
    }
    let missing: Vec<&&str> = expected.iter().filter(|id| !cis.contains(**id)).collect();
    assert!(
        missing.is_empty(),
        "CIS checks that did not fail: {missing:?}"
    );

    // Every rule of the node families fires.
    let rules: BTreeSet<&str> = all.iter().filter_map(|f| f["rule"].as_str()).collect();
    for family in [
        "PAL-CP-",
        "PAL-ETCD-",
        "PAL-KUBELET-",
        "PAL-ENC-",
        "PAL-AUDIT-",
        "PAL-NODE-",
    ] {
        let listed = palisade_rules::registry::RULES
            .iter()
            .filter(|r| r.meta.info.code.starts_with(family));
        for rule in listed {
            // The flag-missing variant of encryption at rest is pinned by its fixture: this
            // API server names a (weak) encryption config.
            if rule.meta.info.code == "PAL-CP-007" {
                continue;
            }
            assert!(
                rules.contains(rule.meta.info.code),
                "{} did not fire",
                rule.meta.info.code
            );
        }
    }

    // Each failure points at the file, line and flag.
    let places: BTreeSet<String> = all.iter().map(|f| place(f, node.path())).collect();
    for expected in [
        // --token-auth-file=... in the static pod's command list.
        "PAL-CP-001 /etc/kubernetes/manifests/kube-apiserver.yaml:22:11",
        // A default (--anonymous-auth unset) points at the command.
        "PAL-CP-001 /etc/kubernetes/manifests/kube-apiserver.yaml:18:7",
        "PAL-ETCD-001 /etc/kubernetes/manifests/etcd.yaml:23:11",
        // A kubelet flag in /etc/default/kubelet, at the flag itself.
        "PAL-KUBELET-005 /etc/default/kubelet:1:21",
        // A kubelet setting in its config file.
        "PAL-KUBELET-004 /var/lib/kubelet/config.yaml:12:1",
        "PAL-ENC-001 /etc/kubernetes/encryption-config.yaml:7:9",
        "PAL-AUDIT-001 /etc/kubernetes/audit-policy.yaml:11:5",
        "PAL-NODE-001 /var/lib/etcd:1:1",
    ] {
        assert!(places.contains(expected), "{expected} not in {places:#?}");
    }
}

#[test]
fn a_kubelet_configured_by_its_file_alone_has_no_false_failures() {
    let node = node_copy("kubelet-config-only", 0o600, 0o700);
    let (report, code, stderr) = scan(node.path(), &[]);
    assert_eq!(findings(&report), Vec::<Value>::new());
    assert_eq!(code, 0);
    // A worker: the control plane's files are reported as not present, not as failures.
    let absent: Vec<&str> = report["absent"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    assert!(
        absent.contains(
            &"/etc/kubernetes/manifests/kube-apiserver.yaml (kube-apiserver static pod manifest)"
        ),
        "{absent:?} {stderr}"
    );
    let text = palisade()
        .args(["node", "--no-config", "--root"])
        .arg(node.path())
        .output()
        .expect("runs");
    assert!(String::from_utf8_lossy(&text.stdout)
        .contains("not present: /etc/kubernetes/admin.conf (administrator kubeconfig)"));

    // The same flags without the config file: the kubelet's flag defaults apply, and they
    // are the insecure ones.
    std::fs::remove_file(node.path().join("var/lib/kubelet/config.yaml")).expect("rm");
    let (report, code, _) = scan(node.path(), &["--select", "kubelet"]);
    assert_eq!(code, 1);
    let messages: Vec<String> = findings(&report)
        .iter()
        .filter_map(|f| f["message"].as_str().map(str::to_string))
        .collect();
    for expected in [
        "CIS 4.2.1: kubelet",
        "CIS 4.2.2: kubelet",
        "CIS 4.2.4: kubelet",
    ] {
        assert!(
            messages
                .iter()
                .any(|m| m.starts_with(expected) && m.contains("(flag default, no config file)")),
            "{expected} missing: {messages:#?}"
        );
    }
}

#[test]
fn key_material_is_never_quoted() {
    let node = node_copy("weak", 0o644, 0o755);
    for format in ["text", "json", "sarif", "html"] {
        let output = palisade()
            .args(["node", "--no-config", "--format", format, "--root"])
            .arg(node.path())
            .output()
            .expect("runs");
        let out = String::from_utf8_lossy(&output.stdout);
        // The first line of each PKI file and the encryption keys of the weak config.
        for secret in ["fixture placeholder", "Zml4dHVyZS1rZXk", "c2hvcnQta2V5"] {
            assert!(!out.contains(secret), "{format} quotes `{secret}`");
        }
        assert!(
            out.contains("PAL-ENC-002") && out.contains("PAL-NODE-001"),
            "{format}"
        );
    }
}

#[test]
fn symbolic_links_in_the_pki_directory_are_not_followed() {
    let node = node_copy("weak", 0o644, 0o755);
    let count = |root: &Path| {
        let (report, _, _) = scan(root, &["--select", "PAL-NODE-001"]);
        findings(&report).len()
    };
    let before = count(node.path());
    // A link back up the tree would otherwise be walked until the kernel refuses (ELOOP),
    // reporting every file again at each level.
    let pki = node.path().join("etc/kubernetes/pki");
    std::os::unix::fs::symlink(&pki, pki.join("loop")).expect("symlink");
    assert_eq!(count(node.path()), before);
}

#[test]
fn node_reports_a_missing_root_and_rejects_paths() {
    for (args, message) in [
        (
            vec!["node", "--root", "/nonexistent/palisade-node"],
            "not a directory",
        ),
        (vec!["node", "--root", ".", "k8s/"], "takes no paths"),
    ] {
        let output = palisade().args(&args).output().expect("runs");
        assert_eq!(output.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&output.stderr).contains(message));
    }
}

#[test]
fn text_output_groups_by_cis_section() {
    let node = node_copy("weak", 0o644, 0o755);
    let output = palisade()
        .args(["node", "--no-config", "--group-by", "cis", "--root"])
        .arg(node.path())
        .output()
        .expect("runs");
    let text = String::from_utf8_lossy(&output.stdout);
    let headings: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("CIS "))
        .map(|l| l.split(" (").next().unwrap_or(l))
        .collect();
    assert_eq!(
        headings,
        [
            "CIS 1.1 Control Plane Node Configuration Files",
            "CIS 1.2 API Server",
            "CIS 1.3 Controller Manager",
            "CIS 1.4 Scheduler",
            "CIS 2 etcd",
            "CIS 3.1 Authentication and Authorization",
            "CIS 3.2 Logging",
            "CIS 4.1 Worker Node Configuration Files",
            "CIS 4.2 Kubelet",
            "CIS 5.2 Pod Security Standards",
        ]
    );
}

/// The README's walk-through: `scripts/node-example` gives a bundled tree its modes.
#[test]
fn the_node_example_script_prepares_trees_for_node_root() {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/node-example");
    for (tree, failing) in [("weak", true), ("hardened", false)] {
        let dir = tempfile::tempdir().expect("tempdir");
        let target = dir.path().join(tree);
        let status = std::process::Command::new("bash")
            .arg(&script)
            .arg(tree)
            .arg(&target)
            .stdout(std::process::Stdio::null())
            .status()
            .expect("bash runs");
        assert!(status.success(), "{tree}");
        let (report, code, _) = scan(&target, &[]);
        assert_eq!(code, i32::from(failing), "{tree}: {report}");
        let found = findings(&report);
        if failing {
            // The modes the script gives are what the file rules judge: the API server's
            // static pod manifest is world-readable in the weak tree.
            assert!(
                found.iter().any(|f| f["rule"] == "PAL-NODE-001"
                    && f["message"]
                        .as_str()
                        .is_some_and(|m| m.contains("kube-apiserver static pod manifest")
                            && m.ends_with("has mode 644; the limit is 600"))),
                "{tree}: {found:?}"
            );
            assert!(
                found.iter().any(|f| f["rule"] == "PAL-KUBELET-001"),
                "{tree}"
            );
        } else {
            assert_eq!(found, Vec::<Value>::new(), "{tree}");
        }
    }
}

fn write_below(root: &Path, path: &str, text: &str) {
    let path = root.join(path);
    std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
    std::fs::write(path, text).expect("write");
}

/// `palisade node` on `root` with the anonymous-kubelet rule alone, which must find something:
/// the report and the places of its findings.
fn anonymous_kubelets(root: &Path) -> (Value, Vec<String>) {
    let (report, code, stderr) = scan(root, &["--select", "PAL-KUBELET-001"]);
    assert_eq!(code, 1, "{stderr}");
    let places = findings(&report).iter().map(|f| place(f, root)).collect();
    (report, places)
}

#[test]
fn a_kubelet_without_flags_or_config_file_is_judged_on_its_defaults() {
    let root = tempfile::tempdir().expect("tempdir");
    write_below(
        root.path(),
        "etc/systemd/system/kubelet.service",
        "[Service]\nExecStart=/usr/bin/kubelet\nRestart=always\n",
    );
    let (report, places) = anonymous_kubelets(root.path());
    assert_eq!(
        places,
        vec!["PAL-KUBELET-001 /etc/systemd/system/kubelet.service:2:1"]
    );
    let message = findings(&report)[0]["message"]
        .as_str()
        .unwrap_or("")
        .to_string();
    assert!(
        message.contains("--anonymous-auth") && message.contains("flag default, no config file"),
        "{message}"
    );
}

#[test]
fn a_kubelet_config_file_without_kind_is_read_as_one_with_a_warning() {
    let root = tempfile::tempdir().expect("tempdir");
    write_below(
        root.path(),
        "etc/systemd/system/kubelet.service",
        "[Service]\nExecStart=/usr/bin/kubelet --config=/var/lib/kubelet/config.yaml\n",
    );
    write_below(
        root.path(),
        "var/lib/kubelet/config.yaml",
        "# written by hand, without apiVersion and kind\nauthentication:\n  anonymous:\n    enabled: true\n",
    );
    let (report, places) = anonymous_kubelets(root.path());
    assert_eq!(
        places,
        vec!["PAL-KUBELET-001 /var/lib/kubelet/config.yaml:4:5"]
    );
    let warnings = report["warnings"].as_array().cloned().unwrap_or_default();
    assert!(
        warnings.iter().any(|w| w["file"]
            .as_str()
            .is_some_and(|f| f.ends_with("var/lib/kubelet/config.yaml"))
            && w["message"]
                .as_str()
                .is_some_and(|m| m.contains("no `kind`"))),
        "{warnings:?}"
    );
}
