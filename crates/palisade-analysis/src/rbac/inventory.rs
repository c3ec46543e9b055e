//! Everything RBAC analysis needs from the input besides roles and bindings: service accounts,
//! their legacy token Secrets, namespaces with their Pod Security level, and the workloads
//! that run as each service account. Kept compact so a scan can hold it for any input size.

use palisade_model::{FieldPath, Object, ObjectRef, PodView};

use super::model::Source;
use super::{Policy, PolicyBuilder};
use crate::pss::{self, Level, Version};

#[derive(Clone, Debug, PartialEq)]
pub struct ServiceAccount {
    pub namespace: String,
    pub name: String,
    pub source: Source,
    /// `automountServiceAccountToken` and where it is set, when it is.
    pub automount: Option<(bool, Source)>,
}

/// A `kubernetes.io/service-account-token` Secret: whoever reads it holds the account's token.
#[derive(Clone, Debug, PartialEq)]
pub struct TokenSecret {
    pub namespace: String,
    pub name: String,
    pub service_account: String,
    pub source: Source,
}

/// A pod-carrying object and the service account its pods run as.
#[derive(Clone, Debug, PartialEq)]
pub struct Workload {
    pub object: std::sync::Arc<ObjectRef>,
    pub namespace: String,
    pub service_account: String,
    /// Breaks the baseline Pod Security level (privileged, host namespaces, hostPath, ...).
    pub privileged: bool,
    /// The `serviceAccountName` field, or the pod spec when the default account is implied.
    pub source: Source,
    /// The pod spec's `automountServiceAccountToken` and where it is set, when it is.
    pub automount: Option<(bool, Source)>,
    /// The pod spec, where a finding about the pod as a whole points.
    pub spec: Source,
    /// The images its containers run (init and ephemeral ones too), each with its field.
    pub images: Vec<(String, Source)>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Namespace {
    pub name: String,
    /// `pod-security.kubernetes.io/enforce`.
    pub enforce: Option<String>,
}

impl Namespace {
    /// Whether its enforced Pod Security level (baseline or restricted) refuses privileged pods.
    pub fn forbids_privileged_pods(&self) -> bool {
        matches!(self.enforce.as_deref(), Some("baseline" | "restricted"))
    }
}

/// The input as RBAC analysis sees it.
pub struct Inventory {
    pub policy: Policy,
    pub service_accounts: Vec<ServiceAccount>,
    pub token_secrets: Vec<TokenSecret>,
    pub workloads: Vec<Workload>,
    pub namespaces: Vec<Namespace>,
    /// The Kubernetes version whose semantics apply where they changed between versions.
    pub kubernetes_version: Version,
    /// `service_accounts` by namespace and name (the first of each), asked once per workload.
    accounts_by_name: std::collections::HashMap<(String, String), usize>,
    /// The escalation graph, built at its first use and shared by every rule and attack path
    /// that walks it (building it is the largest cost of RBAC analysis on a large input).
    escalation_graph: std::sync::OnceLock<super::paths::Graph>,
}

#[derive(Clone, Default, PartialEq)]
pub struct InventoryBuilder {
    policy: PolicyBuilder,
    service_accounts: Vec<ServiceAccount>,
    token_secrets: Vec<TokenSecret>,
    workloads: Vec<Workload>,
    namespaces: Vec<Namespace>,
}

/// The object's namespace; for manifests that name none, the namespace the input says they
/// are applied to ([`palisade_model::Origin::unset_namespace`]), else `default`.
pub(crate) fn namespace_of(object: &Object) -> String {
    match &object.reference.namespace {
        Some(namespace) => namespace.clone(),
        None => object
            .origin
            .as_ref()
            .and_then(|o| o.unset_namespace.as_deref())
            .unwrap_or("default")
            .to_string(),
    }
}

impl InventoryBuilder {
    /// Takes what RBAC analysis needs from `object`, if anything. Secrets contribute their
    /// name and account only, never their data.
    pub fn add(&mut self, object: &Object) {
        self.policy.add(object);
        match (object.group(), object.kind()) {
            ("", "ServiceAccount") => {
                let path = FieldPath::root().key("automountServiceAccountToken");
                self.service_accounts.push(ServiceAccount {
                    namespace: namespace_of(object),
                    name: object.reference.name.clone(),
                    source: Source::of(object, &FieldPath::root().key("metadata"), false),
                    automount: object
                        .root
                        .get("automountServiceAccountToken")
                        .and_then(|n| n.as_bool())
                        .map(|value| (value, Source::of(object, &path, false))),
                })
            }
            ("", "Secret")
                if object.root.str_of("type") == Some("kubernetes.io/service-account-token") =>
            {
                if let Some(account) = object.annotation("kubernetes.io/service-account.name") {
                    self.token_secrets.push(TokenSecret {
                        namespace: namespace_of(object),
                        name: object.reference.name.clone(),
                        service_account: account.to_string(),
                        source: Source::of(object, &FieldPath::root().key("type"), false),
                    });
                }
            }
            ("", "Namespace") => self.namespaces.push(Namespace {
                name: object.reference.name.clone(),
                enforce: object
                    .label("pod-security.kubernetes.io/enforce")
                    .map(str::to_string),
            }),
            _ => {
                if let Some(pod) = PodView::of(object) {
                    let (account, path) = match (
                        pod.spec.str_of("serviceAccountName"),
                        pod.spec.str_of("serviceAccount"),
                    ) {
                        (Some(name), _) if !name.is_empty() => {
                            (name, pod.spec_path.key("serviceAccountName"))
                        }
                        (_, Some(name)) if !name.is_empty() => {
                            (name, pod.spec_path.key("serviceAccount"))
                        }
                        _ => ("default", pod.spec_path.clone()),
                    };
                    let privileged =
                        !pss::evaluate(&pod, Level::Baseline, Version::LATEST).is_empty();
                    self.workloads.push(Workload {
                        object: object.reference.clone(),
                        namespace: namespace_of(object),
                        service_account: account.to_string(),
                        privileged,
                        source: Source::of(object, &path, false),
                        automount: pod
                            .spec
                            .get("automountServiceAccountToken")
                            .and_then(|n| n.as_bool())
                            .map(|value| {
                                let path = pod.spec_path.key("automountServiceAccountToken");
                                (value, Source::of(object, &path, false))
                            }),
                        spec: Source::of(object, &pod.spec_path, false),
                        images: pod
                            .containers()
                            .filter_map(|container| {
                                let image = container.node.str_of("image")?;
                                let path = container.path.key("image");
                                Some((image.to_string(), Source::of(object, &path, false)))
                            })
                            .collect(),
                    });
                }
            }
        }
    }

