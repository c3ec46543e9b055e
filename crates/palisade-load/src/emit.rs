//! Block-style YAML written from JSON values, read back by this crate's loader as the same
//! values: snapshots, generated policies, exported admission policies and fixed manifests.

use serde_json::Value as Json;

/// `value` as a list item at the first level of indentation (`- key: ...`), as a `List`'s
/// `items` hold them.
pub fn yaml_list_item(out: &mut String, value: &Json) {
    yaml_value(out, value, 1, true);
}

/// One YAML document for a JSON value (see [`yaml_value`]).
pub fn yaml_document(value: &Json) -> String {
    let mut out = String::new();
    yaml_value(&mut out, value, 0, false);
    out
}

/// Block-style YAML for a JSON value: every string double-quoted (JSON escapes are valid YAML),
/// so nothing is re-typed on the way back (`"true"`, `"0755"`, `"1e3"` stay strings).
fn yaml_value(out: &mut String, value: &Json, indent: usize, list_item: bool) {
    let pad = "  ".repeat(indent);
    match value {
        Json::Object(map) if !map.is_empty() => {
            let mut first = true;
            for (key, value) in map {
                if list_item && first {
                    out.push_str(&"  ".repeat(indent - 1));
                    out.push_str("- ");
                } else {
                    out.push_str(&pad);
                }
                first = false;
                out.push_str(&quote(key));
                out.push(':');
                scalar_or_block(out, value, indent + 1);
            }
        }
        Json::Array(items) if !items.is_empty() => {
            for item in items {
                match item {
                    Json::Object(map) if !map.is_empty() => yaml_value(out, item, indent + 1, true),
                    _ => {
                        out.push_str(&pad);
                        out.push('-');
                        scalar_or_block(out, item, indent + 1);
                    }
                }
            }
        }
        _ => {
            if list_item {
                out.push_str(&"  ".repeat(indent.saturating_sub(1)));
                out.push_str("- ");
            } else {
                out.push_str(&pad);
            }
            out.push_str(&inline(value));
            out.push('\n');
        }
    }
}

/// After `key:` or `-`: a scalar or empty collection on the same line, else a nested block.
fn scalar_or_block(out: &mut String, value: &Json, indent: usize) {
    match value {
        Json::Object(map) if !map.is_empty() => {
            out.push('\n');
            yaml_value(out, value, indent, false);
        }
        Json::Array(items) if !items.is_empty() => {
            out.push('\n');
            yaml_value(out, value, indent - 1, false);
        }
        _ => {
            out.push(' ');
            out.push_str(&inline(value));
            out.push('\n');
        }
    }
}

fn inline(value: &Json) -> String {
    match value {
        Json::String(s) => quote(s),
        Json::Object(_) => "{}".into(),
        Json::Array(_) => "[]".into(),
        other => other.to_string(),
    }
}

/// A string as YAML: plain where no YAML reader could take it for anything else (as kubectl
/// prints `name: web`), else double-quoted. Plain needs a letter first (a digit, `-`, `.`
/// or an indicator could read as a number or as syntax), only name-like characters after
/// it (no space, no `#`, no `:` at the end), and no word that YAML 1.1 reads as a boolean
/// or null (`on`, `yes`, `null`, ...).
fn quote(text: &str) -> String {
    let name_like =
        |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '/' | '-' | ':' | '@' | '+');
    let plain = text.starts_with(|c: char| c.is_ascii_alphabetic())
        && text.chars().all(name_like)
        && !text.ends_with(':')
        && !matches!(
            text.to_ascii_lowercase().as_str(),
            "y" | "n" | "yes" | "no" | "on" | "off" | "true" | "false" | "null"
        );
    if plain {
        text.to_string()
    } else {
        Json::String(text.to_string()).to_string()
    }
}
