use palisade_analysis::pss::Violation;
use palisade_model::PodView;

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
        for (i, variable) in container.items("env") {
            let Some(reference) = variable.at(&["valueFrom", "secretKeyRef"]) else {
                continue;
            };
            violations.push(Violation {
                severity: None,
                path: container
                    .item_path("env", i)
                    .keys(&["valueFrom", "secretKeyRef"]),
                message: format!(
                    "{} reads Secret {} into environment variable {}",
                    container.describe(),
                    reference.str_of("name").unwrap_or("?"),
                    variable.str_of("name").unwrap_or("?")
                ),
            });
        }
        for (i, source) in container.items("envFrom") {
            let Some(reference) = source.get("secretRef") else {
                continue;
            };
            violations.push(Violation {
                severity: None,
                path: container.item_path("envFrom", i).key("secretRef"),
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
