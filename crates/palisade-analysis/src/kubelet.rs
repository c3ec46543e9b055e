//! The kubelet's effective settings: its `KubeletConfiguration` file, overridden by its
//! command-line flags, with the defaults that apply to each. A flag left out falls back to the
//! file; a setting in neither takes the file's (v1beta1) default when the kubelet runs with a
//! config file, and the flag's default when it runs on flags alone. Those defaults differ for
//! exactly the settings that matter (anonymous auth, authorization mode, read-only port),
//! which is why judging flags alone gets kubelets configured by file wrong.
//!
//! Flags come from `palisade node`, which turns the kubelet's systemd drop-ins and
//! environment files into one `KubeletFlags` object (group `node.palisade.dev`).

use palisade_model::{FieldPath, Node, Object};

use crate::flags::{component_flags, Component};
use crate::rbac::Source;

/// The group of the objects `palisade node` makes from a kubelet's command line.
pub const FLAGS_GROUP: &str = "node.palisade.dev";
pub const FLAGS_KIND: &str = "KubeletFlags";

/// A kubelet setting as a flag and as a config file field.
#[derive(Debug)]
pub struct Setting {
    pub flag: &'static str,
    /// `None` for flag-only settings (`--hostname-override`).
    pub field: Option<&'static [&'static str]>,
    /// The value when neither sets it and the kubelet has no config file.
    pub flag_default: Option<&'static str>,
    /// The value when neither sets it and the kubelet has a config file.
    pub file_default: Option<&'static str>,
}

macro_rules! setting {
    ($name:ident, $flag:literal, $field:expr, $flag_default:expr, $file_default:expr) => {
        pub const $name: Setting = Setting {
            flag: $flag,
            field: $field,
            flag_default: $flag_default,
            file_default: $file_default,
        };
    };
}

setting!(
    ANONYMOUS_AUTH,
    "anonymous-auth",
    Some(&["authentication", "anonymous", "enabled"]),
    Some("true"),
    Some("false")
);
setting!(
    WEBHOOK_AUTHENTICATION,
    "authentication-token-webhook",
    Some(&["authentication", "webhook", "enabled"]),
    Some("false"),
    Some("true")
);
setting!(
    CLIENT_CA_FILE,
    "client-ca-file",
    Some(&["authentication", "x509", "clientCAFile"]),
    None,
    None
);
setting!(
    AUTHORIZATION_MODE,
    "authorization-mode",
    Some(&["authorization", "mode"]),
    Some("AlwaysAllow"),
    Some("Webhook")
);
setting!(
    READ_ONLY_PORT,
    "read-only-port",
    Some(&["readOnlyPort"]),
    Some("10255"),
    Some("0")
);
setting!(
    STREAMING_IDLE_TIMEOUT,
    "streaming-connection-idle-timeout",
    Some(&["streamingConnectionIdleTimeout"]),
    Some("4h0m0s"),
    Some("4h0m0s")
);
setting!(
    PROTECT_KERNEL_DEFAULTS,
    "protect-kernel-defaults",
    Some(&["protectKernelDefaults"]),
    Some("false"),
    Some("false")
);
setting!(
    MAKE_IPTABLES_UTIL_CHAINS,
    "make-iptables-util-chains",
    Some(&["makeIPTablesUtilChains"]),
    Some("true"),
    Some("true")
);
setting!(HOSTNAME_OVERRIDE, "hostname-override", None, None, None);
setting!(
    EVENT_QPS,
    "event-qps",
    Some(&["eventRecordQPS"]),
    Some("50"),
    Some("50")
);
setting!(
    TLS_CERT_FILE,
    "tls-cert-file",
    Some(&["tlsCertFile"]),
    None,
    None
);
setting!(
    TLS_PRIVATE_KEY_FILE,
    "tls-private-key-file",
    Some(&["tlsPrivateKeyFile"]),
    None,
    None
);
setting!(
    SERVER_TLS_BOOTSTRAP,
    "rotate-server-certificates",
    Some(&["serverTLSBootstrap"]),
    Some("false"),
    Some("false")
);
setting!(
    ROTATE_CERTIFICATES,
    "rotate-certificates",
    Some(&["rotateCertificates"]),
    Some("false"),
    Some("false")
);
setting!(
    TLS_CIPHER_SUITES,
    "tls-cipher-suites",
    Some(&["tlsCipherSuites"]),
    None,
    None
);
setting!(
    POD_PIDS_LIMIT,
    "pod-max-pids",
    Some(&["podPidsLimit"]),
    Some("-1"),
    Some("-1")
);
setting!(
    FEATURE_GATES,
    "feature-gates",
    Some(&["featureGates"]),
    None,
    None
);

