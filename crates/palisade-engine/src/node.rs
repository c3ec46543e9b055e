//! `palisade node`: finds a node's Kubernetes files at the standard kubeadm locations below a
//! root directory (`/` on the node itself, or a copied snapshot), and turns them into what the
//! engine checks: YAML inputs (static pods, the kubelet's config file, the encryption config
//! and audit policy the API server names), a `KubeletFlags` object per file that passes the
//! kubelet flags (systemd units and drop-ins, environment files), and the mode and owner of
//! every file the CIS Benchmark sets permissions for. Files that are absent are listed as not
//! present, never as failures: managed control planes have none of them.

use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use palisade_analysis::flags::{component_flags, shell_words, Component, Flags};
use palisade_analysis::kubelet::{FLAGS_GROUP, FLAGS_KIND};
use palisade_load::{decode, load_text, read_input, Input, Loaded};
use palisade_model::{
    Entry, FieldPath, FileRole, Node, NodeFile, Object, Origin, PodView, Pos, Value,
};

/// Static pod manifests, by the component in their file name.
const MANIFESTS: &[(&str, Component, FileRole)] = &[
    (
        "kube-apiserver",
        Component::ApiServer,
        FileRole::ApiServerManifest,
    ),
    (
        "kube-controller-manager",
        Component::ControllerManager,
        FileRole::ControllerManagerManifest,
    ),
    (
        "kube-scheduler",
        Component::Scheduler,
        FileRole::SchedulerManifest,
    ),
    ("etcd", Component::Etcd, FileRole::EtcdManifest),
];

const KUBECONFIGS: &[(&str, FileRole)] = &[
    ("etc/kubernetes/admin.conf", FileRole::AdminKubeconfig),
    ("etc/kubernetes/super-admin.conf", FileRole::AdminKubeconfig),
    (
        "etc/kubernetes/scheduler.conf",
        FileRole::SchedulerKubeconfig,
    ),
    (
        "etc/kubernetes/controller-manager.conf",
        FileRole::ControllerManagerKubeconfig,
    ),
    ("etc/kubernetes/kubelet.conf", FileRole::KubeletKubeconfig),
];

/// Where systemd looks for the kubelet's unit and drop-ins, lowest precedence first.
const UNIT_DIRS: &[&str] = &[
    "lib/systemd/system",
    "usr/lib/systemd/system",
    "etc/systemd/system",
];

/// Environment files kubeadm's drop-in reads, in the order its `ExecStart` expands them.
const ENV_FILES: &[&str] = &[
    "var/lib/kubelet/kubeadm-flags.env",
    "etc/default/kubelet",
    "etc/sysconfig/kubelet",
];

/// What `palisade node` found below a root.
#[derive(Default)]
pub struct NodeScan {
    /// YAML files to scan.
    pub inputs: Vec<Input>,
    /// Objects made from non-YAML files (the kubelet's flags).
    pub objects: Vec<Object>,
    /// Files whose mode and owner are judged.
    pub files: Vec<NodeFile>,
    /// Expected files that are not there: `path (what)`.
    pub absent: Vec<String>,
    /// What was read otherwise than as written (a kubelet config file without `kind`).
    pub warnings: Vec<palisade_model::LoadError>,
}

/// The path on the node for `path` below `root` (`/etc/kubernetes/admin.conf`).
fn node_path(root: &Path, path: &Path) -> String {
    let relative = path.strip_prefix(root).unwrap_or(path);
    format!("/{}", relative.to_string_lossy().trim_start_matches('/'))
}

/// `path` as the node names it, resolved below `root`.
fn below(root: &Path, path: &str) -> PathBuf {
    root.join(path.trim_start_matches('/'))
}

/// A user's (uid, gid) from the node's `/etc/passwd`.
fn user_ids(root: &Path, user: &str) -> Option<(u32, u32)> {
    let passwd = std::fs::read_to_string(below(root, "/etc/passwd")).ok()?;
    passwd.lines().find_map(|line| {
        let fields: Vec<&str> = line.split(':').collect();
        match fields[..] {
            [name, _, uid, gid, ..] if name == user => Some((uid.parse().ok()?, gid.parse().ok()?)),
            _ => None,
        }
    })
}

