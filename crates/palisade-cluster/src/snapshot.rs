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
                palisade_load::emit::yaml_list_item(&mut text, item);
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
