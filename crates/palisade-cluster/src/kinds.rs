//! What Palisade reads from a cluster: the kinds its rules and analyses look at, and nothing
//! else, so that its own ClusterRole stays read-only and narrow.

use std::fmt::Write as _;

/// A kind Palisade reads: the API group, the resource (plural), the kind, and whether only its
/// metadata is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReadKind {
    pub group: &'static str,
    pub resource: &'static str,
    pub kind: &'static str,
    /// Listed as `PartialObjectMetadataList`: values never leave the API server.
    pub metadata_only: bool,
}

const fn kind(group: &'static str, resource: &'static str, kind: &'static str) -> ReadKind {
    ReadKind {
        group,
        resource,
        kind,
        metadata_only: false,
    }
}

/// Every kind a live scan reads, in the order reports and snapshots list them.
pub const READ_KINDS: &[ReadKind] = &[
    kind("", "namespaces", "Namespace"),
    // The kubelets' versions (status.nodeInfo), judged by the version rules.
    kind("", "nodes", "Node"),
    kind("", "pods", "Pod"),
    kind("", "replicationcontrollers", "ReplicationController"),
    kind("", "podtemplates", "PodTemplate"),
    kind("", "services", "Service"),
    kind("", "serviceaccounts", "ServiceAccount"),
    kind("", "limitranges", "LimitRange"),
    kind("", "configmaps", "ConfigMap"),
    ReadKind {
        group: "",
        resource: "secrets",
        kind: "Secret",
        metadata_only: true,
    },
    kind("apps", "deployments", "Deployment"),
    kind("apps", "statefulsets", "StatefulSet"),
    kind("apps", "daemonsets", "DaemonSet"),
    kind("apps", "replicasets", "ReplicaSet"),
    kind("batch", "jobs", "Job"),
    kind("batch", "cronjobs", "CronJob"),
    kind("rbac.authorization.k8s.io", "clusterroles", "ClusterRole"),
    kind(
        "rbac.authorization.k8s.io",
        "clusterrolebindings",
        "ClusterRoleBinding",
    ),
    kind("rbac.authorization.k8s.io", "roles", "Role"),
    kind("rbac.authorization.k8s.io", "rolebindings", "RoleBinding"),
    kind("networking.k8s.io", "networkpolicies", "NetworkPolicy"),
    kind("networking.k8s.io", "ingresses", "Ingress"),
    // Which controller serves an Ingress of a class: who the internet reaches it through.
    kind("networking.k8s.io", "ingressclasses", "IngressClass"),
    // Gateway API routes, the other front door (read when their CRDs are installed).
    kind("gateway.networking.k8s.io", "httproutes", "HTTPRoute"),
    kind("gateway.networking.k8s.io", "grpcroutes", "GRPCRoute"),
    kind(
        "policy.networking.k8s.io",
        "adminnetworkpolicies",
        "AdminNetworkPolicy",
    ),
    kind(
        "policy.networking.k8s.io",
        "baselineadminnetworkpolicies",
        "BaselineAdminNetworkPolicy",
    ),
    kind("cilium.io", "ciliumnetworkpolicies", "CiliumNetworkPolicy"),
    kind(
        "cilium.io",
        "ciliumclusterwidenetworkpolicies",
        "CiliumClusterwideNetworkPolicy",
    ),
    kind(
        "admissionregistration.k8s.io",
        "validatingwebhookconfigurations",
        "ValidatingWebhookConfiguration",
    ),
    kind(
        "admissionregistration.k8s.io",
        "mutatingwebhookconfigurations",
        "MutatingWebhookConfiguration",
    ),
    kind("node.k8s.io", "runtimeclasses", "RuntimeClass"),
    kind(
        "security.istio.io",
        "peerauthentications",
        "PeerAuthentication",
    ),
    kind(
        "security.istio.io",
        "authorizationpolicies",
        "AuthorizationPolicy",
    ),
    kind("networking.istio.io", "destinationrules", "DestinationRule"),
    // trivy-operator's findings per container: how attack paths get in.
    kind(
        "aquasecurity.github.io",
        "vulnerabilityreports",
        "VulnerabilityReport",
    ),
];

/// Read to find the custom resources that carry a pod template (Argo Rollouts, ...); not
/// scanned itself.
pub const CRD_KIND: ReadKind = kind(
    "apiextensions.k8s.io",
    "customresourcedefinitions",
    "CustomResourceDefinition",
);

/// One resource to list, as discovery found it on the server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resource {
    pub group: String,
    pub version: String,
    pub kind: String,
    pub plural: String,
    pub namespaced: bool,
    pub metadata_only: bool,
}

