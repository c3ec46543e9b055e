//! Resource types in the forms `kubectl auth can-i` accepts: `pods`, `pod`, `po`,
//! `deployments.apps`, `rolebindings.rbac.authorization.k8s.io`, `TYPE/NAME`, and `/path` for
//! non-resource URLs.

/// (plural, group, singular, short names) for the built-in resources.
const BUILT_IN: &[(&str, &str, &str, &[&str])] = &[
    ("pods", "", "pod", &["po"]),
    ("services", "", "service", &["svc"]),
    ("secrets", "", "secret", &[]),
    ("configmaps", "", "configmap", &["cm"]),
    ("serviceaccounts", "", "serviceaccount", &["sa"]),
    ("namespaces", "", "namespace", &["ns"]),
    ("nodes", "", "node", &["no"]),
    ("persistentvolumes", "", "persistentvolume", &["pv"]),
    (
        "persistentvolumeclaims",
        "",
        "persistentvolumeclaim",
        &["pvc"],
    ),
    ("endpoints", "", "endpoints", &["ep"]),
    ("events", "", "event", &["ev"]),
    (
        "replicationcontrollers",
        "",
        "replicationcontroller",
        &["rc"],
    ),
    ("limitranges", "", "limitrange", &["limits"]),
    ("resourcequotas", "", "resourcequota", &["quota"]),
    ("podtemplates", "", "podtemplate", &[]),
    ("bindings", "", "binding", &[]),
    ("componentstatuses", "", "componentstatus", &["cs"]),
    ("deployments", "apps", "deployment", &["deploy"]),
    ("replicasets", "apps", "replicaset", &["rs"]),
    ("statefulsets", "apps", "statefulset", &["sts"]),
    ("daemonsets", "apps", "daemonset", &["ds"]),
    ("controllerrevisions", "apps", "controllerrevision", &[]),
    ("jobs", "batch", "job", &[]),
    ("cronjobs", "batch", "cronjob", &["cj"]),
    ("roles", "rbac.authorization.k8s.io", "role", &[]),
    (
        "rolebindings",
        "rbac.authorization.k8s.io",
        "rolebinding",
        &[],
    ),
    (
        "clusterroles",
        "rbac.authorization.k8s.io",
        "clusterrole",
        &[],
    ),
    (
        "clusterrolebindings",
        "rbac.authorization.k8s.io",
        "clusterrolebinding",
        &[],
    ),
    (
        "networkpolicies",
        "networking.k8s.io",
        "networkpolicy",
        &["netpol"],
    ),
    ("ingresses", "networking.k8s.io", "ingress", &["ing"]),
    ("ingressclasses", "networking.k8s.io", "ingressclass", &[]),
    (
        "poddisruptionbudgets",
        "policy",
        "poddisruptionbudget",
        &["pdb"],
    ),
    (
        "horizontalpodautoscalers",
        "autoscaling",
        "horizontalpodautoscaler",
        &["hpa"],
    ),
    ("storageclasses", "storage.k8s.io", "storageclass", &["sc"]),
    ("csidrivers", "storage.k8s.io", "csidriver", &[]),
    ("csinodes", "storage.k8s.io", "csinode", &[]),
    (
        "volumeattachments",
        "storage.k8s.io",
        "volumeattachment",
        &[],
    ),
    (
        "validatingwebhookconfigurations",
        "admissionregistration.k8s.io",
        "validatingwebhookconfiguration",
        &[],
    ),
    (
        "mutatingwebhookconfigurations",
        "admissionregistration.k8s.io",
        "mutatingwebhookconfiguration",
        &[],
    ),
    (
        "validatingadmissionpolicies",
        "admissionregistration.k8s.io",
        "validatingadmissionpolicy",
        &[],
    ),
    (
        "validatingadmissionpolicybindings",
        "admissionregistration.k8s.io",
        "validatingadmissionpolicybinding",
        &[],
    ),
    (
        "customresourcedefinitions",
        "apiextensions.k8s.io",
        "customresourcedefinition",
        &["crd", "crds"],
    ),
    ("apiservices", "apiregistration.k8s.io", "apiservice", &[]),
    (
        "certificatesigningrequests",
        "certificates.k8s.io",
        "certificatesigningrequest",
        &["csr"],
    ),
    ("signers", "certificates.k8s.io", "signer", &[]),
    ("leases", "coordination.k8s.io", "lease", &[]),
    ("endpointslices", "discovery.k8s.io", "endpointslice", &[]),
    (
        "priorityclasses",
        "scheduling.k8s.io",
        "priorityclass",
        &["pc"],
    ),
    ("runtimeclasses", "node.k8s.io", "runtimeclass", &[]),
    ("tokenreviews", "authentication.k8s.io", "tokenreview", &[]),
    (
        "subjectaccessreviews",
        "authorization.k8s.io",
        "subjectaccessreview",
        &[],
    ),
    (
        "selfsubjectaccessreviews",
        "authorization.k8s.io",
        "selfsubjectaccessreview",
        &[],
    ),
    (
        "localsubjectaccessreviews",
        "authorization.k8s.io",
        "localsubjectaccessreview",
        &[],
    ),
    (
        "flowschemas",
        "flowcontrol.apiserver.k8s.io",
        "flowschema",
        &[],
    ),
    (
        "prioritylevelconfigurations",
        "flowcontrol.apiserver.k8s.io",
        "prioritylevelconfiguration",
        &[],
    ),
];