impl NodeScan {
    fn file(
        &mut self,
        root: &Path,
        path: &Path,
        role: FileRole,
        expected_owner: Option<(u32, u32)>,
    ) -> bool {
        match std::fs::metadata(path) {
            Ok(meta) => {
                self.files.push(NodeFile {
                    role,
                    path: Arc::from(path.to_string_lossy().as_ref()),
                    mode: meta.mode() & 0o7777,
                    uid: meta.uid(),
                    gid: meta.gid(),
                    expected_owner,
                });
                true
            }
            Err(_) => {
                self.absent
                    .push(format!("{} ({})", node_path(root, path), role.describe()));
                false
            }
        }
    }

    /// A YAML file to scan and judge, when present.
    fn yaml(&mut self, root: &Path, path: &Path, role: FileRole) {
        if self.file(root, path, role, None) {
            self.inputs.push(Input::File(path.to_path_buf()));
        }
    }
}

/// The objects of a YAML file (errors are reported when the file is scanned).
fn objects_in(path: &Path) -> Vec<Object> {
    let Ok(bytes) = read_input(&Input::File(path.to_path_buf())) else {
        return Vec::new();
    };
    let name: Arc<str> = Arc::from(path.to_string_lossy().as_ref());
    let Ok(text) = decode(&name, &bytes) else {
        return Vec::new();
    };
    let mut objects = Vec::new();
    load_text(&name, text, &mut |loaded| {
        if let Loaded::Object(object) = loaded {
            objects.push(*object);
        }
    });
    objects
}

fn component_flags_in(path: &Path, component: Component) -> Option<Flags> {
    objects_in(path)
        .iter()
        .find_map(|object| PodView::of(object).and_then(|pod| component_flags(&pod, component)))
}

/// Finds and reads everything below `root`.
pub fn discover(root: &Path) -> NodeScan {
    let mut scan = NodeScan::default();
    let mut apiserver_flags = None;
    let mut etcd_flags = None;

    let manifests = below(root, "/etc/kubernetes/manifests");
    let mut manifest_files: Vec<PathBuf> = std::fs::read_dir(&manifests)
        .map(|dir| dir.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    manifest_files.sort();
    for (name, component, role) in MANIFESTS {
        let found = manifest_files.iter().find(|p| {
            p.file_name().and_then(|f| f.to_str()).is_some_and(|f| {
                f.starts_with(name)
                    && (f.ends_with(".yaml") || f.ends_with(".yml") || f.ends_with(".json"))
            })
        });
        match found {
            Some(path) => {
                scan.yaml(root, path, *role);
                match component {
                    Component::ApiServer => apiserver_flags = component_flags_in(path, *component),
                    Component::Etcd => etcd_flags = component_flags_in(path, *component),
                    _ => {}
                }
            }
            None => scan.absent.push(format!(
                "{}/{name}.yaml ({})",
                node_path(root, &manifests),
                role.describe()
            )),
        }
    }

    for (path, role) in KUBECONFIGS {
        // Never read: kubeconfigs hold credentials. Only their mode and owner matter.
        scan.file(root, &below(root, path), *role, None);
    }

    let pki = below(root, "/etc/kubernetes/pki");
    if scan.file(root, &pki, FileRole::PkiDirectory, None) {
        let mut pending = vec![pki];
        while let Some(dir) = pending.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            let mut paths: Vec<PathBuf> =
                entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
            paths.sort();
            for path in paths {
                let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
                // Symbolic links are not followed: a link back up the tree would never end.
                let linked =
                    std::fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_symlink());
                if linked {
                    continue;
                }
                if path.is_dir() {
                    scan.file(root, &path, FileRole::PkiDirectory, None);
                    pending.push(path);
                } else if name.ends_with(".key") {
                    scan.file(root, &path, FileRole::PkiKey, None);
                } else if name.ends_with(".crt") || name.ends_with(".pem") || name.ends_with(".pub")
                {
                    scan.file(root, &path, FileRole::PkiCertificate, None);
                }
            }
        }
    }

    let config_path = kubelet_flags(root, &mut scan);
    let config_path = below(
        root,
        config_path
            .as_deref()
            .unwrap_or("/var/lib/kubelet/config.yaml"),
    );
    let client_ca = kubelet_config(root, &config_path, &mut scan);
    let client_ca = client_ca.or_else(|| {
        scan.objects.iter().rev().find_map(|o| {
            o.root
                .at(&["flags", "client-ca-file"])
                .and_then(Node::as_str)
                .map(str::to_string)
        })
    });
    // The kubelet's client CA, or kubeadm's (which CIS audits as the default).
    let client_ca = client_ca.unwrap_or_else(|| "/etc/kubernetes/pki/ca.crt".to_string());
    scan.file(root, &below(root, &client_ca), FileRole::ClientCaFile, None);

    if let Some(flags) = &apiserver_flags {
        for (flag, role) in [
            ("encryption-provider-config", FileRole::EncryptionConfig),
            ("audit-policy-file", FileRole::AuditPolicy),
        ] {
            if let Some(flag) = flags.get(flag) {
                scan.yaml(root, &below(root, &flag.value), role);
            }
        }
    }
    if apiserver_flags.is_some() || etcd_flags.is_some() {
        let data_dir = etcd_flags
            .as_ref()
            .and_then(|f| f.get("data-dir"))
            .map_or("/var/lib/etcd".to_string(), |f| f.value.clone());
        let owner = user_ids(root, "etcd");
        scan.file(root, &below(root, &data_dir), FileRole::EtcdDataDir, owner);
    }
    scan
}

