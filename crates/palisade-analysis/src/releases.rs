//! Kubernetes version currency: which minor releases are past their end of life and which
//! patch releases fix known vulnerabilities of the server components, from a dataset (the
//! bundled `data/kubernetes-releases.json`, or a newer file of that shape), and which versions
//! the input says run: Nodes' `kubeletVersion`, control-plane and kube-proxy images tagged
//! with a version (`registry.k8s.io/kube-apiserver:v1.26.5`), kubeadm's `ClusterConfiguration`
//! and `--kubernetes-version`, and a live API server's `/version`.
//!
//! The dataset's vulnerabilities are OSV records, as the Kubernetes project publishes its
//! official CVE feed in OSV form; ranges are read as OSV's `SEMVER` ranges (events sorted by
//! version; a version is affected when the last event at or below it is `introduced`).

use std::cmp::Ordering;
use std::fmt;
use std::sync::{Arc, OnceLock};

use palisade_model::{Date, FieldPath, Node, Object, PodView};
use serde_json::Value;

use crate::image::ImageRef;
use crate::rbac::Source;

const BUNDLED: &str = include_str!("../data/kubernetes-releases.json");

/// A Kubernetes release: `1.26.5` (pre-release and build suffixes such as `-gke.100` are
/// dropped: they name a vendor's build of that patch release).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KubeVersion {
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
}

impl KubeVersion {
    /// `v1.26.5`, `1.26.5`, `v1.29.4-gke.1043002`, `1.26` (patch 0). `None` for anything
    /// else, including `v0.0.0-master` (a build without version stamps says nothing).
    pub fn parse(text: &str) -> Option<KubeVersion> {
        let text = text.trim();
        let text = text.strip_prefix('v').unwrap_or(text);
        let core = text.split(['-', '+']).next()?;
        let mut parts = core.split('.');
        let number = |part: Option<&str>| -> Option<u32> {
            let part = part?;
            (!part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()))
                .then(|| part.parse().ok())
                .flatten()
        };
        let major = number(parts.next())?;
        let minor = number(parts.next())?;
        let patch = match parts.next() {
            Some(p) => number(Some(p))?,
            None => 0,
        };
        if parts.next().is_some() || major == 0 {
            return None;
        }
        Some(KubeVersion {
            major,
            minor,
            patch,
        })
    }

    fn minor_of(&self) -> (u32, u32) {
        (self.major, self.minor)
    }
}

impl fmt::Display for KubeVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// Which program runs at a version: vulnerabilities are filed against components.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Component {
    ApiServer,
    ControllerManager,
    Scheduler,
    Kubelet,
    KubeProxy,
    /// The control plane as a whole (kubeadm's `kubernetesVersion`).
    ControlPlane,
}

impl Component {
    pub fn name(self) -> &'static str {
        match self {
            Component::ApiServer => "kube-apiserver",
            Component::ControllerManager => "kube-controller-manager",
            Component::Scheduler => "kube-scheduler",
            Component::Kubelet => "kubelet",
            Component::KubeProxy => "kube-proxy",
            Component::ControlPlane => "control plane",
        }
    }

    /// Whether a vulnerability filed against the Go module `package` is in this component.
    fn includes(self, package: &str) -> bool {
        let packages: &[&str] = match self {
            Component::ApiServer => &["k8s.io/apiserver", "k8s.io/kubernetes"],
            Component::ControllerManager => &["k8s.io/controller-manager", "k8s.io/kubernetes"],
            Component::Scheduler => &["k8s.io/kubernetes"],
            Component::Kubelet => &["k8s.io/kubelet", "k8s.io/kubernetes"],
            Component::KubeProxy => &["k8s.io/kube-proxy", "k8s.io/kubernetes"],
            Component::ControlPlane => &[
                "k8s.io/apiserver",
                "k8s.io/controller-manager",
                "k8s.io/kubernetes",
            ],
        };
        packages.contains(&package)
    }

    fn from_image(repository_path: &str) -> Option<Component> {
        let name = repository_path.rsplit('/').next()?;
        // Images built per architecture carry it in the name (`kube-apiserver-amd64`).
        let name = ["-amd64", "-arm64", "-arm", "-ppc64le", "-s390x"]
            .iter()
            .find_map(|suffix| name.strip_suffix(suffix))
            .unwrap_or(name);
        match name {
            "kube-apiserver" => Some(Component::ApiServer),
            "kube-controller-manager" => Some(Component::ControllerManager),
            "kube-scheduler" => Some(Component::Scheduler),
            "kube-proxy" => Some(Component::KubeProxy),
            _ => None,
        }
    }
}

