//! Helm charts and Kustomize directories: named with the command that renders them when
//! scanned as files, rendered and mapped back with `--render`.

use std::path::Path;

use assert_cmd::Command;
use serde_json::Value;

fn write(root: &Path, file: &str, text: &str) {
    let path = root.join(file);
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, text).expect("write");
}

const CHART_TEMPLATE: &str = "apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: {{ .Release.Name }}-agent
spec:
  selector:
    matchLabels: {app: agent}
  template:
    metadata:
      labels: {app: agent}
    spec:
      containers:
        - name: agent
          image: \"{{ .Values.image }}\"
          securityContext:
            privileged: {{ .Values.privileged }}
";

/// `palisade scan --no-config --select pss-privileged --format json ARGS`, with `PATH` when
/// given.
fn scan_privileged(path: Option<&str>, args: &[&str]) -> std::process::Output {
    let mut command = Command::cargo_bin("palisade").expect("binary");
    if let Some(path) = path {
        command.env("PATH", path);
    }
    command
        .args([
            "scan",
            "--no-config",
            "--select",
            "pss-privileged",
            "--format",
            "json",
        ])
        .args(args)
        .output()
        .expect("runs")
}

fn chart(root: &Path) {
    write(
        root,
        "chart/Chart.yaml",
        "apiVersion: v2\nname: agent\nversion: 0.1.0\n",
    );
    write(
        root,
        "chart/values.yaml",
        "image: registry.example.com/agent:1.2.0\nprivileged: true\n",
    );
    write(root, "chart/templates/daemonset.yaml", CHART_TEMPLATE);
}

#[test]
fn a_chart_scanned_as_files_is_named_with_the_command_that_renders_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    chart(dir.path());
    let output = Command::cargo_bin("palisade")
        .expect("binary")
        .args(["scan", "--no-config"])
        .arg(dir.path())
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("a Helm chart"), "{text}");
    assert!(text.contains("palisade scan --render"), "{text}");
    assert!(
        !text.contains("mapping keys must be scalars"),
        "templates are not parsed: {text}"
    );
    // A template on its own says what it is.
    let output = Command::cargo_bin("palisade")
        .expect("binary")
        .args(["scan", "--no-config"])
        .arg(dir.path().join("chart/templates/daemonset.yaml"))
        .output()
        .expect("runs");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("this is a template"), "{text}");
}

/// A stand-in for helm, which no package registry this project installs from carries: it
/// prints what `helm template` prints for the chart above (a `# Source:` comment per
/// document), so that the mapping back to templates is what is tested.
fn fake_helm(bin: &Path) {
    let rendered = CHART_TEMPLATE
        .replace("{{ .Release.Name }}", "palisade")
        .replace(
            "\"{{ .Values.image }}\"",
            "registry.example.com/agent:1.2.0",
        )
        .replace("{{ .Values.privileged }}", "true");
    let script = format!(
        "#!/bin/sh\n[ \"$1\" = template ] || exit 3\ncat <<'EOF'\n---\n# Source: agent/templates/daemonset.yaml\n{rendered}EOF\n"
    );
    write(bin, "helm", &script);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(bin.join("helm"), std::fs::Permissions::from_mode(0o755))
            .expect("chmod");
    }
}

#[test]
fn rendered_charts_point_back_at_their_templates() {
    let dir = tempfile::tempdir().expect("tempdir");
    chart(dir.path());
    let bin = dir.path().join("bin");
    fake_helm(&bin);
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let chart = dir.path().join("chart").to_string_lossy().into_owned();
    let output = scan_privileged(Some(&path), &["--render", &chart]);
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value = serde_json::from_slice(&output.stdout).expect("json");
    let finding = &report["findings"][0];
    assert_eq!(finding["rule"], "PAL-PSS-002");
    let location = &finding["location"];
    assert!(
        location["file"]
            .as_str()
            .is_some_and(|f| f.ends_with("chart/templates/daemonset.yaml")),
        "{location}"
    );
    // `privileged: {{ .Values.privileged }}` in the template.
    assert_eq!(location["line"], 16);
    assert_eq!(location["column"], 13);
}

