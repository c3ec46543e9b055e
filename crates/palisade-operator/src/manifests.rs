//! `palisade operator manifests`: the wg-policy PolicyReport CRDs (v1alpha2, with structural
//! schemas written from the API definition), the operator's least-privilege RBAC, Deployment
//! and metrics Service.

use std::fmt::Write as _;

/// The CRD for `kind` (`PolicyReport` or `ClusterPolicyReport`).
fn crd(kind: &str, plural: &str, short: &str, scope: &str) -> String {
    format!(
        r#"apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: {plural}.wgpolicyk8s.io
spec:
  group: wgpolicyk8s.io
  names:
    kind: {kind}
    listKind: {kind}List
    plural: {plural}
    singular: {singular}
    shortNames: [{short}]
  scope: {scope}
  versions:
  - name: v1alpha2
    served: true
    storage: true
    additionalPrinterColumns:
    - {{name: Pass, type: integer, jsonPath: .summary.pass}}
    - {{name: Fail, type: integer, jsonPath: .summary.fail}}
    - {{name: Warn, type: integer, jsonPath: .summary.warn}}
    - {{name: Error, type: integer, jsonPath: .summary.error}}
    - {{name: Skip, type: integer, jsonPath: .summary.skip}}
    - {{name: Age, type: date, jsonPath: .metadata.creationTimestamp}}
    schema:
      openAPIV3Schema:
        type: object
        description: {kind} is the report of policy results for the resources of {scope_text}.
        properties:
          apiVersion: {{type: string}}
          kind: {{type: string}}
          metadata: {{type: object}}
          scope:
            type: object
            description: The resource the report is about, when it is about one.
            x-kubernetes-preserve-unknown-fields: true
          scopeSelector:
            type: object
            description: The resources the report is about, by label.
            x-kubernetes-preserve-unknown-fields: true
          summary:
            type: object
            properties:
              pass: {{type: integer}}
              fail: {{type: integer}}
              warn: {{type: integer}}
              error: {{type: integer}}
              skip: {{type: integer}}
          results:
            type: array
            items:
              type: object
              required: [policy]
              properties:
                source: {{type: string}}
                policy: {{type: string}}
                rule: {{type: string}}
                category: {{type: string}}
                severity: {{type: string, enum: [critical, high, low, medium, info]}}
                result: {{type: string, enum: [pass, fail, warn, error, skip]}}
                scored: {{type: boolean}}
                message: {{type: string}}
                timestamp:
                  type: object
                  properties:
                    seconds: {{type: integer, format: int64}}
                    nanos: {{type: integer, format: int32}}
                properties:
                  type: object
                  additionalProperties: {{type: string}}
                resources:
                  type: array
                  items:
                    type: object
                    properties:
                      apiVersion: {{type: string}}
                      kind: {{type: string}}
                      namespace: {{type: string}}
                      name: {{type: string}}
                      uid: {{type: string}}
                      resourceVersion: {{type: string}}
                      fieldPath: {{type: string}}
                resourceSelector:
                  type: object
                  x-kubernetes-preserve-unknown-fields: true
    subresources: {{}}
"#,
        singular = kind.to_lowercase(),
        scope_text = if scope == "Namespaced" {
            "one namespace"
        } else {
            "the cluster"
        },
    )
}

/// The PolicyReport and ClusterPolicyReport CRDs.
pub fn crds() -> String {
    format!(
        "{}---\n{}",
        crd("PolicyReport", "policyreports", "polr", "Namespaced"),
        crd(
            "ClusterPolicyReport",
            "clusterpolicyreports",
            "cpolr",
            "Cluster"
        )
    )
}

/// Everything the operator needs, in `namespace`, running `image`.
/// The operator's environment besides its pod name, as the Deployment sets it (and the
/// benchmark runs it): glibc's allocator keeps an arena per thread by default, and the memory
/// freed in one is not reused by another; two arenas hold the peak about 40 MB lower on a
/// 16,000-object cluster.
pub const ENVIRONMENT: &[(&str, &str)] = &[("MALLOC_ARENA_MAX", "2")];

