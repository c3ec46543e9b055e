use palisade_analysis::pss::Violation;
use palisade_model::{FieldPath, Object, PodView};

use crate::meta::rule;
use crate::rules::workload::host_path_volumes;
use crate::{Check, OptionValues};

rule! {
    /// ## What it does
    /// Flags each mount of a `hostPath` volume, in any container (init and ephemeral ones
    /// included), that is not `readOnly: true`. A hostPath volume that every container mounts
    /// read-only, or that no container mounts, passes.
    ///
    /// ## Why is this bad?
    /// A writable host directory lets the pod change the node: plant binaries or cron jobs,
    /// rewrite kubelet or runtime configuration, or (with `/var/log`) trick the kubelet into
    /// reading arbitrary node files through a symlink.
    ///
    /// ## Example
    /// ```yaml
    /// containers:
    /// - name: agent
    ///   volumeMounts:
    ///   - name: logs
    ///     mountPath: /var/log   # fails: readOnly is not true
    /// volumes:
    /// - name: logs
    ///   hostPath: {path: /var/log}
    /// ```
    ///
    /// ## Remediation
    /// Add `readOnly: true` to the mount. If the workload must write to the node, give it a
    /// dedicated directory and keep it in a privileged, reviewed namespace.
    ///
    /// ## References
    /// - CIS Kubernetes Benchmark 5.2.12: minimize the admission of HostPath volumes
    /// - Kubernetes docs, hostPath: <https://kubernetes.io/docs/concepts/storage/volumes/#hostpath>
    pub static RULE = {
        code: "PAL-WL-005",
        name: "writable-host-path",
        severity: High,
        category: "workload",
        controls: ["CIS-5.2.12", "NSA:pod-security", "MITRE:T1611"],
        subsumes: ["PAL-PSS-004", "PAL-PSS-013"],
        about: mounted_volume,
        fix: crate::fix::needs_decision,
        check: Check::Pod(check),
    };
}

fn check(pod: &PodView<'_>, _: &OptionValues) -> Vec<Violation> {
    let volumes: Vec<(&str, &str)> = host_path_volumes(pod)
        .map(|(name, host_path, _)| (name, host_path))
        .collect();
    if volumes.is_empty() {
        return Vec::new();
    }
    let mut violations = Vec::new();
    for container in pod.containers() {
        for (i, mount) in container.items("volumeMounts") {
            let Some(&(name, host_path)) = volumes
                .iter()
                .find(|(name, _)| mount.str_of("name") == Some(name))
            else {
                continue;
            };
            if mount.flag("readOnly") {
                continue;
            }
            violations.push(Violation {
                severity: None,
                path: container.item_path("volumeMounts", i),
                message: format!(
                    "{} mounts hostPath volume `{name}` ({host_path}) writable",
                    container.describe()
                ),
            });
        }
    }
    violations
}

/// A mount is about the hostPath of the volume it mounts: the Pod Security hostPath rule and
/// `sensitive-host-path` report that volume.
fn mounted_volume(object: &Object, mount_path: &FieldPath) -> Option<FieldPath> {
    let pod = PodView::of(object)?;
    let name = pod.containers().find_map(|container| {
        container
            .items("volumeMounts")
            .find(|(i, _)| container.item_path("volumeMounts", *i) == *mount_path)
            .and_then(|(_, mount)| mount.str_of("name"))
    })?;
    let volume = pod
        .volumes()
        .find(|(_, volume)| volume.str_of("name") == Some(name))
        .map(|(path, _)| path.key("hostPath"));
    volume
}
