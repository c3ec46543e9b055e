use palisade_analysis::pss::{Version, Violation};
use palisade_model::{FieldPath, Object};

use crate::meta::rule;
use crate::Check;

rule! {
    /// ## What it does
    /// Flags objects whose `apiVersion` the target Kubernetes version no longer serves
    /// (`--kubernetes-version`, `kubernetes-version:` in the config, the server's with
    /// `--cluster`; the latest by default): `extensions/v1beta1` workloads and Ingresses,
    /// `rbac.authorization.k8s.io/v1beta1`, `batch/v1beta1` CronJobs,
    /// `policy/v1beta1` PodSecurityPolicies and the other removals of Kubernetes 1.16, 1.22,
    /// 1.25, 1.26, 1.27, 1.29 and 1.32. The message names the version assumed and the
    /// replacement.
    ///
    /// ## Why is this bad?
    /// The API server rejects the object, so the control it carries is not applied: a
    /// NetworkPolicy, an RBAC restriction or a webhook configuration that silently fails to
    /// deploy in a pipeline that ignores the error. A PodSecurityPolicy is worse: it is gone
    /// since 1.25, and nothing enforces what it says.
    ///
    /// ## Example
    /// ```yaml
    /// apiVersion: batch/v1beta1   # fails: removed in v1.25, use batch/v1
    /// kind: CronJob
    /// ```
    ///
    /// ## Remediation
    /// Move to the replacement API (`kubectl convert` helps); replace PodSecurityPolicies with
    /// Pod Security Admission labels on namespaces.
    ///
    /// ## References
    /// - Deprecated API Migration Guide:
    ///   <https://kubernetes.io/docs/reference/using-api/deprecation-guide/>
    pub static RULE = {
        code: "PAL-API-001",
        name: "removed-api-version",
        severity: Medium,
        category: "api",
        controls: ["NSA:upgrades"],
        kinds: ["*"],
        check: Check::Versioned(check),
    };
}

/// (apiVersion, kinds (empty: every kind of that API), removed in minor version, replacement).
const REMOVED: &[(&str, &[&str], u32, &str)] = &[
    ("extensions/v1beta1", &["Deployment", "DaemonSet", "ReplicaSet"], 16, "apps/v1"),
    ("extensions/v1beta1", &["NetworkPolicy"], 16, "networking.k8s.io/v1"),
    ("extensions/v1beta1", &["PodSecurityPolicy"], 16, "policy/v1beta1, itself removed in v1.25: use Pod Security Admission"),
    ("extensions/v1beta1", &["Ingress"], 22, "networking.k8s.io/v1"),
    ("apps/v1beta1", &[], 16, "apps/v1"),
    ("apps/v1beta2", &[], 16, "apps/v1"),
    ("networking.k8s.io/v1beta1", &[], 22, "networking.k8s.io/v1"),
    ("rbac.authorization.k8s.io/v1beta1", &[], 22, "rbac.authorization.k8s.io/v1"),
    ("rbac.authorization.k8s.io/v1alpha1", &[], 22, "rbac.authorization.k8s.io/v1"),
    ("admissionregistration.k8s.io/v1beta1", &["ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"], 22, "admissionregistration.k8s.io/v1"),
    ("apiextensions.k8s.io/v1beta1", &[], 22, "apiextensions.k8s.io/v1"),
    ("apiregistration.k8s.io/v1beta1", &[], 22, "apiregistration.k8s.io/v1"),
    ("certificates.k8s.io/v1beta1", &[], 22, "certificates.k8s.io/v1"),
    ("coordination.k8s.io/v1beta1", &[], 22, "coordination.k8s.io/v1"),
    ("scheduling.k8s.io/v1beta1", &[], 22, "scheduling.k8s.io/v1"),
    ("storage.k8s.io/v1beta1", &["CSIDriver", "CSINode", "StorageClass", "VolumeAttachment"], 22, "storage.k8s.io/v1"),
    ("batch/v1beta1", &["CronJob"], 25, "batch/v1"),
    ("discovery.k8s.io/v1beta1", &[], 25, "discovery.k8s.io/v1"),
    ("events.k8s.io/v1beta1", &[], 25, "events.k8s.io/v1"),
    ("autoscaling/v2beta1", &[], 25, "autoscaling/v2"),
    ("policy/v1beta1", &["PodDisruptionBudget"], 25, "policy/v1"),
    ("policy/v1beta1", &["PodSecurityPolicy"], 25, "nothing: PodSecurityPolicy no longer exists and nothing enforces this one; use Pod Security Admission labels on namespaces"),
    ("node.k8s.io/v1beta1", &[], 25, "node.k8s.io/v1"),
    ("autoscaling/v2beta2", &[], 26, "autoscaling/v2"),
    ("flowcontrol.apiserver.k8s.io/v1beta1", &[], 26, "flowcontrol.apiserver.k8s.io/v1"),
    ("storage.k8s.io/v1beta1", &["CSIStorageCapacity"], 27, "storage.k8s.io/v1"),
    ("flowcontrol.apiserver.k8s.io/v1beta2", &[], 29, "flowcontrol.apiserver.k8s.io/v1"),
    ("flowcontrol.apiserver.k8s.io/v1beta3", &[], 32, "flowcontrol.apiserver.k8s.io/v1"),
];

fn check(object: &Object, version: Version) -> Vec<Violation> {
    let api_version = object.reference.api_version.as_str();
    let kind = object.kind();
    let removed = REMOVED.iter().find(|(api, kinds, _, _)| {
        *api == api_version && (kinds.is_empty() || kinds.contains(&kind))
    });
    match removed {
        Some(&(api, _, minor, replacement)) if version >= Version::new(1, minor) => {
            vec![Violation {
                severity: None,
                path: FieldPath::root().key("apiVersion"),
                message: format!(
                    "{kind} `{api}` was removed in Kubernetes v1.{minor} (assuming {version}): the API server rejects it; use {replacement}"
                ),
            }]
        }
        _ => Vec::new(),
    }
}
