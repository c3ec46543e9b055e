//! One `audit.k8s.io/v1` Event, with only the fields Palisade reads. Bodies of Secret
//! requests are dropped on arrival, so nothing downstream can print them.

use std::collections::BTreeMap;

use palisade_model::ObjectRef;
use serde::Deserialize;

/// Who made a request, as the API server authenticated it.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
pub struct EventUser {
    #[serde(default)]
    pub username: String,
    #[serde(default)]
    pub groups: Vec<String>,
}

/// What a request was about (`objectRef`).
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct EventObject {
    #[serde(default)]
    pub resource: String,
    #[serde(default)]
    pub namespace: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub api_group: String,
    #[serde(default)]
    pub api_version: String,
    #[serde(default)]
    pub subresource: String,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
pub struct EventStatus {
    pub code: Option<u16>,
}

/// An audit event.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditEvent {
    #[serde(default)]
    pub api_version: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub level: String,
    #[serde(default, rename = "auditID")]
    pub audit_id: String,
    #[serde(default)]
    pub stage: String,
    #[serde(default, rename = "requestURI")]
    pub request_uri: String,
    #[serde(default)]
    pub verb: String,
    #[serde(default)]
    pub user: EventUser,
    pub impersonated_user: Option<EventUser>,
    #[serde(default, rename = "sourceIPs")]
    pub source_ips: Vec<String>,
    #[serde(default)]
    pub user_agent: String,
    pub object_ref: Option<EventObject>,
    pub response_status: Option<EventStatus>,
    /// The request body, where the policy level logs it (`Request` and above); never kept for
    /// Secrets.
    pub request_object: Option<serde_json::Value>,
    #[serde(default)]
    pub request_received_timestamp: String,
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    /// The name the server gave the object (`responseObject.metadata.name`), where the policy
    /// logs responses: all that is kept of a response, which names an object created with
    /// `generateName`.
    #[serde(default, rename = "responseObject")]
    pub response: Option<ResponseName>,
}

/// What is kept of a logged response: the object's name, never its content.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct ResponseName {
    #[serde(default)]
    metadata: ResponseMetadata,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
struct ResponseMetadata {
    #[serde(default)]
    name: String,
}

/// What the authorizer decided, from the event's annotations (or its status code where the
/// server wrote none).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    Allowed,
    /// 403: authenticated, not authorized.
    Forbidden,
    /// 401: not authenticated.
    Unauthenticated,
}

impl AuditEvent {
    /// Parses one JSON line, dropping what must never be kept.
    pub fn parse(line: &str) -> Result<Self, serde_json::Error> {
        let mut event: AuditEvent = serde_json::from_str(line)?;
        event.forget_secret_bodies();
        Ok(event)
    }

    /// Why this is not an `audit.k8s.io` Event, if it is not. Items of an `EventList` may leave
    /// their apiVersion and kind to the list (`inherited`); a line of a log may not, since a
    /// `{}` or a core `v1` Event would otherwise be judged as a request that never happened.
    pub fn not_an_audit_event(&self, inherited: bool) -> Option<String> {
        if inherited && self.api_version.is_empty() && self.kind.is_empty() {
            return None;
        }
        let group_ok = self
            .api_version
            .strip_prefix("audit.k8s.io/")
            .is_some_and(|version| matches!(version, "v1" | "v1beta1" | "v1alpha1"));
        match (group_ok, self.kind.as_str()) {
            (true, "Event") => None,
            _ if self.api_version.is_empty() && self.kind.is_empty() => {
                Some("no apiVersion and kind: not an audit event".to_string())
            }
            _ => Some(format!(
                "a {} {} is not an audit event (audit.k8s.io/v1 Event)",
                shown(&self.api_version, "(no apiVersion)"),
                shown(&self.kind, "(no kind)"),
            )),
        }
    }

    pub(crate) fn forget_secret_bodies(&mut self) {
        if self.resource() == "secrets" {
            self.request_object = None;
        }
    }

    /// The name the server gave the object, when the response was logged: what names an object
    /// created with `generateName`, whose request has none.
    pub fn response_object_name(&self) -> Option<&str> {
        self.response
            .as_ref()
            .map(|r| r.metadata.name.as_str())
            .filter(|name| !name.is_empty())
    }

    /// The user the request acted as: the impersonated one when impersonation was used.
    pub fn acting_user(&self) -> &EventUser {
        self.impersonated_user.as_ref().unwrap_or(&self.user)
    }

    pub fn resource(&self) -> &str {
        self.object_ref.as_ref().map_or("", |o| o.resource.as_str())
    }

    pub fn subresource(&self) -> &str {
        self.object_ref
            .as_ref()
            .map_or("", |o| o.subresource.as_str())
    }

