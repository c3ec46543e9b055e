use palisade_analysis::pss::Violation;
use palisade_model::{FieldPath, Node, Object};

use crate::meta::rule;
use crate::{Check, OptionValues};

rule! {
    /// ## What it does
    /// Flags Istio `DestinationRule`s that turn TLS off towards their host: `tls.mode: DISABLE`
    /// in the `trafficPolicy`, in one of its `portLevelSettings`, or in a subset's
    /// `trafficPolicy`.
    ///
    /// ## Why is this bad?
    /// The client sidecar then sends plain text, even where the server would accept mTLS:
    /// traffic is readable on the wire and the server sees no client identity, so its
    /// AuthorizationPolicies cannot tell callers apart.
    ///
    /// ## Example
    /// ```yaml
    /// kind: DestinationRule
    /// spec:
    ///   host: payments.shop.svc.cluster.local
    ///   trafficPolicy:
    ///     tls:
    ///       mode: DISABLE   # fails
    /// ```
    ///
    /// ## Remediation
    /// Use `ISTIO_MUTUAL` (or leave `tls` out so auto mTLS applies); for external hosts use
    /// `SIMPLE` or `MUTUAL` with a CA.
    ///
    /// ## References
    /// - Istio, DestinationRule ClientTLSSettings:
    ///   <https://istio.io/latest/docs/reference/config/networking/destination-rule/#ClientTLSSettings>
    pub static RULE = {
        code: "PAL-MESH-002",
        name: "mesh-destination-tls-disabled",
        severity: Medium,
        category: "mesh",
        controls: ["NSA:network-separation", "MITRE:T1557"],
        kinds: ["DestinationRule"],
        check: Check::Object(check),
    };
}

/// `tls.mode: DISABLE` in a traffic policy at `path`, and in its port-level settings.
fn disabled_in(policy: &Node, path: &FieldPath, what: &str, out: &mut Vec<(FieldPath, String)>) {
    if policy.at(&["tls", "mode"]).and_then(Node::as_str) == Some("DISABLE") {
        out.push((path.keys(&["tls", "mode"]), what.to_string()));
    }
    let ports = policy
        .get("portLevelSettings")
        .map(Node::as_seq)
        .unwrap_or_default();
    for (i, setting) in ports.iter().enumerate() {
        if setting.at(&["tls", "mode"]).and_then(Node::as_str) == Some("DISABLE") {
            let port = setting
                .at(&["port", "number"])
                .and_then(Node::as_i64)
                .map_or("?".to_string(), |p| p.to_string());
            out.push((
                path.key("portLevelSettings")
                    .index(i)
                    .keys(&["tls", "mode"]),
                format!("{what} on port {port}"),
            ));
        }
    }
}

fn check(object: &Object, _: &OptionValues) -> Vec<Violation> {
    if !(object.group() == "networking.istio.io" && object.kind() == "DestinationRule") {
        return Vec::new();
    }
    let Some(spec) = object.root.get("spec") else {
        return Vec::new();
    };
    let host = spec.str_of("host").unwrap_or("?");
    let mut found = Vec::new();
    let spec_path = FieldPath::root().key("spec");
    if let Some(policy) = spec.get("trafficPolicy") {
        disabled_in(
            policy,
            &spec_path.key("trafficPolicy"),
            "traffic",
            &mut found,
        );
    }
    let subsets = spec.get("subsets").map(Node::as_seq).unwrap_or_default();
    for (i, subset) in subsets.iter().enumerate() {
        if let Some(policy) = subset.get("trafficPolicy") {
            let what = format!("subset {} traffic", subset.str_of("name").unwrap_or("?"));
            let path = spec_path.key("subsets").index(i).key("trafficPolicy");
            disabled_in(policy, &path, &what, &mut found);
        }
    }
    found
        .into_iter()
        .map(|(path, what)| Violation {
            severity: None,
            path,
            message: format!("{what} to {host} is sent in plain text (tls.mode DISABLE)"),
        })
        .collect()
}
