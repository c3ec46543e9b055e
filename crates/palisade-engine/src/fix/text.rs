//! Semantic edits (set a field, add to a list) as the fewest text edits on a YAML or JSON
//! document as written: new keys go at the end of their mapping at its indentation, scalars
//! are replaced where they stand, flow collections stay flow; every other byte, comment, key
//! order, quoting style and line ending is left alone.

use palisade_model::{FieldPath, Node, Pos, Value};
use palisade_rules::fix::Edit;

/// A document's text, by line, for edits at parsed positions.
struct Doc<'t> {
    text: &'t str,
    /// Byte offset where each line starts.
    starts: Vec<usize>,
    newline: &'static str,
    /// The document is JSON: what is added is written as JSON too.
    json: bool,
}

impl<'t> Doc<'t> {
    fn new(text: &'t str) -> Self {
        let mut starts = vec![0];
        for (i, b) in text.bytes().enumerate() {
            if b == b'\n' {
                starts.push(i + 1);
            }
        }
        let newline = if text.contains("\r\n") { "\r\n" } else { "\n" };
        let json = text
            .lines()
            .find(|l| !is_blank_or_comment(l))
            .is_some_and(|l| l.trim_start().starts_with('{'));
        Doc {
            text,
            starts,
            newline,
            json,
        }
    }

    /// Line `index` (0-based) without its line ending.
    fn line(&self, index: usize) -> &'t str {
        let Some(&start) = self.starts.get(index) else {
            return "";
        };
        let end = self
            .starts
            .get(index + 1)
            .copied()
            .unwrap_or(self.text.len());
        self.text[start..end].trim_end_matches(['\n', '\r'])
    }

    fn lines(&self) -> usize {
        self.starts.len()
    }

    /// The byte offset of a 1-based (line, character column) position.
    fn offset(&self, pos: Pos) -> Option<usize> {
        let index = usize::try_from(pos.line).ok()?.checked_sub(1)?;
        let start = *self.starts.get(index)?;
        let line = self.line(index);
        let column = usize::try_from(pos.column).ok()?.checked_sub(1)?;
        let within = line
            .char_indices()
            .nth(column)
            .map_or(line.len(), |(at, _)| at);
        Some(start + within)
    }

    /// The byte offset just past line `index` (0-based), line ending included.
    fn after_line(&self, index: usize) -> usize {
        self.starts
            .get(index + 1)
            .copied()
            .unwrap_or(self.text.len())
    }
}

fn indentation(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

fn is_blank_or_comment(line: &str) -> bool {
    let trimmed = line.trim();
    trimmed.is_empty() || trimmed.starts_with('#')
}

/// One text edit: replace `start..end` with `text`.
struct Splice {
    start: usize,
    end: usize,
    text: String,
}

impl Splice {
    fn apply(self, text: &str) -> String {
        let mut out = String::with_capacity(text.len() + self.text.len());
        out.push_str(&text[..self.start]);
        out.push_str(&self.text);
        out.push_str(&text[self.end..]);
        out
    }
}

/// Where a path leads in a tree: the deepest node that exists, the entry that holds it (for a
/// mapping value), and the keys still missing below it.
struct Reached<'n> {
    node: &'n Node,
    entry_key: Option<Pos>,
    missing: Vec<String>,
}

fn reach<'n>(root: &'n Node, path: &FieldPath) -> Option<Reached<'n>> {
    let segments: Vec<_> = path.segments().collect();
    let mut node = root;
    let mut entry_key = None;
    for (i, segment) in segments.iter().enumerate() {
        let next = match &node.value {
            Value::Map(entries) => entries
                .iter()
                .find(|e| &e.key == segment)
                .map(|e| (&e.value, Some(e.key_pos))),
            Value::Seq(items) => {
                let index: usize = segment.parse().ok()?;
                Some((items.get(index)?, None))
            }
            _ => None,
        };
        match next {
            Some((child, key)) => {
                node = child;
                entry_key = key;
            }
            None => {
                // Only mappings (or an empty value) can grow the keys that are missing.
                return matches!(node.value, Value::Map(_) | Value::Null).then(|| Reached {
                    node,
                    entry_key,
                    missing: segments[i..].iter().map(|s| s.to_string()).collect(),
                });
            }
        }
    }
    Some(Reached {
        node,
        entry_key,
        missing: Vec::new(),
    })
}

