use palisade_analysis::pss::Violation;
use palisade_model::{FieldPath, Node, Object};

use crate::meta::rule;
use crate::{Check, OptionValues};

/// Whether a TLS host entry covers `host`: equal, or a wildcard for exactly one more label.
fn covers(tls_host: &str, host: &str) -> bool {
    if tls_host.eq_ignore_ascii_case(host) {
        return true;
    }
    match (tls_host.strip_prefix("*."), host.split_once('.')) {
        (Some(suffix), Some((_, rest))) => suffix.eq_ignore_ascii_case(rest),
        _ => false,
    }
}

rule! {
    /// ## What it does
    /// Flags Ingresses (`networking.k8s.io` and the old `extensions` group) that serve plain
    /// HTTP: no `spec.tls` at all, or a rule whose host no TLS entry covers (wildcards cover
    /// exactly one label, as in certificates). A TLS entry without hosts covers every rule.
    ///
    /// ## Why is this bad?
    /// Without TLS, credentials, session cookies and data cross the network in clear text
    /// and can be read or changed by anyone on the path.
    ///
    /// ## Example
    /// ```yaml
    /// kind: Ingress
    /// spec:
    ///   rules:
    ///   - host: shop.example.com   # fails: no tls entry covers it
    /// ```
    ///
    /// ## Remediation
    /// Add a `tls` entry with the host and a certificate Secret (cert-manager can issue it)
    /// and redirect HTTP to HTTPS.
    ///
    /// ## References
    /// - Kubernetes docs, Ingress TLS: <https://kubernetes.io/docs/concepts/services-networking/ingress/#tls>
    /// - NSA/CISA Kubernetes Hardening Guide, "Network separation and hardening"
    pub static RULE = {
        code: "PAL-EXP-004",
        name: "ingress-without-tls",
        severity: Medium,
        category: "exposure",
        controls: ["NSA:network-separation", "MITRE:T1557"],
        kinds: ["Ingress"],
        check: Check::Object(check),
    };
}

fn check(object: &Object, _: &OptionValues) -> Vec<Violation> {
    let ingress_group = matches!(object.group(), "networking.k8s.io" | "extensions");
    if !(ingress_group && object.kind() == "Ingress") {
        return Vec::new();
    }
    let Some(spec) = object.root.get("spec") else {
        return Vec::new();
    };
    let tls = spec.get("tls").map(Node::as_seq).unwrap_or_default();
    if tls.is_empty() {
        return vec![Violation {
            severity: None,
            path: FieldPath::root().key("spec"),
            message: "Ingress has no tls section: it serves plain HTTP".to_string(),
        }];
    }
    let tls_hosts: Vec<&str> = tls
        .iter()
        .flat_map(|t| t.get("hosts").map(Node::as_seq).unwrap_or_default())
        .filter_map(Node::as_str)
        .collect();
    if tls
        .iter()
        .any(|t| t.get("hosts").is_none_or(|h| h.as_seq().is_empty()))
    {
        return Vec::new();
    }
    let rules = spec.get("rules").map(Node::as_seq).unwrap_or_default();
    let mut violations = Vec::new();
    for (i, rule) in rules.iter().enumerate() {
        let Some(host) = rule.str_of("host") else {
            continue;
        };
        if tls_hosts.iter().any(|t| covers(t, host)) {
            continue;
        }
        violations.push(Violation {
            severity: None,
            path: FieldPath::root()
                .keys(&["spec", "rules"])
                .index(i)
                .key("host"),
            message: format!("host {host} is served without TLS: no tls entry lists it"),
        });
    }
    violations
}

#[cfg(test)]
mod tests {
    use super::covers;

    #[test]
    fn wildcards_cover_one_label() {
        assert!(covers("shop.example.com", "SHOP.example.com"));
        assert!(covers("*.example.com", "shop.example.com"));
        assert!(!covers("*.example.com", "a.shop.example.com"));
        assert!(!covers("*.example.com", "example.com"));
        assert!(!covers("example.com", "shop.example.com"));
    }
}
