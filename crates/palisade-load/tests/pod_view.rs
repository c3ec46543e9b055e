//! The pod view over every pod-carrying kind, and effective security contexts with
//! Kubernetes' inheritance from the pod level (fields and the older annotations).

use std::sync::Arc;

use palisade_load::{load_text, Loaded};
use palisade_model::{ContainerKind, Object, PodView, SeccompSource};

fn object(text: &str) -> Object {
    let mut objects = Vec::new();
    load_text(&Arc::from("t.yaml"), text, &mut |l| match l {
        Loaded::Object(o) => objects.push(*o),
        other => panic!("{other:?}"),
    });
    objects.remove(0)
}

const POD_SPEC: &str = "containers: [{name: app, image: a}]";

fn wrapped(kind: &str, api: &str) -> String {
    match kind {
        "Pod" => format!("apiVersion: {api}\nkind: Pod\nmetadata: {{name: x}}\nspec: {{{POD_SPEC}}}\n"),
        "PodTemplate" => format!("apiVersion: {api}\nkind: PodTemplate\nmetadata: {{name: x}}\ntemplate:\n  spec: {{{POD_SPEC}}}\n"),
        "CronJob" => format!(
            "apiVersion: {api}\nkind: CronJob\nmetadata: {{name: x}}\nspec:\n  jobTemplate:\n    spec:\n      template:\n        spec: {{{POD_SPEC}}}\n"
        ),
        _ => format!("apiVersion: {api}\nkind: {kind}\nmetadata: {{name: x}}\nspec:\n  template:\n    spec: {{{POD_SPEC}}}\n"),
    }
}

#[test]
fn every_pod_carrying_kind_has_a_pod_view() {
    for (kind, api, spec_path) in [
        ("Pod", "v1", "/spec"),
        ("PodTemplate", "v1", "/template/spec"),
        ("ReplicationController", "v1", "/spec/template/spec"),
        ("Deployment", "apps/v1", "/spec/template/spec"),
        ("ReplicaSet", "apps/v1", "/spec/template/spec"),
        ("StatefulSet", "apps/v1", "/spec/template/spec"),
        ("DaemonSet", "apps/v1", "/spec/template/spec"),
        ("Job", "batch/v1", "/spec/template/spec"),
        (
            "CronJob",
            "batch/v1",
            "/spec/jobTemplate/spec/template/spec",
        ),
        ("Rollout", "argoproj.io/v1alpha1", "/spec/template/spec"),
    ] {
        let obj = object(&wrapped(kind, api));
        let pod = PodView::of(&obj).unwrap_or_else(|| panic!("{kind} carries a pod"));
        assert_eq!(pod.spec_path.as_str(), spec_path, "{kind}");
        assert_eq!(pod.containers().count(), 1, "{kind}");
    }
}

#[test]
fn objects_without_a_pod_template_have_none() {
    for text in [
        "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {ports: [{port: 80}]}\n",
        // A custom resource with a `spec.template` that is not a pod (no containers).
        "apiVersion: example.com/v1\nkind: Report\nmetadata: {name: r}\nspec:\n  template:\n    spec: {format: pdf}\n",
    ] {
        assert!(PodView::of(&object(text)).is_none(), "{text}");
    }
}

#[test]
fn containers_include_init_and_ephemeral_with_paths() {
    let obj = object(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: app}, {name: sidecar}]\n  initContainers: [{name: setup}]\n  ephemeralContainers: [{name: debug}]\n",
    );
    let pod = PodView::of(&obj).expect("pod");
    let seen: Vec<(ContainerKind, String, String)> = pod
        .containers()
        .map(|c| (c.kind, c.name().to_string(), c.path.to_string()))
        .collect();
    assert_eq!(
        seen,
        vec![
            (
                ContainerKind::Init,
                "setup".into(),
                "/spec/initContainers/0".into()
            ),
            (
                ContainerKind::Regular,
                "app".into(),
                "/spec/containers/0".into()
            ),
            (
                ContainerKind::Regular,
                "sidecar".into(),
                "/spec/containers/1".into()
            ),
            (
                ContainerKind::Ephemeral,
                "debug".into(),
                "/spec/ephemeralContainers/0".into()
            ),
        ]
    );
}