/// The text of `value` under `keys`, as flow YAML (or JSON): `a: {b: value}`.
fn flow_nested(keys: &[String], value: &str, json: bool) -> String {
    let key = |k: &str| if json { format!("{k:?}") } else { yaml_key(k) };
    let mut out = if json {
        json_value(value)
    } else {
        value.to_string()
    };
    for (i, k) in keys.iter().enumerate().rev() {
        out = if i == 0 {
            format!("{}: {out}", key(k))
        } else {
            format!("{{{}: {out}}}", key(k))
        };
    }
    out
}

/// A plain YAML scalar (or flow collection of them) as JSON.
fn json_value(value: &str) -> String {
    let literal = matches!(value, "true" | "false" | "null") || value.parse::<f64>().is_ok();
    if literal {
        return value.to_string();
    }
    if let Some(inner) = value.strip_prefix('[').and_then(|v| v.strip_suffix(']')) {
        let items: Vec<String> = inner
            .split(',')
            .map(str::trim)
            .filter(|i| !i.is_empty())
            .map(json_value)
            .collect();
        return format!("[{}]", items.join(", "));
    }
    format!("{value:?}")
}

/// `value` written where a scalar written as `original` stood: a string keeps its quotes.
fn in_style_of(original: &str, value: &str, json: bool) -> String {
    let string = !(matches!(value, "true" | "false" | "null") || value.parse::<f64>().is_ok());
    match original.chars().next() {
        Some('"') if string => format!("{value:?}"),
        Some('\'') if string => format!("'{value}'"),
        _ if json => json_value(value),
        _ => value.to_string(),
    }
}

/// A key as written: plain unless it needs quotes.
fn yaml_key(key: &str) -> String {
    let plain = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'));
    if plain {
        key.to_string()
    } else {
        format!("{key:?}")
    }
}

/// The indentation step the document uses (two spaces unless it shows another).
fn indent_unit(doc: &Doc<'_>) -> usize {
    for i in 0..doc.lines().saturating_sub(1) {
        let line = doc.line(i);
        let trimmed = line.trim_end();
        if is_blank_or_comment(line) || !trimmed.ends_with(':') || trimmed.starts_with("- ") {
            continue;
        }
        let next = (i + 1..doc.lines()).find(|&j| !is_blank_or_comment(doc.line(j)));
        if let Some(j) = next {
            let below = doc.line(j);
            let step = indentation(below).saturating_sub(indentation(line));
            if step > 0 && !below.trim_start().starts_with('-') {
                return step.min(8);
            }
        }
    }
    2
}

/// The last line (0-based) of the block mapping whose keys are at column `column` (0-based)
/// and whose last key is on line `last_key`: the lines after it that are indented deeper
/// belong to it, and so do `- ` items at its own column (a sequence written flush with its
/// key); blank lines and comments at its own depth or shallower end it.
fn block_end(doc: &Doc<'_>, last_key: usize, column: usize) -> usize {
    let mut end = last_key;
    for j in last_key + 1..doc.lines() {
        let line = doc.line(j);
        // Comments end nothing, whatever their column (people comment out lines at column 0).
        if is_blank_or_comment(line) {
            continue;
        }
        if line.starts_with("---") || line.starts_with("...") {
            break;
        }
        let depth = indentation(line);
        let flush_item = depth == column && {
            let rest = line[depth..].trim_end();
            rest == "-" || rest.starts_with("- ")
        };
        if depth > column || flush_item {
            end = j;
        } else {
            break;
        }
    }
    end
}

/// Block YAML for `keys` nested one in the next, the last holding `value`, the first at
/// `column`, each deeper by the document's indentation step.
fn block_lines(doc: &Doc<'_>, column: usize, keys: &[String], value: &str) -> String {
    let unit = indent_unit(doc);
    let mut lines = String::new();
    for (depth, key) in keys.iter().enumerate() {
        lines.push_str(&" ".repeat(column + depth * unit));
        lines.push_str(&yaml_key(key));
        lines.push(':');
        if depth + 1 == keys.len() {
            lines.push(' ');
            lines.push_str(value);
        }
        lines.push_str(doc.newline);
    }
    lines
}