    pub fn namespace(&self) -> &str {
        self.object_ref
            .as_ref()
            .map_or("", |o| o.namespace.as_str())
    }

    pub fn api_group(&self) -> &str {
        self.object_ref
            .as_ref()
            .map_or("", |o| o.api_group.as_str())
    }

    pub fn name(&self) -> &str {
        self.object_ref.as_ref().map_or("", |o| o.name.as_str())
    }

    pub fn status_code(&self) -> Option<u16> {
        self.response_status.as_ref().and_then(|s| s.code)
    }

    pub fn decision(&self) -> Decision {
        match self
            .annotations
            .get("authorization.k8s.io/decision")
            .map(String::as_str)
        {
            Some("allow") => Decision::Allowed,
            Some(_) => Decision::Forbidden,
            None => match self.status_code() {
                Some(401) => Decision::Unauthenticated,
                Some(403) => Decision::Forbidden,
                _ => Decision::Allowed,
            },
        }
    }

    pub fn allowed(&self) -> bool {
        self.decision() == Decision::Allowed
    }

    /// A request that changes something.
    pub fn is_write(&self) -> bool {
        matches!(
            self.verb.as_str(),
            "create" | "update" | "patch" | "delete" | "deletecollection"
        )
    }

    /// A request for a non-resource URL (`/healthz`, `/metrics`, ...).
    pub fn is_non_resource(&self) -> bool {
        self.object_ref.is_none()
    }

    /// The first source IP, or `unknown`.
    pub fn source(&self) -> &str {
        self.source_ips.first().map_or("unknown", String::as_str)
    }

    /// The object a finding about this event is about: the request's target (a pod for
    /// `pods/exec`), with its kind where Palisade knows the resource.
    pub fn object(&self) -> ObjectRef {
        let Some(object) = &self.object_ref else {
            return ObjectRef {
                api_version: String::new(),
                kind: "NonResourceURL".into(),
                namespace: None,
                name: self.request_uri.clone(),
            };
        };
        let api_version = match (object.api_group.as_str(), object.api_version.as_str()) {
            ("", version) => version.to_string(),
            (group, "") => group.to_string(),
            (group, version) => format!("{group}/{version}"),
        };
        ObjectRef {
            api_version,
            kind: kind_of(&object.api_group, &object.resource),
            namespace: (!object.namespace.is_empty()).then(|| object.namespace.clone()),
            name: if !object.name.is_empty() {
                object.name.clone()
            } else if let Some(name) = self.response_object_name() {
                name.to_string()
            } else {
                format!("({} {})", self.verb, object.resource)
            },
        }
    }

    /// `user alice (from 10.0.0.7)`, with the impersonator when there is one.
    pub fn who(&self) -> String {
        let acting = self.acting_user();
        let by = match &self.impersonated_user {
            Some(_) => format!(", impersonated by {}", self.user.username),
            None => String::new(),
        };
        format!(
            "{}{by} from {}",
            display_user(&acting.username),
            self.source_ips.join(", ")
        )
    }

    /// `create pods/exec`: the verb and the resource it was asked on.
    pub fn action(&self) -> String {
        match &self.object_ref {
            None => format!("{} {}", self.verb, self.request_uri),
            Some(o) if o.subresource.is_empty() => format!("{} {}", self.verb, o.resource),
            Some(o) => format!("{} {}/{}", self.verb, o.resource, o.subresource),
        }
    }

    /// Seconds since the Unix epoch of `requestReceivedTimestamp`, when it parses.
    pub fn received_at(&self) -> Option<i64> {
        parse_timestamp(&self.request_received_timestamp)
    }
}

/// Text from the log, short and on one line, for an error message.
fn shown(text: &str, empty: &str) -> String {
    if text.is_empty() {
        return empty.to_string();
    }
    let mut out: String = text.chars().filter(|c| !c.is_control()).take(60).collect();
    if text.chars().count() > 60 {
        out.push('…');
    }
    out
}

fn display_user(name: &str) -> String {
    match name
        .strip_prefix("system:serviceaccount:")
        .and_then(|rest| rest.split_once(':'))
    {
        Some((ns, sa)) => format!("ServiceAccount {ns}/{sa}"),
        None => format!("user {name}"),
    }
}

/// Kubernetes' own identities: the control plane's components, nodes, and the controllers that
/// run as the kube-system service accounts Kubernetes' default policy binds. Any other
/// kube-system account is judged like any other: a stolen `kube-system:default` token
/// creating a privileged pod is the classic.
pub fn is_control_plane(user: &EventUser) -> bool {
    let name = user.username.as_str();
    let control_plane_account = name
        .strip_prefix("system:serviceaccount:kube-system:")
        .is_some_and(palisade_analysis::rbac::is_control_plane_account);
    matches!(
        name,
        "system:kube-controller-manager"
            | "system:kube-scheduler"
            | "system:apiserver"
            | "system:kube-proxy"
            | "system:volume-scheduler"
    ) || name.starts_with("system:node:")
        || control_plane_account
        || user.groups.iter().any(|g| g == "system:nodes")
}

