use palisade_analysis::pss::Violation;
use palisade_model::PodView;

use crate::meta::rule;
use crate::rules::workload::host_path_volumes;
use crate::{Check, OptionValues};

/// Node directories that hold credentials, the kernel's interfaces, the container runtime or
/// the kubelet's state: sensitive with everything below them.
const SENSITIVE_DIRECTORIES: &[&str] = &[
    "/etc",
    "/proc",
    "/sys",
    "/dev",
    "/boot",
    "/root",
    "/home",
    "/run/containerd",
    "/var/run/containerd",
    "/run/docker",
    "/var/run/docker",
    "/run/crio",
    "/var/run/crio",
    "/var/lib/kubelet",
    "/var/lib/docker",
    "/var/lib/containerd",
    "/var/lib/etcd",
    "/usr",
    "/bin",
    "/sbin",
    "/lib",
];

/// Directories of runtime state that hold every service's sockets: sensitive themselves (and
/// through their parents), while an application's own subdirectory (`/run/calico`) is not.
const SOCKET_PARENTS: &[&str] = &["/run", "/var/run"];

/// Sockets of container runtimes: whoever can talk to one controls every container on the node.
const RUNTIME_SOCKETS: &[&str] = &[
    "docker.sock",
    "containerd.sock",
    "crio.sock",
    "cri-dockerd.sock",
    "podman.sock",
    "dockershim.sock",
];

/// The path as the kernel resolves it lexically: no `//`, `.` or `..`, no trailing `/`.
fn normalize(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    format!("/{}", parts.join("/"))
}

/// Why mounting `path` (normalized) exposes the node, if it does.
fn exposure(path: &str) -> Option<String> {
    if path == "/" {
        return Some("the node's whole file system".to_string());
    }
    let file = path.rsplit('/').next().unwrap_or("");
    // Cloud and cluster credentials, wherever a home directory lives.
    let components: Vec<&str> = path.split('/').collect();
    for (i, component) in components.iter().enumerate() {
        let credentials = match *component {
            ".aws" => Some("AWS credentials"),
            ".azure" => Some("Azure credentials"),
            ".kube" => Some("kubeconfig credentials"),
            ".docker" => Some("registry credentials"),
            ".config" if components.get(i + 1) == Some(&"gcloud") => {
                Some("Google Cloud credentials")
            }
            _ => None,
        };
        if let Some(what) = credentials {
            return Some(format!("{path}, which holds {what}"));
        }
    }
    if RUNTIME_SOCKETS.contains(&file) {
        return Some(format!(
            "the container runtime socket {file}, which controls every container on the node"
        ));
    }
    if SOCKET_PARENTS.contains(&path) {
        return Some(format!(
            "{path}, which holds the container runtime's socket"
        ));
    }
    for directory in SENSITIVE_DIRECTORIES.iter().chain(SOCKET_PARENTS) {
        if SOCKET_PARENTS.contains(directory) {
            let contains = directory
                .strip_prefix(path)
                .is_some_and(|rest| rest.starts_with('/'));
            if contains {
                return Some(format!("a directory that contains {directory}"));
            }
            continue;
        }
        let inside = path == *directory
            || path
                .strip_prefix(directory)
                .is_some_and(|rest| rest.starts_with('/'));
        if inside {
            return Some(format!("sensitive node directory {directory}"));
        }
        let contains = directory
            .strip_prefix(path)
            .is_some_and(|rest| rest.starts_with('/'));
        if contains {
            return Some(format!("a directory that contains {directory}"));
        }
    }
    None
}

rule! {
    /// ## What it does
    /// Flags `hostPath` volumes that expose the node: the root `/`, container runtime sockets
    /// (`docker.sock`, `containerd.sock`, `crio.sock`, `cri-dockerd.sock`, `podman.sock`)
    /// wherever they live, the runtime directories (`/run/containerd`, `/run/docker`,
    /// `/run/crio` and their `/var/run` forms), system directories (`/etc`, `/proc`, `/sys`,
    /// `/dev`, `/boot`, `/root`, `/home`, `/var/lib/kubelet`, `/var/lib/docker`,
    /// `/var/lib/containerd`, `/var/lib/etcd`, `/usr`, `/bin`, `/sbin`, `/lib`) and their
    /// subdirectories, `/run` and `/var/run` themselves (but not an application's own
    /// subdirectory such as `/run/calico`), and the directories that contain any of these
    /// (`/var` holds `/var/run`). Credential directories are sensitive wherever the home
    /// directory they belong to lives: `.aws`, `.azure`, `.config/gcloud`, `.kube`, `.docker`.
    /// Paths are resolved lexically first (`/var/run/../run/`, `//etc`).
    ///
    /// `pss-host-path-volumes` flags every hostPath; this rule marks the ones that hand over
    /// the node, at critical severity.
    ///
    /// ## Why is this bad?
    /// The runtime socket lets the pod start a privileged container on the node; `/etc` and
    /// `/var/lib/kubelet` hold the node's and the kubelet's credentials; `/proc` and `/sys`
    /// expose the kernel and every other process.
    ///
    /// ## Example
    /// ```yaml
    /// volumes:
    /// - name: docker
    ///   hostPath:
    ///     path: /var/run/docker.sock   # fails
    /// ```
    ///
    /// ## Remediation
    /// Use a narrower path, or an API (the Kubernetes API, a CSI driver, a metrics endpoint)
    /// instead of the node's files. Agents that need the node belong in a reviewed,
    /// privileged namespace with the finding suppressed and the reason written down.
    ///
    /// ## References
    /// - CIS Kubernetes Benchmark 5.2.12: minimize the admission of HostPath volumes
    /// - MITRE ATT&CK T1611 Escape to Host
    pub static RULE = {
        code: "PAL-WL-004",
        name: "sensitive-host-path",
        severity: Critical,
        category: "workload",
        controls: ["CIS-5.2.12", "NSA:pod-security", "MITRE:T1611"],
        subsumes: ["PAL-PSS-004", "PAL-PSS-013", "PAL-WL-005"],
        fix: crate::fix::needs_decision,
        check: Check::Pod(check),
    };
}

fn check(pod: &PodView<'_>, _: &OptionValues) -> Vec<Violation> {
    host_path_volumes(pod)
        .filter_map(|(name, host_path, path)| {
            let why = exposure(&normalize(host_path))?;
            Some(Violation {
                severity: None,
                path: path.keys(&["hostPath", "path"]),
                message: format!("hostPath volume `{name}` mounts {host_path}: {why}"),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_judged_after_lexical_resolution() {
        let judged = |p: &str| exposure(&normalize(p)).is_some();
        for sensitive in [
            "/",
            "//",
            "/etc/",
            "/etc/kubernetes/pki",
            "/var",
            "/var/run/../run/docker.sock",
            "/run/containerd/containerd.sock",
            "/var/lib/kubelet/pods",
            "/opt/docker.sock",
            "/var/lib",
            "/run",
            "/var/run/",
            "/run/containerd/io.containerd.runtime.v2.task",
        ] {
            assert!(judged(sensitive), "{sensitive}");
        }
        for harmless in [
            "/var/log",
            "/data/shop",
            "/etcd-backup",
            "/mnt/disks/ssd0",
            "/opt",
        ] {
            assert!(!judged(harmless), "{harmless}");
        }
    }
}
