use palisade_analysis::pss::Violation;
use palisade_model::{FieldPath, Object};

use crate::meta::rule;
use crate::{Check, OptionKind, OptionValues, RuleOption};

rule! {
    /// ## What it does
    /// Flags Istio `PeerAuthentication` policies that accept plain-text traffic: mode
    /// `PERMISSIVE` or `DISABLE`, for the whole policy or for a port in `portLevelMtls`. A
    /// mesh-wide policy (in the root namespace, `istio-system` unless the `root-namespace`
    /// option says otherwise, without a selector) that leaves the mode unset is flagged too:
    /// Istio's default then applies, which is `PERMISSIVE`. `UNSET` elsewhere inherits and
    /// passes.
    ///
    /// ## Why is this bad?
    /// In permissive mode a sidecar accepts both mTLS and plain text, so any pod, in the mesh
    /// or not, can reach the workload unauthenticated and unencrypted, and identity-based
    /// AuthorizationPolicies see no principal.
    ///
    /// ## Example
    /// ```yaml
    /// apiVersion: security.istio.io/v1
    /// kind: PeerAuthentication
    /// metadata: {name: default, namespace: istio-system}
    /// spec:
    ///   mtls:
    ///     mode: PERMISSIVE   # fails: mesh-wide plain text accepted
    /// ```
    ///
    /// ## Remediation
    /// Set `mode: STRICT` mesh-wide once every client has a sidecar; keep temporary
    /// `PERMISSIVE` exceptions per workload and port, suppressed with a reason and an expiry.
    ///
    /// ## References
    /// - Istio, PeerAuthentication: <https://istio.io/latest/docs/reference/config/security/peer_authentication/>
    /// - NSA/CISA Kubernetes Hardening Guide, "Network separation and hardening"
    pub static RULE = {
        code: "PAL-MESH-001",
        name: "mesh-mtls-not-strict",
        severity: High,
        category: "mesh",
        controls: ["NSA:network-separation", "MITRE:T1557"],
        options: [RuleOption {
            name: "root-namespace",
            kind: OptionKind::StringList,
            doc: "Istio's root namespace, where mesh-wide policies live (default istio-system)",
        }],
        kinds: ["PeerAuthentication"],
        check: Check::Object(check),
    };
}

fn scope(object: &Object, root_namespace: &str) -> String {
    let selector = object
        .root
        .at(&["spec", "selector"])
        .is_some_and(|s| !s.is_null());
    let namespace = object.reference.namespace.as_deref().unwrap_or("default");
    match (selector, namespace == root_namespace) {
        (true, _) => format!(
            "for the selected workloads of {}",
            crate::rules::namespace_phrase(&object.reference, namespace)
        ),
        (false, true) => "mesh-wide".to_string(),
        (false, false) => format!(
            "for {}",
            crate::rules::namespace_phrase(&object.reference, namespace)
        ),
    }
}

fn check(object: &Object, options: &OptionValues) -> Vec<Violation> {
    if !(object.group() == "security.istio.io" && object.kind() == "PeerAuthentication") {
        return Vec::new();
    }
    let root_namespace = options
        .strings("root-namespace")
        .first()
        .map_or("istio-system", String::as_str);
    let scope = scope(object, root_namespace);
    let mut violations = Vec::new();
    let mode = object
        .root
        .at(&["spec", "mtls", "mode"])
        .and_then(|m| m.as_str());
    match mode {
        Some(mode @ ("PERMISSIVE" | "DISABLE")) => violations.push(Violation {
            severity: None,
            path: FieldPath::root().keys(&["spec", "mtls", "mode"]),
            message: format!("mTLS mode {mode} {scope}: plain-text traffic is accepted"),
        }),
        None | Some("UNSET") if scope == "mesh-wide" => violations.push(Violation {
            severity: None,
            path: FieldPath::root().key("spec"),
            message: "the mesh-wide policy leaves the mTLS mode unset: Istio's default PERMISSIVE applies".to_string(),
        }),
        _ => {}
    }
    if let Some(ports) = object.root.at(&["spec", "portLevelMtls"]) {
        for entry in ports.as_map() {
            let port_mode = entry.value.str_of("mode");
            if let Some(port_mode @ ("PERMISSIVE" | "DISABLE")) = port_mode {
                violations.push(Violation {
                    severity: None,
                    path: FieldPath::root().keys(&["spec", "portLevelMtls", &entry.key, "mode"]),
                    message: format!(
                        "mTLS mode {port_mode} on port {} {scope}: plain-text traffic is accepted",
                        entry.key
                    ),
                });
            }
        }
    }
    violations
}
