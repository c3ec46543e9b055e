//! `palisade admit manifests`: everything a cluster needs to run the webhook, as YAML.

use std::fmt::Write as _;

/// The kinds the webhook judges: those Palisade has object or pod rules for, and the
/// subresource that changes what a pod runs (`kubectl debug` adds ephemeral containers through
/// it, past any rule on `pods` alone). Webhook configurations are not listed: the API server
/// never sends them to webhooks.
pub const JUDGED: &[(&str, &[&str])] = &[
    (
        "",
        &[
            "pods",
            "pods/ephemeralcontainers",
            "replicationcontrollers",
            "podtemplates",
            "services",
            "serviceaccounts",
            "configmaps",
            "secrets",
            "namespaces",
            "limitranges",
        ],
    ),
    (
        "apps",
        &["deployments", "statefulsets", "daemonsets", "replicasets"],
    ),
    ("batch", &["jobs", "cronjobs"]),
    (
        "rbac.authorization.k8s.io",
        &[
            "roles",
            "clusterroles",
            "rolebindings",
            "clusterrolebindings",
        ],
    ),
    ("networking.k8s.io", &["networkpolicies", "ingresses"]),
    ("node.k8s.io", &["runtimeclasses"]),
    (
        "security.istio.io",
        &["peerauthentications", "authorizationpolicies"],
    ),
    ("networking.istio.io", &["destinationrules"]),
];

/// The name of the webhook (the API server prefixes audit annotations with it:
/// `validate.palisade.dev/findings`).
pub const WEBHOOK_NAME: &str = "validate.palisade.dev";

pub struct Install<'a> {
    pub namespace: &'a str,
    pub image: &'a str,
    /// PEM of the CA that signed the serving certificate.
    pub ca_bundle: Option<&'a str>,
    /// Where the API server calls from and is reached at
    /// ([`palisade_cluster::DEFAULT_API_SERVER_CIDRS`] by default).
    pub api_server: &'a [String],
    /// (group, plural) of the cluster's custom resources that carry a pod template.
    pub custom_resources: &'a [(String, String)],
    /// The `.palisade.yaml` the webhook runs with, shipped as a ConfigMap
    /// ([`palisade_cluster::DEFAULT_COMPONENT_CONFIG`] when none is given).
    pub config: &'a str,
}

/// The ValidatingWebhookConfiguration's name; the webhook arms it ([`crate::arm`]).
pub const CONFIGURATION_NAME: &str = "palisade";

/// The webhook's `rules:` list, indented for a ValidatingWebhookConfiguration: the kinds
/// Palisade judges, then `custom` (group, plural) resources that carry a pod template.
pub fn webhook_rules(indent: &str, custom: &[(String, String)]) -> String {
    let mut out = String::new();
    let mut groups: Vec<(&str, Vec<&str>)> = JUDGED
        .iter()
        .map(|(group, resources)| (*group, resources.to_vec()))
        .collect();
    for (group, plural) in custom {
        match groups.iter_mut().find(|(g, _)| g == group) {
            Some((_, resources)) if !resources.contains(&plural.as_str()) => resources.push(plural),
            Some(_) => {}
            None => groups.push((group, vec![plural])),
        }
    }
    for (group, resources) in groups {
        let _ = writeln!(
            out,
            "{indent}- apiGroups: [\"{group}\"]\n{indent}  apiVersions: [\"*\"]\n{indent}  operations: [CREATE, UPDATE]\n{indent}  resources: [{}]\n{indent}  scope: \"*\"",
            resources.join(", ")
        );
    }
    out
}

/// The CA bundle as the webhook configuration wants it (base64 of the PEM).
pub fn ca_bundle_field(pem: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(pem.as_bytes())
}

