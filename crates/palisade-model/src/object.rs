use std::sync::Arc;

use serde::Serialize;

use crate::node::Node;

/// Where an object came from: a file (or `-` for stdin), the 0-based document in it, and the
/// index of the item when the document was a `List`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    pub file: Arc<str>,
    pub document: u32,
    pub item: Option<u32>,
    /// The namespace the file's objects that name none are applied to, when the input says:
    /// the `--default-namespace`, its kustomization's `namespace`, or, when the input holds
    /// several projects, `default` of its project ([`unset_namespace_of_project`]). `None`:
    /// `default`, as `kubectl apply` without `-n` would. Set on every object of the file,
    /// namespaced or not: it also tells which project an object belongs to.
    pub unset_namespace: Option<Arc<str>>,
}

/// The namespace key of objects that name none in `project` (a directory), when the input
/// holds several projects: `default`, told apart per project, so that two projects'
/// namespace-less manifests are not taken for one namespace.
pub fn unset_namespace_of_project(project: &str) -> String {
    format!("default (of {project})")
}

/// The identity of an object, as reports print it.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct ObjectRef {
    #[serde(rename = "apiVersion")]
    pub api_version: String,
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub name: String,
}

impl ObjectRef {
    /// `Kind namespace/name`, or `Kind name` for cluster-scoped objects.
    pub fn display_name(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{} {}/{}", self.kind, ns, self.name),
            None => format!("{} {}", self.kind, self.name),
        }
    }
}

/// One Kubernetes object: its identity and the tree of its fields, as written.
#[derive(Debug)]
pub struct Object {
    /// Shared with the findings about the object.
    pub reference: Arc<ObjectRef>,
    pub root: Node,
    pub origin: Option<Origin>,
}

impl Object {
    /// Records that this object comes from a file whose objects, when they name no namespace,
    /// are applied to `namespace` (see [`Origin::unset_namespace`]).
    pub fn place_in(&mut self, namespace: &Arc<str>) {
        if let Some(origin) = self.origin.as_mut() {
            origin.unset_namespace = Some(Arc::clone(namespace));
        }
    }

    /// The project of the input this object comes from, named by where its objects without a
    /// namespace go (see [`Origin::unset_namespace`]); `None`: the input's only project.
    pub fn project(&self) -> Option<&Arc<str>> {
        self.origin.as_ref()?.unset_namespace.as_ref()
    }

    /// Builds an object from a mapping that has `apiVersion` and `kind`; the name is
    /// `metadata.name`, or `metadata.generateName` followed by `*`, or `""`.
    pub fn new(api_version: String, kind: String, root: Node, origin: Option<Origin>) -> Self {
        let metadata = root.get("metadata");
        let name = metadata
            .and_then(|m| m.str_of("name"))
            .map(str::to_string)
            .or_else(|| {
                metadata
                    .and_then(|m| m.str_of("generateName"))
                    .map(|g| format!("{g}*"))
            })
            .unwrap_or_default();
        let namespace = metadata
            .and_then(|m| m.str_of("namespace"))
            .filter(|ns| !ns.is_empty())
            .map(str::to_string);
        Object {
            reference: Arc::new(ObjectRef {
                api_version,
                kind,
                namespace,
                name,
            }),
            root,
            origin,
        }
    }

    pub fn kind(&self) -> &str {
        &self.reference.kind
    }

    /// The API group, `""` for the core group.
    pub fn group(&self) -> &str {
        self.reference
            .api_version
            .rsplit_once('/')
            .map_or("", |(group, _)| group)
    }

    pub fn metadata(&self) -> Option<&Node> {
        self.root.get("metadata")
    }

    /// The value of an annotation on the object itself.
    pub fn annotation(&self, key: &str) -> Option<&str> {
        self.metadata()
            .and_then(|m| m.get("annotations"))
            .and_then(|a| a.str_of(key))
    }

    /// The value of a label on the object itself.
    pub fn label(&self, key: &str) -> Option<&str> {
        self.metadata()
            .and_then(|m| m.get("labels"))
            .and_then(|a| a.str_of(key))
    }
}

/// A file on a node, as `palisade node` found it: what it is for, and its mode and owner.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeFile {
    /// What the file is (`kube-apiserver static pod manifest`, `PKI private key`, ...).
    pub role: FileRole,
    /// The path on the node (below `--root`), as reports show it.
    pub path: Arc<str>,
    /// Permission bits (`0o644`).
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    /// The uid and gid of the user the file should belong to, when not root (`etcd`), as the
    /// node's own `/etc/passwd` says; `None` when that user is unknown.
    pub expected_owner: Option<(u32, u32)>,
}

/// The kinds of node files the CIS Benchmark sets permissions for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FileRole {
    ApiServerManifest,
    ControllerManagerManifest,
    SchedulerManifest,
    EtcdManifest,
    EtcdDataDir,
    AdminKubeconfig,
    SchedulerKubeconfig,
    ControllerManagerKubeconfig,
    PkiDirectory,
    PkiCertificate,
    PkiKey,
    KubeletServiceFile,
    KubeletKubeconfig,
    KubeletConfig,
    ClientCaFile,
    EncryptionConfig,
    AuditPolicy,
}

impl FileRole {
    pub fn describe(self) -> &'static str {
        match self {
            FileRole::ApiServerManifest => "kube-apiserver static pod manifest",
            FileRole::ControllerManagerManifest => "kube-controller-manager static pod manifest",
            FileRole::SchedulerManifest => "kube-scheduler static pod manifest",
            FileRole::EtcdManifest => "etcd static pod manifest",
            FileRole::EtcdDataDir => "etcd data directory",
            FileRole::AdminKubeconfig => "administrator kubeconfig",
            FileRole::SchedulerKubeconfig => "kube-scheduler kubeconfig",
            FileRole::ControllerManagerKubeconfig => "kube-controller-manager kubeconfig",
            FileRole::PkiDirectory => "PKI directory",
            FileRole::PkiCertificate => "PKI certificate",
            FileRole::PkiKey => "PKI private key",
            FileRole::KubeletServiceFile => "kubelet service file",
            FileRole::KubeletKubeconfig => "kubelet kubeconfig",
            FileRole::KubeletConfig => "kubelet config file",
            FileRole::ClientCaFile => "kubelet client CA file",
            FileRole::EncryptionConfig => "encryption provider config",
            FileRole::AuditPolicy => "audit policy file",
        }
    }
}
