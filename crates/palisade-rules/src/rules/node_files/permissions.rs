use palisade_model::{FileRole, NodeFile};

use crate::meta::rule;
use crate::Check;

/// The loosest mode each kind of file may have, and its CIS check.
const LIMITS: &[(FileRole, u32, &str)] = &[
    (FileRole::ApiServerManifest, 0o600, "1.1.1"),
    (FileRole::ControllerManagerManifest, 0o600, "1.1.3"),
    (FileRole::SchedulerManifest, 0o600, "1.1.5"),
    (FileRole::EtcdManifest, 0o600, "1.1.7"),
    (FileRole::EtcdDataDir, 0o700, "1.1.11"),
    (FileRole::AdminKubeconfig, 0o600, "1.1.13"),
    (FileRole::SchedulerKubeconfig, 0o600, "1.1.15"),
    (FileRole::ControllerManagerKubeconfig, 0o600, "1.1.17"),
    (FileRole::PkiCertificate, 0o600, "1.1.20"),
    (FileRole::PkiKey, 0o600, "1.1.21"),
    (FileRole::KubeletServiceFile, 0o600, "4.1.1"),
    (FileRole::KubeletKubeconfig, 0o600, "4.1.5"),
    (FileRole::ClientCaFile, 0o600, "4.1.7"),
    (FileRole::KubeletConfig, 0o600, "4.1.9"),
    (FileRole::EncryptionConfig, 0o600, "1.2.28"),
    (FileRole::AuditPolicy, 0o600, "3.2.1"),
];

rule! {
    /// ## What it does
    /// Flags node files more permissive than the CIS Benchmark allows ("600 or more
    /// restrictive": no permission bit outside the limit): static pod manifests, the
    /// administrator and component kubeconfigs, PKI certificates and keys, the etcd data
    /// directory (700), the kubelet's service file, kubeconfig, config file and client CA, and
    /// the encryption config and audit policy the API server reads. Runs under
    /// `palisade node`; files that are absent are reported as not present, never as failures.
    ///
    /// ## Why is this bad?
    /// These files hold cluster-admin credentials, private keys, encryption keys and the
    /// definitions of the control plane: any local user or compromised process that can read
    /// or write them owns the cluster.
    ///
    /// ## Example
    /// ```text
    /// -rw-r--r-- root root /etc/kubernetes/admin.conf   # fails: 644, limit 600
    /// ```
    ///
    /// ## Remediation
    /// `chmod 600` the file (`chmod 700` the etcd data directory).
    ///
    /// ## References
    /// - CIS Kubernetes Benchmark v1.9, sections 1.1 and 4.1
    pub static RULE = {
        code: "PAL-NODE-001",
        name: "node-file-permissions",
        severity: High,
        category: "node",
        controls: ["CIS-1.1.1", "CIS-1.1.3", "CIS-1.1.5", "CIS-1.1.7", "CIS-1.1.11", "CIS-1.1.13", "CIS-1.1.15", "CIS-1.1.17", "CIS-1.1.20", "CIS-1.1.21", "CIS-4.1.1", "CIS-4.1.5", "CIS-4.1.7", "CIS-4.1.9", "NSA:authentication"],
        check: Check::File(check),
    };
}

fn check(file: &NodeFile) -> Option<String> {
    let (_, limit, cis) = LIMITS.iter().find(|(role, _, _)| *role == file.role)?;
    let mode = file.mode & 0o7777;
    (mode & !limit != 0).then(|| {
        format!(
            "CIS {cis}: {} {} has mode {mode:o}; the limit is {limit:o}",
            file.role.describe(),
            file.path
        )
    })
}
