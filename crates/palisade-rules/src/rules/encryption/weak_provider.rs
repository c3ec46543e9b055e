use palisade_analysis::pss::Violation;
use palisade_model::{Node, Object};

use crate::meta::rule;
use crate::rules::encryption::{entries, is_encryption_config, write_provider};
use crate::{Check, OptionValues};

rule! {
    /// ## What it does
    /// Flags the write provider of each `EncryptionConfiguration` entry when it is weaker than
    /// the current recommendation:
    /// - `aescbc`: CBC mode, no longer recommended (padding-oracle class weaknesses);
    /// - `aesgcm`: safe only if keys are rotated before 2^32 writes, which is rarely automated;
    /// - `kms` with `apiVersion: v1` or none: KMS v1 is deprecated and slow; use v2;
    /// - `aescbc`, `aesgcm` or `secretbox` keys shorter than 32 bytes (AES-256 and
    ///   secretbox need 32).
    ///
    /// `identity` first is `secrets-stored-in-plaintext`'s business. Key values are never
    /// shown.
    ///
    /// ## Why is this bad?
    /// Encryption at rest protects etcd backups and disks only as well as its cipher and keys:
    /// local keys in this file sit next to the data they protect, and weak modes or short
    /// keys lower the bar further.
    ///
    /// ## Example
    /// ```yaml
    /// providers:
    /// - aescbc:   # fails: prefer kms (v2)
    ///     keys: [{name: key1, secret: ...}]
    /// ```
    ///
    /// ## Remediation
    /// Use a KMS v2 plugin backed by a cloud KMS or HSM; if that is impossible, `secretbox`
    /// with a 32-byte key.
    ///
    /// ## References
    /// - Kubernetes docs, Encrypting data at rest, providers:
    ///   <https://kubernetes.io/docs/tasks/administer-cluster/encrypt-data/#providers>
    pub static RULE = {
        code: "PAL-ENC-002",
        name: "weak-encryption-provider",
        severity: Medium,
        category: "encryption",
        controls: ["CIS-1.2.28", "NSA:secrets"],
        sensitive: true,
        kinds: ["EncryptionConfiguration", "EncryptionConfig"],
        check: Check::Object(check),
    };
}

/// Bytes a base64 text decodes to, without decoding it (the key stays untouched).
fn decoded_len(text: &str) -> usize {
    let text = text.trim();
    let padding = text.chars().rev().take_while(|c| *c == '=').count();
    (text.len() * 3 / 4).saturating_sub(padding)
}

fn check(object: &Object, _: &OptionValues) -> Vec<Violation> {
    if !is_encryption_config(object) {
        return Vec::new();
    }
    let mut violations = Vec::new();
    for (entry, path) in entries(object) {
        let Some((kind, provider, provider_path)) = write_provider(entry, &path) else {
            continue;
        };
        let problem = match kind {
            "aescbc" => Some("aescbc (CBC mode) is no longer recommended"),
            "aesgcm" => Some("aesgcm is safe only with keys rotated before 2^32 writes"),
            "kms" if provider.str_of("apiVersion") != Some("v2") => {
                Some("KMS v1 is deprecated; use apiVersion: v2")
            }
            _ => None,
        };
        if let Some(problem) = problem {
            violations.push(Violation {
                severity: None,
                path: provider_path.clone(),
                message: format!("CIS 1.2.28: write provider {problem}"),
            });
        }
        if matches!(kind, "aescbc" | "aesgcm" | "secretbox") {
            let keys = provider.get("keys").map(Node::as_seq).unwrap_or_default();
            for (i, key) in keys.iter().enumerate() {
                let Some(secret) = key.str_of("secret") else {
                    continue;
                };
                let bytes = decoded_len(secret);
                if bytes < 32 {
                    violations.push(Violation {
                        severity: None,
                        path: provider_path.key("keys").index(i),
                        message: format!(
                            "{kind} key `{}` is {bytes} bytes; use 32",
                            key.str_of("name").unwrap_or("?")
                        ),
                    });
                }
            }
        }
    }
    violations
}
