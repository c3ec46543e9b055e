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

fn quote(text: &str) -> String {
    Json::String(text.to_string()).to_string()
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
    fn yaml_lists_nest_maps_and_quote_every_string() {
        let text = yaml(&json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "web", "labels": {"on": "true"}},
            "spec": {"containers": [{"name": "app", "args": ["-v", "0755"], "ports": [{"containerPort": 80}]}],
                     "volumes": [], "nodeSelector": {}}
        }));
        let expected = concat!(
            "# from test\napiVersion: v1\nkind: List\nitems:\n",
            "- \"apiVersion\": \"v1\"\n",
            "  \"kind\": \"Pod\"\n",
            "  \"metadata\":\n",
            "    \"labels\":\n",
            "      \"on\": \"true\"\n",
            "    \"name\": \"web\"\n",
            "  \"spec\":\n",
            "    \"containers\":\n",
            "    - \"args\":\n",
            "      - \"-v\"\n",
            "      - \"0755\"\n",
            "      \"name\": \"app\"\n",
            "      \"ports\":\n",
            "      - \"containerPort\": 80\n",
            "    \"nodeSelector\": {}\n",
            "    \"volumes\": []\n",
        );
        assert_eq!(text, expected);
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