/// Namespace, ServiceAccount, read-only RBAC for the namespace watch, Deployment, Service,
/// NetworkPolicy, PodDisruptionBudget and ValidatingWebhookConfiguration.
pub fn render(install: &Install<'_>) -> String {
    let ns = install.namespace;
    let image = install.image;
    let ca = install.ca_bundle.map_or(
        "# caBundle: base64 of the CA that signed the serving certificate (palisade admit certs)"
            .to_string(),
        |pem| format!("caBundle: {}", ca_bundle_field(pem)),
    );
    let rules = webhook_rules("  ", install.custom_resources);
    let config_map = palisade_cluster::component_config_map(ns, "palisade-admit", install.config);
    let network = palisade_cluster::component_network_policies(
        ns,
        "palisade-admit",
        8443,
        true,
        install.api_server,
    );
    format!(
        r#"# palisade admit: the validating admission webhook. Create the serving certificate first:
#   palisade admit certs --host palisade-admit.{ns}.svc -o certs/
#   kubectl -n {ns} create secret tls palisade-admit-tls --cert certs/tls.crt --key certs/tls.key
apiVersion: v1
kind: Namespace
metadata:
  name: {ns}
  labels:
    pod-security.kubernetes.io/enforce: restricted
    pod-security.kubernetes.io/enforce-version: latest
---
# Above ordinary workloads, below the cluster's own critical components.
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata:
  name: palisade-admit
value: 1000000
globalDefault: false
description: palisade admit, the validating webhook that every matched write waits for
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: palisade-admit
  namespace: {ns}
automountServiceAccountToken: true
---
# Read-only: the webhook watches Namespaces (their palisade.dev/mode label), ServiceAccounts and
# RBAC objects (to deny a binding that opens a new escalation path).
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: palisade-admit
rules:
- apiGroups: [""]
  resources: [namespaces, serviceaccounts]
  verbs: [list, watch]
- apiGroups: [rbac.authorization.k8s.io]
  resources: [roles, clusterroles, rolebindings, clusterrolebindings]
  verbs: [list, watch]
# Its own registration only: once ready, it sets failurePolicy: Fail (see the configuration).
- apiGroups: [admissionregistration.k8s.io]
  resources: [validatingwebhookconfigurations]
  resourceNames: [{CONFIGURATION_NAME}]
  verbs: [get, patch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: palisade-admit
  annotations:
    palisade.dev/ignore: PAL-RBAC-009
    palisade.dev/ignore-reason: the webhook may get and patch only its own registration (resourceNames), to set failurePolicy Fail once it is ready; that registration already sends it every request it matches
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: palisade-admit
subjects:
- kind: ServiceAccount
  name: palisade-admit
  namespace: {ns}
---
{config_map}---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: palisade-admit
  namespace: {ns}
  labels:
    app.kubernetes.io/name: palisade-admit
  annotations:
    palisade.dev/ignore: PAL-SA-001,PAL-RBAC-014
    palisade.dev/ignore-reason: the webhook watches Namespaces and RBAC objects through the API with this token, and may patch only its own registration, to arm it
spec:
  replicas: 2
  selector:
    matchLabels:
      app.kubernetes.io/name: palisade-admit
  template:
    metadata:
      labels:
        app.kubernetes.io/name: palisade-admit
    spec:
      serviceAccountName: palisade-admit
      # Evicted after ordinary workloads: with failurePolicy: Fail, writes stop without it.
      priorityClassName: palisade-admit
      securityContext:
        runAsNonRoot: true
        runAsUser: 65532
        runAsGroup: 65532
        seccompProfile:
          type: RuntimeDefault
      affinity:
        podAntiAffinity:
          preferredDuringSchedulingIgnoredDuringExecution:
          - weight: 100
            podAffinityTerm:
              topologyKey: kubernetes.io/hostname
              labelSelector:
                matchLabels:
                  app.kubernetes.io/name: palisade-admit
      containers:
      - name: webhook
        image: {image}
        imagePullPolicy: IfNotPresent
        args: [admit, --tls-cert, /tls/tls.crt, --tls-key, /tls/tls.key, --listen, "0.0.0.0:8443", --config, /config/palisade.yaml, --arm-webhook, {CONFIGURATION_NAME}]
        ports:
        - name: https
          containerPort: 8443
        readinessProbe:
          httpGet: {{path: /readyz, port: https, scheme: HTTPS}}
          periodSeconds: 5
        livenessProbe:
          httpGet: {{path: /healthz, port: https, scheme: HTTPS}}
          periodSeconds: 10
        resources:
          requests: {{cpu: 100m, memory: 64Mi}}
          limits: {{cpu: "1", memory: 256Mi}}
        securityContext:
          allowPrivilegeEscalation: false
          readOnlyRootFilesystem: true
          capabilities:
            drop: [ALL]
        volumeMounts:
        - name: tls
          mountPath: /tls
          readOnly: true
        - name: config
          mountPath: /config
          readOnly: true
      volumes:
      - name: tls
        secret:
          secretName: palisade-admit-tls
      - name: config
        configMap:
          name: palisade-admit-config
---
apiVersion: v1
kind: Service
metadata:
  name: palisade-admit
  namespace: {ns}
spec:
  selector:
    app.kubernetes.io/name: palisade-admit
  ports:
  - name: https
    port: 443
    targetPort: https
---
{network}---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: palisade-admit
  namespace: {ns}
spec:
  minAvailable: 1
  selector:
    matchLabels:
      app.kubernetes.io/name: palisade-admit
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata:
  name: {CONFIGURATION_NAME}
  annotations:
    palisade.dev/ignore: PAL-ADM-001
    palisade.dev/ignore-reason: registered at Ignore so that installing cannot lock the cluster; the first ready webhook pod sets Fail
webhooks:
- name: {WEBHOOK_NAME}
  admissionReviewVersions: [v1]
  sideEffects: None
  # Ignore until a webhook pod is ready: the first ready pod sets Fail (--arm-webhook), so
  # installing never refuses the cluster's writes while nothing can answer them. Once Fail,
  # it stays Fail. Locked out anyway? `kubectl delete validatingwebhookconfiguration
  # {CONFIGURATION_NAME}` lets every write through again (README, "Recovering").
  failurePolicy: Ignore
  matchPolicy: Equivalent
  timeoutSeconds: 5
  clientConfig:
    service:
      name: palisade-admit
      namespace: {ns}
      path: /validate
    {ca}
  namespaceSelector:
    matchExpressions:
    - key: kubernetes.io/metadata.name
      operator: NotIn
      values: [{ns}, kube-system]
  rules:
{rules}"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_webhook_sees_ephemeral_containers_and_asks_for_nothing_it_never_gets() {
        let text = render(&Install {
            namespace: "palisade-system",
            image: "palisade:test",
            ca_bundle: None,
            api_server: &["192.0.2.10/32".to_string()],
            custom_resources: &[("argoproj.io".to_string(), "rollouts".to_string())],
            config: palisade_cluster::DEFAULT_COMPONENT_CONFIG,
        });
        let rules = &text[text
            .find("kind: ValidatingWebhookConfiguration")
            .expect("webhook")..];
        assert!(rules.contains("pods/ephemeralcontainers"), "{rules}");
        assert!(rules.contains("runtimeclasses"));
        assert!(rules.contains("peerauthentications"));
        assert!(rules.contains("- apiGroups: [\"argoproj.io\"]\n    apiVersions: [\"*\"]\n    operations: [CREATE, UPDATE]\n    resources: [rollouts]"), "{rules}");
        assert!(!rules.contains("validatingwebhookconfigurations"));
        assert!(!rules.contains("mutatingwebhookconfigurations"));
        // Called from, and calling, the API server only; DNS from kube-dns only.
        assert!(
            text.contains("from:\n    - ipBlock: {cidr: 192.0.2.10/32}"),
            "{text}"
        );
        assert!(
            text.contains("to:\n    - ipBlock: {cidr: 192.0.2.10/32}"),
            "{text}"
        );
        assert!(text.contains("k8s-app: kube-dns"));
        assert!(text.contains("priorityClassName: palisade-admit"));
    }
}