#[test]
fn pod_level_settings_are_inherited_and_container_settings_win() {
    let obj = object(
        "apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      securityContext:
        runAsNonRoot: true
        runAsUser: 1000
        runAsGroup: 3000
        seccompProfile: {type: RuntimeDefault}
        seLinuxOptions: {level: 's0:c1,c2', type: container_t}
        windowsOptions: {runAsUserName: ContainerUser, hostProcess: false}
      initContainers:
        - name: setup
      containers:
        - name: app
          securityContext:
            runAsUser: 2000
            seccompProfile: {type: Localhost, localhostProfile: app.json}
            seLinuxOptions: {type: container_init_t}
            windowsOptions: {hostProcess: true}
",
    );
    let pod = PodView::of(&obj).expect("pod");
    let containers: Vec<_> = pod.containers().collect();
    let setup = pod.effective_security_context(containers[0]);
    let app = pod.effective_security_context(containers[1]);

    let non_root = setup.run_as_non_root.expect("inherited");
    assert!(non_root.value && non_root.from_pod);
    assert_eq!(
        non_root.path.as_str(),
        "/spec/template/spec/securityContext/runAsNonRoot"
    );
    assert_eq!(setup.run_as_user.map(|u| u.value), Some(1000));
    assert_eq!(
        setup.seccomp.map(|s| s.value),
        Some(SeccompSource::RuntimeDefault)
    );

    let user = app.run_as_user.expect("own");
    assert_eq!((user.value, user.from_pod), (2000, false));
    assert_eq!(
        user.path.as_str(),
        "/spec/template/spec/containers/0/securityContext/runAsUser"
    );
    assert_eq!(app.run_as_group.map(|g| g.value), Some(3000));
    assert_eq!(app.seccomp.map(|s| s.value), Some(SeccompSource::Localhost));
    // seLinuxOptions are replaced as a whole: the pod's level does not carry over.
    let selinux = app.se_linux_options.expect("own options");
    assert!(!selinux.from_pod && selinux.value.get("level").is_none());
    // windowsOptions merge field by field.
    assert_eq!(app.windows_host_process.map(|h| h.value), Some(true));
    let user_name = app.windows_run_as_user_name.expect("inherited");
    assert_eq!(
        (user_name.value.as_str(), user_name.from_pod),
        ("ContainerUser", true)
    );
}

#[test]
fn annotations_apply_when_fields_are_absent() {
    let obj = object(
        "apiVersion: v1
kind: Pod
metadata:
  name: legacy
  annotations:
    seccomp.security.alpha.kubernetes.io/pod: runtime/default
    container.seccomp.security.alpha.kubernetes.io/tool: unconfined
    container.apparmor.security.beta.kubernetes.io/app: localhost/k8s-app
spec:
  containers:
    - name: app
    - name: tool
      securityContext:
        appArmorProfile: {type: Unconfined}
",
    );
    let pod = PodView::of(&obj).expect("pod");
    let containers: Vec<_> = pod.containers().collect();
    let app = pod.effective_security_context(containers[0]);
    let tool = pod.effective_security_context(containers[1]);
    assert_eq!(
        app.seccomp.as_ref().map(|s| &s.value),
        Some(&SeccompSource::RuntimeDefault)
    );
    assert!(app.seccomp.as_ref().is_some_and(|s| s.from_pod));
    assert_eq!(
        app.app_armor.map(|a| a.value),
        Some("Localhost".to_string())
    );
    let tool_seccomp = tool.seccomp.expect("annotation");
    assert_eq!(tool_seccomp.value, SeccompSource::Unconfined);
    assert_eq!(
        tool_seccomp.path.as_str(),
        "/metadata/annotations/container.seccomp.security.alpha.kubernetes.io~1tool"
    );
    assert_eq!(
        tool.app_armor.map(|a| a.value),
        Some("Unconfined".to_string())
    );
}
