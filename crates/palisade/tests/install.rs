//! What installs Palisade: the kustomize base and the Helm chart render exactly what
//! `admit manifests` and `operator manifests` print, and pass Palisade's own scan at high; the
//! Dockerfile passes hadolint, the workflows actionlint; the pre-commit hook fails a commit
//! that adds a privileged pod and passes a clean one.
//!
//! The tools come from `scripts/install-test-deps` (~/.cache/palisade-tools, or PATH); a test
//! whose tool is missing says SKIPPED and why.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

mod common;

use common::binary;
use serde_json::Value;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn tools_dir() -> PathBuf {
    std::env::var_os("PALISADE_TOOLS").map_or_else(
        || {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
                .join(".cache/palisade-tools")
        },
        PathBuf::from,
    )
}

/// `name` on PATH, else in the tools directory; `None` (and a SKIPPED line) without it.
fn tool(name: &str, test: &str) -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|candidate| candidate.is_file())
    });
    let found = on_path.or_else(|| {
        let candidate = tools_dir().join("bin").join(name);
        candidate.is_file().then_some(candidate)
    });
    if found.is_none() {
        eprintln!(
            "SKIPPED {test}: no `{name}` on PATH or in {} (scripts/install-test-deps installs it)",
            tools_dir().join("bin").display()
        );
    }
    found
}

/// A command for a tool found by [`tool`]: the tools directory's scripts import their Python
/// packages from beside them.
fn tool_command(path: impl AsRef<std::ffi::OsStr>) -> Command {
    let mut command = Command::new(path);
    command.env("PYTHONPATH", tools_dir());
    command
}

/// `PATH` with the `palisade` under test first, as an installed one would be found.
fn path_with_palisade() -> std::ffi::OsString {
    let bin_dir = binary().parent().expect("a directory").to_path_buf();
    std::env::join_paths(std::iter::once(bin_dir).chain(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    )))
    .expect("PATH")
}

