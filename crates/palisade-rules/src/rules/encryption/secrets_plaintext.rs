use palisade_analysis::pss::Violation;
use palisade_model::{FieldPath, Object};

use crate::meta::rule;
use crate::rules::encryption::{covers_secrets, entries, is_encryption_config, write_provider};
use crate::{Check, OptionValues};

rule! {
    /// ## What it does
    /// Flags `EncryptionConfiguration`s under which Secrets are written in plain text: the
    /// first entry that covers `secrets` (by name, `*.` or `*.*`) lists `identity` first, or no
    /// entry covers Secrets at all.
    ///
    /// ## Why is this bad?
    /// The first provider encrypts new writes; `identity` first means "store as is", however
    /// many real providers follow (they are only used to read old data). Secrets then sit in
    /// etcd, its snapshots and backups in clear text, which is exactly what the file was
    /// written to prevent.
    ///
    /// ## Example
    /// ```yaml
    /// kind: EncryptionConfiguration
    /// resources:
    /// - resources: [secrets]
    ///   providers:
    ///   - identity: {}   # fails: Secrets are stored in plain text
    ///   - aescbc: {keys: [...]}
    /// ```
    ///
    /// ## Remediation
    /// Put the encrypting provider (KMS v2, else `secretbox` or `aesgcm` with rotation) first
    /// and keep `identity` last only while migrating, then re-write all Secrets
    /// (`kubectl get secrets -A -o json | kubectl replace -f -`).
    ///
    /// ## References
    /// - CIS Kubernetes Benchmark v1.9, 1.2.28: ensure that encryption providers are
    ///   appropriately configured
    /// - Kubernetes docs, Encrypting data at rest: <https://kubernetes.io/docs/tasks/administer-cluster/encrypt-data/>
    pub static RULE = {
        code: "PAL-ENC-001",
        name: "secrets-stored-in-plaintext",
        severity: Critical,
        category: "encryption",
        controls: ["CIS-1.2.28", "NSA:secrets", "MITRE:T1552"],
        sensitive: true,
        kinds: ["EncryptionConfiguration", "EncryptionConfig"],
        check: Check::Object(check),
    };
}

fn check(object: &Object, _: &OptionValues) -> Vec<Violation> {
    if !is_encryption_config(object) {
        return Vec::new();
    }
    let Some((entry, path)) = entries(object).into_iter().find(|(e, _)| covers_secrets(e)) else {
        return vec![Violation {
            severity: None,
            path: FieldPath::root().key("resources"),
            message: "CIS 1.2.28: no entry covers secrets: Secrets are stored in plain text"
                .to_string(),
        }];
    };
    match write_provider(entry, &path) {
        Some(("identity", _, provider_path)) => vec![Violation {
            severity: None,
            path: provider_path,
            message: "CIS 1.2.28: identity is the first provider for secrets: new Secrets are written in plain text".to_string(),
        }],
        None => vec![Violation {
            severity: None,
            path,
            message: "CIS 1.2.28: the entry for secrets lists no provider".to_string(),
        }],
        Some(_) => Vec::new(),
    }
}