/// Where an effective value comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    Flag,
    File,
    Default,
}

/// A setting's effective value, and where a finding about it points.
#[derive(Clone, Debug)]
pub struct Resolved {
    pub value: Option<String>,
    pub origin: Origin,
    pub source: Source,
}

/// One side of a kubelet: its file or its flags, as flat `key -> (value, source)` pairs.
#[derive(Clone, Debug, PartialEq)]
struct Side {
    values: Vec<(String, String, Source)>,
    anchor: Source,
    /// The file a `KubeletFlags` object names with `--config`, or the config file's own path.
    config_file: Option<String>,
    /// The object's name: flag objects of one name are one kubelet's command line, read from
    /// several files (a systemd unit, its drop-ins, environment files), in input order.
    name: String,
}

impl Side {
    fn get(&self, key: &str) -> Option<&(String, String, Source)> {
        self.values.iter().rev().find(|(k, _, _)| k == key)
    }
}

/// A kubelet: flags, file, or both.
#[derive(Clone, Debug)]
pub struct Kubelet {
    flags: Option<Side>,
    file: Option<Side>,
    /// The file's `kind`, else the flags: where findings about the kubelet as a whole point.
    anchor: Source,
}

const SETTINGS: &[&Setting] = &[
    &ANONYMOUS_AUTH,
    &WEBHOOK_AUTHENTICATION,
    &CLIENT_CA_FILE,
    &AUTHORIZATION_MODE,
    &READ_ONLY_PORT,
    &STREAMING_IDLE_TIMEOUT,
    &PROTECT_KERNEL_DEFAULTS,
    &MAKE_IPTABLES_UTIL_CHAINS,
    &HOSTNAME_OVERRIDE,
    &EVENT_QPS,
    &TLS_CERT_FILE,
    &TLS_PRIVATE_KEY_FILE,
    &SERVER_TLS_BOOTSTRAP,
    &ROTATE_CERTIFICATES,
    &TLS_CIPHER_SUITES,
    &POD_PIDS_LIMIT,
    &FEATURE_GATES,
];

fn scalar(node: &Node) -> Option<String> {
    if let Some(b) = node.as_bool() {
        return Some(b.to_string());
    }
    if let Some(i) = node.as_i64() {
        return Some(i.to_string());
    }
    if let Some(s) = node.as_str() {
        return Some(s.to_string());
    }
    if node.is_seq() {
        let items: Vec<String> = node.as_seq().iter().filter_map(scalar).collect();
        return Some(items.join(","));
    }
    if node.is_map() {
        let entries: Vec<String> = node
            .as_map()
            .iter()
            .filter_map(|e| scalar(&e.value).map(|v| format!("{}={v}", e.key)))
            .collect();
        return Some(entries.join(","));
    }
    None
}

impl Kubelet {
    /// The effective value of `setting`.
    pub fn resolve(&self, setting: &Setting) -> Resolved {
        if let Some((_, value, source)) = self.flags.as_ref().and_then(|f| f.get(setting.flag)) {
            return Resolved {
                value: Some(value.clone()),
                origin: Origin::Flag,
                source: source.clone(),
            };
        }
        let field_key = setting.field.map(|f| f.join("."));
        let from_file = self
            .file
            .as_ref()
            .zip(field_key.as_deref())
            .and_then(|(file, key)| file.get(key));
        if let Some((_, value, source)) = from_file {
            return Resolved {
                value: Some(value.clone()),
                origin: Origin::File,
                source: source.clone(),
            };
        }
        let default = if self.file.is_some() {
            setting.file_default
        } else {
            setting.flag_default
        };
        Resolved {
            value: default.map(str::to_string),
            origin: Origin::Default,
            source: self.anchor().clone(),
        }
    }

    /// Whether the kubelet has a config file (so file defaults apply).
    pub fn has_file(&self) -> bool {
        self.file.is_some()
    }

    /// Where findings about the kubelet as a whole point.
    pub fn anchor(&self) -> &Source {
        &self.anchor
    }

    /// A name for messages: the config file or the flags' source file, or the workload a
    /// kubelet runs in.
    pub fn describe(&self) -> String {
        let anchor = &self.anchor().object;
        if anchor.kind != FLAGS_KIND && anchor.kind != "KubeletConfiguration" {
            return format!("kubelet in {}", anchor.display_name());
        }
        let location = self.anchor().location.as_ref().map(|l| l.file.to_string());
        format!(
            "kubelet ({})",
            location.unwrap_or_else(|| "input".to_string())
        )
    }
}

