//! JSON values (a cluster's objects, an AdmissionReview's object) as Palisade's object model.

use palisade_model::{Entry, Node, Object, Pos, Value};
use serde_json::Value as Json;

/// A JSON value as a [`Node`] tree; live objects have no source, so every position is 0:0.
pub fn to_node(value: &Json) -> Node {
    let at = Pos::default();
    let value = match value {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i),
            None => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        Json::String(s) => Value::Str(s.clone()),
        Json::Array(items) => Value::Seq(items.iter().map(to_node).collect()),
        Json::Object(map) => Value::Map(
            map.iter()
                .map(|(key, value)| Entry {
                    key: key.clone(),
                    key_pos: at,
                    value: to_node(value),
                })
                .collect(),
        ),
    };
    Node::new(value, at)
}

/// A tree as JSON (the inverse of [`to_node`], positions dropped): scalars keep the types YAML
/// 1.1 gave them, so `yes` is a boolean as Kubernetes reads it.
pub fn to_json(node: &Node) -> Json {
    match &node.value {
        Value::Null => Json::Null,
        Value::Bool(b) => Json::Bool(*b),
        Value::Int(i) => Json::from(*i),
        Value::Float(f) => Json::from(*f),
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

/// An object that has no file (read from a cluster or an AdmissionReview; `apiVersion` and `kind`
/// set): findings on it have no location.
pub fn to_object(value: &Json) -> Object {
    let text = |key: &str| {
        value
            .get(key)
            .and_then(Json::as_str)
            .unwrap_or("")
            .to_string()
    };
    Object::new(text("apiVersion"), text("kind"), to_node(value), None)
}
