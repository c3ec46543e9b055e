//! The Pod Security Standards, versioned like upstream pod-security-admission.
//!
//! Each [`Check`] has an id (upstream's), a level, and one implementation per Kubernetes version
//! in which its behaviour changed. Evaluating a pod at (level, version) runs, for every check of
//! that level or below, the newest implementation not newer than the version, minus the
//! baseline checks that a restricted check overrides. A pod is allowed iff no check reports a
//! [`Violation`]. Each violation names the offending field, so reports can point at its line.
//!
//! Field semantics follow the Go API types that upstream evaluates: a field that is `null` is
//! absent; `seccompProfile: {}` is present with an empty (invalid) type.

use std::fmt;
use std::str::FromStr;

use palisade_model::{ContainerView, FieldPath, Node, PodView};

/// A Pod Security Standards level.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    Baseline,
    Restricted,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Baseline => "baseline",
            Level::Restricted => "restricted",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Level {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "baseline" => Ok(Level::Baseline),
            "restricted" => Ok(Level::Restricted),
            "privileged" => {
                Err("level `privileged` has no checks; choose baseline or restricted".into())
            }
            other => Err(format!(
                "unknown level `{other}` (expected baseline or restricted)"
            )),
        }
    }
}

/// A Kubernetes minor version such as `v1.29`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version {
    pub major: u32,
    pub minor: u32,
}

impl Version {
    pub const fn new(major: u32, minor: u32) -> Self {
        Version { major, minor }
    }

    /// The newest version whose policy this engine knows; newer versions evaluate like it,
    /// as upstream does.
    pub const LATEST: Version = Version::new(1, 37);
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "v{}.{}", self.major, self.minor)
    }
}

impl FromStr for Version {
    type Err = String;

    /// Accepts `latest`, `v1.29` and `1.29`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s == "latest" {
            return Ok(Version::LATEST);
        }
        let bad =
            || format!("invalid version `{s}` (expected vMAJOR.MINOR such as v1.29, or latest)");
        let digits = s.strip_prefix('v').unwrap_or(s);
        let (major, minor) = digits.split_once('.').ok_or_else(bad)?;
        let major: u32 = major.parse().map_err(|_| bad())?;
        let minor: u32 = minor.parse().map_err(|_| bad())?;
        if major != 1 {
            return Err(format!(
                "version `{s}`: Pod Security Standards exist for Kubernetes 1.x only"
            ));
        }
        Ok(Version::new(major, minor))
    }
}

/// One offending field of a pod.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    pub path: FieldPath,
    pub message: String,
    /// The finding's severity when it is not the rule's (a problem the input itself
    /// mitigates, said in the message).
    pub severity: Option<palisade_model::Severity>,
}

type CheckFn = fn(&PodView<'_>) -> Vec<Violation>;

/// One implementation of a check, in force from `since` until the next one.
pub struct VersionedCheck {
    pub since: Version,
    pub check: CheckFn,
    /// Baseline checks this restricted check replaces while it is in force.
    pub overrides: &'static [&'static str],
}

/// A Pod Security Standards check, as upstream defines it.
pub struct Check {
    pub id: &'static str,
    pub level: Level,
    pub versions: &'static [VersionedCheck],
}

impl Check {
    /// The implementation in force at `version`, if the check exists then.
    pub fn at(&self, version: Version) -> Option<&VersionedCheck> {
        let version = version.min(Version::LATEST);
        self.versions.iter().rev().find(|v| v.since <= version)
    }

    /// The tag findings of this check carry: `PSS:<level>:<id>`.
    pub fn control(&self) -> String {
        format!("PSS:{}:{}", self.level, self.id)
    }

    pub fn evaluate(&self, pod: &PodView<'_>, version: Version) -> Vec<Violation> {
        self.at(version).map(|v| (v.check)(pod)).unwrap_or_default()
    }
}

const fn since(minor: u32, check: CheckFn) -> VersionedCheck {
    VersionedCheck {
        since: Version::new(1, minor),
        check,
        overrides: &[],
    }
}

const fn overriding(
    minor: u32,
    check: CheckFn,
    overrides: &'static [&'static str],
) -> VersionedCheck {
    VersionedCheck {
        since: Version::new(1, minor),
        check,
        overrides,
    }
}