/// A minor release's support window.
#[derive(Clone, Debug)]
pub struct Minor {
    pub major: u32,
    pub minor: u32,
    pub end_of_life: Date,
    /// Its last patch release, once it has one.
    pub final_patch: Option<KubeVersion>,
}

/// One vulnerability of the server components.
#[derive(Clone, Debug)]
pub struct Advisory {
    pub id: String,
    pub summary: String,
    /// `(package, sorted events)`; an event is `(version, introduced?)`.
    affected: Vec<(String, Vec<(KubeVersion, bool)>)>,
}

impl Advisory {
    /// Whether `component` at `version` has this vulnerability; if so, the release that
    /// fixes it on the same line (`None` when no later release fixes it).
    pub fn affects(
        &self,
        component: Component,
        version: KubeVersion,
    ) -> Option<Option<KubeVersion>> {
        for (package, events) in &self.affected {
            if !component.includes(package) {
                continue;
            }
            let at = events.partition_point(|(v, _)| *v <= version);
            let Some(&(_, introduced)) = at.checked_sub(1).and_then(|i| events.get(i)) else {
                continue;
            };
            if introduced {
                let fixed = events[at..].iter().find(|(_, i)| !i).map(|(v, _)| *v);
                return Some(fixed);
            }
        }
        None
    }
}

/// The dataset: minor releases and vulnerabilities, with where they come from.
#[derive(Clone, Debug)]
pub struct ReleaseData {
    /// Where the vulnerabilities come from, and as of when.
    pub vulnerabilities_source: String,
    pub updated: String,
    pub minors: Vec<Minor>,
    pub advisories: Vec<Advisory>,
}

/// A dataset that could not be read.
#[derive(Debug, thiserror::Error)]
#[error("Kubernetes release data: {0}")]
pub struct DataError(String);

impl ReleaseData {
    /// The dataset bundled with this build.
    pub fn bundled() -> Arc<ReleaseData> {
        static DATA: OnceLock<Arc<ReleaseData>> = OnceLock::new();
        DATA.get_or_init(|| {
            // Data of this build, not input: an empty fallback would pass every version
            // silently. `tests/releases.rs` parses it on every test run.
            Arc::new(
                ReleaseData::parse(BUNDLED)
                    .expect("the bundled data/kubernetes-releases.json parses"),
            )
        })
        .clone()
    }