/// The kubelet's config file, when present: scanned as it is, or, when it has no `kind` (the
/// kubelet reads it as a KubeletConfiguration all the same), read as one with a warning. The
/// client CA file it names, if any.
fn kubelet_config(root: &Path, path: &Path, scan: &mut NodeScan) -> Option<String> {
    if !scan.file(root, path, FileRole::KubeletConfig, None) {
        return None;
    }
    let client_ca = |object: &Object| {
        object
            .root
            .at(&["authentication", "x509", "clientCAFile"])
            .and_then(Node::as_str)
            .map(str::to_string)
    };
    let objects = objects_in(path);
    if !objects.is_empty() {
        scan.inputs.push(Input::File(path.to_path_buf()));
        return objects.iter().find_map(client_ca);
    }
    let Some(object) = kindless_kubelet_config(path) else {
        // Not YAML, or not a mapping: scanned, so that the error is reported.
        scan.inputs.push(Input::File(path.to_path_buf()));
        return None;
    };
    scan.warnings.push(palisade_model::LoadError {
        file: path.to_string_lossy().into_owned(),
        document: Some(1),
        line: Some(object.root.pos.line),
        column: Some(object.root.pos.column),
        message: format!(
            "the kubelet's --config file has no `kind`: read as the {KUBELET_CONFIG_API}/{KUBELET_CONFIG_KIND} the kubelet takes it for"
        ),
    });
    let named = client_ca(&object);
    scan.objects.push(object);
    named
}

const KUBELET_CONFIG_API: &str = "kubelet.config.k8s.io/v1beta1";
const KUBELET_CONFIG_KIND: &str = "KubeletConfiguration";

/// The first document of `path` as a KubeletConfiguration, when it is a mapping.
fn kindless_kubelet_config(path: &Path) -> Option<Object> {
    let bytes = read_input(&Input::File(path.to_path_buf())).ok()?;
    let name: Arc<str> = Arc::from(path.to_string_lossy().as_ref());
    let text = decode(&name, &bytes).ok()?;
    let root = palisade_load::yaml::parse_documents(text, 0)
        .into_iter()
        .next()?
        .ok()?;
    if !root.is_map() {
        return None;
    }
    let origin = Origin {
        file: name,
        document: 1,
        item: None,
        unset_namespace: None,
    };
    Some(Object::new(
        KUBELET_CONFIG_API.to_string(),
        KUBELET_CONFIG_KIND.to_string(),
        root,
        Some(origin),
    ))
}

/// Reads the kubelet's flags from its systemd unit, drop-ins and environment files into one
/// `KubeletFlags` object per file, in the order the kubelet sees them; returns `--config`.
fn kubelet_flags(root: &Path, scan: &mut NodeScan) -> Option<String> {
    let mut units: Vec<PathBuf> = Vec::new();
    // Drop-ins of all directories apply in file-name order; a name in /etc hides the others.
    let mut drop_ins: BTreeMap<String, PathBuf> = BTreeMap::new();
    for dir in UNIT_DIRS {
        let unit = below(root, &format!("/{dir}/kubelet.service"));
        if unit.exists() {
            units.push(unit);
        }
        if let Ok(entries) = std::fs::read_dir(below(root, &format!("/{dir}/kubelet.service.d"))) {
            for entry in entries.flatten() {
                let path = entry.path();
                if let Some(name) = path.file_name().and_then(|n| n.to_str()) {
                    if name.ends_with(".conf") {
                        drop_ins.insert(name.to_string(), path);
                    }
                }
            }
        }
    }
    let service_files: Vec<PathBuf> = units.into_iter().chain(drop_ins.into_values()).collect();
    if service_files.is_empty() {
        scan.absent
            .push("/etc/systemd/system/kubelet.service.d (kubelet service file)".to_string());
    }
    let mut config = None;
    for path in &service_files {
        scan.file(root, path, FileRole::KubeletServiceFile, None);
        if let Some(object) = flags_object(path, unit_flag_words) {
            config = config_flag(&object).or(config);
            scan.objects.push(object);
        }
    }
    for file in ENV_FILES {
        let path = below(root, file);
        if let Some(object) = flags_object(&path, env_flag_words) {
            config = config_flag(&object).or(config);
            scan.objects.push(object);
        }
    }
    config
}

