//! What a component was granted against what it asked for: the grants of the RBAC objects in
//! its manifests, and the requests the API server's audit log shows it made. A grant it never
//! used is a permission an attacker who takes the component gets for free.

use std::collections::BTreeSet;
use std::path::Path;

/// One permission: (verb, API group, resource with subresource, resource name or `*`).
pub type Permission = (String, String, String, String);

/// The (verb, group, resource, name) of every request `username` made, from an audit log of
/// JSON lines; names only where the request named an object.
pub fn requests_of(audit_log: &Path, username: &str) -> BTreeSet<Permission> {
    let text = std::fs::read_to_string(audit_log).unwrap_or_default();
    let mut out = BTreeSet::new();
    for line in text.lines() {
        let Ok(event) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        if event.pointer("/user/username").and_then(|u| u.as_str()) != Some(username) {
            continue;
        }
        let Some(object) = event.get("objectRef") else {
            continue;
        };
        let text = |key: &str| object.get(key).and_then(|v| v.as_str()).unwrap_or("");
        let resource = match text("subresource") {
            "" => text("resource").to_string(),
            sub => format!("{}/{sub}", text("resource")),
        };
        let verb = event.get("verb").and_then(|v| v.as_str()).unwrap_or("");
        let name = match text("name") {
            "" => "*",
            name => name,
        };
        out.insert((
            verb.to_string(),
            text("apiGroup").to_string(),
            resource,
            name.to_string(),
        ));
    }
    out
}

/// Every (verb, group, resource, name or `*`) that the Roles and ClusterRoles named in `roles`
/// grant, from the manifests' YAML.
pub fn granted(manifests: &str, roles: &[&str]) -> BTreeSet<Permission> {
    let mut out = BTreeSet::new();
    for object in crate::yaml::objects(manifests).unwrap_or_default() {
        let kind = object["kind"].as_str().unwrap_or("");
        let name = object["metadata"]["name"].as_str().unwrap_or("");
        if !matches!(kind, "Role" | "ClusterRole") || !roles.contains(&name) {
            continue;
        }
        let list = |rule: &serde_json::Value, key: &str| -> Vec<String> {
            rule[key]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default()
        };
        for rule in object["rules"].as_array().cloned().unwrap_or_default() {
            let mut names = list(&rule, "resourceNames");
            if names.is_empty() {
                names.push("*".to_string());
            }
            for verb in list(&rule, "verbs") {
                for group in list(&rule, "apiGroups") {
                    for resource in list(&rule, "resources") {
                        for name in &names {
                            out.insert((
                                verb.clone(),
                                group.clone(),
                                resource.clone(),
                                name.clone(),
                            ));
                        }
                    }
                }
            }
        }
    }
    out
}

/// The grants no request used: a grant of a named object is used by a request for that name;
/// one of every object (`*`) by any request of its verb, group and resource. A server-side
/// apply that creates its object is logged as `patch` but authorized as `create` too.
pub fn unused(granted: &BTreeSet<Permission>, requests: &BTreeSet<Permission>) -> Vec<Permission> {
    granted
        .iter()
        .filter(|(verb, group, resource, name)| {
            !requests.iter().any(|(v, g, r, n)| {
                let same_verb = v == verb || (verb == "create" && v == "patch");
                same_verb && g == group && r == resource && (name == "*" || n == name)
            })
        })
        .cloned()
        .collect()
}

/// The requests no grant covers (they were refused, 403).
pub fn ungranted(
    granted: &BTreeSet<Permission>,
    requests: &BTreeSet<Permission>,
) -> Vec<Permission> {
    requests
        .iter()
        .filter(|(v, g, r, n)| {
            !granted.iter().any(|(verb, group, resource, name)| {
                v == verb && g == group && r == resource && (name == "*" || n == name)
            })
        })
        .cloned()
        .collect()
}