/// The kinds of the resources audit findings usually name.
const KINDS: &[(&str, &str, &str)] = &[
    ("", "pods", "Pod"),
    ("", "secrets", "Secret"),
    ("", "configmaps", "ConfigMap"),
    ("", "serviceaccounts", "ServiceAccount"),
    ("", "services", "Service"),
    ("", "nodes", "Node"),
    ("", "namespaces", "Namespace"),
    ("", "persistentvolumes", "PersistentVolume"),
    ("", "events", "Event"),
    ("apps", "deployments", "Deployment"),
    ("apps", "daemonsets", "DaemonSet"),
    ("apps", "statefulsets", "StatefulSet"),
    ("apps", "replicasets", "ReplicaSet"),
    ("batch", "jobs", "Job"),
    ("batch", "cronjobs", "CronJob"),
    ("rbac.authorization.k8s.io", "roles", "Role"),
    ("rbac.authorization.k8s.io", "clusterroles", "ClusterRole"),
    ("rbac.authorization.k8s.io", "rolebindings", "RoleBinding"),
    (
        "rbac.authorization.k8s.io",
        "clusterrolebindings",
        "ClusterRoleBinding",
    ),
    (
        "admissionregistration.k8s.io",
        "validatingwebhookconfigurations",
        "ValidatingWebhookConfiguration",
    ),
    (
        "admissionregistration.k8s.io",
        "mutatingwebhookconfigurations",
        "MutatingWebhookConfiguration",
    ),
    (
        "certificates.k8s.io",
        "certificatesigningrequests",
        "CertificateSigningRequest",
    ),
    ("networking.k8s.io", "networkpolicies", "NetworkPolicy"),
    ("coordination.k8s.io", "leases", "Lease"),
];

fn kind_of(group: &str, resource: &str) -> String {
    KINDS
        .iter()
        .find(|(g, r, _)| *g == group && *r == resource)
        .map_or_else(|| resource.to_string(), |(_, _, kind)| kind.to_string())
}

/// `2026-11-30T04:45:56.123456Z` (or with an offset) as seconds since the Unix epoch.
pub fn parse_timestamp(text: &str) -> Option<i64> {
    let number =
        |range: std::ops::Range<usize>| -> Option<i64> { text.get(range)?.parse::<i64>().ok() };
    let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
    let (hour, minute, second) = (number(11..13)?, number(14..16)?, number(17..19)?);
    if text.get(4..5)? != "-" || text.get(10..11).is_none_or(|t| t != "T" && t != " ") {
        return None;
    }
    let rest = text.get(19..)?;
    let rest = rest.strip_prefix('.').map_or(rest, |fraction| {
        fraction.trim_start_matches(|c: char| c.is_ascii_digit())
    });
    let offset = match rest {
        "Z" | "z" | "" => 0,
        _ => {
            let sign = match rest.get(0..1)? {
                "+" => 1,
                "-" => -1,
                _ => return None,
            };
            let hours: i64 = rest.get(1..3)?.parse().ok()?;
            let minutes: i64 = rest.get(4..6)?.parse().ok()?;
            sign * (hours * 3600 + minutes * 60)
        }
    };
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + hour * 3600 + minute * 60 + second - offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_parse_with_fractions_and_offsets() {
        assert_eq!(parse_timestamp("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            parse_timestamp("2026-11-30T04:45:56.123456Z"),
            Some(1_796_013_956)
        );
        assert_eq!(
            parse_timestamp("2026-11-30T05:45:56+01:00"),
            Some(1_796_013_956)
        );
        assert_eq!(parse_timestamp("yesterday"), None);
    }

    #[test]
    fn secret_bodies_are_dropped_on_arrival() {
        let line = r#"{"kind":"Event","verb":"create","objectRef":{"resource":"secrets","namespace":"shop","name":"db"},"requestObject":{"data":{"password":"aHVudGVyMg=="}}}"#;
        let event = AuditEvent::parse(line).expect("parses");
        assert!(event.request_object.is_none());
    }

    #[test]
    fn the_decision_comes_from_the_annotation_or_the_status() {
        let mut event = AuditEvent::default();
        assert!(event.allowed());
        event.response_status = Some(EventStatus { code: Some(401) });
        assert_eq!(event.decision(), Decision::Unauthenticated);
        event
            .annotations
            .insert("authorization.k8s.io/decision".into(), "forbid".into());
        assert_eq!(event.decision(), Decision::Forbidden);
    }
}
