use palisade_analysis::credentials;
use palisade_analysis::pss::Violation;
use palisade_model::PodView;

use crate::meta::rule;
use crate::{Check, OptionValues};

rule! {
    /// ## What it does
    /// Flags containers (init and ephemeral ones included) that carry a credential in their
    /// spec: a literal `env[].value`, or a `--flag=value` in `command`/`args`, that has a
    /// well-known secret format or a real-looking value under a credential-like name
    /// (`DB_PASSWORD`, `--api-key`). Placeholders, `$(VAR)` references and templates pass.
    ///
    /// The value is never shown: findings name the variable or flag, and reports do not
    /// quote the line.
    ///
    /// ## Why is this bad?
    /// A literal credential is stored in the workload object (readable by anyone who can
    /// `get` Deployments, far more people than can read Secrets), in Git and in every
    /// `kubectl describe`.
    ///
    /// ## Example
    /// ```yaml
    /// env:
    /// - name: DB_PASSWORD
    ///   value: "..."   # fails when it looks like a real password
    /// ```
    ///
    /// ## Remediation
    /// Put the value in a Secret from an external secret store and mount it as a file;
    /// rotate the exposed credential.
    ///
    /// ## References
    /// - Kubernetes docs, Good practices for Kubernetes Secrets:
    ///   <https://kubernetes.io/docs/concepts/security/secrets-good-practices/>
    /// - MITRE ATT&CK T1552.007 Container API
    pub static RULE = {
        code: "PAL-SEC-004",
        name: "credential-in-env",
        severity: High,
        category: "secrets",
        controls: ["NSA:secrets", "MITRE:T1552.007"],
        sensitive: true,
        check: Check::Pod(check),
    };
}

fn check(pod: &PodView<'_>, _: &OptionValues) -> Vec<Violation> {
    let mut violations = Vec::new();
    for container in pod.containers() {
        for (i, variable) in container.items("env") {
            let (Some(name), Some(value)) = (variable.str_of("name"), variable.str_of("value"))
            else {
                continue;
            };
            if let Some(kind) = credentials::suspect(name, value) {
                violations.push(Violation {
                    severity: None,
                    path: container.item_path("env", i).key("value"),
                    message: format!(
                        "{} environment variable {name} holds {kind}",
                        container.describe()
                    ),
                });
            }
        }
        for field in ["command", "args"] {
            for (i, item) in container.items(field) {
                let Some((flag, value)) = item.as_str().and_then(|a| a.split_once('=')) else {
                    continue;
                };
                if !flag.starts_with('-') {
                    continue;
                }
                if let Some(kind) = credentials::suspect(flag.trim_start_matches('-'), value) {
                    violations.push(Violation {
                        severity: None,
                        path: container.item_path(field, i),
                        message: format!(
                            "{} passes {kind} in {field} flag {flag}",
                            container.describe()
                        ),
                    });
                }
            }
        }
    }
    violations
}