/// Collects kubelet config files and flag objects, and pairs them.
#[derive(Clone, Default, PartialEq)]
pub struct KubeletsBuilder {
    files: Vec<Side>,
    flags: Vec<Side>,
}

impl KubeletsBuilder {
    pub fn add(&mut self, object: &Object) {
        match (object.group(), object.kind()) {
            ("kubelet.config.k8s.io", "KubeletConfiguration") => {
                let mut values = Vec::new();
                for setting in SETTINGS {
                    let Some(field) = setting.field else { continue };
                    let Some(node) = object.root.at(field) else {
                        continue;
                    };
                    if let Some(value) = scalar(node) {
                        let path = FieldPath::root().keys(field);
                        values.push((field.join("."), value, Source::of(object, &path, false)));
                    }
                }
                self.files.push(Side {
                    values,
                    anchor: Source::of(object, &FieldPath::root().key("kind"), false),
                    config_file: object.origin.as_ref().map(|o| o.file.to_string()),
                    name: object.reference.name.clone(),
                });
            }
            (FLAGS_GROUP, FLAGS_KIND) => {
                let flags = object
                    .root
                    .get("flags")
                    .map(Node::as_map)
                    .unwrap_or_default();
                let values = flags
                    .iter()
                    .filter_map(|entry| {
                        let value = scalar(&entry.value)?;
                        let path = FieldPath::root().keys(&["flags", &entry.key]);
                        Some((entry.key.clone(), value, Source::of(object, &path, false)))
                    })
                    .collect::<Vec<_>>();
                let config_file = values
                    .iter()
                    .rev()
                    .find(|(k, _, _)| k == "config")
                    .map(|(_, v, _)| v.clone());
                let name = object.reference.name.clone();
                match self.flags.iter_mut().find(|side| side.name == name) {
                    Some(side) => {
                        side.values.extend(values);
                        side.config_file = config_file.or(side.config_file.take());
                    }
                    None => self.flags.push(Side {
                        values,
                        anchor: Source::of(object, &FieldPath::root().key("flags"), false),
                        config_file,
                        name,
                    }),
                }
            }
            _ => self.add_containerised(object),
        }
    }

    /// A kubelet run in a container, its command line in the pod spec: judged like one run by
    /// systemd on a node.
    fn add_containerised(&mut self, object: &Object) {
        let Some(pod) = palisade_model::PodView::of(object) else {
            return;
        };
        let Some(flags) = component_flags(&pod, Component::Kubelet) else {
            return;
        };
        let values: Vec<(String, String, Source)> = flags
            .iter()
            .map(|flag| {
                (
                    flag.name.clone(),
                    flag.value.clone(),
                    Source::of(object, &flag.path, false),
                )
            })
            .collect();
        self.flags.push(Side {
            config_file: flags.get("config").map(|flag| flag.value.clone()),
            values,
            anchor: Source::of(object, &flags.command_path, false),
            // Its own kubelet: never merged with another object's flags.
            name: object.reference.display_name(),
        });
    }

    pub fn merge(&mut self, other: KubeletsBuilder) {
        self.files.extend(other.files);
        for side in other.flags {
            match self.flags.iter_mut().find(|s| s.name == side.name) {
                Some(existing) => {
                    existing.values.extend(side.values);
                    existing.config_file = side.config_file.or(existing.config_file.take());
                }
                None => self.flags.push(side),
            }
        }
    }

    /// Pairs each flag set with the config file its `--config` names (matched on the path's
    /// end, since a node's files are read below a root), or with the only file when there is
    /// one and the flags name none; one file and one flag set are always a pair.
    pub fn build(self) -> Vec<Kubelet> {
        let KubeletsBuilder { mut files, flags } = self;
        let mut kubelets = Vec::new();
        let single_file = files.len() == 1;
        // One file and one set of flags are one node's kubelet, wherever the file was read.
        let one_node = single_file && flags.len() == 1;
        for flag_side in flags {
            let wanted = flag_side.config_file.clone();
            let index = files
                .iter()
                .position(|file| match (&wanted, &file.config_file) {
                    _ if one_node => true,
                    (Some(wanted), Some(path)) => path.ends_with(wanted.as_str()),
                    (None, _) => single_file,
                    _ => false,
                });
            let file = index.map(|i| files.remove(i));
            let anchor = file.as_ref().unwrap_or(&flag_side).anchor.clone();
            kubelets.push(Kubelet {
                flags: Some(flag_side),
                file,
                anchor,
            });
        }
        kubelets.extend(files.into_iter().map(|file| Kubelet {
            flags: None,
            anchor: file.anchor.clone(),
            file: Some(file),
        }));
        kubelets
    }
}