fn config_flag(object: &Object) -> Option<String> {
    object
        .root
        .at(&["flags", "config"])
        .and_then(Node::as_str)
        .map(str::to_string)
}

/// The flag words of a systemd unit: `Environment=` values and `ExecStart=` arguments.
fn unit_flag_words(line: &str) -> Vec<String> {
    let line = line.trim();
    if let Some(rest) = line.strip_prefix("Environment=") {
        return shell_words(rest)
            .into_iter()
            .filter_map(|(_, assignment)| assignment.split_once('=').map(|(_, v)| v.to_string()))
            .flat_map(|value| shell_words(&value).into_iter().map(|(_, w)| w))
            .collect();
    }
    if let Some(rest) = line.strip_prefix("ExecStart=") {
        return shell_words(rest).into_iter().map(|(_, w)| w).collect();
    }
    Vec::new()
}

/// The flag words of an environment file: `NAME="--a=1 --b=2"`.
fn env_flag_words(line: &str) -> Vec<String> {
    let line = line.trim();
    if line.starts_with('#') {
        return Vec::new();
    }
    line.split_once('=')
        .map(|(_, value)| {
            shell_words(value)
                .into_iter()
                .flat_map(|(_, v)| shell_words(&v).into_iter().map(|(_, w)| w))
                .collect()
        })
        .unwrap_or_default()
}

/// A `KubeletFlags` object for the flags in `path`, each positioned where it is written.
fn flags_object(path: &Path, words_of: fn(&str) -> Vec<String>) -> Option<Object> {
    let text = std::fs::read_to_string(path).ok()?;
    let mut entries: Vec<Entry> = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let words = words_of(line);
        let items: Vec<(&str, FieldPath)> = words
            .iter()
            .map(|w| (w.as_str(), FieldPath::root()))
            .collect();
        for flag in Flags::parse(items, FieldPath::root()).iter() {
            let column = line
                .find(&format!("--{}", flag.name))
                .map_or(1, |byte| line[..byte].chars().count() + 1);
            let pos = Pos::new(
                u32::try_from(index + 1).unwrap_or(u32::MAX),
                u32::try_from(column).unwrap_or(u32::MAX),
            );
            entries.push(Entry {
                key: flag.name.clone(),
                key_pos: pos,
                value: Node::new(Value::Str(flag.value.clone()), pos),
            });
        }
    }
    // A unit that runs the kubelet without flags runs it on its defaults: still a kubelet.
    let runs_kubelet = || {
        text.lines().enumerate().find_map(|(index, line)| {
            let words = words_of(line);
            let binary = words.first()?;
            let runs = !binary.starts_with('-') && binary.rsplit('/').next() == Some("kubelet");
            runs.then(|| Pos::new(u32::try_from(index + 1).unwrap_or(u32::MAX), 1))
        })
    };
    let flags_at = match entries.first() {
        Some(entry) => entry.key_pos,
        None => runs_kubelet()?,
    };
    let start = Pos::new(1, 1);
    let field = |key: &str, value: Node| Entry {
        key: key.to_string(),
        key_pos: start,
        value,
    };
    let text_node = |s: &str| Node::new(Value::Str(s.to_string()), start);
    let first = flags_at;
    let root = Node::new(
        Value::Map(vec![
            field("apiVersion", text_node(&format!("{FLAGS_GROUP}/v1"))),
            field("kind", text_node(FLAGS_KIND)),
            field(
                "metadata",
                Node::new(Value::Map(vec![field("name", text_node("kubelet"))]), start),
            ),
            Entry {
                key: "flags".to_string(),
                key_pos: first,
                value: Node::new(Value::Map(entries), first),
            },
        ]),
        start,
    );
    let origin = Origin {
        file: Arc::from(path.to_string_lossy().as_ref()),
        document: 1,
        item: None,
        unset_namespace: None,
    };
    Some(Object::new(
        format!("{FLAGS_GROUP}/v1"),
        FLAGS_KIND.to_string(),
        root,
        Some(origin),
    ))
}
