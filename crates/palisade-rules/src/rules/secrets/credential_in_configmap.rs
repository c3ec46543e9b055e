use palisade_analysis::credentials;
use palisade_analysis::pss::Violation;
use palisade_model::{FieldPath, Object};

use crate::meta::rule;
use crate::{Check, OptionValues};

rule! {
    /// ## What it does
    /// Flags ConfigMap entries that hold a credential: a value in a well-known secret format
    /// (private key, AWS access key ID, GitHub, GitLab, Slack, Stripe or npm token, Google API
    /// key, JSON Web Token, URL with a password) under any key, or a real-looking value under
    /// a key named like a credential (`password`, `client_secret`, `apiKey`, ...). Embedded
    /// configuration files (properties, `.env`, YAML, INI) are read line by line.
    ///
    /// Placeholders, templates and references pass (`${DB_PASSWORD}`, `{{ .Values.x }}`,
    /// `<changeme>`, paths, `vault:` and ARN references), as do keys that describe a
    /// credential rather than hold it (`password_file`, `tokenTTL`, `secretName`). The value
    /// is never shown: findings name the key and the kind of credential, and reports do not
    /// quote the line.
    ///
    /// ## Why is this bad?
    /// ConfigMaps are not meant for secrets: RBAC grants on them are broad (`view` can read
    /// them), they are not encrypted at rest by the usual configuration, and they end up in
    /// logs, dashboards and Git.
    ///
    /// ## Example
    /// ```yaml
    /// kind: ConfigMap
    /// data:
    ///   DATABASE_URL: postgres://shop:...@db:5432/shop   # fails: URL with a password
    /// ```
    ///
    /// ## Remediation
    /// Move the value into a Secret (from an external secret store), rotate it, and reference
    /// it from the pod.
    ///
    /// ## References
    /// - Kubernetes docs, ConfigMaps: <https://kubernetes.io/docs/concepts/configuration/configmap/>
    /// - MITRE ATT&CK T1552.001 Credentials In Files
    pub static RULE = {
        code: "PAL-SEC-003",
        name: "credential-in-configmap",
        severity: High,
        category: "secrets",
        controls: ["NSA:secrets", "MITRE:T1552.001"],
        sensitive: true,
        kinds: ["ConfigMap"],
        check: Check::Object(check),
    };
}

fn check(object: &Object, _: &OptionValues) -> Vec<Violation> {
    if !(object.group().is_empty() && object.kind() == "ConfigMap") {
        return Vec::new();
    }
    let Some(data) = object.root.get("data") else {
        return Vec::new();
    };
    let mut violations = Vec::new();
    for entry in data.as_map() {
        let key = entry.key.as_str();
        let Some(value) = entry.value.as_str() else {
            continue;
        };
        let message = if let Some(kind) = credentials::suspect(key, value) {
            format!("ConfigMap key `{key}` holds {kind}")
        // `suspect` found no credential format in the whole value: the lines' names are left.
        } else if let Some((line, kind)) = credentials::suspect_by_name_in_text(value) {
            format!("ConfigMap key `{key}` holds {kind} on line {line} of its value")
        } else {
            continue;
        };
        violations.push(Violation {
            severity: None,
            path: FieldPath::root().keys(&["data", key]),
            message,
        });
    }
    violations
}
