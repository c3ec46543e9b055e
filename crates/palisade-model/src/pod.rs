use crate::node::Node;
use crate::object::Object;
use crate::path::FieldPath;

/// Kinds whose pod template sits at `spec.template`.
pub const TEMPLATE_KINDS: &[&str] = &[
    "Deployment",
    "ReplicaSet",
    "StatefulSet",
    "DaemonSet",
    "Job",
    "ReplicationController",
];

/// A pod spec and the metadata that goes with it, whatever kind carries them.
#[derive(Clone, Debug)]
pub struct PodView<'a> {
    pub spec: &'a Node,
    pub spec_path: FieldPath,
    /// The pod's own metadata (the template's, for controllers): annotations live here.
    pub metadata: Option<&'a Node>,
    pub metadata_path: FieldPath,
    /// Every container, with its path, made once: each rule walks them.
    containers: Vec<ContainerView<'a>>,
}

/// Which list of a pod spec a container comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ContainerKind {
    Init,
    Regular,
    Ephemeral,
}

impl ContainerKind {
    pub fn field(self) -> &'static str {
        match self {
            ContainerKind::Init => "initContainers",
            ContainerKind::Regular => "containers",
            ContainerKind::Ephemeral => "ephemeralContainers",
        }
    }

    /// How messages refer to a container of this kind.
    pub fn noun(self) -> &'static str {
        match self {
            ContainerKind::Init => "init container",
            ContainerKind::Regular => "container",
            ContainerKind::Ephemeral => "ephemeral container",
        }
    }
}

/// One container of a pod spec, with the path that leads to it.
#[derive(Clone, Debug)]
pub struct ContainerView<'a> {
    pub kind: ContainerKind,
    pub index: usize,
    pub node: &'a Node,
    pub path: FieldPath,
}

impl<'a> ContainerView<'a> {
    pub fn name(&self) -> &'a str {
        self.node.str_of("name").unwrap_or("")
    }

    pub fn security_context(&self) -> Option<&'a Node> {
        self.node.get("securityContext")
    }

    pub fn security_context_path(&self) -> FieldPath {
        self.path.key("securityContext")
    }

    /// The items of one of the container's lists (`env`, `envFrom`, `volumeMounts`, `args`),
    /// each with its index: [`Self::item_path`] makes the path of one that raises something
    /// (most raise nothing, and making every item's path was a large part of a scan's
    /// allocations).
    pub fn items(&self, field: &str) -> impl Iterator<Item = (usize, &'a Node)> + '_ {
        self.node
            .get(field)
            .map(Node::as_seq)
            .unwrap_or_default()
            .iter()
            .enumerate()
    }

    /// The path of item `index` of the container's list `field`.
    pub fn item_path(&self, field: &str, index: usize) -> FieldPath {
        self.path.key(field).index(index)
    }

    /// "container `app`", "init container `setup`", for messages.
    pub fn describe(&self) -> String {
        format!("{} `{}`", self.kind.noun(), self.name())
    }
}

/// A setting and where it was found: on the container, on the pod, or in an annotation.
#[derive(Clone, Debug, PartialEq)]
pub struct Inherited<T> {
    pub value: T,
    pub path: FieldPath,
    pub from_pod: bool,
}

/// Where a seccomp profile comes from and which type it resolves to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SeccompSource {
    RuntimeDefault,
    Localhost,
    Unconfined,
    /// A type Kubernetes does not know, kept verbatim.
    Other(String),
}

impl SeccompSource {
    fn from_field(kind: &str) -> Self {
        match kind {
            "RuntimeDefault" => SeccompSource::RuntimeDefault,
            "Localhost" => SeccompSource::Localhost,
            "Unconfined" => SeccompSource::Unconfined,
            other => SeccompSource::Other(other.to_string()),
        }
    }

    fn from_annotation(value: &str) -> Self {
        match value {
            "runtime/default" | "docker/default" => SeccompSource::RuntimeDefault,
            "unconfined" => SeccompSource::Unconfined,
            v if v.starts_with("localhost/") => SeccompSource::Localhost,
            other => SeccompSource::Other(other.to_string()),
        }
    }
}

