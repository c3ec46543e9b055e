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

/// Resolves a kubectl-style TYPE[/NAME]. `*` is every resource; `RESOURCE.GROUP` is taken as
/// written for types not built in (custom resources).
pub fn parse_target(spec: &str) -> Result<Target, String> {
    if spec.starts_with('/') {
        return Ok(Target::NonResource(spec.to_string()));
    }
    let (type_part, name) = spec.split_once('/').unwrap_or((spec, ""));
    let type_part = type_part.to_ascii_lowercase();
    if type_part == "*" {
        return Ok(Target::Resource {
            group: "*".into(),
            resource: "*".into(),
            name: name.to_string(),
        });
    }
    let lookup = |word: &str, group: Option<&str>| {
        BUILT_IN.iter().find(|(plural, g, singular, short)| {
            group.is_none_or(|want| want == *g)
                && (*plural == word || *singular == word || short.contains(&word))
        })
    };
    let resolved = match type_part.split_once('.') {
        None => lookup(&type_part, None)
            .map(|(plural, group, _, _)| (plural.to_string(), group.to_string())),
        Some((word, group)) => Some(
            lookup(word, Some(group))
                .map(|(plural, group, _, _)| (plural.to_string(), group.to_string()))
                .unwrap_or((word.to_string(), group.to_string())),
        ),
    };
    match resolved {
        Some((resource, group)) => Ok(Target::Resource {
            group,
            resource,
            name: name.to_string(),
        }),
        None => Err(format!(
            "unknown resource type `{type_part}`: use a built-in type (pods, deployments.apps, ...) or RESOURCE.GROUP for custom resources"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resource(spec: &str) -> (String, String, String) {
        match parse_target(spec) {
            Ok(Target::Resource {
                group,
                resource,
                name,
            }) => (group, resource, name),
            other => panic!("{spec}: {other:?}"),
        }
    }

    #[test]
    fn kubectl_type_forms_resolve() {
        assert_eq!(resource("pods"), ("".into(), "pods".into(), "".into()));
        assert_eq!(
            resource("po/web-0"),
            ("".into(), "pods".into(), "web-0".into())
        );
        assert_eq!(
            resource("deployments.apps"),
            ("apps".into(), "deployments".into(), "".into())
        );
        assert_eq!(
            resource("deploy"),
            ("apps".into(), "deployments".into(), "".into())
        );
        assert_eq!(
            resource("rolebindings.rbac.authorization.k8s.io"),
            (
                "rbac.authorization.k8s.io".into(),
                "rolebindings".into(),
                "".into()
            )
        );
        assert_eq!(
            resource("widgets.example.com"),
            ("example.com".into(), "widgets".into(), "".into())
        );
        assert_eq!(
            parse_target("/metrics"),
            Ok(Target::NonResource("/metrics".into()))
        );
        assert!(parse_target("widgets").is_err());
    }
}
