//! Dangerous permissions: which rules of a role grant each one.

use super::{Policy, PolicyRule, Request, Role};
use crate::pss::Version;

/// A permission that is dangerous to hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Risk {
    /// `*` verbs on `*` resources in `*` API groups.
    ClusterAdmin,
    ReadSecrets,
    /// Creating pods, or controllers that create them: runs code as any service account of the
    /// namespace.
    CreateWorkloads,
    PodExec,
    NodesProxy,
    EscalateBindImpersonate,
    CreateTokens,
    /// Creating and approving certificate signing requests: mint client certificates.
    ApproveCsr,
    WebhookWrite,
    CreatePersistentVolumes,
    /// `services/status` (load-balancer IPs) or services themselves (`externalIPs`),
    /// CVE-2020-8554.
    ServiceIpWrite,
}

/// (verbs, API group, resource, subresource): a rule grants a probe if it matches one of the
/// verbs on that resource; `resourceNames` narrow a grant but do not remove the risk.
type Probe = (
    &'static [&'static str],
    &'static str,
    &'static str,
    &'static str,
);

const READ: &[&str] = &["get", "list", "watch"];
const CREATE: &[&str] = &["create"];
const WRITE: &[&str] = &["create", "update", "patch", "delete"];
const GET_OR_CREATE: &[&str] = &["get", "create"];

/// From this version the API server authorizes a WebSocket exec, attach or port-forward as
/// `create`; before it, as `get` (the verb of the HTTP GET that opens the WebSocket).
pub const EXEC_NEEDS_CREATE: Version = Version::new(1, 31);

impl Risk {
    pub const ALL: [Risk; 11] = [
        Risk::ClusterAdmin,
        Risk::ReadSecrets,
        Risk::CreateWorkloads,
        Risk::PodExec,
        Risk::NodesProxy,
        Risk::EscalateBindImpersonate,
        Risk::CreateTokens,
        Risk::ApproveCsr,
        Risk::WebhookWrite,
        Risk::CreatePersistentVolumes,
        Risk::ServiceIpWrite,
    ];

    /// What holding the risk lets a subject do, for messages.
    pub fn describe(self) -> &'static str {
        match self {
            Risk::ClusterAdmin => "has every permission (`*` on `*`)",
            Risk::ReadSecrets => "can read Secrets",
            Risk::CreateWorkloads => {
                "can create pods or pod controllers (and so run as any service account there)"
            }
            Risk::PodExec => "can exec into, attach to or port-forward to pods",
            Risk::NodesProxy => "can use nodes/proxy (the kubelet API)",
            Risk::EscalateBindImpersonate => "can escalate, bind or impersonate",
            Risk::CreateTokens => "can create service account tokens",
            Risk::ApproveCsr => "can create and approve certificate signing requests",
            Risk::WebhookWrite => "can change admission webhook configurations",
            Risk::CreatePersistentVolumes => "can create PersistentVolumes (hostPath on any node)",
            Risk::ServiceIpWrite => {
                "can set service IPs (services/status or externalIPs, CVE-2020-8554)"
            }
        }
    }

    /// Whether holding the risk depends on the Kubernetes version, and how: for messages.
    pub fn version_note(self, version: Version) -> Option<String> {
        match self {
            Risk::PodExec if version < EXEC_NEEDS_CREATE => Some(format!(
                "assuming Kubernetes {version}: before v1.31 `get` on pods/exec opens a shell over WebSocket"
            )),
            Risk::PodExec => Some(format!(
                "assuming Kubernetes {version}: from v1.31 only `create` on pods/exec opens a shell"
            )),
            _ => None,
        }
    }

    /// Each inner list is one alternative; a risk needs every probe of one alternative.
    fn alternatives(self, version: Version) -> &'static [&'static [Probe]] {
        if self == Risk::PodExec && version < EXEC_NEEDS_CREATE {
            return &[
                &[(GET_OR_CREATE, "", "pods", "exec")],
                &[(GET_OR_CREATE, "", "pods", "attach")],
                &[(GET_OR_CREATE, "", "pods", "portforward")],
            ];
        }
        match self {
            Risk::ClusterAdmin => &[],
            Risk::ReadSecrets => &[&[(READ, "", "secrets", "")]],
            Risk::CreateWorkloads => &[
                &[(CREATE, "", "pods", "")],
                &[(CREATE, "", "replicationcontrollers", "")],
                &[(CREATE, "apps", "deployments", "")],
                &[(CREATE, "apps", "replicasets", "")],
                &[(CREATE, "apps", "statefulsets", "")],
                &[(CREATE, "apps", "daemonsets", "")],
                &[(CREATE, "batch", "jobs", "")],
                &[(CREATE, "batch", "cronjobs", "")],
            ],
            // Since 1.31 the API server authorizes WebSocket exec as `create` too, so read-all
            // roles (`get` on `*`) do not grant a shell there.
            Risk::PodExec => &[
                &[(CREATE, "", "pods", "exec")],
                &[(CREATE, "", "pods", "attach")],
                &[(CREATE, "", "pods", "portforward")],
            ],
            Risk::NodesProxy => &[&[(&["get", "create"], "", "nodes", "proxy")]],
            Risk::EscalateBindImpersonate => &[
                &[(
                    &["escalate", "bind"],
                    "rbac.authorization.k8s.io",
                    "clusterroles",
                    "",
                )],
                &[(
                    &["escalate", "bind"],
                    "rbac.authorization.k8s.io",
                    "roles",
                    "",
                )],
                &[(&["impersonate"], "", "users", "")],
                &[(&["impersonate"], "", "groups", "")],
                &[(&["impersonate"], "", "serviceaccounts", "")],
                &[(
                    &["impersonate"],
                    "authentication.k8s.io",
                    "userextras",
                    "scopes",
                )],
            ],
            Risk::CreateTokens => &[&[(CREATE, "", "serviceaccounts", "token")]],
            Risk::ApproveCsr => &[&[
                (
                    CREATE,
                    "certificates.k8s.io",
                    "certificatesigningrequests",
                    "",
                ),
                (
                    &["update", "patch"],
                    "certificates.k8s.io",
                    "certificatesigningrequests",
                    "approval",
                ),
                (&["approve"], "certificates.k8s.io", "signers", ""),
            ]],
            Risk::WebhookWrite => &[
                &[(
                    WRITE,
                    "admissionregistration.k8s.io",
                    "validatingwebhookconfigurations",
                    "",
                )],
                &[(
                    WRITE,
                    "admissionregistration.k8s.io",
                    "mutatingwebhookconfigurations",
                    "",
                )],
            ],
            Risk::CreatePersistentVolumes => &[&[(CREATE, "", "persistentvolumes", "")]],
            Risk::ServiceIpWrite => &[
                &[(&["update", "patch"], "", "services", "status")],
                &[(&["create", "update", "patch"], "", "services", "")],
            ],
        }
    }
}