/// Every check, baseline first, in upstream's order.
pub static CHECKS: &[Check] = &[
    Check {
        id: "hostNamespaces",
        level: Level::Baseline,
        versions: &[since(0, host_namespaces)],
    },
    Check {
        id: "privileged",
        level: Level::Baseline,
        versions: &[since(0, privileged)],
    },
    Check {
        id: "capabilities_baseline",
        level: Level::Baseline,
        versions: &[since(0, capabilities_baseline)],
    },
    Check {
        id: "hostPathVolumes",
        level: Level::Baseline,
        versions: &[since(0, host_path_volumes)],
    },
    Check {
        id: "hostPorts",
        level: Level::Baseline,
        versions: &[since(0, host_ports)],
    },
    Check {
        id: "appArmorProfile",
        level: Level::Baseline,
        versions: &[since(0, app_armor_profile)],
    },
    Check {
        id: "seLinuxOptions",
        level: Level::Baseline,
        versions: &[
            since(0, se_linux_options_1_0),
            since(31, se_linux_options_1_31),
        ],
    },
    Check {
        id: "procMount",
        level: Level::Baseline,
        versions: &[since(0, proc_mount_1_0), since(35, proc_mount_1_35)],
    },
    Check {
        id: "seccompProfile_baseline",
        level: Level::Baseline,
        versions: &[
            since(0, seccomp_baseline_1_0),
            since(19, seccomp_baseline_1_19),
        ],
    },
    Check {
        id: "sysctls",
        level: Level::Baseline,
        versions: &[
            since(0, sysctls_1_0),
            since(27, sysctls_1_27),
            since(29, sysctls_1_29),
            since(32, sysctls_1_32),
            since(37, sysctls_1_37),
        ],
    },
    Check {
        id: "windowsHostProcess",
        level: Level::Baseline,
        versions: &[since(0, windows_host_process)],
    },
    Check {
        id: "hostProbesAndHostLifecycle",
        level: Level::Baseline,
        versions: &[since(34, host_probes_and_lifecycle)],
    },
    Check {
        id: "restrictedVolumes",
        level: Level::Restricted,
        versions: &[overriding(0, restricted_volumes, &["hostPathVolumes"])],
    },
    Check {
        id: "allowPrivilegeEscalation",
        level: Level::Restricted,
        versions: &[
            since(8, allow_privilege_escalation_1_8),
            since(25, allow_privilege_escalation_1_25),
        ],
    },
    Check {
        id: "runAsNonRoot",
        level: Level::Restricted,
        versions: &[since(0, run_as_non_root)],
    },
    Check {
        id: "runAsUser",
        level: Level::Restricted,
        versions: &[since(23, run_as_user)],
    },
    Check {
        id: "seccompProfile_restricted",
        level: Level::Restricted,
        versions: &[
            overriding(19, seccomp_restricted_1_19, &["seccompProfile_baseline"]),
            overriding(25, seccomp_restricted_1_25, &["seccompProfile_baseline"]),
        ],
    },
    Check {
        id: "capabilities_restricted",
        level: Level::Restricted,
        versions: &[
            overriding(22, capabilities_restricted_1_22, &["capabilities_baseline"]),
            overriding(25, capabilities_restricted_1_25, &["capabilities_baseline"]),
        ],
    },
    Check {
        id: "procMount_restricted",
        level: Level::Restricted,
        versions: &[overriding(35, proc_mount_restricted, &["procMount"])],
    },
];

/// Looks a check up by its upstream id.
pub fn check(id: &str) -> Option<&'static Check> {
    CHECKS.iter().find(|c| c.id == id)
}

/// The checks in force at `level` and `version`, each with its implementation then.
pub fn checks_for(
    level: Level,
    version: Version,
) -> Vec<(&'static Check, &'static VersionedCheck)> {
    let active: Vec<(&'static Check, &'static VersionedCheck)> = CHECKS
        .iter()
        .filter(|c| c.level <= level)
        .filter_map(|c| c.at(version).map(|v| (c, v)))
        .collect();
    let overridden: Vec<&str> = active
        .iter()
        .flat_map(|(_, v)| v.overrides.iter().copied())
        .collect();
    active
        .into_iter()
        .filter(|(c, _)| !overridden.contains(&c.id))
        .collect()
}

