use palisade_analysis::pss::Violation;
use palisade_model::{FieldPath, Node, Object};

use crate::meta::rule;
use crate::{Check, OptionValues};

/// Secret types that tooling writes, never people.
const GENERATED_TYPES: &[&str] = &["kubernetes.io/service-account-token", "helm.sh/release.v1"];

rule! {
    /// ## What it does
    /// Flags Secret objects that carry values (`data` or `stringData`) in the input: a
    /// Secret written into a manifest. Secrets generated from an encrypted or external
    /// source (with `ownerReferences` to a `SealedSecret`, an `ExternalSecret`, a Vault or
    /// 1Password operator object or any other controller, or the
    /// `sealedsecrets.bitnami.com/managed` annotation) and the types tooling writes
    /// (service account tokens, Helm releases) pass; so do the source objects themselves,
    /// which are not Secrets.
    ///
    /// The finding points at the `data`/`stringData` key and never shows a value.
    ///
    /// Live clusters (`scan --cluster`, snapshots): Secrets are read as metadata only, so
    /// this rule never fires there. Values in the cluster are where they belong; the rule is
    /// about values written into manifests.
    ///
    /// ## Why is this bad?
    /// Base64 is an encoding, not encryption: a Secret committed to Git is readable by
    /// everyone with access to the repository, its forks, CI logs and backups, forever.
    ///
    /// ## Example
    /// ```yaml
    /// apiVersion: v1
    /// kind: Secret
    /// metadata: {name: db}
    /// data:             # fails
    ///   password: ...
    /// ```
    ///
    /// ## Remediation
    /// Commit a `SealedSecret` (Bitnami Sealed Secrets) or an `ExternalSecret` (External
    /// Secrets Operator, backed by a cloud secret manager or Vault) instead, rotate the
    /// exposed values, and purge them from history.
    ///
    /// ## References
    /// - Kubernetes docs, Good practices for Kubernetes Secrets:
    ///   <https://kubernetes.io/docs/concepts/security/secrets-good-practices/>
    /// - CIS Kubernetes Benchmark 5.4.2: consider external secret storage
    pub static RULE = {
        code: "PAL-SEC-001",
        name: "secret-in-manifest",
        severity: High,
        category: "secrets",
        controls: ["CIS-5.4.2", "NSA:secrets", "MITRE:T1552.001"],
        kinds: ["Secret"],
        check: Check::Object(check),
    };
}

fn check(object: &Object, _: &OptionValues) -> Vec<Violation> {
    if !(object.group().is_empty() && object.kind() == "Secret") {
        return Vec::new();
    }
    if object
        .root
        .str_of("type")
        .is_some_and(|t| GENERATED_TYPES.contains(&t))
    {
        return Vec::new();
    }
    let owners = object
        .metadata()
        .and_then(|m| m.get("ownerReferences"))
        .map(Node::as_seq)
        .unwrap_or_default();
    // Generated from a SealedSecret, an ExternalSecret or another controller's source.
    let managed = object.annotation("sealedsecrets.bitnami.com/managed") == Some("true");
    if !owners.is_empty() || managed {
        return Vec::new();
    }
    let mut violations = Vec::new();
    for field in ["data", "stringData"] {
        let count = object.root.get(field).map_or(0, |d| d.as_map().len());
        if count > 0 {
            violations.push(Violation {
                severity: None,
                path: FieldPath::root().key(field),
                message: format!(
                    "Secret carries {count} value(s) in {field}: whoever reads the manifest reads them"
                ),
            });
        }
    }
    violations
}