/// The security context a container actually runs with, after Kubernetes merges the pod-level
/// `securityContext` (and the older seccomp and AppArmor annotations) into the container's.
#[derive(Clone, Debug, Default)]
pub struct EffectiveSecurityContext<'a> {
    pub run_as_non_root: Option<Inherited<bool>>,
    pub run_as_user: Option<Inherited<i64>>,
    pub run_as_group: Option<Inherited<i64>>,
    pub seccomp: Option<Inherited<SeccompSource>>,
    /// Replaced as a whole by the container's, as the kubelet does.
    pub se_linux_options: Option<Inherited<&'a Node>>,
    /// The AppArmor profile type (`RuntimeDefault`, `Localhost`, `Unconfined`).
    pub app_armor: Option<Inherited<String>>,
    /// `windowsOptions.hostProcess`, merged field by field.
    pub windows_host_process: Option<Inherited<bool>>,
    pub windows_run_as_user_name: Option<Inherited<String>>,
}

const APPARMOR_ANNOTATION_PREFIX: &str = "container.apparmor.security.beta.kubernetes.io/";
const SECCOMP_CONTAINER_ANNOTATION_PREFIX: &str = "container.seccomp.security.alpha.kubernetes.io/";
const SECCOMP_POD_ANNOTATION: &str = "seccomp.security.alpha.kubernetes.io/pod";

impl<'a> PodView<'a> {
    /// The pod spec carried by `object`, if its kind carries one: Pod, PodTemplate, CronJob,
    /// the built-in controllers, and any other kind with containers at `spec.template.spec`.
    pub fn of(object: &'a Object) -> Option<Self> {
        let root = &object.root;
        let kind = object.kind();
        let (template_keys, require_containers): (&[&str], bool) = match kind {
            "Pod" => (&[], false),
            "PodTemplate" => (&["template"], false),
            "CronJob" => (&["spec", "jobTemplate", "spec", "template"], false),
            k if TEMPLATE_KINDS.contains(&k) => (&["spec", "template"], false),
            _ => (&["spec", "template"], true),
        };
        Self::at(root, template_keys, require_containers)
    }

    /// The pod at `keys` (an object with `metadata` and `spec`) below `root`. Its paths are
    /// made only once it is found: most objects carry no pod.
    fn at(root: &'a Node, keys: &[&str], require_containers: bool) -> Option<Self> {
        let pod = root.at(keys)?;
        let spec = pod.get("spec").filter(|s| s.is_map())?;
        if require_containers && !spec.get("containers").is_some_and(Node::is_seq) {
            return None;
        }
        let path = FieldPath::root().keys(keys);
        let spec_path = path.key("spec");
        let containers = [
            ContainerKind::Init,
            ContainerKind::Regular,
            ContainerKind::Ephemeral,
        ]
        .into_iter()
        .flat_map(|kind| {
            let list_path = spec_path.key(kind.field());
            spec.get(kind.field())
                .map(Node::as_seq)
                .unwrap_or_default()
                .iter()
                .enumerate()
                .filter(|(_, node)| node.is_map())
                .map(move |(index, node)| ContainerView {
                    kind,
                    index,
                    node,
                    path: list_path.index(index),
                })
        })
        .collect();
        Some(PodView {
            spec,
            spec_path,
            metadata: pod.get("metadata"),
            metadata_path: path.key("metadata"),
            containers,
        })
    }

    /// Every container in the order the pod-security-admission library visits them:
    /// init containers, containers, then ephemeral containers.
    pub fn containers(&self) -> impl Iterator<Item = &ContainerView<'a>> + '_ {
        self.containers.iter()
    }