    /// Reads a dataset of the bundled file's shape.
    pub fn parse(text: &str) -> Result<ReleaseData, DataError> {
        let root: Value = serde_json::from_str(text).map_err(|e| DataError(e.to_string()))?;
        let releases = root
            .get("releases")
            .and_then(Value::as_array)
            .ok_or_else(|| DataError("no `releases` list".into()))?;
        let mut minors = Vec::new();
        for (i, release) in releases.iter().enumerate() {
            let field = |name: &str| release.get(name).and_then(Value::as_str);
            let version = field("minor").and_then(KubeVersion::parse).ok_or_else(|| {
                DataError(format!("releases[{i}].minor is not a version such as 1.30"))
            })?;
            let end_of_life = field("endOfLife").and_then(Date::parse).ok_or_else(|| {
                DataError(format!("releases[{i}].endOfLife is not a YYYY-MM-DD date"))
            })?;
            minors.push(Minor {
                major: version.major,
                minor: version.minor,
                end_of_life,
                final_patch: field("finalPatch").and_then(KubeVersion::parse),
            });
        }
        minors.sort_by_key(|m| (m.major, m.minor));
        let mut advisories = Vec::new();
        for (i, record) in root
            .get("vulnerabilities")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .enumerate()
        {
            advisories.push(advisory(record).ok_or_else(|| {
                DataError(format!(
                    "vulnerabilities[{i}] is not an OSV record with an id and SEMVER ranges"
                ))
            })?);
        }
        let text_of = |name: &str| {
            root.get(name)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        Ok(ReleaseData {
            vulnerabilities_source: text_of("vulnerabilitiesSource"),
            updated: text_of("updated"),
            minors,
            advisories,
        })
    }

    /// The support window of `version`'s minor release, if the data knows it.
    pub fn minor(&self, version: KubeVersion) -> Option<&Minor> {
        self.minors
            .iter()
            .find(|m| (m.major, m.minor) == version.minor_of())
    }

    /// Whether `version` is older than every minor release the data knows: past its end of
    /// life before the oldest one's.
    pub fn older_than_known(&self, version: KubeVersion) -> Option<&Minor> {
        self.minors
            .first()
            .filter(|oldest| version.minor_of() < (oldest.major, oldest.minor))
    }

    /// The oldest minor release still supported on `today`.
    pub fn oldest_supported(&self, today: Date) -> Option<&Minor> {
        self.minors.iter().find(|m| m.end_of_life >= today)
    }

    /// The vulnerabilities of `component` at `version`, each with the release that fixes it.
    pub fn missing_fixes(
        &self,
        component: Component,
        version: KubeVersion,
    ) -> Vec<(&Advisory, Option<KubeVersion>)> {
        self.advisories
            .iter()
            .filter_map(|a| a.affects(component, version).map(|fixed| (a, fixed)))
            .collect()
    }
}

fn advisory(record: &Value) -> Option<Advisory> {
    let id = record.get("id")?.as_str()?.to_string();
    let summary = record
        .get("summary")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .trim()
        .to_string();
    let mut affected = Vec::new();
    for entry in record.get("affected")?.as_array()? {
        let package = entry.pointer("/package/name")?.as_str()?.to_string();
        let mut events = Vec::new();
        for range in entry.get("ranges")?.as_array()? {
            if range.get("type").and_then(Value::as_str) != Some("SEMVER") {
                continue;
            }
            for event in range.get("events")?.as_array()? {
                let (introduced, text) = match (event.get("introduced"), event.get("fixed")) {
                    (Some(v), _) => (true, v.as_str()?),
                    (None, Some(v)) => (false, v.as_str()?),
                    // `last_affected` and `limit` are not used by the Kubernetes feed.
                    _ => continue,
                };
                let version = if text == "0" {
                    KubeVersion {
                        major: 0,
                        minor: 0,
                        patch: 0,
                    }
                } else {
                    // Versions of other projects (`2.0.0-alpha.0`) parse too; they simply
                    // never match a Kubernetes component.
                    KubeVersion::parse(text)?
                };
                events.push((version, introduced));
            }
        }
        // At one version a fix sorts after an introduction, as OSV evaluates them.
        events.sort_by(|a, b| a.0.cmp(&b.0).then(fixed_last(a.1, b.1)));
        affected.push((package, events));
    }
    Some(Advisory {
        id,
        summary,
        affected,
    })
}

fn fixed_last(a: bool, b: bool) -> Ordering {
    b.cmp(&a)
}

/// Where the input says a component runs at a version.
#[derive(Clone, Debug, PartialEq)]
pub struct Sighting {
    pub component: Component,
    pub version: KubeVersion,
    /// As written (`v1.26.5-eks-1234`).
    pub text: String,
    /// How the version was learnt (`the image tag`, `status.nodeInfo.kubeletVersion`).
    pub how: &'static str,
    pub at: Source,
}

/// Every version sighting in the input, in input order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Versions {
    pub sightings: Vec<Sighting>,
}

