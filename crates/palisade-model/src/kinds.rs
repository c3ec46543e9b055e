//! The kinds each built-in API group defines. A kind that a built-in group does not define
//! (`apps/v1` `Deploymnet`) is a typo the API server would reject, so loading reports it;
//! kinds of other groups (custom resources) are accepted as they are.

/// (group, kinds) for every group the Kubernetes API server serves itself.
const BUILT_IN: &[(&str, &[&str])] = &[
    (
        "",
        &[
            "Binding",
            "ComponentStatus",
            "ConfigMap",
            "Endpoints",
            "Event",
            "LimitRange",
            "List",
            "Namespace",
            "Node",
            "PersistentVolume",
            "PersistentVolumeClaim",
            "Pod",
            "PodTemplate",
            "ReplicationController",
            "ResourceQuota",
            "Secret",
            "Service",
            "ServiceAccount",
        ],
    ),
    (
        "apps",
        &[
            "ControllerRevision",
            "DaemonSet",
            "Deployment",
            "ReplicaSet",
            "StatefulSet",
        ],
    ),
    ("batch", &["CronJob", "Job"]),
    ("autoscaling", &["HorizontalPodAutoscaler", "Scale"]),
    (
        "rbac.authorization.k8s.io",
        &["ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"],
    ),
    (
        "networking.k8s.io",
        &[
            "Ingress",
            "IngressClass",
            "IPAddress",
            "NetworkPolicy",
            "ServiceCIDR",
        ],
    ),
    (
        "policy",
        &["Eviction", "PodDisruptionBudget", "PodSecurityPolicy"],
    ),
    (
        "storage.k8s.io",
        &[
            "CSIDriver",
            "CSINode",
            "CSIStorageCapacity",
            "StorageClass",
            "VolumeAttachment",
            "VolumeAttributesClass",
        ],
    ),
    (
        "admissionregistration.k8s.io",
        &[
            "MutatingAdmissionPolicy",
            "MutatingAdmissionPolicyBinding",
            "MutatingWebhookConfiguration",
            "ValidatingAdmissionPolicy",
            "ValidatingAdmissionPolicyBinding",
            "ValidatingWebhookConfiguration",
        ],
    ),
    ("apiextensions.k8s.io", &["CustomResourceDefinition"]),
    ("apiregistration.k8s.io", &["APIService"]),
    ("scheduling.k8s.io", &["PriorityClass"]),
    ("coordination.k8s.io", &["Lease", "LeaseCandidate"]),
    ("node.k8s.io", &["RuntimeClass"]),
    ("discovery.k8s.io", &["EndpointSlice"]),
    (
        "certificates.k8s.io",
        &["CertificateSigningRequest", "ClusterTrustBundle"],
    ),
    ("events.k8s.io", &["Event"]),
    (
        "flowcontrol.apiserver.k8s.io",
        &["FlowSchema", "PriorityLevelConfiguration"],
    ),
    (
        "resource.k8s.io",
        &[
            "DeviceClass",
            "ResourceClaim",
            "ResourceClaimTemplate",
            "ResourceSlice",
            "DeviceTaintRule",
        ],
    ),
    (
        "authentication.k8s.io",
        &["SelfSubjectReview", "TokenRequest", "TokenReview"],
    ),
    (
        "authorization.k8s.io",
        &[
            "LocalSubjectAccessReview",
            "SelfSubjectAccessReview",
            "SelfSubjectRulesReview",
            "SubjectAccessReview",
        ],
    ),
    ("storagemigration.k8s.io", &["StorageVersionMigration"]),
    ("internal.apiserver.k8s.io", &["StorageVersion"]),
];

/// What the built-in API knows about a (group, kind) pair.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KindStatus {
    /// A built-in group defines this kind.
    BuiltIn,
    /// The group is built in but has no such kind.
    UnknownInBuiltInGroup,
    /// Not a built-in group: a custom resource or a configuration file format.
    Custom,
}

/// Looks `kind` up in `group` (`""` for the core group).
pub fn status(group: &str, kind: &str) -> KindStatus {
    match BUILT_IN.iter().find(|(g, _)| *g == group) {
        None => KindStatus::Custom,
        Some((_, kinds)) if kinds.contains(&kind) => KindStatus::BuiltIn,
        // Every built-in kind has a `<Kind>List` for collections.
        Some((_, kinds))
            if kind
                .strip_suffix("List")
                .is_some_and(|k| kinds.contains(&k)) =>
        {
            KindStatus::BuiltIn
        }
        Some(_) => KindStatus::UnknownInBuiltInGroup,
    }
}

/// What a kind unknown in `group` was probably meant to be: a kind of the same group one or
/// two typos away (`Deploymnet`), or the same kind in the group that has it (`Deployment` in
/// `v1` is `apps/v1`'s). Said as the end of a sentence.
pub fn suggestion(group: &str, kind: &str) -> Option<String> {
    let same_group = BUILT_IN
        .iter()
        .find(|(g, _)| *g == group)
        .and_then(|(_, kinds)| crate::suggest::did_you_mean(kind, kinds.iter().copied()));
    if let Some(meant) = same_group {
        return Some(format!("did you mean `{meant}`?"));
    }
    BUILT_IN
        .iter()
        .find(|(_, kinds)| kinds.contains(&kind))
        .map(|(other, _)| {
            let group = if other.is_empty() { "core" } else { other };
            format!("`{kind}` is in the {group} API group")
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mistyped_or_misplaced_kind_gets_a_suggestion() {
        assert_eq!(
            suggestion("apps", "Deploymnet").as_deref(),
            Some("did you mean `Deployment`?")
        );
        assert_eq!(
            suggestion("", "Deployment").as_deref(),
            Some("`Deployment` is in the apps API group")
        );
        assert_eq!(suggestion("apps", "Frobnicator"), None);
    }

    #[test]
    fn built_in_custom_and_typo_kinds() {
        assert_eq!(status("apps", "Deployment"), KindStatus::BuiltIn);
        assert_eq!(status("", "PodList"), KindStatus::BuiltIn);
        assert_eq!(
            status("apps", "Deploymnet"),
            KindStatus::UnknownInBuiltInGroup
        );
        assert_eq!(status("argoproj.io", "Rollout"), KindStatus::Custom);
    }
}