/// `lines` (whole lines) inserted after line `index` (0-based); a last line without a line
/// ending gets one first.
fn insert_after_line(doc: &Doc<'_>, index: usize, lines: String) -> Splice {
    let at = doc.after_line(index);
    let needs_break = at == doc.text.len() && !doc.text.ends_with('\n');
    Splice {
        start: at,
        end: at,
        text: if needs_break {
            format!("{}{lines}", doc.newline)
        } else {
            lines
        },
    }
}

/// Inserts `keys` (the last holding `value`) into the mapping `map`.
fn insert_into_map(doc: &Doc<'_>, map: &Node, keys: &[String], value: &str) -> Option<Splice> {
    let Value::Map(entries) = &map.value else {
        return None;
    };
    let open = doc.offset(map.pos)?;
    if doc.text[open..].starts_with('{') {
        let inner = flow_nested(keys, value, doc.json);
        if entries.is_empty() {
            let close = open + doc.text[open..].find('}')?;
            return Some(Splice {
                start: open,
                end: close + 1,
                text: format!("{{{inner}}}"),
            });
        }
        return Some(Splice {
            start: open + 1,
            end: open + 1,
            text: format!("{inner}, "),
        });
    }
    let first = entries.first()?;
    let column = usize::try_from(first.key_pos.column).ok()?.checked_sub(1)?;
    let last = entries.iter().map(|e| e.key_pos.line).max()?;
    let last_key = usize::try_from(last).ok()?.checked_sub(1)?;
    let end = block_end(doc, last_key, column);
    Some(insert_after_line(
        doc,
        end,
        block_lines(doc, column, keys, value),
    ))
}

/// Gives an empty value (`key:` with nothing after it) the nested `keys` and `value`.
fn fill_empty(doc: &Doc<'_>, key: Pos, keys: &[String], value: &str) -> Option<Splice> {
    let index = usize::try_from(key.line).ok()?.checked_sub(1)?;
    let line = doc.line(index);
    let colon = {
        let from = doc.offset(key)? - doc.starts[index];
        from + line[from..].find(':')?
    };
    let rest = line[colon + 1..].trim();
    let at = doc.starts[index] + colon + 1;
    match rest {
        // `key: null` / `key: ~`: the value becomes a flow mapping.
        "null" | "~" | "Null" | "NULL" => {
            let start = at + line[colon + 1..].find(rest)?;
            let text = if keys.is_empty() {
                value.to_string()
            } else {
                format!("{{{}}}", flow_nested(keys, value, doc.json))
            };
            Some(Splice {
                start,
                end: start + rest.len(),
                text,
            })
        }
        r if r.is_empty() || r.starts_with('#') => {
            if keys.is_empty() {
                return Some(Splice {
                    start: at,
                    end: at,
                    text: format!(" {value}"),
                });
            }
            let column = indentation(line) + indent_unit(doc);
            Some(insert_after_line(
                doc,
                index,
                block_lines(doc, column, keys, value),
            ))
        }
        _ => None,
    }
}

/// The byte range of the scalar that starts at `pos`: to its closing quote, or for a plain
/// scalar to the end of its token (before a comment, a flow separator or the line's end).
fn scalar_span(doc: &Doc<'_>, pos: Pos) -> Option<(usize, usize)> {
    let start = doc.offset(pos)?;
    let index = usize::try_from(pos.line).ok()?.checked_sub(1)?;
    let line_end = doc.starts[index] + doc.line(index).len();
    let rest = &doc.text[start..line_end];
    let end = match rest.chars().next()? {
        '"' => {
            let mut escaped = false;
            let mut close = None;
            for (i, c) in rest.char_indices().skip(1) {
                match c {
                    '\\' if !escaped => escaped = true,
                    '"' if !escaped => {
                        close = Some(i + 1);
                        break;
                    }
                    _ => escaped = false,
                }
            }
            start + close?
        }
        '\'' => {
            let bytes = rest.as_bytes();
            let mut i = 1;
            let mut close = None;
            while i < bytes.len() {
                if bytes[i] == b'\'' {
                    if bytes.get(i + 1) == Some(&b'\'') {
                        i += 2;
                        continue;
                    }
                    close = Some(i + 1);
                    break;
                }
                i += 1;
            }
            start + close?
        }
        '|' | '>' | '[' | '{' | '&' | '*' | '!' => return None,
        _ => {
            let mut end = rest.len();
            for (i, c) in rest.char_indices() {
                let comment = c == '#' && rest[..i].ends_with([' ', '\t']);
                if matches!(c, ',' | '}' | ']') || comment {
                    end = i;
                    break;
                }
            }
            start + rest[..end].trim_end().len()
        }
    };
    Some((start, end))
}

