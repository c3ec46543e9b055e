//! Manifests as JSON for the API server, parsed by Palisade's own loader (so tests apply
//! exactly the objects that a file scan reads).

use std::sync::Arc;

use palisade_load::{load_text, Loaded};
use palisade_model::{Node, Value};
use serde_json::Value as Json;

/// Every object in `yaml`, as JSON.
pub fn objects(yaml: &str) -> Result<Vec<Json>, String> {
    let name: Arc<str> = Arc::from("test objects");
    let mut objects = Vec::new();
    let mut errors = Vec::new();
    load_text(&name, yaml, &mut |loaded| match loaded {
        Loaded::Object(object) => objects.push(to_json(&object.root)),
        Loaded::Skipped => {}
        Loaded::Error(e) | Loaded::Warning(e) => errors.push(e.to_string()),
    });
    if errors.is_empty() {
        Ok(objects)
    } else {
        Err(errors.join("; "))
    }
}

fn to_json(node: &Node) -> Json {
    match &node.value {
        Value::Null => Json::Null,
        Value::Bool(b) => Json::Bool(*b),
        Value::Int(i) => Json::from(*i),
        Value::Float(f) => serde_json::Number::from_f64(*f).map_or(Json::Null, Json::Number),
        Value::Str(s) => Json::String(s.clone()),
        Value::Seq(items) => Json::Array(items.iter().map(to_json).collect()),
        Value::Map(entries) => Json::Object(
            entries
                .iter()
                .map(|e| (e.key.clone(), to_json(&e.value)))
                .collect(),
        ),
    }
}
