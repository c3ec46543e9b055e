//! RBAC objects as the authorizer sees them, extracted from loaded objects.

use std::sync::Arc;

use palisade_model::{FieldPath, Location, Node, Object, ObjectRef, Word};

use crate::selector::{labels_of, LabelSelector};

/// Where an RBAC object (or a part of it) came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Source {
    pub object: Arc<ObjectRef>,
    pub path: FieldPath,
    pub location: Option<Location>,
    /// Part of Kubernetes' default policy, not of the input.
    pub bootstrap: bool,
}

impl Source {
    pub(crate) fn of(object: &Object, path: &FieldPath, bootstrap: bool) -> Self {
        let location = object.origin.as_ref().map(|origin| {
            let (pos, _) = path.locate(&object.root);
            Location {
                file: std::sync::Arc::clone(&origin.file),
                document: origin.document,
                line: pos.line,
                column: pos.column,
            }
        });
        Source {
            object: Arc::clone(&object.reference),
            path: path.clone(),
            location,
            bootstrap,
        }
    }
}

/// One rule of a Role or ClusterRole.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyRule {
    pub verbs: Arc<[Word]>,
    pub api_groups: Arc<[Word]>,
    pub resources: Arc<[Word]>,
    pub resource_names: Arc<[Word]>,
    pub non_resource_urls: Arc<[Word]>,
    /// `/rules/<i>` in the role that holds the rule.
    pub path: FieldPath,
    pub source: Source,
}

/// A Role (namespaced) or ClusterRole.
#[derive(Clone, Debug, PartialEq)]
pub struct Role {
    pub cluster: bool,
    pub namespace: Option<String>,
    pub name: String,
    pub labels: Vec<(String, String)>,
    pub rules: Vec<PolicyRule>,
    /// `aggregationRule.clusterRoleSelectors`, for aggregated ClusterRoles.
    pub aggregation: Option<Vec<LabelSelector>>,
    /// The API server reconciles bootstrap roles unless they are annotated
    /// `rbac.authorization.kubernetes.io/autoupdate: "false"`.
    pub auto_update: bool,
    pub source: Source,
}

impl Role {
    pub fn kind(&self) -> &'static str {
        if self.cluster {
            "ClusterRole"
        } else {
            "Role"
        }
    }
}

/// The kind of a binding subject.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SubjectKind {
    User,
    Group,
    ServiceAccount,
}

impl SubjectKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SubjectKind::User => "User",
            SubjectKind::Group => "Group",
            SubjectKind::ServiceAccount => "ServiceAccount",
        }
    }
}

/// A subject of a binding; a ServiceAccount's namespace defaults to the RoleBinding's.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Subject {
    pub kind: SubjectKind,
    pub name: String,
    pub namespace: Option<String>,
}

impl Subject {
    /// The user name a request carries for this subject (`system:serviceaccount:ns:name`).
    pub fn user_name(&self) -> String {
        match self.kind {
            SubjectKind::ServiceAccount => format!(
                "system:serviceaccount:{}:{}",
                self.namespace.as_deref().unwrap_or(""),
                self.name
            ),
            _ => self.name.clone(),
        }
    }

    /// Kubernetes' own identities: `system:` users and groups, and the control plane's own
    /// service accounts in kube-system (those the default policy binds: the controllers,
    /// kube-dns, the bootstrap signer and token cleaner). Any other kube-system account
    /// (kube-state-metrics, a CNI's agent, `default`) is judged like every account.
    pub fn is_system(&self) -> bool {
        match self.kind {
            SubjectKind::ServiceAccount => {
                self.namespace.as_deref() == Some("kube-system")
                    && control_plane_accounts().contains(self.name.as_str())
            }
            _ => self.name.starts_with("system:"),
        }
    }

    pub fn display(&self) -> String {
        match (&self.kind, &self.namespace) {
            (SubjectKind::ServiceAccount, Some(ns)) => format!("ServiceAccount {ns}/{}", self.name),
            (kind, _) => format!("{} {}", kind.as_str(), self.name),
        }
    }
}

/// A RoleBinding or ClusterRoleBinding.
#[derive(Clone, Debug, PartialEq)]
pub struct Binding {
    pub cluster: bool,
    pub namespace: Option<String>,
    pub name: String,
    /// `(is ClusterRole, name)`.
    pub role_ref: (bool, String),
    pub subjects: Vec<(Subject, Source)>,
    /// See [`Role::auto_update`].
    pub auto_update: bool,
    /// Not a binding at all: the API server's privileged group (`system:masters`), which is
    /// allowed everything before RBAC is asked.
    pub privileged: bool,
    pub source: Source,
}

impl Binding {
    pub fn kind(&self) -> &'static str {
        if self.cluster {
            "ClusterRoleBinding"
        } else {
            "RoleBinding"
        }
    }

    /// `ClusterRoleBinding name` or `RoleBinding ns/name`.
    pub fn display(&self) -> String {
        match &self.namespace {
            _ if self.privileged => format!("group {}", self.name),
            Some(ns) if !self.cluster => format!("RoleBinding {ns}/{}", self.name),
            _ => format!("{} {}", self.kind(), self.name),
        }
    }
}