/// Whether the value at `value` is a block scalar (`key: |`), whose lines are not one token.
fn block_scalar(doc: &Doc<'_>, key: Option<Pos>, value: Pos) -> bool {
    let Some(key) = key.filter(|k| k.line != value.line) else {
        return false;
    };
    let Some(index) = usize::try_from(key.line)
        .ok()
        .and_then(|l| l.checked_sub(1))
    else {
        return false;
    };
    let line = doc.line(index);
    let after = line
        .split_once(':')
        .map_or("", |(_, rest)| rest)
        .trim_start();
    after.starts_with('|') || after.starts_with('>')
}

/// Adds `item` to the list `list`.
fn append_to_list(doc: &Doc<'_>, list: &Node, item: &str) -> Option<Splice> {
    let Value::Seq(items) = &list.value else {
        return None;
    };
    let open = doc.offset(list.pos)?;
    if doc.text[open..].starts_with('[') {
        let quoted = doc.json
            || items
                .first()
                .and_then(|i| doc.offset(i.pos))
                .is_some_and(|at| doc.text[at..].starts_with('"'));
        let item = if quoted {
            json_value(item)
        } else {
            item.to_string()
        };
        if items.is_empty() {
            let close = open + doc.text[open..].find(']')?;
            return Some(Splice {
                start: open,
                end: close + 1,
                text: format!("[{item}]"),
            });
        }
        return Some(Splice {
            start: open + 1,
            end: open + 1,
            text: format!("{item}, "),
        });
    }
    // A block sequence: a new `- item` line after the last item, which must be one scalar line.
    let last = items.last()?;
    if last.is_map() || last.is_seq() {
        return None;
    }
    let index = usize::try_from(last.pos.line).ok()?.checked_sub(1)?;
    let line = doc.line(index);
    let dash = line.find("- ")?;
    if !line[..dash].trim().is_empty() {
        return None;
    }
    let text = format!("{}- {item}{}", " ".repeat(dash), doc.newline);
    Some(insert_after_line(doc, index, text))
}