    pub fn security_context(&self) -> Option<&'a Node> {
        self.spec.get("securityContext")
    }

    pub fn security_context_path(&self) -> FieldPath {
        self.spec_path.key("securityContext")
    }

    /// The pod's annotations as (key, value, path) triples.
    pub fn annotations(&self) -> impl Iterator<Item = (&'a str, &'a Node, FieldPath)> + '_ {
        let base = self.metadata_path.key("annotations");
        self.annotation_entries()
            .iter()
            .map(move |e| (e.key.as_str(), &e.value, base.key(&e.key)))
    }

    /// The entries of the pod's `metadata.annotations` (none when it has no such map).
    fn annotation_entries(&self) -> &'a [crate::node::Entry] {
        self.metadata
            .and_then(|m| m.get("annotations"))
            .map(Node::as_map)
            .unwrap_or_default()
    }

    /// The annotation `key`, with its path (made for that one only: every rule looking for
    /// an annotation made one for each of the pod's).
    fn annotation(&self, key: &str) -> Option<(&'a str, FieldPath)> {
        let value = self
            .annotation_entries()
            .iter()
            .find(|e| e.key.as_str() == key)?
            .value
            .as_str()?;
        Some((value, self.metadata_path.keys(&["annotations", key])))
    }

    /// The pod's volumes, each with its path.
    pub fn volumes(&self) -> impl Iterator<Item = (FieldPath, &'a Node)> + '_ {
        let base = self.spec_path.key("volumes");
        self.spec
            .get("volumes")
            .map(Node::as_seq)
            .unwrap_or_default()
            .iter()
            .enumerate()
            .map(move |(i, v)| (base.index(i), v))
    }

    /// `true` when the pod declares `spec.os.name: windows`.
    pub fn is_windows(&self) -> bool {
        self.spec.at(&["os", "name"]).and_then(Node::as_str) == Some("windows")
    }

    /// The security context `container` runs with, pod-level settings inherited.
    pub fn effective_security_context(
        &self,
        container: &ContainerView<'a>,
    ) -> EffectiveSecurityContext<'a> {
        let pod_sc = self.security_context();
        let pod_path = self.security_context_path();
        let own_sc = container.security_context();
        let own_path = container.security_context_path();

        let pick = |keys: &[&str]| -> Option<Inherited<&'a Node>> {
            let found = |sc: Option<&'a Node>, path: &FieldPath, from_pod| {
                sc.and_then(|sc| sc.at(keys))
                    .filter(|n| !n.is_null())
                    .map(|node| Inherited {
                        value: node,
                        path: path.keys(keys),
                        from_pod,
                    })
            };
            found(own_sc, &own_path, false).or_else(|| found(pod_sc, &pod_path, true))
        };
        let typed = |keys: &[&str]| pick(keys).map(|i| (i.value, i.path, i.from_pod));

        let run_as_non_root = typed(&["runAsNonRoot"]).and_then(|(n, path, from_pod)| {
            n.as_bool().map(|value| Inherited {
                value,
                path,
                from_pod,
            })
        });
        let int = |key: &str| {
            typed(&[key]).and_then(|(n, path, from_pod)| {
                n.as_i64().map(|value| Inherited {
                    value,
                    path,
                    from_pod,
                })
            })
        };

        let seccomp = typed(&["seccompProfile", "type"])
            .and_then(|(n, path, from_pod)| {
                n.as_str().map(|t| Inherited {
                    value: SeccompSource::from_field(t),
                    path,
                    from_pod,
                })
            })
            .or_else(|| {
                let key = format!("{SECCOMP_CONTAINER_ANNOTATION_PREFIX}{}", container.name());
                self.annotation(&key)
                    .map(|(v, path)| (v, path, false))
                    .or_else(|| {
                        self.annotation(SECCOMP_POD_ANNOTATION)
                            .map(|(v, path)| (v, path, true))
                    })
                    .map(|(v, path, from_pod)| Inherited {
                        value: SeccompSource::from_annotation(v),
                        path,
                        from_pod,
                    })
            });

        let app_armor = typed(&["appArmorProfile", "type"])
            .and_then(|(n, path, from_pod)| {
                n.as_str().map(|t| Inherited {
                    value: t.to_string(),
                    path,
                    from_pod,
                })
            })
            .or_else(|| {
                let key = format!("{APPARMOR_ANNOTATION_PREFIX}{}", container.name());
                self.annotation(&key).map(|(v, path)| Inherited {
                    value: match v {
                        "runtime/default" => "RuntimeDefault".to_string(),
                        "unconfined" => "Unconfined".to_string(),
                        v if v.starts_with("localhost/") => "Localhost".to_string(),
                        other => other.to_string(),
                    },
                    path,
                    from_pod: false,
                })
            });

        let windows_host_process =
            typed(&["windowsOptions", "hostProcess"]).and_then(|(n, path, from_pod)| {
                n.as_bool().map(|value| Inherited {
                    value,
                    path,
                    from_pod,
                })
            });
        let windows_run_as_user_name =
            typed(&["windowsOptions", "runAsUserName"]).and_then(|(n, path, from_pod)| {
                n.as_str().map(|v| Inherited {
                    value: v.to_string(),
                    path,
                    from_pod,
                })
            });

        EffectiveSecurityContext {
            run_as_non_root,
            run_as_user: int("runAsUser"),
            run_as_group: int("runAsGroup"),
            seccomp,
            se_linux_options: pick(&["seLinuxOptions"]),
            app_armor,
            windows_host_process,
            windows_run_as_user_name,
        }
    }
}