pub(crate) fn strings(node: Option<&Node>) -> Vec<String> {
    node.map(Node::as_seq)
        .unwrap_or_default()
        .iter()
        .filter_map(|n| n.as_str().map(str::to_string))
        .collect()
}

/// A rule's list of words (verbs, API groups, resources, ...): few distinct ones over
/// thousands of roles, so each word, and each list, is shared.
fn words(node: Option<&Node>) -> Arc<[Word]> {
    palisade_model::shared_words(
        node.map(Node::as_seq)
            .unwrap_or_default()
            .iter()
            .filter_map(|n| n.as_str().map(Word::new)),
    )
}

const RBAC_GROUP: &str = "rbac.authorization.k8s.io";

fn auto_update(object: &Object) -> bool {
    object.annotation("rbac.authorization.kubernetes.io/autoupdate") != Some("false")
}

/// The group the API server allows everything, whatever RBAC says.
pub const PRIVILEGED_GROUP: &str = "system:masters";

/// `system:masters` as a binding of a role that allows everything, so that answers about it
/// have the same shape as every other answer.
pub(crate) fn privileged_group() -> (Binding, Role) {
    let object = Arc::new(ObjectRef {
        api_version: format!("{RBAC_GROUP}/v1"),
        kind: "Group".into(),
        namespace: None,
        name: PRIVILEGED_GROUP.into(),
    });
    let source = |path: FieldPath| Source {
        object: Arc::clone(&object),
        path,
        location: None,
        bootstrap: true,
    };
    let rule = |i: usize, resource: bool| {
        let path = FieldPath::root().key("rules").index(i);
        let all: Arc<[Word]> = Arc::new([Word::new("*")]);
        let none: Arc<[Word]> = Arc::new([]);
        PolicyRule {
            verbs: all.clone(),
            api_groups: if resource { all.clone() } else { none.clone() },
            resources: if resource { all.clone() } else { none.clone() },
            resource_names: none.clone(),
            non_resource_urls: if resource { none } else { all },
            source: source(path.clone()),
            path,
        }
    };
    let role = Role {
        cluster: true,
        namespace: None,
        name: PRIVILEGED_GROUP.into(),
        labels: Vec::new(),
        rules: vec![rule(0, true), rule(1, false)],
        aggregation: None,
        auto_update: false,
        source: source(FieldPath::root()),
    };
    let subject = Subject {
        kind: SubjectKind::Group,
        name: PRIVILEGED_GROUP.into(),
        namespace: None,
    };
    let binding = Binding {
        cluster: true,
        namespace: None,
        name: PRIVILEGED_GROUP.into(),
        role_ref: (true, PRIVILEGED_GROUP.into()),
        subjects: vec![(subject, source(FieldPath::root()))],
        auto_update: false,
        privileged: true,
        source: source(FieldPath::root()),
    };
    (binding, role)
}

/// Reads a Role or ClusterRole.
pub(crate) fn role_of(object: &Object, bootstrap: bool) -> Option<Role> {
    let cluster = match (object.group(), object.kind()) {
        (RBAC_GROUP, "ClusterRole") => true,
        (RBAC_GROUP, "Role") => false,
        _ => return None,
    };
    let rules_path = FieldPath::root().key("rules");
    let rules = object
        .root
        .get("rules")
        .map(Node::as_seq)
        .unwrap_or_default()
        .iter()
        .enumerate()
        .map(|(i, rule)| {
            // `/rules/0` is the path of most rules there are: one copy serves them all.
            let path = rules_path.index(i).shared();
            PolicyRule {
                verbs: words(rule.get("verbs")),
                api_groups: words(rule.get("apiGroups")),
                resources: words(rule.get("resources")),
                resource_names: words(rule.get("resourceNames")),
                non_resource_urls: words(rule.get("nonResourceURLs")),
                source: Source::of(object, &path, bootstrap),
                path,
            }
        })
        .collect();
    let aggregation = object
        .root
        .get("aggregationRule")
        .filter(|_| cluster)
        .map(|a| {
            a.get("clusterRoleSelectors")
                .map(Node::as_seq)
                .unwrap_or_default()
                .iter()
                .map(LabelSelector::from_node)
                .collect()
        });
    Some(Role {
        cluster,
        namespace: if cluster {
            None
        } else {
            object.reference.namespace.clone()
        },
        name: object.reference.name.clone(),
        labels: labels_of(object.metadata().and_then(|m| m.get("labels"))),
        rules,
        aggregation,
        auto_update: auto_update(object),
        source: Source::of(object, &FieldPath::root(), bootstrap),
    })
}