fn palisade(args: &[&str]) -> String {
    let output = Command::new(binary()).args(args).output().expect("runs");
    assert!(
        output.status.success(),
        "palisade {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The objects of a stream, by `Kind namespace/name`.
fn by_identity(yaml: &str) -> BTreeMap<String, Value> {
    let objects = palisade_testkit::yaml::objects(yaml).expect("valid YAML");
    let mut map = BTreeMap::new();
    for object in objects {
        let id = format!(
            "{} {}/{}",
            object["kind"].as_str().unwrap_or(""),
            object["metadata"]["namespace"].as_str().unwrap_or(""),
            object["metadata"]["name"].as_str().unwrap_or("")
        );
        if let Some(first) = map.get(&id) {
            assert_eq!(first, &object, "{id} twice, differently");
        }
        map.insert(id, object);
    }
    map
}

fn assert_same_objects(what: &str, rendered: &str, expected: &str) {
    let rendered = by_identity(rendered);
    let expected = by_identity(expected);
    let names = |m: &BTreeMap<String, Value>| m.keys().cloned().collect::<Vec<_>>();
    assert_eq!(names(&rendered), names(&expected), "{what}: the objects");
    for (id, object) in &expected {
        assert_eq!(&rendered[id], object, "{what}: {id}");
    }
}

fn assert_scan_clean_at_high(what: &str, yaml: &str) {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join(format!("{what}.yaml"));
    std::fs::write(&file, yaml).expect("write");
    common::assert_clean_at_high(&file);
}

/// The documents of `admit manifests` (or `operator manifests`) that are not the namespace's
/// own (the Namespace and its default deny, which both commands print).
fn split_namespace(text: &str) -> (Vec<&str>, Vec<&str>) {
    text.split("\n---\n").partition(|doc| {
        doc.contains("\nkind: Namespace\n")
            || (doc.contains("kind: NetworkPolicy") && doc.contains("name: default-deny"))
    })
}

const GENERATED: &str = "# Generated from `palisade {command}` (crates/palisade/tests/install.rs checks it;\n# PALISADE_UPDATE_DEPLOY=1 writes it again). Change the command's output, not this file.\n";

/// The kustomize base's files as the commands print them today.
fn kustomize_files() -> Vec<(PathBuf, String)> {
    let admit = palisade(&["admit", "manifests"]);
    let operator = palisade(&["operator", "manifests"]);
    let (namespace, webhook) = split_namespace(&admit);
    let (_, operator_only) = split_namespace(&operator);
    let strip = |doc: &str| -> String {
        // The commands' leading comments (how to create the certificate) stay in the README.
        doc.lines()
            .skip_while(|line| line.starts_with('#'))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let file = |command: &str, docs: Vec<&str>| {
        let body: Vec<String> = docs.into_iter().map(strip).collect();
        format!(
            "{}{}\n",
            GENERATED.replace("{command}", command),
            body.join("\n---\n").trim_end()
        )
    };
    let base = repo().join("deploy/kustomize");
    vec![
        (
            base.join("base/namespace.yaml"),
            file("admit manifests", namespace),
        ),
        (
            base.join("components/webhook/webhook.yaml"),
            file("admit manifests", webhook),
        ),
        (
            base.join("components/operator/operator.yaml"),
            file("operator manifests", operator_only),
        ),
    ]
}

#[test]
fn the_kustomize_base_is_what_the_manifests_commands_print() {
    let mut stale = Vec::new();
    for (path, text) in kustomize_files() {
        if std::env::var_os("PALISADE_UPDATE_DEPLOY").is_some() {
            std::fs::create_dir_all(path.parent().expect("a directory")).expect("mkdir");
            std::fs::write(&path, &text).expect("write");
        } else if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
            stale.push(path.display().to_string());
        }
    }
    assert!(
        stale.is_empty(),
        "out of date: {stale:?}; run PALISADE_UPDATE_DEPLOY=1 cargo test -p palisade --test install"
    );

    let Some(kubectl) = tool("kubectl", "kustomize rendering") else {
        return;
    };
    let render = |dir: &str| {
        let output = Command::new(&kubectl)
            .args(["kustomize"])
            .arg(repo().join(dir))
            .output()
            .expect("kubectl runs");
        assert!(
            output.status.success(),
            "kubectl kustomize {dir}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let admit = palisade(&["admit", "manifests"]);
    let operator = palisade(&["operator", "manifests"]);
    let everything = render("deploy/kustomize");
    assert_same_objects(
        "deploy/kustomize",
        &everything,
        &format!("{admit}\n---\n{operator}"),
    );
    assert_scan_clean_at_high("kustomize", &everything);
    let webhook_only = render("deploy/kustomize/examples/webhook");
    assert_same_objects("the webhook alone", &webhook_only, &admit);
}

/// Renders the chart offline with Helm's own engine (Helm's SDK, loaded by Python), as
/// `helm template` does; `values` is JSON.
fn helm_template(values: &Value, namespace: &str, test: &str) -> Option<String> {
    let tools = tools_dir();
    if !tools.join("helm_python").is_dir() {
        eprintln!(
            "SKIPPED {test}: Helm's SDK (helm-python-sdk) is not in {} (scripts/install-test-deps installs it)",
            tools.display()
        );
        return None;
    }
    let script = r#"
import json, sys
import helm_python as helm
chart = helm.Chart.load(sys.argv[1])
rendered = chart.render(json.loads(sys.argv[2]), name="palisade", namespace=sys.argv[3], is_install=True)
for path in sorted(rendered):
    text = rendered[path].strip()
    if text and not path.endswith("NOTES.txt"):
        print("---\n# Source: " + path + "\n" + text)
"#;
    let output = Command::new("python3")
        .env("PYTHONPATH", &tools)
        .args(["-c", script])
        .arg(repo().join("deploy/helm/palisade"))
        .arg(values.to_string())
        .arg(namespace)
        .output()
        .expect("python3 runs");
    assert!(
        output.status.success(),
        "helm template: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Some(String::from_utf8_lossy(&output.stdout).into_owned())
}

#[test]
fn the_helm_chart_renders_what_the_manifests_commands_print() {
    let test = "Helm chart rendering";
    let Some(defaults) = helm_template(&serde_json::json!({}), "palisade-system", test) else {
        return;
    };
    let admit = palisade(&["admit", "manifests"]);
    let operator = palisade(&["operator", "manifests"]);
    assert_same_objects(
        "the chart's defaults",
        &defaults,
        &format!("{admit}\n---\n{operator}"),
    );
    assert_scan_clean_at_high("helm-defaults", &defaults);

    // Another namespace, an image by digest, a config: the same settings as the commands'.
    let image = "registry.example.com/security/palisade@sha256:8f1e8a4b6a9f0c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f708192a3b4c5d6e7f809";
    let dir = tempfile::tempdir().expect("tempdir");
    let config = "fail-on: medium\nexceptions:\n- rules: [PAL-PSS-001]\n  namespace: monitoring\n  reason: node exporter reads the host\n";
    let config_file = dir.path().join("palisade.yaml");
    std::fs::write(&config_file, config).expect("config");
    let config_arg = config_file.to_str().expect("a UTF-8 path");
    let values = serde_json::json!({
        "image": {"repository": "registry.example.com/security/palisade",
                  "digest": "sha256:8f1e8a4b6a9f0c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f708192a3b4c5d6e7f809"},
        "config": config,
    });
    let Some(custom) = helm_template(&values, "security", test) else {
        return;
    };
    let admit = palisade(&[
        "admit",
        "manifests",
        "--namespace",
        "security",
        "--image",
        image,
        "--config",
        config_arg,
    ]);
    let operator = palisade(&[
        "operator",
        "manifests",
        "--namespace",
        "security",
        "--image",
        image,
        "--config",
        config_arg,
    ]);
    assert_same_objects(
        "namespace, digest and config",
        &custom,
        &format!("{admit}\n---\n{operator}"),
    );

    // The webhook alone, its certificate from cert-manager: a self-signed issuer, the
    // certificate for the Service's name, and the CA injected into the registration.
    let values = serde_json::json!({
        "operator": {"enabled": false},
        "webhook": {"certificate": {"source": "cert-manager"}, "replicas": 3},
    });
    let Some(cert_manager) = helm_template(&values, "palisade-system", test) else {
        return;
    };
    let objects = by_identity(&cert_manager);
    assert!(
        !objects.contains_key("Deployment palisade-system/palisade-operator"),
        "{:?}",
        objects.keys()
    );
    let certificate = &objects["Certificate palisade-system/palisade-admit"];
    assert_eq!(
        certificate["spec"]["dnsNames"],
        serde_json::json!([
            "palisade-admit.palisade-system.svc",
            "palisade-admit.palisade-system.svc.cluster.local"
        ])
    );
    assert_eq!(certificate["spec"]["secretName"], "palisade-admit-tls");
    assert_eq!(
        objects["ValidatingWebhookConfiguration /palisade"]["metadata"]["annotations"]
            ["cert-manager.io/inject-ca-from"],
        "palisade-system/palisade-admit"
    );
    assert_eq!(
        objects["Deployment palisade-system/palisade-admit"]["spec"]["replicas"],
        3
    );
    assert_scan_clean_at_high("helm-cert-manager", &cert_manager);
}

#[test]
fn the_dockerfile_passes_hadolint() {
    let Some(hadolint) = tool("hadolint", "hadolint on the Dockerfile") else {
        return;
    };
    let output = tool_command(hadolint)
        .arg(repo().join("Dockerfile"))
        .output()
        .expect("hadolint runs");
    assert!(
        output.status.success(),
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let dockerfile = std::fs::read_to_string(repo().join("Dockerfile")).expect("Dockerfile");
    // Runs as the user the manifests' securityContext names, with the OCI labels.
    assert!(dockerfile.contains("USER 65532:65532"));
    for label in ["source", "version", "revision", "licenses"] {
        assert!(
            dockerfile.contains(&format!("org.opencontainers.image.{label}=")),
            "{label}"
        );
    }
}

#[test]
fn the_workflows_pass_actionlint() {
    let Some(actionlint) = tool("actionlint", "actionlint on the workflows") else {
        return;
    };
    let output = tool_command(actionlint)
        .current_dir(repo())
        .args(["-shellcheck=", "-pyflakes="])
        .output()
        .expect("actionlint runs");
    assert!(
        output.status.success(),
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

fn git(dir: &Path, args: &[&str]) {
    let output = Command::new("git")
        .current_dir(dir)
        .args(["-c", "user.name=Dev", "-c", "user.email=dev@example.com"])
        .args(args)
        .output()
        .expect("git runs");
    assert!(
        output.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn the_pre_commit_hook_fails_a_privileged_pod_and_passes_a_clean_one() {
    let Some(pre_commit) = tool("pre-commit", "the pre-commit hook") else {
        return;
    };
    let scratch = tempfile::tempdir().expect("tempdir");
    let dir = scratch.path();
    git(dir, &["init", "-q"]);
    std::fs::create_dir_all(dir.join("k8s")).expect("mkdir");
    std::fs::write(
        dir.join("k8s/debug.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: debug\n  namespace: tools\nspec:\n  containers:\n  - name: shell\n    image: registry.example.com/tools/shell:1.4@sha256:0d6a8f3b2c1e4d5f6a7b8c9d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b\n    securityContext:\n      privileged: true\n",
    )
    .expect("write");
    std::fs::write(dir.join("README.md"), "# payments\n").expect("write");
    git(dir, &["add", "."]);
    // The hook from this checkout, as a user's `.pre-commit-config.yaml` would name it
    // (`try-repo` takes the working tree, uncommitted changes included).
    let path = path_with_palisade();
    let run = |files: &[&str]| {
        tool_command(&pre_commit)
            .current_dir(dir)
            .env("PATH", &path)
            .env("PRE_COMMIT_HOME", dir.join(".pre-commit-cache"))
            .args(["try-repo"])
            .arg(repo())
            .args(["palisade", "--files"])
            .args(files)
            .output()
            .expect("pre-commit runs")
    };
    let failed = run(&["k8s/debug.yaml", "README.md"]);
    let text = String::from_utf8_lossy(&failed.stdout).into_owned();
    assert!(!failed.status.success(), "{text}");
    assert!(text.contains("PAL-PSS-002"), "{text}");
    assert!(text.contains("k8s/debug.yaml"), "{text}");

    std::fs::write(
        dir.join("k8s/debug.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: debug\n  namespace: tools\nspec:\n  automountServiceAccountToken: false\n  securityContext:\n    runAsNonRoot: true\n    runAsUser: 10001\n    seccompProfile: {type: RuntimeDefault}\n  containers:\n  - name: shell\n    image: registry.example.com/tools/shell:1.4@sha256:0d6a8f3b2c1e4d5f6a7b8c9d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b\n    securityContext:\n      allowPrivilegeEscalation: false\n      readOnlyRootFilesystem: true\n      capabilities: {drop: [ALL]}\n    resources:\n      requests: {cpu: 10m, memory: 32Mi}\n      limits: {cpu: 100m, memory: 64Mi}\n",
    )
    .expect("write");
    let passed = run(&["k8s/debug.yaml", "README.md"]);
    assert!(
        passed.status.success(),
        "{}",
        String::from_utf8_lossy(&passed.stdout)
    );
}

/// The bundled examples apply as a newcomer would apply them (`kubectl apply -R -f DIR` on an
/// empty cluster, once): every object defined once, namespaces before what they hold, no
/// values file among the manifests.
#[test]
fn the_bundled_examples_apply_cleanly_to_a_real_cluster() {
    let Some(kubectl) = tool("kubectl", "applying the bundled examples") else {
        return;
    };
    for example in ["shop", "netpol", "rbac", "paths"] {
        let Some(cluster) = palisade_testkit::TestCluster::own(&format!("examples/{example}"))
        else {
            return;
        };
        let output = Command::new(&kubectl)
            .arg("--kubeconfig")
            .arg(&cluster.kubeconfig)
            .args(["apply", "-R", "-f"])
            .arg(repo().join("examples").join(example))
            .output()
            .expect("kubectl runs");
        assert!(
            output.status.success(),
            "examples/{example}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

/// The image as the Dockerfile's final stage makes it (the binary and the C library it links,
/// user 65532, `palisade` as the entrypoint), built offline with buildah from `scratch` (the
/// Dockerfile's base images need a registry), and run: `palisade version` answers in it, as
/// the non-root user.
#[test]
fn an_image_of_the_binary_runs_as_the_non_root_user() {
    let Some(buildah) = tool("buildah", "building the container image") else {
        return;
    };
    let dockerfile = std::fs::read_to_string(repo().join("Dockerfile")).expect("Dockerfile");
    let entrypoint = "ENTRYPOINT [\"/usr/local/bin/palisade\"]";
    assert!(dockerfile.contains(entrypoint) && dockerfile.contains("USER 65532:65532"));
    let scratch = tempfile::tempdir().expect("tempdir");
    let storage = |command: &mut Command| {
        command
            .arg("--storage-driver")
            .arg("vfs")
            .arg("--root")
            .arg(scratch.path().join("storage"))
            .arg("--runroot")
            .arg(scratch.path().join("run"));
    };
    let run = |args: &[&std::ffi::OsStr]| -> String {
        let mut command = Command::new(&buildah);
        storage(&mut command);
        let output = command.args(args).output().expect("buildah runs");
        assert!(
            output.status.success(),
            "buildah {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).trim().to_string()
    };
    let os = |s: &str| std::ffi::OsString::from(s);
    let container = run(&[&os("from"), &os("scratch")]);
    let binary = binary();
    run(&[
        &os("copy"),
        &os(&container),
        binary.as_os_str(),
        &os("/usr/local/bin/palisade"),
    ]);
    // The shared libraries the binary links, as distroless `cc` provides them.
    let ldd = Command::new("ldd").arg(&binary).output().expect("ldd runs");
    for line in String::from_utf8_lossy(&ldd.stdout).lines() {
        let library = line
            .split_whitespace()
            .find(|word| word.starts_with('/'))
            .map(str::to_string);
        if let Some(library) = library {
            run(&[&os("copy"), &os(&container), &os(&library), &os(&library)]);
        }
    }
    run(&[
        &os("config"),
        &os("--user"),
        &os("65532:65532"),
        &os("--entrypoint"),
        &os("[\"/usr/local/bin/palisade\"]"),
        &os("--label"),
        &os(&format!(
            "org.opencontainers.image.version={}",
            env!("CARGO_PKG_VERSION")
        )),
        &os(&container),
    ]);
    run(&[&os("commit"), &os(&container), &os("palisade-under-test")]);
    let image = run(&[
        &os("inspect"),
        &os("--type"),
        &os("image"),
        &os("palisade-under-test"),
    ]);
    let image: Value = serde_json::from_str(&image).expect("inspect is JSON");
    assert_eq!(image["OCIv1"]["config"]["User"], "65532:65532");
    let running = run(&[&os("from"), &os("palisade-under-test")]);
    let version = run(&[
        &os("run"),
        &os("--isolation"),
        &os("chroot"),
        &os(&running),
        &os("--"),
        &os("/usr/local/bin/palisade"),
        &os("version"),
        &os("--format"),
        &os("json"),
    ]);
    let version: Value = serde_json::from_str(&version).expect("version is JSON");
    assert_eq!(version["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(version["rules"], 133);
}

/// The README's completion and manual-page commands, pasted into bash on a fresh account (no
/// completion directories yet): each works, and writes where it says.
#[test]
fn the_readmes_completion_commands_work_on_a_fresh_account() {
    let readme = std::fs::read_to_string(repo().join("README.md")).expect("README");
    let block = readme
        .split("**Shell completions and manual pages**")
        .nth(1)
        .and_then(|rest| rest.split("```sh\n").nth(1))
        .and_then(|rest| rest.split("```").next())
        .expect("the README's completions block");
    let home = tempfile::tempdir().expect("tempdir");
    let path = path_with_palisade();
    let output = Command::new("bash")
        .args(["-euo", "pipefail", "-c", block])
        .env("HOME", home.path())
        .env("PATH", path)
        .output()
        .expect("bash runs");
    assert!(
        output.status.success(),
        "{block}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    for written in [
        ".local/share/bash-completion/completions/palisade",
        ".zfunc/_palisade",
        ".config/fish/completions/palisade.fish",
        ".local/share/man/man1/palisade.1",
    ] {
        let file = home.path().join(written);
        let size = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
        assert!(size > 0, "{written} was not written");
    }
}
