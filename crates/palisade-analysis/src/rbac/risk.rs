//! Dangerous permissions: which rules of a role grant each one.

use super::{resource_matches, Policy, PolicyRule, Role};

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

    /// Each inner list is one alternative; a risk needs every probe of one alternative.
    fn alternatives(self) -> &'static [&'static [Probe]] {
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
            // roles (`get` on `*`) do not grant a shell.
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

fn probe_matches(rule: &PolicyRule, (verbs, group, resource, subresource): &Probe) -> bool {
    rule.verbs
        .iter()
        .any(|v| v == "*" || verbs.contains(&v.as_str()))
        && rule.api_groups.iter().any(|g| g == "*" || g == group)
        && resource_matches(rule, resource, subresource)
}

/// Whether a rule is literally `*` on `*` in `*`.
pub fn is_wildcard_rule(rule: &PolicyRule) -> bool {
    rule.verbs.iter().any(|v| v == "*")
        && rule.api_groups.iter().any(|g| g == "*")
        && rule.resources.iter().any(|r| r == "*")
}

/// The rules of `role` (after aggregation) that together grant `risk`, or nothing.
pub fn granting_rules<'p>(policy: &'p Policy, role: &'p Role, risk: Risk) -> Vec<&'p PolicyRule> {
    let rules: Vec<&PolicyRule> = policy
        .rules_of(role)
        .filter(|r| r.non_resource_urls.is_empty())
        .collect();
    if risk == Risk::ClusterAdmin {
        return rules.into_iter().filter(|r| is_wildcard_rule(r)).collect();
    }
    for alternative in risk.alternatives() {
        let mut used: Vec<&PolicyRule> = Vec::new();
        let complete = alternative.iter().all(|probe| {
            let found: Vec<&PolicyRule> = rules
                .iter()
                .copied()
                .filter(|r| probe_matches(r, probe))
                .collect();
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
