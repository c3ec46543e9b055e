use palisade_analysis::pss::Violation;
use palisade_model::{Node, PodView};

use crate::meta::rule;
use crate::{Check, OptionValues};

rule! {
    /// ## What it does
    /// Flags containers (init and ephemeral ones included) that take Secret values as
    /// environment variables: `env[].valueFrom.secretKeyRef` and `envFrom[].secretRef`.
    ///
    /// ## Why is this bad?
    /// Environment variables leak: crash reports and debug endpoints dump them, child
    /// processes inherit them, `kubectl describe` and `/proc/<pid>/environ` show them, and
    /// they cannot be rotated without a restart. Mounted Secret files avoid all of that.
    ///
    /// ## Example
    /// ```yaml
    /// env:
    /// - name: DB_PASSWORD
    ///   valueFrom:
    ///     secretKeyRef: {name: db, key: password}   # fails
    /// ```
    ///
    /// ## Remediation
    /// Mount the Secret as a volume (`secret:` volume with `readOnly: true`) and read the
    /// file; many images accept `*_FILE` variables for exactly this.
    ///
    /// ## References
    /// - CIS Kubernetes Benchmark 5.4.1: prefer using Secrets as files over Secrets as
    ///   environment variables
    pub static RULE = {
        code: "PAL-SEC-002",
        name: "secret-in-env",
        severity: Low,
        category: "secrets",
        controls: ["CIS-5.4.1", "NSA:secrets", "MITRE:T1552"],
        check: Check::Pod(check),
    };
}

fn check(pod: &PodView<'_>, _: &OptionValues) -> Vec<Violation> {
    let mut violations = Vec::new();
    for container in pod.containers() {
        let env = container
            .node
            .get("env")
            .map(Node::as_seq)
            .unwrap_or_default();
        for (i, variable) in env.iter().enumerate() {
            let Some(reference) = variable.at(&["valueFrom", "secretKeyRef"]) else {
                continue;
            };
            violations.push(Violation {
                path: container
                    .path
                    .key("env")
                    .index(i)
                    .keys(&["valueFrom", "secretKeyRef"]),
                message: format!(
                    "{} reads Secret {} into environment variable {}",
                    container.describe(),
                    reference.str_of("name").unwrap_or("?"),
                    variable.str_of("name").unwrap_or("?")
                ),
            });
        }
        let env_from = container
            .node
            .get("envFrom")
            .map(Node::as_seq)
            .unwrap_or_default();
        for (i, source) in env_from.iter().enumerate() {
            let Some(reference) = source.get("secretRef") else {
                continue;
            };
            violations.push(Violation {
                path: container.path.key("envFrom").index(i).key("secretRef"),
                message: format!(
                    "{} loads every key of Secret {} into its environment",
                    container.describe(),
                    reference.str_of("name").unwrap_or("?")
                ),
            });
        }
    }
    violations
}