/// Resources whose objects live outside namespaces: a request for them never carries a
/// namespace, so only ClusterRoleBindings can grant them (`namespaces` aside: the API server
/// takes a named namespace as the request's namespace).
const CLUSTER_SCOPED: &[(&str, &str)] = &[
    ("", "nodes"),
    ("", "persistentvolumes"),
    ("", "componentstatuses"),
    ("", "users"),
    ("", "groups"),
    ("authentication.k8s.io", "userextras"),
    ("authentication.k8s.io", "uids"),
    ("rbac.authorization.k8s.io", "clusterroles"),
    ("rbac.authorization.k8s.io", "clusterrolebindings"),
    ("networking.k8s.io", "ingressclasses"),
    ("networking.k8s.io", "ipaddresses"),
    ("networking.k8s.io", "servicecidrs"),
    ("storage.k8s.io", "storageclasses"),
    ("storage.k8s.io", "csidrivers"),
    ("storage.k8s.io", "csinodes"),
    ("storage.k8s.io", "volumeattachments"),
    (
        "admissionregistration.k8s.io",
        "validatingwebhookconfigurations",
    ),
    (
        "admissionregistration.k8s.io",
        "mutatingwebhookconfigurations",
    ),
    (
        "admissionregistration.k8s.io",
        "validatingadmissionpolicies",
    ),
    (
        "admissionregistration.k8s.io",
        "validatingadmissionpolicybindings",
    ),
    ("admissionregistration.k8s.io", "mutatingadmissionpolicies"),
    (
        "admissionregistration.k8s.io",
        "mutatingadmissionpolicybindings",
    ),
    ("apiextensions.k8s.io", "customresourcedefinitions"),
    ("apiregistration.k8s.io", "apiservices"),
    ("certificates.k8s.io", "certificatesigningrequests"),
    ("certificates.k8s.io", "signers"),
    ("certificates.k8s.io", "clustertrustbundles"),
    ("scheduling.k8s.io", "priorityclasses"),
    ("node.k8s.io", "runtimeclasses"),
    ("authentication.k8s.io", "tokenreviews"),
    ("authentication.k8s.io", "selfsubjectreviews"),
    ("authorization.k8s.io", "subjectaccessreviews"),
    ("authorization.k8s.io", "selfsubjectaccessreviews"),
    ("authorization.k8s.io", "selfsubjectrulesreviews"),
    ("flowcontrol.apiserver.k8s.io", "flowschemas"),
    (
        "flowcontrol.apiserver.k8s.io",
        "prioritylevelconfigurations",
    ),
    ("policy", "podsecuritypolicies"),
];

/// Whether `group`/`resource` is a cluster-scoped resource Palisade knows.
pub fn is_cluster_scoped(group: &str, resource: &str) -> bool {
    CLUSTER_SCOPED.contains(&(group, resource))
}

/// Names kubectl passes through without asking the server (they are not API resources).
const NON_STANDARD: &[&str] = &["users", "groups"];

/// What a TYPE argument names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    Resource {
        group: String,
        resource: String,
        name: String,
    },
    NonResource(String),
}

/// A resolved TYPE argument, with the warning kubectl would print for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Parsed {
    pub target: Target,
    pub warning: Option<String>,
}

