use palisade_analysis::pss::Violation;
use palisade_model::PodView;

use crate::fix::{self, Remedy};
use crate::meta::rule;
use crate::{Check, OptionValues};
use palisade_model::{FieldPath, Object};

rule! {
    /// ## What it does
    /// Flags containers (init and ephemeral ones included) whose root file system is writable:
    /// `securityContext.readOnlyRootFilesystem` is not `true`. The setting exists only on
    /// containers (a pod-level security context has no such field), and Windows pods are
    /// skipped because Windows does not support it.
    ///
    /// ## Why is this bad?
    /// A writable root file system lets an attacker who gets code execution drop tools,
    /// change binaries and configuration, and persist across process restarts inside the
    /// container. Immutable containers make that much harder and tampering visible.
    ///
    /// ## Example
    /// ```yaml
    /// containers:
    /// - name: web
    ///   image: registry.example.com/web:1.4.2
    ///   securityContext:
    ///     readOnlyRootFilesystem: false   # fails (so does leaving it out)
    /// ```
    ///
    /// ## Remediation
    /// Set `readOnlyRootFilesystem: true` and mount an `emptyDir` where the application has to
    /// write (`/tmp`, caches).
    ///
    /// ## Fix
    /// Unsafe (`--unsafe`): sets `readOnlyRootFilesystem: true`; a program that writes
    /// outside its volumes fails. Mount an `emptyDir` where it writes.
    ///
    /// ## References
    /// - NSA/CISA Kubernetes Hardening Guide, "Use immutable container file systems"
    /// - CIS Kubernetes Benchmark 5.7.3: apply security context to your pods and containers
    pub static RULE = {
        code: "PAL-WL-001",
        name: "read-only-root-filesystem",
        severity: Medium,
        category: "workload",
        controls: ["NSA:pod-security", "CIS-5.7.3", "MITRE:T1525"],
        fix: repair,
        check: Check::Pod(check),
    };
}

fn check(pod: &PodView<'_>, _: &OptionValues) -> Vec<Violation> {
    if pod.is_windows() {
        return Vec::new();
    }
    let mut violations = Vec::new();
    for container in pod.containers() {
        let setting = container
            .security_context()
            .and_then(|sc| sc.get("readOnlyRootFilesystem"))
            .and_then(|n| n.as_bool());
        let path = match setting {
            Some(true) => continue,
            Some(false) => container
                .security_context_path()
                .key("readOnlyRootFilesystem"),
            None => container.path.clone(),
        };
        violations.push(Violation {
            severity: None,
            path,
            message: format!(
                "{} has a writable root file system (set readOnlyRootFilesystem: true)",
                container.describe()
            ),
        });
    }
    violations
}

/// `readOnlyRootFilesystem: true` (unsafe: a program that writes outside its volumes fails).
fn repair(object: &Object, path: &FieldPath) -> Option<Remedy> {
    let (container, _) = fix::container_at(object, path)?;
    fix::set(
        fix::Safety::Unsafe,
        "set readOnlyRootFilesystem: true",
        container.keys(&["securityContext", "readOnlyRootFilesystem"]),
        "true",
    )
}
