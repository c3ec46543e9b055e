//! Text of one file to objects: `---` splitting, parsing, `List` unwrapping, validation.

use std::sync::Arc;

use palisade_model::kinds::{self, KindStatus};
use palisade_model::{LoadError, Node, Object, Origin, Pos, Value};

/// What loading a file yields, in file order.
#[derive(Debug)]
pub enum Loaded {
    Object(Box<Object>),
    /// A document that is not a Kubernetes object (no `apiVersion` and no `kind`).
    Skipped,
    Error(LoadError),
    /// Read, but not as written: a duplicate key, whose last value is used (as kubectl does).
    Warning(LoadError),
}

/// Splits a stream into chunks at `---` lines, as Kubernetes' own YAML reader does, so that
/// one broken document cannot hide the ones after it. Returns (line offset, text) pairs.
pub fn split_documents(text: &str) -> Vec<(u32, &str)> {
    let mut chunks = Vec::new();
    let mut chunk_start = 0usize;
    let mut chunk_line = 0u32;
    let mut offset = 0usize;
    for (line, raw_line) in (0u32..).zip(text.split_inclusive('\n')) {
        if let Some(rest) = raw_line.strip_prefix("---") {
            let rest = rest.trim();
            if (rest.is_empty() || rest.starts_with('#')) && offset > chunk_start {
                chunks.push((chunk_line, &text[chunk_start..offset]));
                chunk_start = offset;
                chunk_line = line;
            }
        }
        offset += raw_line.len();
    }
    if chunk_start < text.len() {
        chunks.push((chunk_line, &text[chunk_start..]));
    }
    chunks
}

/// Checks that `bytes` is text a YAML parser should see; returns it without a BOM.
pub fn decode<'a>(file: &str, bytes: &'a [u8]) -> Result<&'a str, LoadError> {
    let error = |line: Option<u32>, column: Option<u32>, message: String| LoadError {
        file: file.to_string(),
        document: None,
        line,
        column,
        message,
    };
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Err(error(
            None,
            None,
            "file is UTF-16 encoded; save it as UTF-8".into(),
        ));
    }
    if bytes.iter().take(8192).any(|&b| b == 0) {
        return Err(error(None, None, "binary file (contains NUL bytes)".into()));
    }
    let bytes = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(bytes);
    std::str::from_utf8(bytes).map_err(|e| {
        let valid = &bytes[..e.valid_up_to()];
        let line = valid.iter().filter(|&&b| b == b'\n').count() + 1;
        let line_start = valid.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        let column = String::from_utf8_lossy(&valid[line_start..])
            .chars()
            .count()
            + 1;
        error(
            Some(u32::try_from(line).unwrap_or(u32::MAX)),
            Some(u32::try_from(column).unwrap_or(u32::MAX)),
            format!("invalid UTF-8 at byte {}", e.valid_up_to()),
        )
    })
}

/// Loads every object of one file's text, calling `sink` in order. Documents are split at `---`
/// lines and a `List` is read item by item (see [`crate::stream`]), so memory follows the
/// largest document or item, not the file.
pub fn load_text(file: &Arc<str>, text: &str, sink: &mut dyn FnMut(Loaded)) {
    let mut next_document = 1u32;
    // (the splitter's number for the list being read, the number its items carry)
    let mut list: Option<(u32, u32)> = None;
    for piece in crate::stream::Splitter::new(Arc::clone(file), text.as_bytes()) {
        match piece {
            Err(error) => sink(Loaded::Error(error)),
            Ok(piece) if piece.item.is_some() => {
                let document = match list {
                    Some((splitter, document)) if splitter == piece.document => document,
                    _ => {
                        let document = next_document;
                        next_document += 1;
                        list = Some((piece.document, document));
                        document
                    }
                };
                crate::stream::load_piece_at(file, &piece, document, sink);
            }
            Ok(piece) => {
                let count = crate::stream::load_piece_at(file, &piece, next_document, sink);
                next_document = next_document.saturating_add(count);
            }
        }
    }
}

struct DocContext<'a> {
    file: &'a Arc<str>,
    document: u32,
}

