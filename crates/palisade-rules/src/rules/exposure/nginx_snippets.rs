use palisade_analysis::pss::Violation;
use palisade_model::{FieldPath, Object};

use crate::meta::rule;
use crate::{Check, OptionValues};

/// ingress-nginx annotations whose value is pasted into nginx.conf.
const SNIPPETS: &[&str] = &[
    "nginx.ingress.kubernetes.io/configuration-snippet",
    "nginx.ingress.kubernetes.io/server-snippet",
    "nginx.ingress.kubernetes.io/auth-snippet",
    "nginx.ingress.kubernetes.io/stream-snippet",
    "nginx.ingress.kubernetes.io/modsecurity-snippet",
];

rule! {
    /// ## What it does
    /// Flags Ingresses that use ingress-nginx snippet annotations (`configuration-snippet`,
    /// `server-snippet`, `auth-snippet`, `stream-snippet`, `modsecurity-snippet`), and
    /// ingress-nginx controller ConfigMaps that allow them (`allow-snippet-annotations:
    /// "true"`).
    ///
    /// ## Why is this bad?
    /// Snippets are copied verbatim into the controller's nginx configuration: whoever can
    /// create an Ingress can read the controller's service account token and every Secret it
    /// can see, in all namespaces (CVE-2021-25742).
    ///
    /// ## Example
    /// ```yaml
    /// kind: Ingress
    /// metadata:
    ///   annotations:
    ///     nginx.ingress.kubernetes.io/configuration-snippet: |   # fails
    ///       more_set_headers "X-Frame-Options: DENY";
    /// ```
    ///
    /// ## Remediation
    /// Use the dedicated annotations (headers, rewrites, auth) instead; set
    /// `allow-snippet-annotations: "false"` in the controller's ConfigMap (the default since
    /// controller 1.9) and keep the controller up to date.
    ///
    /// ## References
    /// - CVE-2021-25742: <https://github.com/kubernetes/ingress-nginx/issues/7837>
    pub static RULE = {
        code: "PAL-EXP-005",
        name: "ingress-nginx-snippet",
        severity: High,
        category: "exposure",
        controls: ["NSA:network-separation", "MITRE:T1552.007"],
        kinds: ["Ingress", "ConfigMap"],
        check: Check::Object(check),
    };
}

fn check(object: &Object, _: &OptionValues) -> Vec<Violation> {
    match (object.group(), object.kind()) {
        ("networking.k8s.io" | "extensions", "Ingress") => SNIPPETS
            .iter()
            .filter(|key| object.annotation(key).is_some())
            .map(|key| Violation {
                severity: None,
                path: FieldPath::root().keys(&["metadata", "annotations", key]),
                message: format!(
                    "annotation {key} pastes raw configuration into the ingress-nginx controller (CVE-2021-25742)"
                ),
            })
            .collect(),
        ("", "ConfigMap") => {
            let allowed = object
                .root
                .at(&["data", "allow-snippet-annotations"])
                .and_then(|v| v.as_str())
                == Some("true");
            if !allowed {
                return Vec::new();
            }
            vec![Violation {
                severity: None,
                path: FieldPath::root().keys(&["data", "allow-snippet-annotations"]),
                message: "the ingress-nginx controller accepts snippet annotations from every Ingress (CVE-2021-25742)".to_string(),
            }]
        }
        _ => Vec::new(),
    }
}