pub fn render(namespace: &str, image: &str, api_server: &[String], config: &str) -> String {
    let config_map = palisade_cluster::component_config_map(namespace, "palisade-operator", config);
    let environment: String = ENVIRONMENT
        .iter()
        .map(|(name, value)| format!("        - name: {name}\n          value: \"{value}\"\n"))
        .collect();
    let ns = namespace;
    let network = palisade_cluster::component_network_policies(
        ns,
        "palisade-operator",
        8080,
        false,
        api_server,
    );
    let mut read =
        // Listed and watched, never fetched one by one; no Secrets (see below) and no CRDs
        // (the operator finds the kinds it reads through discovery).
        palisade_cluster::reader_role(
            "palisade-operator-read",
            &palisade_cluster::ADMISSION_KINDS
                .iter()
                .map(|k| (k.group.to_string(), k.resource.to_string()))
                .collect::<Vec<_>>(),
            &["secrets", "customresourcedefinitions"],
            &["list", "watch"],
        );
    // The reader role's comment header is for scan; the operator's own follows.
    read = read
        .lines()
        .filter(|l| !l.starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n");
    let mut out =
        String::from("# palisade operator: keeps PolicyReports of every namespace current.\n");
    out.push_str(&crds());
    let _ = write!(
        out,
        r#"---
apiVersion: v1
kind: Namespace
metadata:
  name: {ns}
  labels:
    pod-security.kubernetes.io/enforce: restricted
    pod-security.kubernetes.io/enforce-version: latest
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: palisade-operator
  namespace: {ns}
---
# Read: every kind Palisade judges but Secrets: listing Secrets, even as metadata, is permission
# to read their values. Add `list, watch` on secrets to judge legacy token Secrets live.
{read}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: palisade-operator-read
roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: palisade-operator-read}}
subjects:
- {{kind: ServiceAccount, name: palisade-operator, namespace: {ns}}}
---
# Write: its own reports, nothing else.
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: palisade-operator-reports
rules:
- apiGroups: [wgpolicyk8s.io]
  resources: [policyreports, clusterpolicyreports]
  # Listed once at start; written by server-side apply (a patch, which the API server
  # authorizes as create when the report is new); deleted when no finding is left.
  verbs: [list, create, patch, delete]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: palisade-operator-reports
roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: palisade-operator-reports}}
subjects:
- {{kind: ServiceAccount, name: palisade-operator, namespace: {ns}}}
---
# Leader election, in its own namespace only.
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: palisade-operator-lease
  namespace: {ns}
rules:
- apiGroups: [coordination.k8s.io]
  resources: [leases]
  resourceNames: [palisade-operator]
  verbs: [get, update]
- apiGroups: [coordination.k8s.io]
  resources: [leases]
  verbs: [create]  # a create names no object yet: resourceNames cannot hold it
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: palisade-operator-lease
  namespace: {ns}
roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: Role, name: palisade-operator-lease}}
subjects:
- {{kind: ServiceAccount, name: palisade-operator, namespace: {ns}}}
---
{config_map}---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: palisade-operator
  namespace: {ns}
  labels:
    app.kubernetes.io/name: palisade-operator
  annotations:
    palisade.dev/ignore: PAL-SA-001
    palisade.dev/ignore-reason: the operator reads the cluster through the API with this token
spec:
  replicas: 2
  selector:
    matchLabels:
      app.kubernetes.io/name: palisade-operator
  template:
    metadata:
      labels:
        app.kubernetes.io/name: palisade-operator
    spec:
      serviceAccountName: palisade-operator
      securityContext:
        runAsNonRoot: true
        runAsUser: 65532
        runAsGroup: 65532
        seccompProfile:
          type: RuntimeDefault
      containers:
      - name: operator
        image: {image}
        imagePullPolicy: IfNotPresent
        args: [operator, --listen, "0.0.0.0:8080", --lease-namespace, {ns}, --config, /config/palisade.yaml]
        env:
        - name: POD_NAME
          valueFrom:
            fieldRef: {{fieldPath: metadata.name}}
{environment}        ports:
        - name: metrics
          containerPort: 8080
        readinessProbe:
          httpGet: {{path: /readyz, port: metrics}}
          periodSeconds: 5
        livenessProbe:
          httpGet: {{path: /healthz, port: metrics}}
          periodSeconds: 10
        resources:
          requests: {{cpu: 100m, memory: 128Mi}}
          limits: {{cpu: "1", memory: 512Mi}}
        securityContext:
          allowPrivilegeEscalation: false
          readOnlyRootFilesystem: true
          capabilities:
            drop: [ALL]
        volumeMounts:
        - name: config
          mountPath: /config
          readOnly: true
      volumes:
      - name: config
        configMap:
          name: palisade-operator-config
---
apiVersion: v1
kind: Service
metadata:
  name: palisade-operator-metrics
  namespace: {ns}
spec:
  selector:
    app.kubernetes.io/name: palisade-operator
  ports:
  - name: metrics
    port: 8080
    targetPort: metrics
---
{network}"#
    );
    out
}