impl DocContext<'_> {
    fn error(&self, pos: Pos, message: String) -> Loaded {
        Loaded::Error(LoadError {
            file: self.file.to_string(),
            document: Some(self.document),
            line: Some(pos.line),
            column: Some(pos.column),
            message,
        })
    }

    fn origin(&self, item: Option<u32>) -> Option<Origin> {
        Some(Origin {
            file: Arc::clone(self.file),
            document: self.document,
            item,
            unset_namespace: None,
        })
    }
}

fn objects_of(file: &Arc<str>, document: u32, mut root: Node, sink: &mut dyn FnMut(Loaded)) {
    let ctx = DocContext { file, document };
    match &root.value {
        Value::Null => return,
        Value::Map(_) => {}
        _ => {
            let message = format!(
                "document is a {}, not a Kubernetes object (a mapping with apiVersion and kind)",
                root.type_name()
            );
            sink(ctx.error(root.pos, message));
            return;
        }
    }
    let (api_version, kind) = match identity(&root, "") {
        Ok(Some(id)) => id,
        Ok(None) => return sink(Loaded::Skipped),
        Err((pos, message)) => return sink(ctx.error(pos, message)),
    };
    let list_items = kind.ends_with("List") && root.get("items").is_some_and(Node::is_seq);
    if let Some((pos, message)) = not_a_list(&root, &kind) {
        return sink(ctx.error(pos, message));
    }
    if !list_items {
        if let Err((pos, message)) = validate(&root, &api_version, &kind) {
            return sink(ctx.error(pos, message));
        }
        let object = Object::new(api_version, kind, root, ctx.origin(None));
        return sink(Loaded::Object(Box::new(object)));
    }
    let item_kind = kind.strip_suffix("List").unwrap_or_default().to_string();
    let items = match &mut root.value {
        Value::Map(entries) => entries
            .iter_mut()
            .find(|e| e.key == "items")
            .map(|e| match &mut e.value.value {
                Value::Seq(items) => std::mem::take(items),
                _ => Vec::new(),
            })
            .unwrap_or_default(),
        _ => Vec::new(),
    };
    let list = ListIdentity {
        api_version,
        item_kind,
    };
    for (index, item) in items.into_iter().enumerate() {
        let index = u32::try_from(index).unwrap_or(u32::MAX);
        list_item(file, document, index, item, Some(&list), sink);
    }
}

/// A list whose `items` is not a sequence (`items: 42`, a mapping, `null`) or, for a plain
/// `List`, missing: read as empty it would pass as clean, so it is an error. A kind that only
/// ends in `List` (a custom resource may be called `IPAllowList`) is held to it only when it
/// has a top-level `items`.
fn not_a_list(root: &Node, kind: &str) -> Option<Problem> {
    if !kind.ends_with("List") {
        return None;
    }
    match root.entry("items") {
        Some(entry) if !entry.value.is_seq() => Some((
            entry.key_pos,
            format!(
                "`items` of a {} must be a sequence of objects, found a {}: nothing in it was read",
                crate::yaml::printable(kind),
                entry.value.type_name()
            ),
        )),
        None if kind == "List" => Some((
            root.entry("kind").map_or(root.pos, |e| e.key_pos),
            "a `List` without `items`: nothing in it was read (an empty list is `items: []`)"
                .to_string(),
        )),
        _ => None,
    }
}

/// What a `List` passes on to items that leave out their own apiVersion and kind.
pub(crate) struct ListIdentity {
    pub api_version: String,
    /// `Pod` for a `PodList`; empty for a generic `List`.
    pub item_kind: String,
}