    pub fn merge(&mut self, other: InventoryBuilder) {
        self.policy.merge(other.policy);
        self.service_accounts.extend(other.service_accounts);
        self.token_secrets.extend(other.token_secrets);
        self.workloads.extend(other.workloads);
        self.namespaces.extend(other.namespaces);
    }

    pub fn build(self, bootstrap: bool) -> Inventory {
        let mut accounts_by_name = std::collections::HashMap::new();
        for (i, account) in self.service_accounts.iter().enumerate() {
            accounts_by_name
                .entry((account.namespace.clone(), account.name.clone()))
                .or_insert(i);
        }
        Inventory {
            accounts_by_name,
            escalation_graph: std::sync::OnceLock::new(),
            policy: self.policy.build(bootstrap),
            service_accounts: self.service_accounts,
            token_secrets: self.token_secrets,
            workloads: self.workloads,
            namespaces: self.namespaces,
            kubernetes_version: Version::LATEST,
        }
    }
}

impl Inventory {
    /// The escalation graph of this inventory ([`super::paths::Graph::build`]), built once.
    pub fn escalation_graph(&self) -> &super::paths::Graph {
        self.escalation_graph
            .get_or_init(|| super::paths::Graph::build(self))
    }

    /// Every namespace the input mentions, in order. Gathered borrowed and unique before
    /// they are sorted and copied: every workload, account and binding names one.
    pub fn namespace_names(&self) -> Vec<String> {
        let names: std::collections::BTreeSet<&str> = self
            .namespaces
            .iter()
            .map(|n| n.name.as_str())
            .chain(self.service_accounts.iter().map(|s| s.namespace.as_str()))
            .chain(self.workloads.iter().map(|w| w.namespace.as_str()))
            .chain(self.token_secrets.iter().map(|t| t.namespace.as_str()))
            .chain(
                self.policy
                    .bindings()
                    .iter()
                    .filter_map(|b| b.namespace.as_deref()),
            )
            .chain(self.policy.bindings().iter().flat_map(|b| {
                b.subjects
                    .iter()
                    .filter_map(|(s, _)| s.namespace.as_deref())
            }))
            .collect();
        names.into_iter().map(str::to_string).collect()
    }

    /// The ServiceAccount `namespace/name` of the input, if it has one.
    pub fn service_account(&self, namespace: &str, name: &str) -> Option<&ServiceAccount> {
        self.accounts_by_name
            .get(&(namespace.to_string(), name.to_string()))
            .and_then(|&i| self.service_accounts.get(i))
    }

    /// Whether Pod Security Admission would stop a privileged pod in `namespace`: only when
    /// the input has the Namespace with an `enforce` level of baseline or restricted.
    pub fn forbids_privileged_pods(&self, namespace: &str) -> bool {
        self.namespaces
            .iter()
            .find(|n| n.name == namespace)
            .is_some_and(Namespace::forbids_privileged_pods)
    }

    /// The namespaces for which [`Self::forbids_privileged_pods`] holds, found at once (the
    /// first Namespace of a name decides, as there).
    pub fn namespaces_forbidding_privileged_pods(&self) -> std::collections::HashSet<&str> {
        let mut seen = std::collections::HashSet::new();
        self.namespaces
            .iter()
            .filter(|n| seen.insert(n.name.as_str()))
            .filter(|n| n.forbids_privileged_pods())
            .map(|n| n.name.as_str())
            .collect()
    }
}