/// An overlay over a base, with a name prefix and a patch: scanned as files, its resources
/// are judged as written and a warning says how to judge what it deploys; with `--render`,
/// findings point at the file that wrote the field: the patch for what the patch sets, the
/// base for the rest.
#[test]
fn kustomize_overlays_render_with_kubectl_and_point_back_at_their_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let base = dir.path().join("base");
    let root = dir.path().join("overlay");
    write(&base, "kustomization.yaml", "resources: [web.yaml]\n");
    write(
        &base,
        "web.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      hostNetwork: true\n      containers:\n        - name: web\n          image: registry.example.com/shop/web:1.4.2\n",
    );
    write(
        &root,
        "kustomization.yaml",
        "resources: [../base]\nnamePrefix: prod-\npatches:\n  - path: privileged.yaml\n",
    );
    write(
        &root,
        "privileged.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\nspec:\n  template:\n    spec:\n      containers:\n        - name: web\n          securityContext:\n            privileged: true\n",
    );
    let scan = |extra: &[&str]| {
        let output = Command::cargo_bin("palisade")
            .expect("binary")
            .args([
                "scan",
                "--no-config",
                "--select",
                "pss-privileged,pss-host-namespaces",
                "--format",
                "json",
            ])
            .args(extra)
            .output()
            .expect("runs");
        serde_json::from_slice::<Value>(&output.stdout).expect("json")
    };
    let dir_arg = dir.path().to_string_lossy().into_owned();
    let root_arg = root.to_string_lossy().into_owned();
    // As files: the patch is not an object of its own, so nothing is privileged, and the
    // overlay is named with the command that judges what it deploys.
    let files = scan(&[&dir_arg]);
    let rules: Vec<&str> = files["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["rule"].as_str())
        .collect();
    assert!(!rules.contains(&"PAL-PSS-002"), "{files}");
    let warning = files["warnings"]
        .as_array()
        .and_then(|w| w.iter().find(|w| w["file"] == root_arg.as_str()))
        .unwrap_or_else(|| panic!("no note on the overlay: {files}"));
    assert!(
        warning["message"]
            .as_str()
            .is_some_and(|m| m.contains(&format!("palisade scan --render {root_arg}"))),
        "{warning}"
    );
    let kubectl = std::env::var_os("PATH").is_some_and(|paths| {
        std::env::split_paths(&paths).any(|dir| dir.join("kubectl").is_file())
    });
    if !kubectl {
        eprintln!(
            "SKIPPED: kubectl is not on PATH, so --render of a Kustomize directory is not tested"
        );
        return;
    }
    let rendered = scan(&["--render", &root_arg]);
    let finding = |rule: &str| {
        rendered["findings"]
            .as_array()
            .and_then(|f| f.iter().find(|f| f["rule"] == rule))
            .unwrap_or_else(|| panic!("{rule}: {rendered}"))
            .clone()
    };
    let privileged = finding("PAL-PSS-002");
    assert_eq!(privileged["object"]["name"], "prod-web");
    let location = &privileged["location"];
    assert_eq!(
        location["file"],
        root.join("privileged.yaml").to_string_lossy().as_ref(),
        "{privileged}"
    );
    assert_eq!(
        (location["line"].as_u64(), location["column"].as_u64()),
        (Some(10), Some(13))
    );
    let host = finding("PAL-PSS-001");
    let location = &host["location"];
    assert_eq!(
        location["file"],
        base.join("web.yaml").to_string_lossy().as_ref(),
        "{host}"
    );
    assert_eq!(
        (location["line"].as_u64(), location["column"].as_u64()),
        (Some(9), Some(7))
    );
    assert!(
        rendered["warnings"]
            .as_array()
            .is_none_or(|w| w.iter().all(|w| w["file"] != root_arg.as_str())),
        "{rendered}"
    );
}

#[test]
fn rendering_without_the_tool_says_which_one_and_how_to_do_without() {
    let dir = tempfile::tempdir().expect("tempdir");
    chart(dir.path());
    let chart = dir.path().join("chart").to_string_lossy().into_owned();
    // A PATH with neither helm nor kubectl.
    let empty = dir.path().join("empty-bin");
    std::fs::create_dir_all(&empty).expect("mkdir");
    let output = scan_privileged(Some(&empty.to_string_lossy()), &["--render", &chart]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("is a Helm chart, and helm is not on PATH")
            && stderr.contains("helm template RELEASE"),
        "{stderr}"
    );
    // Neither a chart nor an overlay.
    let plain = dir.path().join("plain");
    write(
        &plain,
        "pod.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\n",
    );
    let output = scan_privileged(None, &["--render", &plain.to_string_lossy()]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("neither a Helm chart"));
}