/// `edit` applied to `text`, where `root` is the object's tree as parsed from `text`; `None`
/// when the text cannot take it as written (a block scalar, an anchor, a list item that is not
/// one line).
pub fn apply(text: &str, root: &Node, edit: &Edit) -> Option<String> {
    let doc = Doc::new(text);
    let splice = match edit {
        Edit::Set { path, value } => {
            let reached = reach(root, path)?;
            if reached.missing.is_empty() {
                if reached.node.is_null() {
                    fill_empty(&doc, reached.entry_key?, &[], value)?
                } else if reached.node.is_map() || reached.node.is_seq() {
                    return None;
                } else {
                    if block_scalar(&doc, reached.entry_key, reached.node.pos) {
                        return None;
                    }
                    let (start, end) = scalar_span(&doc, reached.node.pos)?;
                    Splice {
                        start,
                        end,
                        text: in_style_of(&doc.text[start..end], value, doc.json),
                    }
                }
            } else if reached.node.is_null() {
                fill_empty(&doc, reached.entry_key?, &reached.missing, value)?
            } else {
                insert_into_map(&doc, reached.node, &reached.missing, value)?
            }
        }
        Edit::Append { path, value } => {
            let reached = reach(root, path)?;
            if reached.missing.is_empty() && reached.node.is_seq() {
                append_to_list(&doc, reached.node, value)?
            } else {
                return apply(
                    text,
                    root,
                    &Edit::Set {
                        path: path.clone(),
                        value: format!("[{value}]"),
                    },
                );
            }
        }
    };
    Some(splice.apply(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root(text: &str) -> Node {
        let mut docs = palisade_load::yaml::parse_documents(text, 0);
        docs.remove(0).expect("parses")
    }

    fn set(text: &str, path: &str, value: &str) -> Option<String> {
        apply(
            text,
            &root(text),
            &Edit::Set {
                path: FieldPath::parse(path),
                value: value.to_string(),
            },
        )
    }

    fn append(text: &str, path: &str, value: &str) -> Option<String> {
        apply(
            text,
            &root(text),
            &Edit::Append {
                path: FieldPath::parse(path),
                value: value.to_string(),
            },
        )
    }

    const DEPLOYMENT: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web # the shop's front end
spec:
  template:
    spec:
      containers:
        - name: web
          image: registry.example.com/web:1.4 # pinned by CI
          securityContext:
            allowPrivilegeEscalation: true   # legacy
            capabilities:
              add: [NET_ADMIN]

        - name: sidecar
          image: registry.example.com/proxy:2
      volumes: []
";

    #[test]
    fn scalars_are_replaced_where_they_stand_and_comments_stay() {
        let out = set(
            DEPLOYMENT,
            "/spec/template/spec/containers/0/securityContext/allowPrivilegeEscalation",
            "false",
        )
        .expect("edits");
        assert!(out.contains("            allowPrivilegeEscalation: false   # legacy\n"));
        assert_eq!(out.lines().count(), DEPLOYMENT.lines().count());
        let quoted = "a:\n  b: \"x\" # c\n  d: 'it''s'\n";
        // A string keeps its quotes.
        assert_eq!(
            set(quoted, "/a/b", "y").as_deref(),
            Some("a:\n  b: \"y\" # c\n  d: 'it''s'\n")
        );
        assert_eq!(
            set(quoted, "/a/d", "z").as_deref(),
            Some("a:\n  b: \"x\" # c\n  d: 'z'\n")
        );
    }

    #[test]
    fn missing_keys_go_at_the_end_of_their_mapping_at_its_indentation() {
        let out = set(
            DEPLOYMENT,
            "/spec/template/spec/containers/1/securityContext/readOnlyRootFilesystem",
            "true",
        )
        .expect("edits");
        assert!(
            out.contains("          image: registry.example.com/proxy:2\n          securityContext:\n            readOnlyRootFilesystem: true\n      volumes: []\n"),
            "{out}"
        );
        // Into the first container: after its last line, before the blank line.
        let out = set(
            DEPLOYMENT,
            "/spec/template/spec/containers/0/securityContext/runAsNonRoot",
            "true",
        )
        .expect("edits");
        assert!(
            out.contains("              add: [NET_ADMIN]\n            runAsNonRoot: true\n\n        - name: sidecar"),
            "{out}"
        );
        // Pod-level, three keys deep.
        let out = set(
            DEPLOYMENT,
            "/spec/template/spec/securityContext/seccompProfile/type",
            "RuntimeDefault",
        )
        .expect("edits");
        assert!(
            out.ends_with("      volumes: []\n      securityContext:\n        seccompProfile:\n          type: RuntimeDefault\n"),
            "{out}"
        );
    }

    #[test]
    fn lists_grow_in_their_own_style_and_new_ones_are_flow() {
        let out = append(
            DEPLOYMENT,
            "/spec/template/spec/containers/0/securityContext/capabilities/drop",
            "ALL",
        )
        .expect("edits");
        assert!(
            out.contains("              add: [NET_ADMIN]\n              drop: [ALL]\n"),
            "{out}"
        );
        let block = "c:\n  drop:\n    - NET_RAW # why\n  x: 1\n";
        assert_eq!(
            append(block, "/c/drop", "ALL").as_deref(),
            Some("c:\n  drop:\n    - NET_RAW # why\n    - ALL\n  x: 1\n")
        );
        let flow = "c: {drop: [NET_RAW]}\n";
        assert_eq!(
            append(flow, "/c/drop", "ALL").as_deref(),
            Some("c: {drop: [ALL, NET_RAW]}\n")
        );
        assert_eq!(
            append("c: {drop: []}\n", "/c/drop", "ALL").as_deref(),
            Some("c: {drop: [ALL]}\n")
        );
    }

    #[test]
    fn comments_at_any_column_do_not_end_a_mapping() {
        let text = "spec:\n  containers:\n  - name: a\n    env:\n    - name: X\n#    - name: Y\n    volumeMounts: []\n  volumes: []\n";
        assert_eq!(
            set(text, "/spec/automountServiceAccountToken", "false").as_deref(),
            Some("spec:\n  containers:\n  - name: a\n    env:\n    - name: X\n#    - name: Y\n    volumeMounts: []\n  volumes: []\n  automountServiceAccountToken: false\n")
        );
    }

    #[test]
    fn sequences_written_flush_with_their_key_belong_to_it() {
        let text = "containers:\n- name: master\n  ports:\n  - containerPort: 6379\n  - containerPort: 6380\n- name: b\n";
        assert_eq!(
            set(text, "/containers/0/securityContext/runAsNonRoot", "true").as_deref(),
            Some("containers:\n- name: master\n  ports:\n  - containerPort: 6379\n  - containerPort: 6380\n  securityContext:\n    runAsNonRoot: true\n- name: b\n")
        );
    }

    #[test]
    fn flow_mappings_empty_values_four_spaces_and_crlf() {
        assert_eq!(
            set("sc: {}\n", "/sc/a", "1").as_deref(),
            Some("sc: {a: 1}\n")
        );
        assert_eq!(
            set("sc: {b: 2}\n", "/sc/a/c", "1").as_deref(),
            Some("sc: {a: {c: 1}, b: 2}\n")
        );
        assert_eq!(
            set("sc:\nx: 1\n", "/sc/a", "1").as_deref(),
            Some("sc:\n  a: 1\nx: 1\n")
        );
        assert_eq!(
            set("sc: null\n", "/sc/a", "1").as_deref(),
            Some("sc: {a: 1}\n")
        );
        let four = "spec:\n    containers:\n        - name: a\n          image: x\n";
        assert_eq!(
            set(four, "/spec/securityContext/runAsNonRoot", "true").as_deref(),
            Some("spec:\n    containers:\n        - name: a\n          image: x\n    securityContext:\n        runAsNonRoot: true\n")
        );
        let crlf = "a:\r\n  b: 1\r\n";
        assert_eq!(
            set(crlf, "/a/c", "2").as_deref(),
            Some("a:\r\n  b: 1\r\n  c: 2\r\n")
        );
        assert_eq!(
            set("a:\n  b: 1", "/a/c", "2").as_deref(),
            Some("a:\n  b: 1\n  c: 2\n")
        );
    }

    #[test]
    fn json_documents_take_flow_edits() {
        let json = "{\"spec\": {\"containers\": [{\"name\": \"a\", \"image\": \"x\"}]}}\n";
        let out = set(json, "/spec/containers/0/imagePullPolicy", "Always").expect("edits");
        assert_eq!(out, "{\"spec\": {\"containers\": [{\"imagePullPolicy\": \"Always\", \"name\": \"a\", \"image\": \"x\"}]}}\n");
        assert!(serde_json::from_str::<serde_json::Value>(&out).is_ok());
        let quoted = "{\"a\": {\"policy\": \"IfNotPresent\", \"on\": true}}\n";
        assert_eq!(
            set(quoted, "/a/policy", "Always").as_deref(),
            Some("{\"a\": {\"policy\": \"Always\", \"on\": true}}\n")
        );
        assert_eq!(
            set(quoted, "/a/on", "false").as_deref(),
            Some("{\"a\": {\"policy\": \"IfNotPresent\", \"on\": false}}\n")
        );
        let drop = "{\"c\": {\"drop\": [\"NET_RAW\"]}}\n";
        assert_eq!(
            append(drop, "/c/drop", "ALL").as_deref(),
            Some("{\"c\": {\"drop\": [\"ALL\", \"NET_RAW\"]}}\n")
        );
        assert_eq!(
            append("{\"c\": {}}\n", "/c/drop", "ALL").as_deref(),
            Some("{\"c\": {\"drop\": [\"ALL\"]}}\n")
        );
    }

    #[test]
    fn what_cannot_be_edited_as_written_is_refused() {
        assert_eq!(set("a: |\n  text\n", "/a", "x"), None);
        assert_eq!(
            set("a:\n  b: 1\n", "/a", "x"),
            None,
            "a mapping is not a scalar"
        );
        assert_eq!(
            set("a: [1]\n", "/a/0/b", "x"),
            None,
            "a scalar item grows no keys"
        );
    }
}