/// One item of a `List` (at `items/<index>` of document `document`) as an object, or the
/// reason it is not one. `list` is `None` when the list's own identity is not known yet (a
/// large list read item by item, whose `kind` comes after its items).
pub(crate) fn list_item(
    file: &Arc<str>,
    document: u32,
    index: u32,
    item: Node,
    list: Option<&ListIdentity>,
    sink: &mut dyn FnMut(Loaded),
) {
    let ctx = DocContext { file, document };
    if !item.is_map() {
        let message = format!("`items/{index}` is a {}, not an object", item.type_name());
        sink(ctx.error(item.pos, message));
        return;
    }
    // Typed lists (`PodList`) may leave apiVersion and kind out of their items.
    let inherited = match (list, item.get("kind")) {
        (Some(list), None) if !list.item_kind.is_empty() => {
            Some((list.api_version.clone(), list.item_kind.clone()))
        }
        _ => None,
    };
    let identity = match identity(&item, &format!("items/{index}/")) {
        Ok(Some(id)) => Ok(id),
        Ok(None) => inherited.ok_or((
            item.pos,
            format!("`items/{index}` has no apiVersion and kind"),
        )),
        Err(e) => Err(e),
    };
    let checked = identity.and_then(|(item_api, item_kind)| {
        validate(&item, &item_api, &item_kind).map(|()| (item_api, item_kind))
    });
    match checked {
        Ok((item_api, item_kind)) => {
            let object = Object::new(item_api, item_kind, item, ctx.origin(Some(index)));
            sink(Loaded::Object(Box::new(object)));
        }
        Err((pos, message)) => sink(ctx.error(pos, message)),
    }
}

/// Loads one document's tree (not a list item).
pub(crate) fn document_objects(
    file: &Arc<str>,
    document: u32,
    root: Node,
    sink: &mut dyn FnMut(Loaded),
) {
    objects_of(file, document, root, sink);
}

type Problem = (Pos, String);

/// `Ok(None)` when the mapping has no `kind`: not an object (a values file, a Helm `Chart.yaml`
/// with only `apiVersion`). A `kind` without `apiVersion` claims to be an object: an error.
fn identity(map: &Node, prefix: &str) -> Result<Option<(String, String)>, Problem> {
    let field = |key: &str| -> Result<Option<String>, Problem> {
        match map.entry(key) {
            None => Ok(None),
            Some(entry) => match entry.value.as_str() {
                Some(s) if !s.trim().is_empty() => Ok(Some(s.to_string())),
                Some(_) => Err((entry.key_pos, format!("`{prefix}{key}` is empty"))),
                None => Err((
                    entry.key_pos,
                    format!(
                        "`{prefix}{key}` must be a string, found a {}",
                        entry.value.type_name()
                    ),
                )),
            },
        }
    };
    match (field("apiVersion")?, field("kind")?) {
        (_, None) => Ok(None),
        (Some(api), Some(kind)) => Ok(Some((api, kind))),
        (None, Some(_)) => Err((
            map.pos,
            format!("`{prefix}kind` is set but `{prefix}apiVersion` is missing"),
        )),
    }
}

/// The checks the API server would make before anything else looks at the object.
fn validate(root: &Node, api_version: &str, kind: &str) -> Result<(), Problem> {
    let group = api_version.rsplit_once('/').map_or("", |(g, _)| g);
    if kinds::status(group, kind) == KindStatus::UnknownInBuiltInGroup {
        let pos = root.entry("kind").map_or(root.pos, |e| e.key_pos);
        let group_name = if group.is_empty() { "core" } else { group };
        let hint = kinds::suggestion(group, kind).map_or(String::new(), |h| format!(": {h}"));
        return Err((
            pos,
            format!("unknown kind `{kind}` in the {group_name} API group ({api_version}){hint}"),
        ));
    }
    if let Some(metadata) = root.entry("metadata") {
        if metadata.value.is_null() {
            return Ok(());
        }
        if !metadata.value.is_map() {
            return Err((
                metadata.key_pos,
                format!(
                    "`metadata` must be a mapping, found a {}",
                    metadata.value.type_name()
                ),
            ));
        }
        for key in ["name", "namespace", "generateName"] {
            if let Some(entry) = metadata.value.entry(key) {
                if entry.value.as_str().is_none() && !entry.value.is_null() {
                    return Err((
                        entry.key_pos,
                        format!(
                            "`metadata.{key}` must be a string, found a {}",
                            entry.value.type_name()
                        ),
                    ));
                }
            }
        }
        for key in ["labels", "annotations"] {
            if let Some(entry) = metadata.value.entry(key) {
                if !entry.value.is_map() && !entry.value.is_null() {
                    return Err((
                        entry.key_pos,
                        format!(
                            "`metadata.{key}` must be a mapping, found a {}",
                            entry.value.type_name()
                        ),
                    ));
                }
            }
        }
    }
    validate_pod_spec(root, group, kind)
}