/// The checks a scan reports at `level` and `version`: those of [`checks_for`] and the
/// baseline checks that restricted ones override. A baseline problem keeps its own check (and
/// rule, and severity) at every level; the overriding check leaves out what the baseline
/// check reports at the same field (see [`VersionedCheck::overrides`]), so an object still
/// passes exactly when [`checks_for`]'s checks find nothing.
pub fn checks_reported(
    level: Level,
    version: Version,
) -> Vec<(&'static Check, &'static VersionedCheck)> {
    CHECKS
        .iter()
        .filter(|c| c.level <= level)
        .filter_map(|c| c.at(version).map(|v| (c, v)))
        .collect()
}

/// Evaluates `pod` at `level` and `version`: every violation, with the check that found it.
pub fn evaluate(
    pod: &PodView<'_>,
    level: Level,
    version: Version,
) -> Vec<(&'static Check, Violation)> {
    checks_for(level, version)
        .into_iter()
        .flat_map(|(c, v)| {
            (v.check)(pod)
                .into_iter()
                .map(move |violation| (c, violation))
        })
        .collect()
}

// ---- helpers ---------------------------------------------------------------------------------

/// A field that is present and not `null`, as a Go pointer would be non-nil.
fn present<'a>(node: Option<&'a Node>, key: &str) -> Option<&'a Node> {
    node.and_then(|n| n.get(key)).filter(|v| !v.is_null())
}

fn violation(path: FieldPath, message: String) -> Violation {
    Violation {
        path,
        message,
        severity: None,
    }
}

fn strings(node: Option<&Node>) -> impl Iterator<Item = (usize, &str)> {
    node.map(Node::as_seq)
        .unwrap_or_default()
        .iter()
        .enumerate()
        .filter_map(|(i, n)| n.as_str().map(|s| (i, s)))
}

/// Every container with its `securityContext`, if present.
fn with_security_context<'p, 'a>(
    pod: &'p PodView<'a>,
) -> impl Iterator<Item = (&'p ContainerView<'a>, Option<&'a Node>)> + 'p {
    pod.containers().map(|c| {
        let sc = present(Some(c.node), "securityContext");
        (c, sc)
    })
}

fn pod_security_context<'a>(pod: &PodView<'a>) -> Option<&'a Node> {
    present(Some(pod.spec), "securityContext")
}

// ---- baseline --------------------------------------------------------------------------------

fn host_namespaces(pod: &PodView<'_>) -> Vec<Violation> {
    ["hostNetwork", "hostPID", "hostIPC"]
        .into_iter()
        .filter(|key| pod.spec.flag(key))
        .map(|key| violation(pod.spec_path.key(key), format!("pod sets {key}: true")))
        .collect()
}

fn privileged(pod: &PodView<'_>) -> Vec<Violation> {
    with_security_context(pod)
        .filter(|(_, sc)| sc.is_some_and(|sc| sc.flag("privileged")))
        .map(|(c, _)| {
            violation(
                c.security_context_path().key("privileged"),
                format!("{} runs privileged", c.describe()),
            )
        })
        .collect()
}

const BASELINE_CAPABILITIES: &[&str] = &[
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
];

fn added_capabilities<'a>(
    c: &ContainerView<'a>,
    sc: Option<&'a Node>,
) -> impl Iterator<Item = (FieldPath, &'a str)> {
    let add_path = c.security_context_path().keys(&["capabilities", "add"]);
    strings(present(present(sc, "capabilities"), "add"))
        .map(move |(i, cap)| (add_path.index(i), cap))
}