/// The rules of `role` that allow the probe for some object, as the authorizer decides it;
/// none when the probe is for a cluster-scoped resource and the grant is namespaced.
fn probe_rules<'p>(
    policy: &'p Policy,
    role: &'p Role,
    (verbs, group, resource, subresource): &Probe,
    cluster_wide: bool,
) -> Vec<&'p PolicyRule> {
    let mut found: Vec<&PolicyRule> = Vec::new();
    for verb in *verbs {
        // The namespace only decides scope here: any namespace stands for the grant's own.
        let request = Request::resource(verb, group, resource, subresource, "", Some(""));
        if !cluster_wide && request.is_cluster_scoped() {
            continue;
        }
        for rule in policy.role_rules_allowing(role, &request, true) {
            if rule.non_resource_urls.is_empty() && !found.iter().any(|f| std::ptr::eq(*f, rule)) {
                found.push(rule);
            }
        }
    }
    found
}

/// Whether a rule is literally `*` on `*` in `*`.
pub fn is_wildcard_rule(rule: &PolicyRule) -> bool {
    rule.verbs.iter().any(|v| v == "*")
        && rule.api_groups.iter().any(|g| g == "*")
        && rule.resources.iter().any(|r| r == "*")
}

/// How a role is (or would be) granted: through a ClusterRoleBinding, it reaches
/// cluster-scoped resources too; through a RoleBinding, only its namespace's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reach {
    ClusterWide,
    Namespace,
}

/// The rules of `role` (after aggregation) that together grant `risk` when bound with `reach`,
/// at Kubernetes `version`, or nothing. The authorizer decides each probe, as for `can-i`.
pub fn granting_rules<'p>(
    policy: &'p Policy,
    role: &'p Role,
    reach: Reach,
    risk: Risk,
    version: Version,
) -> Vec<&'p PolicyRule> {
    if risk == Risk::ClusterAdmin {
        return policy
            .rules_of(role)
            .filter(|r| r.non_resource_urls.is_empty() && is_wildcard_rule(r))
            .collect();
    }
    let cluster_wide = reach == Reach::ClusterWide;
    for alternative in risk.alternatives(version) {
        let mut used: Vec<&PolicyRule> = Vec::new();
        let complete = alternative.iter().all(|probe| {
            let found = probe_rules(policy, role, probe, cluster_wide);
            let any = !found.is_empty();
            for rule in found {
                if !used.iter().any(|u| std::ptr::eq(*u, rule)) {
                    used.push(rule);
                }
            }
            any
        });
        if complete {
            return used;
        }
    }
    Vec::new()
}
