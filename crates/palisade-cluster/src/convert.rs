//! JSON from the API server into Palisade's object model.

use serde_json::Value as Json;

/// The annotation `kubectl apply` keeps: a copy of what was applied (a Secret's data included).
const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// What is dropped from every object as it arrives: `metadata.managedFields` (server-side
/// bookkeeping, often half an object's size) and the last-applied annotation.
pub fn strip_arrival(object: &mut Json) {
    let Some(metadata) = object.get_mut("metadata").and_then(Json::as_object_mut) else {
        return;
    };
    metadata.remove("managedFields");
    if let Some(annotations) = metadata
        .get_mut("annotations")
        .and_then(Json::as_object_mut)
    {
        annotations.remove(LAST_APPLIED);
        if annotations.is_empty() {
            metadata.remove("annotations");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_load::json::to_object;
    use palisade_model::Node;
    use serde_json::json;

    #[test]
    fn arrival_drops_managed_fields_and_the_applied_copy_only() {
        let mut object = json!({
            "apiVersion": "v1", "kind": "Secret",
            "metadata": {
                "name": "db", "namespace": "shop",
                "managedFields": [{"manager": "kubectl"}],
                "annotations": {
                    LAST_APPLIED: "{\"data\":{\"password\":\"aHVudGVyMg==\"}}",
                    "palisade.dev/ignore": "PAL-SEC-001"
                }
            }
        });
        strip_arrival(&mut object);
        let text = object.to_string();
        assert!(!text.contains("managedFields") && !text.contains("aHVudGVyMg"));
        assert_eq!(
            object["metadata"]["annotations"]["palisade.dev/ignore"],
            "PAL-SEC-001"
        );
    }

    #[test]
    fn objects_keep_identity_and_numbers() {
        let object = to_object(&json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "shop"},
            "spec": {"replicas": 3, "template": {"spec": {"securityContext": {"runAsUser": 0}, "containers": []}}}
        }));
        assert_eq!(object.reference.display_name(), "Deployment shop/web");
        assert_eq!(object.group(), "apps");
        let user = object
            .root
            .at(&["spec", "template", "spec", "securityContext", "runAsUser"]);
        assert_eq!(user.and_then(Node::as_i64), Some(0));
        assert!(object.origin.is_none());
    }
}