impl Versions {
    pub fn add(&mut self, object: &Object) {
        match (object.group(), object.kind()) {
            ("", "Node") => {
                let path = FieldPath::root().keys(&["status", "nodeInfo", "kubeletVersion"]);
                if let Some(text) = object
                    .root
                    .at(&["status", "nodeInfo", "kubeletVersion"])
                    .and_then(Node::as_str)
                {
                    self.push(
                        object,
                        Component::Kubelet,
                        text,
                        "status.nodeInfo.kubeletVersion",
                        &path,
                    );
                }
            }
            ("kubeadm.k8s.io", "ClusterConfiguration") => {
                if let Some(text) = object.root.str_of("kubernetesVersion") {
                    let path = FieldPath::root().key("kubernetesVersion");
                    self.push(
                        object,
                        Component::ControlPlane,
                        text,
                        "kubeadm's kubernetesVersion",
                        &path,
                    );
                }
            }
            _ => self.add_containers(object),
        }
    }

    fn add_containers(&mut self, object: &Object) {
        let Some(pod) = PodView::of(object) else {
            return;
        };
        for container in pod.containers() {
            if let Some(image) = container.node.str_of("image") {
                let component = ImageRef::parse(image).and_then(|r| {
                    let component = Component::from_image(&r.path)?;
                    Some((component, r.tag?))
                });
                if let Some((component, tag)) = component {
                    let path = container.path.key("image");
                    self.push(object, component, &tag, "the image tag", &path);
                }
            }
            // `kubeadm init --kubernetes-version v1.26.5`, run in a container.
            for list in ["command", "args"] {
                let items = container.node.get(list).map(Node::as_seq);
                let items = items.unwrap_or_default();
                for (i, item) in items.iter().enumerate() {
                    let Some(text) = item.as_str() else { continue };
                    let (value, at) = match text.strip_prefix("--kubernetes-version") {
                        Some(rest) if rest.starts_with('=') => (Some(&rest[1..]), i),
                        Some("") => (items.get(i + 1).and_then(Node::as_str), i + 1),
                        _ => continue,
                    };
                    if let Some(value) = value {
                        let path = container.path.key(list).index(at);
                        self.push(
                            object,
                            Component::ControlPlane,
                            value,
                            "--kubernetes-version",
                            &path,
                        );
                    }
                }
            }
        }
    }

    fn push(
        &mut self,
        object: &Object,
        component: Component,
        text: &str,
        how: &'static str,
        path: &FieldPath,
    ) {
        // `stable-1` and other release channels name no version: nothing to judge.
        if let Some(version) = KubeVersion::parse(text) {
            self.sightings.push(Sighting {
                component,
                version,
                text: text.to_string(),
                how,
                at: Source::of(object, path, false),
            });
        }
    }

    /// A live API server's `/version`, located at `at` (the cluster).
    pub fn add_server(&mut self, git_version: &str, at: Source) {
        if let Some(version) = KubeVersion::parse(git_version) {
            self.sightings.push(Sighting {
                component: Component::ApiServer,
                version,
                text: git_version.to_string(),
                how: "the API server's /version",
                at,
            });
        }
    }

    /// Sightings grouped by component and version (one finding each, however many Nodes run
    /// it), in input order of their first sighting.
    pub fn grouped(&self) -> Vec<Vec<&Sighting>> {
        let mut groups: Vec<Vec<&Sighting>> = Vec::new();
        let mut index: std::collections::HashMap<(Component, KubeVersion), usize> =
            std::collections::HashMap::new();
        for sighting in &self.sightings {
            let key = (sighting.component, sighting.version);
            match index.get(&key) {
                Some(&i) => groups[i].push(sighting),
                None => {
                    index.insert(key, groups.len());
                    groups.push(vec![sighting]);
                }
            }
        }
        groups
    }

    pub fn merge(&mut self, other: Versions) {
        self.sightings.extend(other.sightings);
    }
}
