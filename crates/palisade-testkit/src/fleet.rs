//! The objects of a realistic cluster, namespace by namespace: what the cluster benchmarks
//! load into an API server and what the operator's offline benchmark evaluates.

pub const IMAGE: &str = "registry.example.com/shop/app:1.4.2";

pub fn pod_spec(app: &str, hardened: bool) -> serde_json::Value {
    let security = if hardened {
        serde_json::json!({"runAsNonRoot": true, "allowPrivilegeEscalation": false,
            "capabilities": {"drop": ["ALL"]}, "seccompProfile": {"type": "RuntimeDefault"},
            "readOnlyRootFilesystem": true})
    } else {
        serde_json::json!({})
    };
    serde_json::json!({
        "serviceAccountName": app,
        "containers": [{
            "name": "app", "image": IMAGE,
            "ports": [{"containerPort": 8080, "name": "http"}],
            "env": [{"name": "LOG_LEVEL", "value": "info"}, {"name": "DB_HOST", "value": "postgres"}],
            "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}},
            "readinessProbe": {"httpGet": {"path": "/healthz", "port": 8080}},
            "securityContext": security
        }, {
            "name": "proxy", "image": "registry.example.com/mesh/proxy:1.20.1",
            "args": ["proxy", "sidecar", "--log-level=warning"],
            "resources": {"requests": {"cpu": "10m", "memory": "40Mi"}}
        }]
    })
}

/// (URL path, body) of every object of namespace `index`.
pub fn namespace_objects(index: usize) -> Vec<(String, serde_json::Value)> {
    let ns = format!("team-{index:03}");
    let meta = |name: &str, app: &str| {
        serde_json::json!({"name": name, "namespace": ns, "labels": {"app": app, "team": ns.clone()},
            "annotations": {"owner": "platform@example.com"}})
    };
    let mut out = Vec::new();
    let core = |kind: &str| format!("/api/v1/namespaces/{ns}/{kind}");
    let apps = |kind: &str| format!("/apis/apps/v1/namespaces/{ns}/{kind}");
    let template = |app: &str, hardened: bool| serde_json::json!({"metadata": {"labels": {"app": app}}, "spec": pod_spec(app, hardened)});
    for i in 0..10 {
        let app = format!("svc-{i}");
        out.push((core("serviceaccounts"), serde_json::json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta(&app, &app)})));
        out.push((
            core("services"),
            serde_json::json!({"apiVersion": "v1", "kind": "Service", "metadata": meta(&app, &app),
            "spec": {"selector": {"app": app}, "ports": [{"port": 80, "targetPort": "http"}]}}),
        ));
        out.push((core("configmaps"), serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta(&format!("{app}-config"), &app),
            "data": {"config.yaml": "server:\n  port: 8080\n  timeout: 30s\n"}})));
    }
    for i in 0..30 {
        let app = format!("svc-{}", i % 10);
        out.push((apps("deployments"), serde_json::json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": meta(&format!("deploy-{i}"), &app),
            "spec": {"replicas": 2, "selector": {"matchLabels": {"app": app}}, "template": template(&app, i % 3 == 0)}})));
    }
    for i in 0..10 {
        let app = format!("svc-{i}");
        out.push((apps("statefulsets"), serde_json::json!({"apiVersion": "apps/v1", "kind": "StatefulSet",
            "metadata": meta(&format!("db-{i}"), &app),
            "spec": {"serviceName": app, "selector": {"matchLabels": {"app": app}}, "template": template(&app, false)}})));
    }
    for i in 0..5 {
        let app = format!("svc-{i}");
        out.push((apps("daemonsets"), serde_json::json!({"apiVersion": "apps/v1", "kind": "DaemonSet",
            "metadata": meta(&format!("agent-{i}"), &app),
            "spec": {"selector": {"matchLabels": {"app": app}}, "template": template(&app, false)}})));
        out.push((format!("/apis/batch/v1/namespaces/{ns}/cronjobs"), serde_json::json!({"apiVersion": "batch/v1", "kind": "CronJob",
            "metadata": meta(&format!("report-{i}"), &app),
            "spec": {"schedule": "0 3 * * *", "jobTemplate": {"spec": {"template": {"metadata": {"labels": {"app": app}},
                "spec": {"restartPolicy": "OnFailure", "containers": pod_spec(&app, true)["containers"].clone()}}}}}})));
    }
    for i in 0..50 {
        let app = format!("svc-{}", i % 10);
        out.push((
            core("pods"),
            serde_json::json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": meta(&format!("pod-{i}"), &app), "spec": pod_spec(&app, i % 2 == 0)}),
        ));
    }
    let rbac = |kind: &str| format!("/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/{kind}");
    for i in 0..10 {
        let app = format!("svc-{i}");
        out.push((rbac("roles"), serde_json::json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
            "metadata": meta(&format!("{app}-role"), &app),
            "rules": [{"apiGroups": [""], "resources": ["configmaps", "pods"], "verbs": ["get", "list", "watch"]},
                      {"apiGroups": ["apps"], "resources": ["deployments"], "verbs": if i == 0 { serde_json::json!(["*"]) } else { serde_json::json!(["get"]) }}]})));
        out.push((rbac("rolebindings"), serde_json::json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
            "metadata": meta(&format!("{app}-binding"), &app),
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": format!("{app}-role")},
            "subjects": [{"kind": "ServiceAccount", "name": app, "namespace": ns}]})));
    }
    for i in 0..5 {
        let app = format!("svc-{i}");
        out.push((format!("/apis/networking.k8s.io/v1/namespaces/{ns}/networkpolicies"), serde_json::json!({
            "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": meta(&format!("{app}-ingress"), &app),
            "spec": {"podSelector": {"matchLabels": {"app": app}}, "policyTypes": ["Ingress"],
                "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": format!("svc-{}", (i + 1) % 10)}}}],
                             "ports": [{"port": 8080, "protocol": "TCP"}]}]}})));
    }
    out
}