impl Resource {
    /// `apps/v1`, or `v1` for the core group.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// `deployments.apps`, or `pods`, as kubectl names resources.
    pub fn display(&self) -> String {
        if self.group.is_empty() {
            self.plural.clone()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }

    /// The collection's URL path, across all namespaces or in one.
    pub(crate) fn url_path(&self, namespace: Option<&str>) -> String {
        let base = if self.group.is_empty() {
            format!("/api/{}", self.version)
        } else {
            format!("/apis/{}/{}", self.group, self.version)
        };
        match namespace {
            Some(ns) if self.namespaced => format!("{base}/namespaces/{ns}/{}", self.plural),
            _ => format!("{base}/{}", self.plural),
        }
    }
}

/// The cluster's own admission policies, read besides [`READ_KINDS`] and judged with
/// everything else (`scan --cluster`, the operator); at the newest version the server serves.
pub const ADMISSION_KINDS: &[ReadKind] = &[
    kind(
        "admissionregistration.k8s.io",
        "validatingadmissionpolicies",
        "ValidatingAdmissionPolicy",
    ),
    kind(
        "admissionregistration.k8s.io",
        "validatingadmissionpolicybindings",
        "ValidatingAdmissionPolicyBinding",
    ),
];

/// The read-only ClusterRole that lets Palisade scan and snapshot a cluster: `list` (all a
/// paged read asks for) on exactly the kinds it reads, as YAML. `extra` adds (group, resource)
/// pairs, such as the pod-carrying custom resources of one cluster.
pub fn read_only_role(name: &str, extra: &[(String, String)]) -> String {
    // The cluster's own admission policies, judged with everything else.
    let mut extra = extra.to_vec();
    for kind in ADMISSION_KINDS {
        extra.push((kind.group.into(), kind.resource.into()));
    }
    reader_role(name, &extra, &[], &["list"])
}

/// A role with `verbs` on the kinds Palisade reads, plus `extra`, without the resources in
/// `without` (`secrets`: for a role that must not reach Secret values, or a component that
/// reads none; `customresourcedefinitions`: for one that finds no custom resources).
pub fn reader_role(
    name: &str,
    extra: &[(String, String)],
    without: &[&str],
    verbs: &[&str],
) -> String {
    let mut groups: Vec<(String, Vec<String>)> = Vec::new();
    let pairs = READ_KINDS
        .iter()
        .chain(std::iter::once(&CRD_KIND))
        .filter(|k| !without.contains(&k.resource))
        .map(|k| (k.group.to_string(), k.resource.to_string()))
        .chain(extra.iter().cloned());
    for (group, resource) in pairs {
        match groups.iter_mut().find(|(g, _)| *g == group) {
            Some((_, resources)) if !resources.contains(&resource) => resources.push(resource),
            Some(_) => {}
            None => groups.push((group, vec![resource])),
        }
    }
    let mut out = format!(
        "# Palisade's read-only access: `palisade scan --cluster`, `rbac --cluster`, `netpol --cluster`\n\
         # and `palisade snapshot`. Secrets are listed as metadata only, but the API server cannot\n\
         # grant that alone: `list secrets` also lets a client that asks for full objects read values\n\
         # (`palisade snapshot --print-role --no-secrets` leaves them out).\n\
         apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: {name}\nrules:\n"
    );
    for (group, resources) in groups {
        let _ = writeln!(out, "- apiGroups: [\"{group}\"]");
        let _ = writeln!(out, "  resources: [{}]", resources.join(", "));
        let _ = writeln!(out, "  verbs: [{}]", verbs.join(", "));
    }
    out
}

/// Where the API server is, as seen from pods: the CIDRs a component's NetworkPolicy lets it
/// reach on 443 and 6443 (and, for the webhook, be called from). The default is the private
/// ranges, where control planes live: it keeps the components off the internet; narrow it to
/// the control plane's addresses (`kubectl get endpoints kubernetes`).
pub const DEFAULT_API_SERVER_CIDRS: &[&str] = &["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"];

/// The NetworkPolicies of a Palisade component running in `namespace`: default deny for the
/// namespace, then the component's own traffic: out to the API server (`api_server` CIDRs, on
/// 443 and 6443) and to the cluster's DNS (kube-dns in kube-system) only; in on `port`, from
/// the API server when `called_by_api_server` (the webhook), else from anywhere (the
/// operator's metrics, counts only).
pub fn component_network_policies(
    namespace: &str,
    app: &str,
    port: u16,
    called_by_api_server: bool,
    api_server: &[String],
) -> String {
    let blocks: String = api_server
        .iter()
        .map(|cidr| format!("    - ipBlock: {{cidr: {cidr}}}\n"))
        .collect();
    let ingress_from = if called_by_api_server {
        format!("    from:\n{blocks}")
    } else {
        String::new()
    };
    format!(
        r#"apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: default-deny
  namespace: {namespace}
spec:
  podSelector: {{}}
  policyTypes: [Ingress, Egress]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {app}
  namespace: {namespace}
spec:
  podSelector:
    matchLabels:
      app.kubernetes.io/name: {app}
  policyTypes: [Ingress, Egress]
  ingress:
  - ports:
    - {{port: {port}, protocol: TCP}}
{ingress_from}  egress:
  - ports:
    - {{port: 443, protocol: TCP}}
    - {{port: 6443, protocol: TCP}}
    to:
{blocks}  - ports:
    - {{port: 53, protocol: UDP}}
    - {{port: 53, protocol: TCP}}
    to:
    - namespaceSelector:
        matchLabels: {{kubernetes.io/metadata.name: kube-system}}
      podSelector:
        matchLabels: {{k8s-app: kube-dns}}
"#
    )
}

/// The image a release publishes for this version: what the install manifests run by default.
pub const DEFAULT_IMAGE: &str =
    concat!("ghcr.io/palisade-sec/palisade:", env!("CARGO_PKG_VERSION"));

/// The `.palisade.yaml` the install manifests ship when none is given: the verdict threshold
/// only, so rules, exceptions and modes are the defaults until the team edits the ConfigMap.
pub const DEFAULT_COMPONENT_CONFIG: &str =
    "# Palisade's config in the cluster (the same file as .palisade.yaml in a repository):\n\
# rules, severities, exceptions, fail-on, admission modes. Edit the ConfigMap: the running\n\
# pods load the new file within seconds, without a restart.\n\
fail-on: high\n";

/// The ConfigMap `{app}-config` holding a component's config as `palisade.yaml`, which its
/// Deployment mounts at `/config` (the component reloads it when the kubelet updates it).
pub fn component_config_map(namespace: &str, app: &str, config: &str) -> String {
    let body: String = config
        .lines()
        .map(|line| {
            if line.is_empty() {
                "\n".to_string()
            } else {
                format!("    {line}\n")
            }
        })
        .collect();
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {app}-config\n  namespace: {namespace}\ndata:\n  palisade.yaml: |\n{body}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_config_map_carries_the_config_as_written() {
        let config = "# team policy\nfail-on: medium\n\nexceptions:\n- rule: PAL-PSS-001\n  namespaces: [monitoring]\n";
        let text = component_config_map("palisade-system", "palisade-admit", config);
        let mut objects = Vec::new();
        palisade_load::load_text(&"install.yaml".into(), &text, &mut |loaded| {
            if let palisade_load::Loaded::Object(object) = loaded {
                objects.push(palisade_load::json::to_json(&object.root));
            }
        });
        assert_eq!(objects.len(), 1, "{text}");
        assert_eq!(objects[0]["metadata"]["name"], "palisade-admit-config");
        assert_eq!(objects[0]["data"]["palisade.yaml"], config);
    }

    #[test]
    fn collection_paths_follow_the_api_layout() {
        let deployments = Resource {
            group: "apps".into(),
            version: "v1".into(),
            kind: "Deployment".into(),
            plural: "deployments".into(),
            namespaced: true,
            metadata_only: false,
        };
        assert_eq!(deployments.url_path(None), "/apis/apps/v1/deployments");
        assert_eq!(
            deployments.url_path(Some("shop")),
            "/apis/apps/v1/namespaces/shop/deployments"
        );
        let namespaces = Resource {
            group: String::new(),
            version: "v1".into(),
            kind: "Namespace".into(),
            plural: "namespaces".into(),
            namespaced: false,
            metadata_only: false,
        };
        assert_eq!(namespaces.url_path(Some("shop")), "/api/v1/namespaces");
        assert_eq!(namespaces.display(), "namespaces");
        assert_eq!(deployments.display(), "deployments.apps");
    }

    #[test]
    fn the_role_reads_and_never_writes() {
        let role = read_only_role(
            "palisade-reader",
            &[("argoproj.io".into(), "rollouts".into())],
        );
        assert!(role.contains("- apiGroups: [\"apps\"]\n  resources: [deployments, statefulsets, daemonsets, replicasets]"));
        assert!(role.contains("- apiGroups: [\"argoproj.io\"]\n  resources: [rollouts]"));
        let verbs: Vec<&str> = role.lines().filter(|l| l.contains("verbs:")).collect();
        assert_eq!(verbs.len(), role.matches("- apiGroups").count());
        assert!(verbs.iter().all(|v| *v == "  verbs: [list]"));
    }
}