fn capabilities_baseline(pod: &PodView<'_>) -> Vec<Violation> {
    with_security_context(pod)
        .flat_map(|(c, sc)| {
            added_capabilities(c, sc)
                .filter(|(_, cap)| !BASELINE_CAPABILITIES.contains(cap))
                .map(|(path, cap)| {
                    violation(path, format!("{} adds capability {cap}", c.describe()))
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

fn volume_name(volume: &Node) -> &str {
    volume.str_of("name").unwrap_or("")
}

fn host_path_volumes(pod: &PodView<'_>) -> Vec<Violation> {
    pod.volumes()
        .filter(|(_, v)| present(Some(v), "hostPath").is_some())
        .map(|(path, v)| {
            violation(
                path.key("hostPath"),
                format!("volume `{}` mounts a hostPath", volume_name(v)),
            )
        })
        .collect()
}

fn host_ports(pod: &PodView<'_>) -> Vec<Violation> {
    pod.containers()
        .flat_map(|c| {
            let ports_path = c.path.key("ports");
            c.node
                .get("ports")
                .map(Node::as_seq)
                .unwrap_or_default()
                .iter()
                .enumerate()
                .filter_map(|(i, port)| {
                    let host_port = port.get("hostPort").and_then(Node::as_i64).unwrap_or(0);
                    (host_port != 0).then(|| {
                        violation(
                            ports_path.index(i).key("hostPort"),
                            format!("{} uses hostPort {host_port}", c.describe()),
                        )
                    })
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

const APPARMOR_ANNOTATION_PREFIX: &str = "container.apparmor.security.beta.kubernetes.io/";

fn app_armor_profile(pod: &PodView<'_>) -> Vec<Violation> {
    let allowed_type =
        |profile: &Node| matches!(profile.str_of("type"), Some("RuntimeDefault" | "Localhost"));
    let mut out = Vec::new();
    if let Some(profile) = present(pod_security_context(pod), "appArmorProfile") {
        if !allowed_type(profile) {
            out.push(violation(
                pod.security_context_path()
                    .keys(&["appArmorProfile", "type"]),
                "pod sets an AppArmor profile other than RuntimeDefault or Localhost".into(),
            ));
        }
    }
    for (c, sc) in with_security_context(pod) {
        if let Some(profile) = present(sc, "appArmorProfile") {
            if !allowed_type(profile) {
                out.push(violation(
                    c.security_context_path().keys(&["appArmorProfile", "type"]),
                    format!(
                        "{} sets an AppArmor profile other than RuntimeDefault or Localhost",
                        c.describe()
                    ),
                ));
            }
        }
    }
    for (key, value, path) in pod.annotations() {
        if key.starts_with(APPARMOR_ANNOTATION_PREFIX) {
            let value = value.as_str().unwrap_or("");
            let allowed =
                value.is_empty() || value == "runtime/default" || value.starts_with("localhost/");
            if !allowed {
                out.push(violation(
                    path,
                    format!("annotation {key} sets AppArmor profile `{value}`"),
                ));
            }
        }
    }
    out
}

const SELINUX_TYPES_1_0: &[&str] = &["", "container_t", "container_init_t", "container_kvm_t"];
const SELINUX_TYPES_1_31: &[&str] = &[
    "",
    "container_t",
    "container_init_t",
    "container_kvm_t",
    "container_engine_t",
];

fn se_linux_violations(pod: &PodView<'_>, allowed_types: &[&str]) -> Vec<Violation> {
    let mut out = Vec::new();
    let mut check = |options: &Node, path: FieldPath, who: String| {
        let kind = options.str_of("type").unwrap_or("");
        if !allowed_types.contains(&kind) {
            out.push(violation(
                path.key("type"),
                format!("{who} sets SELinux type `{kind}`"),
            ));
        }
        for key in ["user", "role"] {
            if options.str_of(key).is_some_and(|v| !v.is_empty()) {
                out.push(violation(
                    path.key(key),
                    format!("{who} sets SELinux {key}"),
                ));
            }
        }
    };
    if let Some(options) = present(pod_security_context(pod), "seLinuxOptions") {
        check(
            options,
            pod.security_context_path().key("seLinuxOptions"),
            "pod".into(),
        );
    }
    for (c, sc) in with_security_context(pod) {
        if let Some(options) = present(sc, "seLinuxOptions") {
            check(
                options,
                c.security_context_path().key("seLinuxOptions"),
                c.describe(),
            );
        }
    }
    out
}

fn se_linux_options_1_0(pod: &PodView<'_>) -> Vec<Violation> {
    se_linux_violations(pod, SELINUX_TYPES_1_0)
}

fn se_linux_options_1_31(pod: &PodView<'_>) -> Vec<Violation> {
    se_linux_violations(pod, SELINUX_TYPES_1_31)
}

fn non_default_proc_mounts(pod: &PodView<'_>) -> Vec<Violation> {
    with_security_context(pod)
        .filter_map(|(c, sc)| {
            let proc_mount = present(sc, "procMount")?;
            let value = proc_mount.as_str().unwrap_or("");
            (value != "Default").then(|| {
                violation(
                    c.security_context_path().key("procMount"),
                    format!("{} sets procMount `{value}`", c.describe()),
                )
            })
        })
        .collect()
}

fn proc_mount_1_0(pod: &PodView<'_>) -> Vec<Violation> {
    non_default_proc_mounts(pod)
}

/// From 1.35, a pod in its own user namespace (`hostUsers: false`) may unmask /proc.
fn proc_mount_1_35(pod: &PodView<'_>) -> Vec<Violation> {
    let host_users = pod.spec.get("hostUsers").and_then(Node::as_bool);
    if host_users == Some(false) {
        return Vec::new();
    }
    non_default_proc_mounts(pod)
}

fn proc_mount_restricted(pod: &PodView<'_>) -> Vec<Violation> {
    non_default_proc_mounts(pod)
}

const SECCOMP_POD_ANNOTATION: &str = "seccomp.security.alpha.kubernetes.io/pod";
const SECCOMP_CONTAINER_ANNOTATION_PREFIX: &str = "container.seccomp.security.alpha.kubernetes.io/";

fn seccomp_baseline_1_0(pod: &PodView<'_>) -> Vec<Violation> {
    let mut out = Vec::new();
    let unconfined = |key: &str| {
        pod.annotations()
            .find(|(k, _, _)| *k == key)
            .filter(|(_, v, _)| v.as_str() == Some("unconfined"))
            .map(|(_, _, path)| path)
    };
    if let Some(path) = unconfined(SECCOMP_POD_ANNOTATION) {
        out.push(violation(
            path,
            "pod annotation sets seccomp profile `unconfined`".into(),
        ));
    }
    for c in pod.containers() {
        if let Some(path) = unconfined(&format!(
            "{SECCOMP_CONTAINER_ANNOTATION_PREFIX}{}",
            c.name()
        )) {
            out.push(violation(
                path,
                format!(
                    "annotation sets seccomp profile `unconfined` for {}",
                    c.describe()
                ),
            ));
        }
    }
    out
}

fn seccomp_baseline_1_19(pod: &PodView<'_>) -> Vec<Violation> {
    let unconfined = |sc: Option<&Node>| {
        present(present(sc, "seccompProfile"), "type").and_then(Node::as_str) == Some("Unconfined")
    };
    let mut out = Vec::new();
    if unconfined(pod_security_context(pod)) {
        out.push(violation(
            pod.security_context_path()
                .keys(&["seccompProfile", "type"]),
            "pod sets seccomp profile Unconfined".into(),
        ));
    }
    for (c, sc) in with_security_context(pod) {
        if unconfined(sc) {
            out.push(violation(
                c.security_context_path().keys(&["seccompProfile", "type"]),
                format!("{} sets seccomp profile Unconfined", c.describe()),
            ));
        }
    }
    out
}

const SYSCTLS_1_0: &[&str] = &[
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
    "net.ipv4.ip_unprivileged_port_start",
];
const SYSCTLS_1_27: &[&str] = &["net.ipv4.ip_local_reserved_ports"];
const SYSCTLS_1_29: &[&str] = &[
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
];
const SYSCTLS_1_32: &[&str] = &["net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem"];
const SYSCTLS_1_37: &[&str] = &[
    "net.ipv4.tcp_slow_start_after_idle",
    "net.ipv4.tcp_notsent_lowat",
];

fn sysctl_violations(pod: &PodView<'_>, allowed: &[&[&str]]) -> Vec<Violation> {
    let base = pod.security_context_path().key("sysctls");
    present(pod_security_context(pod), "sysctls")
        .map(Node::as_seq)
        .unwrap_or_default()
        .iter()
        .enumerate()
        .filter_map(|(i, sysctl)| {
            let name = sysctl.str_of("name").unwrap_or("");
            (!allowed.iter().any(|set| set.contains(&name))).then(|| {
                violation(
                    base.index(i).key("name"),
                    format!("pod sets unsafe sysctl `{name}`"),
                )
            })
        })
        .collect()
}

fn sysctls_1_0(pod: &PodView<'_>) -> Vec<Violation> {
    sysctl_violations(pod, &[SYSCTLS_1_0])
}

fn sysctls_1_27(pod: &PodView<'_>) -> Vec<Violation> {
    sysctl_violations(pod, &[SYSCTLS_1_0, SYSCTLS_1_27])
}

fn sysctls_1_29(pod: &PodView<'_>) -> Vec<Violation> {
    sysctl_violations(pod, &[SYSCTLS_1_0, SYSCTLS_1_27, SYSCTLS_1_29])
}

fn sysctls_1_32(pod: &PodView<'_>) -> Vec<Violation> {
    sysctl_violations(
        pod,
        &[SYSCTLS_1_0, SYSCTLS_1_27, SYSCTLS_1_29, SYSCTLS_1_32],
    )
}

fn sysctls_1_37(pod: &PodView<'_>) -> Vec<Violation> {
    sysctl_violations(
        pod,
        &[
            SYSCTLS_1_0,
            SYSCTLS_1_27,
            SYSCTLS_1_29,
            SYSCTLS_1_32,
            SYSCTLS_1_37,
        ],
    )
}

fn windows_host_process(pod: &PodView<'_>) -> Vec<Violation> {
    let host_process = |sc: Option<&Node>| {
        present(present(sc, "windowsOptions"), "hostProcess").and_then(Node::as_bool) == Some(true)
    };
    let mut out = Vec::new();
    if host_process(pod_security_context(pod)) {
        out.push(violation(
            pod.security_context_path()
                .keys(&["windowsOptions", "hostProcess"]),
            "pod runs as a Windows HostProcess".into(),
        ));
    }
    for (c, sc) in with_security_context(pod) {
        if host_process(sc) {
            out.push(violation(
                c.security_context_path()
                    .keys(&["windowsOptions", "hostProcess"]),
                format!("{} runs as a Windows HostProcess", c.describe()),
            ));
        }
    }
    out
}

fn host_probes_and_lifecycle(pod: &PodView<'_>) -> Vec<Violation> {
    let mut out = Vec::new();
    for c in pod.containers() {
        let handlers = [
            (&["livenessProbe"][..], true),
            (&["readinessProbe"][..], true),
            (&["startupProbe"][..], true),
            (&["lifecycle", "postStart"][..], false),
            (&["lifecycle", "preStop"][..], false),
        ];
        for (keys, _) in handlers {
            let Some(handler) = c.node.at(keys) else {
                continue;
            };
            for action in ["httpGet", "tcpSocket"] {
                let host = present(Some(handler), action).and_then(|a| a.str_of("host"));
                if host.is_some_and(|h| !h.is_empty()) {
                    out.push(violation(
                        c.path.keys(keys).keys(&[action, "host"]),
                        format!("{} sets {}.{action}.host", c.describe(), keys.join(".")),
                    ));
                }
            }
        }
    }
    out
}

// ---- restricted ------------------------------------------------------------------------------

const RESTRICTED_VOLUME_SOURCES: &[&str] = &[
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
];

/// A volume with no source at all is defaulted to `emptyDir` by the API server.
fn restricted_volumes(pod: &PodView<'_>) -> Vec<Violation> {
    pod.volumes()
        .filter_map(|(path, volume)| {
            let sources: Vec<&str> = volume
                .as_map()
                .iter()
                .filter(|e| e.key != "name" && !e.value.is_null())
                .map(|e| e.key.as_str())
                .collect();
            if sources.is_empty()
                || sources
                    .iter()
                    .any(|s| RESTRICTED_VOLUME_SOURCES.contains(s))
            {
                return None;
            }
            let source = sources[0];
            Some(violation(
                path.key(source),
                format!(
                    "volume `{}` uses the {source} volume type",
                    volume_name(volume)
                ),
            ))
        })
        .collect()
}

fn allow_privilege_escalation_1_8(pod: &PodView<'_>) -> Vec<Violation> {
    with_security_context(pod)
        .filter_map(|(c, sc)| {
            let value = present(sc, "allowPrivilegeEscalation").and_then(Node::as_bool);
            (value != Some(false)).then(|| {
                // The API server rejects allowPrivilegeEscalation: false beside privileged: true.
                let privileged = present(sc, "privileged").and_then(Node::as_bool) == Some(true);
                let message = match value {
                    _ if privileged => format!(
                        "{} runs privileged, which always allows privilege escalation: drop privileged first, then set allowPrivilegeEscalation: false",
                        c.describe()
                    ),
                    Some(true) => format!("{} sets allowPrivilegeEscalation: true", c.describe()),
                    _ => format!(
                        "{} must set securityContext.allowPrivilegeEscalation: false",
                        c.describe()
                    ),
                };
                violation(
                    c.security_context_path().key("allowPrivilegeEscalation"),
                    message,
                )
            })
        })
        .collect()
}

/// From 1.25, restricted relaxes Linux-only controls for pods that declare `os.name: windows`.
fn allow_privilege_escalation_1_25(pod: &PodView<'_>) -> Vec<Violation> {
    if pod.is_windows() {
        return Vec::new();
    }
    allow_privilege_escalation_1_8(pod)
}

fn run_as_non_root(pod: &PodView<'_>) -> Vec<Violation> {
    let mut out = Vec::new();
    let pod_value = present(pod_security_context(pod), "runAsNonRoot").and_then(Node::as_bool);
    if pod_value == Some(false) {
        out.push(violation(
            pod.security_context_path().key("runAsNonRoot"),
            "pod sets runAsNonRoot: false".into(),
        ));
    }
    for (c, sc) in with_security_context(pod) {
        let path = c.security_context_path().key("runAsNonRoot");
        match present(sc, "runAsNonRoot").map(|v| v.as_bool()) {
            Some(Some(true)) => {}
            Some(_) => out.push(violation(
                path,
                format!("{} sets runAsNonRoot: false", c.describe()),
            )),
            None if pod_value == Some(true) => {}
            None => out.push(violation(
                path,
                format!(
                    "{} must set runAsNonRoot: true (on itself or on the pod)",
                    c.describe()
                ),
            )),
        }
    }
    out
}

fn run_as_user(pod: &PodView<'_>) -> Vec<Violation> {
    let root = |sc: Option<&Node>| present(sc, "runAsUser").and_then(Node::as_i64) == Some(0);
    let mut out = Vec::new();
    if root(pod_security_context(pod)) {
        out.push(violation(
            pod.security_context_path().key("runAsUser"),
            "pod sets runAsUser: 0".into(),
        ));
    }
    for (c, sc) in with_security_context(pod) {
        if root(sc) {
            out.push(violation(
                c.security_context_path().key("runAsUser"),
                format!("{} sets runAsUser: 0", c.describe()),
            ));
        }
    }
    out
}

fn seccomp_restricted_1_19(pod: &PodView<'_>) -> Vec<Violation> {
    let valid =
        |profile: &Node| matches!(profile.str_of("type"), Some("RuntimeDefault" | "Localhost"));
    let mut out = Vec::new();
    let mut pod_set = false;
    if let Some(profile) = present(pod_security_context(pod), "seccompProfile") {
        if valid(profile) {
            pod_set = true;
        } else {
            out.push(violation(
                pod.security_context_path()
                    .keys(&["seccompProfile", "type"]),
                "pod sets a seccomp profile other than RuntimeDefault or Localhost".into(),
            ));
        }
    }
    for (c, sc) in with_security_context(pod) {
        let path = c.security_context_path().keys(&["seccompProfile", "type"]);
        match present(sc, "seccompProfile") {
            Some(profile) if !valid(profile) => out.push(violation(
                path,
                format!("{} sets a seccomp profile other than RuntimeDefault or Localhost", c.describe()),
            )),
            Some(_) => {}
            None if pod_set => {}
            None => out.push(violation(
                path,
                format!("{} must set seccompProfile.type to RuntimeDefault or Localhost (on itself or on the pod)", c.describe()),
            )),
        }
    }
    out
}

fn seccomp_restricted_1_25(pod: &PodView<'_>) -> Vec<Violation> {
    if pod.is_windows() {
        return Vec::new();
    }
    seccomp_restricted_1_19(pod)
}

fn capabilities_restricted_1_22(pod: &PodView<'_>) -> Vec<Violation> {
    let mut out = Vec::new();
    for (c, sc) in with_security_context(pod) {
        let capabilities = present(sc, "capabilities");
        let drop_path = c.security_context_path().keys(&["capabilities", "drop"]);
        let drops_all = strings(present(capabilities, "drop")).any(|(_, cap)| cap == "ALL");
        // Capability names are case-sensitive: `all` drops nothing.
        let miscased = strings(present(capabilities, "drop"))
            .find(|(_, cap)| cap.eq_ignore_ascii_case("ALL") && *cap != "ALL");
        if !drops_all {
            out.push(match miscased {
                Some((i, cap)) => violation(
                    drop_path.index(i),
                    format!(
                        "{} drops `{cap}`, which Pod Security does not read as ALL (it compares the name exactly, so restricted refuses the pod, though the container runtime would drop every capability); write ALL",
                        c.describe()
                    ),
                ),
                None => violation(
                    drop_path,
                    format!("{} must drop ALL capabilities", c.describe()),
                ),
            });
        }
        for (path, cap) in added_capabilities(c, sc) {
            if cap != "NET_BIND_SERVICE" {
                out.push(violation(
                    path,
                    format!("{} adds capability {cap}", c.describe()),
                ));
            }
        }
    }
    out
}

fn capabilities_restricted_1_25(pod: &PodView<'_>) -> Vec<Violation> {
    if pod.is_windows() {
        return Vec::new();
    }
    capabilities_restricted_1_22(pod)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod_object(text: &str) -> palisade_model::Object {
        let mut objects = Vec::new();
        palisade_load::load_text(&std::sync::Arc::from("pod.yaml"), text, &mut |loaded| {
            if let palisade_load::Loaded::Object(object) = loaded {
                objects.push(*object);
            }
        });
        objects.remove(0)
    }

    #[test]
    fn a_privileged_container_is_told_to_drop_privileged_first() {
        let object = pod_object(
            "apiVersion: v1\nkind: Pod\nmetadata: {name: agent}\nspec:\n  containers:\n  - name: agent\n    image: agent:1\n    securityContext: {privileged: true}\n",
        );
        let pod = PodView::of(&object).expect("pod");
        let found = allow_privilege_escalation_1_8(&pod);
        assert_eq!(found.len(), 1);
        assert!(
            found[0].message.contains("drop privileged first"),
            "{}",
            found[0].message
        );
    }

    #[test]
    fn a_lowercase_all_is_named_as_a_case_problem() {
        let object = pod_object(
            "apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n  containers:\n  - name: web\n    image: web:1\n    securityContext:\n      capabilities: {drop: [NET_RAW, all]}\n",
        );
        let pod = PodView::of(&object).expect("pod");
        let found = capabilities_restricted_1_22(&pod);
        assert_eq!(found.len(), 1);
        assert_eq!(
            found[0].path.as_str(),
            "/spec/containers/0/securityContext/capabilities/drop/1"
        );
        // True to both readers: Pod Security compares `ALL` exactly, the runtime does not.
        let message = &found[0].message;
        assert!(
            message.contains("Pod Security does not read as ALL")
                && message.contains("the container runtime would drop every capability")
                && !message.contains("drops nothing"),
            "{message}"
        );
    }

    #[test]
    fn versions_parse_and_clamp_to_latest() {
        assert_eq!("v1.29".parse::<Version>(), Ok(Version::new(1, 29)));
        assert_eq!("1.0".parse::<Version>(), Ok(Version::new(1, 0)));
        assert_eq!("latest".parse::<Version>(), Ok(Version::LATEST));
        assert!("v2.1".parse::<Version>().is_err());
        assert!("1".parse::<Version>().is_err());
        let run_as_user = check("runAsUser").expect("exists");
        assert!(run_as_user.at(Version::new(1, 22)).is_none());
        assert!(run_as_user.at(Version::new(1, 99)).is_some());
    }

    #[test]
    fn restricted_checks_replace_the_baseline_checks_they_override() {
        let ids = |level, minor| -> Vec<&str> {
            checks_for(level, Version::new(1, minor))
                .iter()
                .map(|(c, _)| c.id)
                .collect()
        };
        let restricted_18 = ids(Level::Restricted, 18);
        assert!(restricted_18.contains(&"seccompProfile_baseline"));
        assert!(!restricted_18.contains(&"hostPathVolumes"));
        let restricted_35 = ids(Level::Restricted, 35);
        assert!(!restricted_35.contains(&"seccompProfile_baseline"));
        assert!(!restricted_35.contains(&"capabilities_baseline"));
        assert!(!restricted_35.contains(&"procMount"));
        assert!(restricted_35.contains(&"procMount_restricted"));
        assert!(!ids(Level::Baseline, 37).contains(&"runAsNonRoot"));
        assert!(!ids(Level::Baseline, 33).contains(&"hostProbesAndHostLifecycle"));
    }
}