/// What is malformed in a ClusterRole's `aggregationRule`, as `path: message`. Such a
/// selector is still read as the engine reads it (an unreadable one selects every labelled
/// ClusterRole, which overstates access: the safe direction), and the caller says so.
pub fn aggregation_problems(object: &Object) -> Vec<(FieldPath, String)> {
    if (object.group(), object.kind()) != ("rbac.authorization.k8s.io", "ClusterRole") {
        return Vec::new();
    }
    let Some(rule) = object.root.get("aggregationRule").filter(|n| !n.is_null()) else {
        return Vec::new();
    };
    let path = FieldPath::root().key("aggregationRule");
    if !rule.is_map() {
        return vec![(
            path,
            format!("must be a mapping, found a {}", rule.type_name()),
        )];
    }
    let path = path.key("clusterRoleSelectors");
    match rule.get("clusterRoleSelectors").map(|n| &n.value) {
        None | Some(palisade_model::Value::Null) => Vec::new(),
        Some(palisade_model::Value::Seq(selectors)) => selectors
            .iter()
            .enumerate()
            .flat_map(|(i, s)| LabelSelector::problems(s, &path.index(i)))
            .collect(),
        Some(_) => vec![(path, "must be a list of label selectors".to_string())],
    }
}

/// Reads a RoleBinding or ClusterRoleBinding.
pub(crate) fn binding_of(object: &Object, bootstrap: bool) -> Option<Binding> {
    let cluster = match (object.group(), object.kind()) {
        (RBAC_GROUP, "ClusterRoleBinding") => true,
        (RBAC_GROUP, "RoleBinding") => false,
        _ => return None,
    };
    let namespace = if cluster {
        None
    } else {
        object.reference.namespace.clone()
    };
    let role_ref = object.root.get("roleRef");
    let role_is_cluster = role_ref.and_then(|r| r.str_of("kind")) == Some("ClusterRole");
    let role_name = role_ref
        .and_then(|r| r.str_of("name"))
        .unwrap_or_default()
        .to_string();
    let subjects_path = FieldPath::root().key("subjects");
    let subjects = object
        .root
        .get("subjects")
        .map(Node::as_seq)
        .unwrap_or_default()
        .iter()
        .enumerate()
        .filter_map(|(i, s)| {
            let kind = match s.str_of("kind")? {
                "User" => SubjectKind::User,
                "Group" => SubjectKind::Group,
                "ServiceAccount" => SubjectKind::ServiceAccount,
                _ => return None,
            };
            let own_namespace = s
                .str_of("namespace")
                .filter(|n| !n.is_empty())
                .map(str::to_string);
            // The authorizer defaults a ServiceAccount subject's namespace to the binding's.
            let namespace = match kind {
                SubjectKind::ServiceAccount => own_namespace.or_else(|| namespace.clone()),
                _ => None,
            };
            let subject = Subject {
                kind,
                name: s.str_of("name")?.to_string(),
                namespace,
            };
            Some((
                subject,
                Source::of(object, &subjects_path.index(i), bootstrap),
            ))
        })
        .collect();
    Some(Binding {
        cluster,
        namespace,
        name: object.reference.name.clone(),
        role_ref: (role_is_cluster || cluster, role_name),
        subjects,
        auto_update: auto_update(object),
        privileged: false,
        source: Source::of(object, &FieldPath::root().key("roleRef"), bootstrap),
    })
}

/// The kube-system service accounts Kubernetes' default policy binds, and those of
/// controllers newer than the bundled policy (1.26).
/// Whether `kube-system/name` is a service account of Kubernetes' own control plane (a
/// controller of kube-controller-manager, the bootstrap signer, ...): one the default policy
/// binds, not any account of kube-system.
pub fn is_control_plane_account(name: &str) -> bool {
    control_plane_accounts().contains(name)
}

fn control_plane_accounts() -> &'static std::collections::HashSet<String> {
    static ACCOUNTS: std::sync::OnceLock<std::collections::HashSet<String>> =
        std::sync::OnceLock::new();
    ACCOUNTS.get_or_init(|| {
        let mut accounts: std::collections::HashSet<String> = [
            "legacy-service-account-token-cleaner",
            "validatingadmissionpolicy-status-controller",
        ]
        .into_iter()
        .map(str::to_string)
        .collect();
        for object in bootstrap_objects() {
            for subject in object
                .root
                .get("subjects")
                .map(Node::as_seq)
                .unwrap_or_default()
            {
                if subject.str_of("kind") == Some("ServiceAccount")
                    && subject.str_of("namespace") == Some("kube-system")
                {
                    accounts.extend(subject.str_of("name").map(str::to_string));
                }
            }
        }
        accounts
    })
}

/// The bundled default policy of a Kubernetes API server (1.26).
pub(crate) fn bootstrap_objects() -> Vec<Object> {
    const FILES: [(&str, &str); 2] = [
        (
            "<bootstrap>/cluster-roles-and-bindings.yaml",
            include_str!("../../data/rbac-bootstrap/cluster-roles-and-bindings.yaml"),
        ),
        (
            "<bootstrap>/namespace-roles-and-bindings.yaml",
            include_str!("../../data/rbac-bootstrap/namespace-roles-and-bindings.yaml"),
        ),
    ];
    let mut objects = Vec::new();
    for (name, text) in FILES {
        palisade_load::load_text(&Arc::from(name), text, &mut |loaded| {
            if let palisade_load::Loaded::Object(object) = loaded {
                objects.push(*object);
            }
        });
    }
    objects
}
