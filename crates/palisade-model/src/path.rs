use std::borrow::Cow;
use std::cell::RefCell;
use std::fmt;
use std::sync::Arc;

use crate::node::{Node, Pos, Value};

/// A JSON pointer (RFC 6901) into an object as written, e.g. `/spec/containers/0/image`.
///
/// Its text is shared: cloning a path (a finding, the finding it restates, the finding's
/// `about`) copies no text, and the findings of a scan share one copy of each path
/// ([`FieldPath::shared`]): a large cluster's half-million findings point at a few hundred
/// distinct fields.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FieldPath(Arc<str>);

thread_local! {
    /// Where a new path's text is written before it is copied once into its shared block.
    static SCRATCH: RefCell<String> = const { RefCell::new(String::new()) };
    /// The paths [`FieldPath::shared`] handed out lately on this thread.
    static RECENT: crate::shared::Recent = RefCell::default();
}

impl FieldPath {
    /// The pointer to the whole object.
    pub fn root() -> Self {
        FieldPath::default()
    }

    /// Parses a pointer written as text; `""` is the root.
    pub fn parse(pointer: &str) -> Self {
        FieldPath(pointer.into())
    }

    /// A path written by `write` (which must not make paths itself), copied once.
    fn written(write: impl FnOnce(&mut String)) -> Self {
        SCRATCH.with_borrow_mut(|text| {
            text.clear();
            write(text);
            let path = FieldPath(Arc::from(text.as_str()));
            // A hostile input's very long key would otherwise stay this buffer's size.
            if text.capacity() > crate::shared::SHARED_LEN_LIMIT * 8 {
                *text = String::new();
            }
            path
        })
    }

    /// The pointer to `key` below this one.
    pub fn key(&self, key: &str) -> Self {
        FieldPath::written(|s| {
            s.push_str(&self.0);
            s.push('/');
            for c in key.chars() {
                match c {
                    '~' => s.push_str("~0"),
                    '/' => s.push_str("~1"),
                    c => s.push(c),
                }
            }
        })
    }

    /// The pointer to item `index` below this one.
    pub fn index(&self, index: usize) -> Self {
        use std::fmt::Write;
        FieldPath::written(|s| {
            s.push_str(&self.0);
            // Writing to a String cannot fail.
            let _ = write!(s, "/{index}");
        })
    }

    /// The same path, sharing its text with an equal path this thread shared lately: what a
    /// finding keeps, so that a scan's findings hold one copy of each field's path.
    pub fn shared(self) -> Self {
        let text = Arc::clone(&self.0);
        FieldPath(crate::shared::share(&RECENT, &self.0, || text))
    }

    /// Follows several keys at once.
    pub fn keys(&self, keys: &[&str]) -> Self {
        keys.iter().fold(self.clone(), |path, k| path.key(k))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The unescaped segments of the pointer. Segments without an escape (nearly all) are
    /// borrowed: locating every finding's field unescaped each one into a new string.
    pub fn segments(&self) -> impl Iterator<Item = Cow<'_, str>> + '_ {
        self.0.split('/').skip(1).map(|s| {
            if s.contains('~') {
                Cow::Owned(s.replace("~1", "/").replace("~0", "~"))
            } else {
                Cow::Borrowed(s)
            }
        })
    }

    /// Where this pointer lands in `root`: the position of the addressed key (or sequence item),
    /// or of the nearest existing parent when the pointer names a missing field. The flag is
    /// `true` when the whole pointer exists.
    pub fn locate(&self, root: &Node) -> (Pos, bool) {
        let mut node = root;
        let mut pos = root.pos;
        for segment in self.segments() {
            let next = match &node.value {
                Value::Map(entries) => entries
                    .iter()
                    .find(|e| e.key == *segment)
                    .map(|e| (&e.value, e.key_pos)),
                Value::Seq(items) => segment
                    .parse::<usize>()
                    .ok()
                    .and_then(|i| items.get(i))
                    .map(|item| (item, item.pos)),
                _ => None,
            };
            match next {
                Some((child, child_pos)) => {
                    node = child;
                    pos = child_pos;
                }
                None => return (pos, false),
            }
        }
        (pos, true)
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl serde::Serialize for FieldPath {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::Entry;

    fn entry(key: &str, line: u32, value: Node) -> Entry {
        Entry {
            key: key.to_string(),
            key_pos: Pos::new(line, 3),
            value,
        }
    }

    #[test]
    fn escapes_and_unescapes_segments() {
        let path = FieldPath::root()
            .key("metadata")
            .key("annotations")
            .key("container.apparmor.security.beta.kubernetes.io/app~x");
        assert_eq!(
            path.as_str(),
            "/metadata/annotations/container.apparmor.security.beta.kubernetes.io~1app~0x"
        );
        assert_eq!(
            path.segments().last().as_deref(),
            Some("container.apparmor.security.beta.kubernetes.io/app~x")
        );
    }

    #[test]
    fn indexes_write_every_digit() {
        let list = FieldPath::root().keys(&["spec", "containers"]);
        for (index, written) in [
            (0, "/spec/containers/0"),
            (9, "/spec/containers/9"),
            (10, "/spec/containers/10"),
            (12345, "/spec/containers/12345"),
            (usize::MAX, &*format!("/spec/containers/{}", usize::MAX)),
        ] {
            assert_eq!(list.index(index).as_str(), written);
        }
        assert_eq!(FieldPath::root().index(3).as_str(), "/3");
    }
    #[test]
    fn locates_existing_fields_and_nearest_parents() {
        let container = Node::new(
            Value::Map(vec![entry(
                "name",
                5,
                Node::new(Value::Str("app".into()), Pos::new(5, 9)),
            )]),
            Pos::new(5, 5),
        );
        let root = Node::new(
            Value::Map(vec![entry(
                "containers",
                4,
                Node::new(Value::Seq(vec![container]), Pos::new(5, 3)),
            )]),
            Pos::new(1, 1),
        );
        let name = FieldPath::root().key("containers").index(0).key("name");
        assert_eq!(name.locate(&root), (Pos::new(5, 3), true));
        let missing = FieldPath::root()
            .key("containers")
            .index(0)
            .key("securityContext");
        assert_eq!(missing.locate(&root), (Pos::new(5, 5), false));
        let out_of_range = FieldPath::root().key("containers").index(3);
        assert_eq!(out_of_range.locate(&root), (Pos::new(4, 3), false));
    }
}