/// Where the built-in kinds keep their pod spec, from the object's root.
fn pod_spec_path(group: &str, kind: &str) -> Option<&'static [&'static str]> {
    match (group, kind) {
        ("", "Pod") => Some(&["spec"]),
        ("", "PodTemplate") => Some(&["template", "spec"]),
        ("", "ReplicationController")
        | ("apps", "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet")
        | ("batch", "Job") => Some(&["spec", "template", "spec"]),
        ("batch", "CronJob") => Some(&["spec", "jobTemplate", "spec", "template", "spec"]),
        _ => None,
    }
}

/// A built-in kind's pod spec has the shape the API server decodes, or the object is refused
/// as it would be (a `spec` that is a list, `containers` that is a mapping): otherwise every
/// rule would pass an object no cluster would hold.
fn validate_pod_spec(root: &Node, group: &str, kind: &str) -> Result<(), Problem> {
    let Some(path) = pod_spec_path(group, kind) else {
        return Ok(());
    };
    let mut node = root;
    let mut walked: Vec<&str> = Vec::new();
    for key in path {
        walked.push(key);
        let Some(entry) = node.entry(key) else {
            return Ok(());
        };
        if entry.value.is_null() {
            return Ok(());
        }
        if !entry.value.is_map() {
            return Err((
                entry.key_pos,
                format!(
                    "`{}` must be a mapping, found a {}",
                    walked.join("."),
                    entry.value.type_name()
                ),
            ));
        }
        node = &entry.value;
    }
    for list in [
        "containers",
        "initContainers",
        "ephemeralContainers",
        "volumes",
    ] {
        let Some(entry) = node.entry(list) else {
            continue;
        };
        if entry.value.is_null() {
            continue;
        }
        let field = format!("{}.{list}", walked.join("."));
        if !entry.value.is_seq() {
            return Err((
                entry.key_pos,
                format!(
                    "`{field}` must be a sequence, found a {}",
                    entry.value.type_name()
                ),
            ));
        }
        if let Some((i, item)) = entry
            .value
            .as_seq()
            .iter()
            .enumerate()
            .find(|(_, item)| !item.is_map())
        {
            return Err((
                item.pos,
                format!(
                    "`{field}[{i}]` must be a mapping, found a {}",
                    item.type_name()
                ),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Vec<Loaded> {
        let mut out = Vec::new();
        load_text(&Arc::from("t.yaml"), text, &mut |l| out.push(l));
        out
    }

    fn errors(loaded: &[Loaded]) -> Vec<&LoadError> {
        loaded
            .iter()
            .filter_map(|l| match l {
                Loaded::Error(e) => Some(e),
                _ => None,
            })
            .collect()
    }

    fn objects(loaded: &[Loaded]) -> Vec<&Object> {
        loaded
            .iter()
            .filter_map(|l| match l {
                Loaded::Object(o) => Some(o.as_ref()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn splits_on_separator_lines_only() {
        let chunks = split_documents("a: 1\n--- # next\nb: |\n  ---x\n---\nc: 3\n");
        let lines: Vec<u32> = chunks.iter().map(|(l, _)| *l).collect();
        assert_eq!(lines, vec![0, 1, 4]);
    }

    #[test]
    fn multi_document_streams_keep_document_indexes_and_lines() {
        let loaded = load(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: b\n  namespace: shop\n",
        );
        let objs = objects(&loaded);
        assert_eq!(objs.len(), 2);
        assert_eq!(objs[1].reference.display_name(), "Service shop/b");
        let origin = objs[1].origin.as_ref().expect("origin");
        assert_eq!(
            origin.document, 3,
            "documents count from 1, the empty one too"
        );
        assert_eq!(objs[1].root.entry("kind").map(|e| e.key_pos.line), Some(7));
    }

    #[test]
    fn a_broken_document_does_not_hide_the_next() {
        let loaded = load(
            "apiVersion: v1\nkind: Pod\nmetadata: {name: a\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: b}\n",
        );
        assert_eq!(errors(&loaded).len(), 1);
        assert_eq!(errors(&loaded)[0].document, Some(1));
        assert_eq!(objects(&loaded)[0].reference.name, "b");
    }

    #[test]
    fn lists_unwrap_with_positions_and_inherited_kinds() {
        let loaded = load(
            "apiVersion: v1\nkind: PodList\nitems:\n- metadata: {name: p1}\n  spec: {}\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: p2}\n",
        );
        let objs = objects(&loaded);
        assert_eq!(objs.len(), 2);
        assert_eq!(objs[0].kind(), "Pod");
        assert_eq!(objs[0].origin.as_ref().and_then(|o| o.item), Some(0));
        assert_eq!(
            objs[1].root.entry("kind").map(|e| e.key_pos),
            Some(Pos::new(7, 3))
        );
    }

    #[test]
    fn generic_list_items_need_a_kind() {
        let loaded = load("apiVersion: v1\nkind: List\nitems:\n- metadata: {name: x}\n");
        let errs = errors(&loaded);
        assert_eq!(errs.len(), 1);
        assert!(errs[0].message.contains("items/0"), "{}", errs[0].message);
    }

    #[test]
    fn non_objects_are_skipped_and_malformed_objects_are_errors() {
        let loaded = load("replicaCount: 3\nimage: {tag: x}\n");
        assert!(matches!(loaded.as_slice(), [Loaded::Skipped]));
        let chart = load("apiVersion: v2\nname: shop\nversion: 1.2.0\n");
        assert!(matches!(chart.as_slice(), [Loaded::Skipped]));
        for (text, needle) in [
            ("- a\n- b\n", "document is a sequence"),
            ("just text\n", "document is a string"),
            ("kind: Pod\nmetadata: {}\n", "`apiVersion` is missing"),
            ("apiVersion: v1\nkind: 7\n", "`kind` must be a string"),
            (
                "apiVersion: apps/v1\nkind: Deploymnet\n",
                "unknown kind `Deploymnet` in the apps API group (apps/v1): did you mean `Deployment`?",
            ),
            (
                "apiVersion: v1\nkind: Pod\nmetadata: [a]\n",
                "`metadata` must be a mapping",
            ),
            (
                "apiVersion: v1\nkind: Pod\nmetadata: {name: 3}\n",
                "`metadata.name` must be a string",
            ),
            (
                "apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n  - name: app\n    image: nginx\n",
                "`spec` must be a mapping, found a sequence",
            ),
            (
                "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  template: [1]\n",
                "`spec.template` must be a mapping",
            ),
            (
                "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: nightly}\nspec:\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          containers: {name: app}\n",
                "`spec.jobTemplate.spec.template.spec.containers` must be a sequence, found a mapping",
            ),
            (
                "apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n  containers:\n    - nginx\n",
                "`spec.containers[0]` must be a mapping, found a string",
            ),
        ] {
            let loaded = load(text);
            let errs = errors(&loaded);
            assert_eq!(errs.len(), 1, "{text}");
            assert!(
                errs[0].message.contains(needle),
                "{text}: {}",
                errs[0].message
            );
            assert!(errs[0].line.is_some(), "{text}");
        }
    }

    #[test]
    fn custom_resources_are_objects() {
        let loaded = load("apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata: {name: r}\n");
        assert_eq!(objects(&loaded).len(), 1);
    }

    #[test]
    fn decode_rejects_binary_utf16_and_invalid_utf8_with_a_place() {
        assert!(decode("f", b"\x7fELF\x00\x01").is_err());
        assert!(decode("f", b"\xff\xfea\x00").is_err_and(|e| e.message.contains("UTF-16")));
        let err = decode("f", b"a: 1\nb: caf\xe9\n").expect_err("invalid");
        assert_eq!((err.line, err.column), (Some(2), Some(7)));
        assert_eq!(decode("f", b"\xef\xbb\xbfa: 1\n").ok(), Some("a: 1\n"));
    }

    #[test]
    fn json_documents_load_with_positions() {
        let loaded = load("{\n\t\"apiVersion\": \"v1\",\n\t\"kind\": \"Pod\",\n\t\"metadata\": {\"name\": \"j\"}\n}\n");
        let objs = objects(&loaded);
        assert_eq!(objs.len(), 1, "{loaded:?}");
        assert_eq!(objs[0].root.entry("kind").map(|e| e.key_pos.line), Some(3));
    }
}