/// `v1`, `v1beta2`, `v2alpha1`: the version part of `RESOURCE.VERSION.GROUP`.
fn is_version(word: &str) -> bool {
    let Some(rest) = word.strip_prefix('v') else {
        return false;
    };
    let digits = rest.trim_start_matches(|c: char| c.is_ascii_digit());
    if digits.len() == rest.len() {
        return false;
    }
    ["", "alpha", "beta"].iter().any(|stage| {
        digits.strip_prefix(stage).is_some_and(|n| {
            (stage.is_empty() && n.is_empty())
                || (!stage.is_empty() && !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
        })
    })
}

/// Resolves a kubectl-style TYPE[/NAME] as `kubectl auth can-i` does: `*` is every resource
/// of the core group (what kubectl sends), `RESOURCE.GROUP` and `RESOURCE.VERSION.GROUP` name
/// a group, and a type Palisade does not know (a custom resource, `users`) is asked about as
/// written, with a warning where kubectl warns.
pub fn parse_target(spec: &str) -> Parsed {
    if spec.starts_with('/') {
        return Parsed {
            target: Target::NonResource(spec.to_string()),
            warning: None,
        };
    }
    let (type_part, name) = spec.split_once('/').unwrap_or((spec, ""));
    let type_part = type_part.to_ascii_lowercase();
    let resource = |group: &str, resource: &str, warning: Option<String>| Parsed {
        target: Target::Resource {
            group: group.to_string(),
            resource: resource.to_string(),
            name: name.to_string(),
        },
        warning,
    };
    if type_part == "*" {
        return resource("", "*", None);
    }
    let lookup = |word: &str, group: Option<&str>| {
        BUILT_IN
            .iter()
            .find(|(plural, g, singular, short)| {
                group.is_none_or(|want| want == *g)
                    && (*plural == word || *singular == word || short.contains(&word))
            })
            .map(|(plural, group, _, _)| (*plural, *group))
    };
    let (word, group) = match type_part.split_once('.') {
        None => (type_part.as_str(), None),
        Some((word, rest)) => match rest.split_once('.') {
            // `deployments.v1.apps`: the version is dropped, as kubectl's RESTMapper does.
            Some((version, group)) if is_version(version) => (word, Some(group)),
            _ => (word, Some(rest)),
        },
    };
    if let Some((plural, group)) = lookup(word, group) {
        return resource(group, plural, None);
    }
    let group = group.unwrap_or_default();
    let warning = (!(group.is_empty() && NON_STANDARD.contains(&word))).then(|| {
        if group.is_empty() {
            format!("Palisade does not know a resource type '{word}'; asking about it as written")
        } else {
            format!(
                "Palisade does not know a resource type '{word}' in group '{group}'; asking about it as written"
            )
        }
    });
    resource(group, word, warning)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resource(spec: &str) -> (String, String, String) {
        match parse_target(spec).target {
            Target::Resource {
                group,
                resource,
                name,
            } => (group, resource, name),
            other => panic!("{spec}: {other:?}"),
        }
    }

    fn owned(group: &str, resource: &str, name: &str) -> (String, String, String) {
        (group.into(), resource.into(), name.into())
    }

    #[test]
    fn kubectl_type_forms_resolve() {
        assert_eq!(resource("pods"), owned("", "pods", ""));
        assert_eq!(resource("po/web-0"), owned("", "pods", "web-0"));
        assert_eq!(
            resource("deployments.apps"),
            owned("apps", "deployments", "")
        );
        assert_eq!(resource("deploy"), owned("apps", "deployments", ""));
        assert_eq!(
            resource("rolebindings.rbac.authorization.k8s.io"),
            owned("rbac.authorization.k8s.io", "rolebindings", "")
        );
        assert_eq!(
            resource("widgets.example.com"),
            owned("example.com", "widgets", "")
        );
        assert_eq!(
            parse_target("/metrics").target,
            Target::NonResource("/metrics".into())
        );
    }

    #[test]
    fn an_unknown_type_of_a_known_group_keeps_its_group() {
        let parsed = parse_target("deployments.batch");
        assert_eq!(
            resource("deployments.batch"),
            owned("batch", "deployments", "")
        );
        assert!(parsed
            .warning
            .is_some_and(|w| w.contains("'deployments' in group 'batch'")));
        assert!(!is_cluster_scoped("batch", "deployments"));
    }

    #[test]
    fn resource_version_group_drops_the_version() {
        assert_eq!(
            resource("deployments.v1.apps"),
            owned("apps", "deployments", "")
        );
        assert_eq!(
            resource("cronjobs.v1beta1.batch/nightly"),
            owned("batch", "cronjobs", "nightly")
        );
        assert_eq!(
            resource("widgets.v1alpha1.example.com"),
            owned("example.com", "widgets", "")
        );
        // `v1` alone is not a group: `pods.v1` is not a version form.
        assert!(!is_version("vx"));
        assert!(!is_version("v1beta"));
        assert!(is_version("v2beta3"));
    }

    #[test]
    fn star_is_the_core_group_as_kubectl_sends_it() {
        assert_eq!(resource("*"), owned("", "*", ""));
        assert_eq!(parse_target("*").warning, None);
    }

    #[test]
    fn unknown_types_are_asked_about_with_a_warning() {
        let parsed = parse_target("widgets");
        assert_eq!(resource("widgets"), owned("", "widgets", ""));
        assert!(parsed.warning.is_some_and(|w| w.contains("'widgets'")));
        let parsed = parse_target("users/alice");
        assert_eq!(resource("users/alice"), owned("", "users", "alice"));
        assert_eq!(
            parsed.warning, None,
            "kubectl passes users and groups through"
        );
        assert_eq!(parse_target("groups").warning, None);
        let crd = parse_target("widgets.example.com");
        assert_eq!(
            crd.warning
                .as_deref()
                .map(|w| w.contains("group 'example.com'")),
            Some(true)
        );
    }

    #[test]
    fn cluster_scoped_resources_are_known() {
        assert!(is_cluster_scoped("", "nodes"));
        assert!(is_cluster_scoped(
            "certificates.k8s.io",
            "certificatesigningrequests"
        ));
        assert!(!is_cluster_scoped("", "pods"));
        assert!(!is_cluster_scoped("", "namespaces"));
    }
}
