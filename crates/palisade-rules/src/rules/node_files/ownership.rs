use palisade_model::{FileRole, NodeFile};

use crate::meta::rule;
use crate::Check;

/// The CIS check for each kind of file's owner.
const CHECKS: &[(FileRole, &str)] = &[
    (FileRole::ApiServerManifest, "1.1.2"),
    (FileRole::ControllerManagerManifest, "1.1.4"),
    (FileRole::SchedulerManifest, "1.1.6"),
    (FileRole::EtcdManifest, "1.1.8"),
    (FileRole::EtcdDataDir, "1.1.12"),
    (FileRole::AdminKubeconfig, "1.1.14"),
    (FileRole::SchedulerKubeconfig, "1.1.16"),
    (FileRole::ControllerManagerKubeconfig, "1.1.18"),
    (FileRole::PkiDirectory, "1.1.19"),
    (FileRole::PkiCertificate, "1.1.19"),
    (FileRole::PkiKey, "1.1.19"),
    (FileRole::KubeletServiceFile, "4.1.2"),
    (FileRole::KubeletKubeconfig, "4.1.6"),
    (FileRole::ClientCaFile, "4.1.8"),
    (FileRole::KubeletConfig, "4.1.10"),
];

rule! {
    /// ## What it does
    /// Flags node files not owned by `root:root` (the etcd data directory: by the `etcd`
    /// user and group, looked up in the node's own `/etc/passwd` and `/etc/group`; skipped
    /// when the node has no such user, as when etcd runs as root). Runs under
    /// `palisade node`.
    ///
    /// ## Why is this bad?
    /// Whoever owns a file can change its permissions and contents: a manifest owned by an
    /// unprivileged user lets that user rewrite the API server's flags.
    ///
    /// ## Example
    /// ```text
    /// -rw------- ubuntu ubuntu /etc/kubernetes/manifests/kube-apiserver.yaml   # fails
    /// ```
    ///
    /// ## Remediation
    /// `chown root:root` the file (`chown -R etcd:etcd` the etcd data directory).
    ///
    /// ## References
    /// - CIS Kubernetes Benchmark v1.9, sections 1.1 and 4.1
    pub static RULE = {
        code: "PAL-NODE-002",
        name: "node-file-ownership",
        severity: High,
        category: "node",
        controls: ["CIS-1.1.2", "CIS-1.1.4", "CIS-1.1.6", "CIS-1.1.8", "CIS-1.1.12", "CIS-1.1.14", "CIS-1.1.16", "CIS-1.1.18", "CIS-1.1.19", "CIS-4.1.2", "CIS-4.1.6", "CIS-4.1.8", "CIS-4.1.10", "NSA:authentication"],
        check: Check::File(check),
    };
}

fn check(file: &NodeFile) -> Option<String> {
    let (_, cis) = CHECKS.iter().find(|(role, _)| *role == file.role)?;
    let (owner, wanted) = if file.role == FileRole::EtcdDataDir {
        (file.expected_owner?, "etcd:etcd")
    } else {
        ((0, 0), "root:root")
    };
    ((file.uid, file.gid) != owner).then(|| {
        format!(
            "CIS {cis}: {} {} is owned by {}:{}; it should be {wanted}",
            file.role.describe(),
            file.path,
            file.uid,
            file.gid
        )
    })
}
