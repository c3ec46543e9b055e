//! Manifests as JSON for the API server, parsed by Palisade's own loader (so tests apply
//! exactly the objects that a file scan reads).

use std::sync::Arc;

use palisade_load::{load_text, Loaded};
use serde_json::Value as Json;

/// Every object in `yaml`, as JSON.
pub fn objects(yaml: &str) -> Result<Vec<Json>, String> {
    let name: Arc<str> = Arc::from("test objects");
    let mut objects = Vec::new();
    let mut errors = Vec::new();
    load_text(&name, yaml, &mut |loaded| match loaded {
        Loaded::Object(object) => objects.push(palisade_load::json::to_json(&object.root)),
        Loaded::Skipped => {}
        Loaded::Error(e) | Loaded::Warning(e) => errors.push(e.to_string()),
    });
    if errors.is_empty() {
        Ok(objects)
    } else {
        Err(errors.join("; "))
    }
}
