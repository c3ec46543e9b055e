//! `palisade snapshot`: what a live scan reads, written as one `v1` `List` (JSON or YAML),
//! item by item, so memory does not grow with the cluster.

use std::io::Write;

use serde_json::Value as Json;

/// The snapshot's format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SnapshotFormat {
    Yaml,
    Json,
}

/// Writes a `List` one item at a time.
pub struct SnapshotWriter<W: Write> {
    out: W,
    format: SnapshotFormat,
    items: usize,
}

impl<W: Write> SnapshotWriter<W> {
    /// Starts the list; `header` lines become YAML comments (JSON has none).
    pub fn new(mut out: W, format: SnapshotFormat, header: &[String]) -> std::io::Result<Self> {
        match format {
            SnapshotFormat::Yaml => {
                for line in header {
                    writeln!(out, "# {line}")?;
                }
                out.write_all(b"apiVersion: v1\nkind: List\nitems:\n")?;
            }
            SnapshotFormat::Json => {
                out.write_all(b"{\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":[")?
            }
        }
        Ok(SnapshotWriter {
            out,
            format,
            items: 0,
        })
    }

    pub fn item(&mut self, item: &Json) -> std::io::Result<()> {
        match self.format {
            SnapshotFormat::Yaml => {
                let mut text = String::new();
                yaml_value(&mut text, item, 1, true);
                self.out.write_all(text.as_bytes())?;
            }
            SnapshotFormat::Json => {
                if self.items > 0 {
                    self.out.write_all(b",")?;
                }
                self.out.write_all(b"\n")?;
                serde_json::to_writer(&mut self.out, item)?;
            }
        }
        self.items += 1;
        Ok(())
    }

    /// Closes the list and returns the writer.
    pub fn finish(mut self) -> std::io::Result<W> {
        match self.format {
            SnapshotFormat::Yaml if self.items == 0 => {
                // `items:` with nothing after it would be null, not an empty list.
                self.out.write_all(b"  []\n")?
            }
            SnapshotFormat::Yaml => {}
            SnapshotFormat::Json => self.out.write_all(b"\n]}\n")?,
        }
        self.out.flush()?;
        Ok(self.out)
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn yaml(value: &Json) -> String {
        let mut writer =
            SnapshotWriter::new(Vec::new(), SnapshotFormat::Yaml, &["from test".into()])
                .expect("in memory");
        writer.item(value).expect("in memory");
        String::from_utf8(writer.finish().expect("in memory")).expect("utf-8")
    }

    #[test]
    fn yaml_lists_nest_maps_and_quote_what_could_read_as_something_else() {
        let text = yaml(&json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "web", "labels": {"on": "true", "app.kubernetes.io/name": "web", "note": "a: b # c", "n": "No", "empty": ""}},
            "spec": {"containers": [{"name": "app", "args": ["-v", "0755"], "ports": [{"containerPort": 80}]}],
                     "volumes": [], "nodeSelector": {}}
        }));
        let expected = concat!(
            "# from test\napiVersion: v1\nkind: List\nitems:\n",
            "- apiVersion: v1\n",
            "  kind: Pod\n",
            "  metadata:\n",
            "    labels:\n",
            "      app.kubernetes.io/name: web\n",
            "      empty: \"\"\n",
            "      \"n\": \"No\"\n",
            "      note: \"a: b # c\"\n",
            "      \"on\": \"true\"\n",
            "    name: web\n",
            "  spec:\n",
            "    containers:\n",
            "    - args:\n",
            "      - \"-v\"\n",
            "      - \"0755\"\n",
            "      name: app\n",
            "      ports:\n",
            "      - containerPort: 80\n",
            "    nodeSelector: {}\n",
            "    volumes: []\n",
        );
        assert_eq!(text, expected);
    }

    /// Whatever a string holds, the YAML reads back as the same string: plain where that is
    /// safe, quoted where a reader could take it for a number, a boolean, null or syntax.
    #[test]
    fn every_string_reads_back_as_itself() {
        let strings = [
            "web",
            "v1.26.5",
            "registry.k8s.io/pause:3.9",
            "app@sha256:abc",
            "a:b",
            "a:",
            "1e3",
            "0x1F",
            "0755",
            "2026-12-07",
            "~",
            "-",
            "- x",
            "yes",
            "Yes",
            "NO",
            "off",
            "y",
            "null",
            "Null",
            "true",
            "a#b",
            "a #b",
            "*ref",
            "&a",
            "!tag",
            "%x",
            "@x",
            "`x",
            "'x'",
            "\"x\"",
            ".inf",
            "-.5",
            "+1",
            "a b",
            "",
            "multi\nline",
            "tab\there",
            "ünïcode",
            "{x}",
            "[x]",
        ];
        let data: serde_json::Map<String, Json> = strings
            .iter()
            .map(|s| (format!("k{s}"), json!(*s)))
            .collect();
        let list: Vec<Json> = strings.iter().map(|s| json!(*s)).collect();
        let value = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "strings"},
            "data": data, "list": list, "keys": strings.iter().map(|s| json!({*s: 1})).collect::<Vec<_>>()});
        let text = yaml(&value);
        let name: std::sync::Arc<str> = "snapshot.yaml".into();
        let mut read = Vec::new();
        palisade_load::load_text(&name, &text, &mut |loaded| {
            if let palisade_load::Loaded::Object(object) = loaded {
                read.push(palisade_load::json::to_json(&object.root));
            }
        });
        assert_eq!(read.len(), 1, "{text}");
        assert_eq!(read[0], value, "{text}");
    }

    #[test]
    fn empty_lists_stay_lists() {
        let writer = SnapshotWriter::new(Vec::new(), SnapshotFormat::Yaml, &[]).expect("mem");
        let text = String::from_utf8(writer.finish().expect("mem")).expect("utf-8");
        assert!(text.ends_with("items:\n  []\n"));
        let writer = SnapshotWriter::new(Vec::new(), SnapshotFormat::Json, &[]).expect("mem");
        let text = String::from_utf8(writer.finish().expect("mem")).expect("utf-8");
        let parsed: Json = serde_json::from_str(&text).expect("valid JSON");
        assert_eq!(parsed["items"], json!([]));
    }
}
