//! Network policy kinds the NetworkPolicy engine does not evaluate: an input that holds them is
//! judged without them, and says so.

use palisade_model::Object;

/// (API group, kind, what it is) of the policy kinds the engine reads nothing of.
const UNEVALUATED: &[(&str, &str, &str)] = &[
    (
        "k8s.ovn.org",
        "UserDefinedNetwork",
        "an OVN-Kubernetes user-defined network",
    ),
    (
        "k8s.ovn.org",
        "ClusterUserDefinedNetwork",
        "an OVN-Kubernetes cluster user-defined network",
    ),
    (
        "k8s.cni.cncf.io",
        "NetworkAttachmentDefinition",
        "a Multus secondary network, which NetworkPolicies do not cover",
    ),
    ("crd.projectcalico.org", "NetworkPolicy", "a Calico policy"),
    (
        "crd.projectcalico.org",
        "GlobalNetworkPolicy",
        "a Calico cluster-wide policy",
    ),
    ("projectcalico.org", "NetworkPolicy", "a Calico policy"),
    (
        "projectcalico.org",
        "GlobalNetworkPolicy",
        "a Calico cluster-wide policy",
    ),
    (
        "projectcalico.org",
        "StagedNetworkPolicy",
        "a Calico staged policy",
    ),
    (
        "projectcalico.org",
        "StagedGlobalNetworkPolicy",
        "a Calico staged policy",
    ),
    ("crd.antrea.io", "NetworkPolicy", "an Antrea policy"),
    (
        "crd.antrea.io",
        "ClusterNetworkPolicy",
        "an Antrea cluster-wide policy",
    ),
];

/// What the NetworkPolicy analysis leaves out of `object`, as a sentence, when it is a policy
/// kind it does not evaluate.
pub fn unevaluated(object: &Object) -> Option<String> {
    let (_, _, what) = UNEVALUATED
        .iter()
        .find(|(group, kind, _)| object.group() == *group && object.kind() == *kind)?;
    Some(format!(
        "{}: {what}, which Palisade does not evaluate: reachability, isolation and default-deny findings are judged without it",
        object.reference.display_name()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(api_version: &str, kind: &str) -> Object {
        palisade_load::json::to_object(&serde_json::json!({
            "apiVersion": api_version,
            "kind": kind,
            "metadata": {"name": "deny-all", "namespace": "shop"},
        }))
    }

    #[test]
    fn kinds_the_engine_does_not_read_are_named_and_those_it_reads_are_not() {
        let calico = unevaluated(&object("crd.projectcalico.org/v1", "NetworkPolicy"));
        assert!(calico.is_some_and(|w| w.contains("a Calico policy")));
        for (api_version, kind) in [
            ("policy.networking.k8s.io/v1alpha2", "ClusterNetworkPolicy"),
            ("networking.k8s.io/v1", "NetworkPolicy"),
            ("policy.networking.k8s.io/v1alpha1", "AdminNetworkPolicy"),
            ("cilium.io/v2", "CiliumNetworkPolicy"),
        ] {
            assert_eq!(unevaluated(&object(api_version, kind)), None, "{kind}");
        }
    }
}
