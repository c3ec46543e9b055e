use palisade_analysis::mesh::PeerAuthentication;
use palisade_analysis::Inventory;
use palisade_model::Severity;

use crate::meta::rule;
use crate::{Check, Emitter, OptionKind, RuleOption};

rule! {
    /// ## What it does
    /// Flags Istio `PeerAuthentication` policies that accept plain-text traffic: mode
    /// `PERMISSIVE` or `DISABLE`, for the whole policy or for a port in `portLevelMtls`. A
    /// mesh-wide policy (in the root namespace, `istio-system` unless the `root-namespace`
    /// option says otherwise, without a selector) that leaves the mode unset is flagged too:
    /// Istio's default then applies, which is `PERMISSIVE`. `UNSET` elsewhere inherits and
    /// passes.
    ///
    /// A port that the API server calls (the target of an admission or conversion webhook's
    /// Service, on the pods the policy selects) must accept the API server's plain TLS, which
    /// comes without a sidecar: `PERMISSIVE` or `DISABLE` there is reported at `low`, naming
    /// the webhook, as what Istio itself advises for webhook ports.
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
        check: Check::Inventory(check),
    };
}

fn scope(policy: &PeerAuthentication, root_namespace: &str) -> String {
    let namespace = policy.namespace.as_str();
    match (policy.selector.is_some(), namespace == root_namespace) {
        (true, _) => format!(
            "for the selected workloads of {}",
            crate::rules::namespace_phrase(&policy.object, namespace)
        ),
        (false, true) => "mesh-wide".to_string(),
        (false, false) => format!(
            "for {}",
            crate::rules::namespace_phrase(&policy.object, namespace)
        ),
    }
}

fn check(inventory: &Inventory, out: &mut Emitter) {
    let root_namespace = out
        .options()
        .strings("root-namespace")
        .first()
        .cloned()
        .unwrap_or_else(|| "istio-system".to_string());
    for policy in &inventory.mesh.peer_authentications {
        let scope = scope(policy, &root_namespace);
        let mode = policy.mode.as_ref().map(|(mode, at)| (mode.as_str(), at));
        match mode {
            Some((mode @ ("PERMISSIVE" | "DISABLE"), at)) => out.report(
                at,
                format!("mTLS mode {mode} {scope}: plain-text traffic is accepted"),
                Vec::new(),
            ),
            None | Some(("UNSET", _)) if scope == "mesh-wide" => out.report(
                &policy.spec,
                "the mesh-wide policy leaves the mTLS mode unset: Istio's default PERMISSIVE applies"
                    .to_string(),
                Vec::new(),
            ),
            _ => {}
        }
        for (port, mode, at) in &policy.ports {
            if !matches!(mode.as_str(), "PERMISSIVE" | "DISABLE") {
                continue;
            }
            let caller = port.parse::<u16>().ok().and_then(|number| {
                inventory
                    .mesh
                    .api_server_caller(&inventory.network, policy, number)
            });
            match caller {
                Some(target) => out.report_at(
                    at,
                    Severity::Low,
                    format!(
                        "mTLS mode {mode} on port {port} {scope}: the API server calls it ({} through Service {}/{}) without a sidecar, so it must accept plain TLS; keep the exception to this port",
                        target.caller, target.namespace, target.service
                    ),
                ),
                None => out.report(
                    at,
                    format!(
                        "mTLS mode {mode} on port {port} {scope}: plain-text traffic is accepted"
                    ),
                    Vec::new(),
                ),
            }
        }
    }
}
