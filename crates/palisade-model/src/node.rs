use std::fmt;

/// A source position: 1-based line and 1-based column, counted in characters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pos {
    pub line: u32,
    pub column: u32,
}

impl Pos {
    pub const fn new(line: u32, column: u32) -> Self {
        Pos { line, column }
    }
}

/// A value as Kubernetes' YAML decoder resolves it (YAML 1.1 scalars, merge keys expanded).
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<Entry>),
}

/// One key of a mapping, with the position of the key itself (where findings point).
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub key: String,
    pub key_pos: Pos,
    pub value: Node,
}

/// A value and the position where it starts in its source.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub value: Value,
    pub pos: Pos,
}

impl Node {
    pub fn new(value: Value, pos: Pos) -> Self {
        Node { value, pos }
    }

    /// The value of `key` when this node is a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|e| &e.value)
    }

    /// The entry (key, its position, value) for `key` when this node is a mapping.
    pub fn entry(&self, key: &str) -> Option<&Entry> {
        match &self.value {
            Value::Map(entries) => entries.iter().find(|e| e.key == key),
            _ => None,
        }
    }

    /// Follows a chain of mapping keys.
    pub fn at(&self, keys: &[&str]) -> Option<&Node> {
        keys.iter().try_fold(self, |node, key| node.get(key))
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self.value {
            Value::Bool(b) => Some(b),
            _ => None,
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        match self.value {
            Value::Int(i) => Some(i),
            // JSON numbers such as `0.0` or `1e3` still denote integers to the API server.
            Value::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Some(f as i64),
            _ => None,
        }
    }

    pub fn as_seq(&self) -> &[Node] {
        match &self.value {
            Value::Seq(items) => items,
            _ => &[],
        }
    }

    pub fn as_map(&self) -> &[Entry] {
        match &self.value {
            Value::Map(entries) => entries,
            _ => &[],
        }
    }

    pub fn is_map(&self) -> bool {
        matches!(self.value, Value::Map(_))
    }

    pub fn is_seq(&self) -> bool {
        matches!(self.value, Value::Seq(_))
    }

    pub fn is_null(&self) -> bool {
        matches!(self.value, Value::Null)
    }

    /// `true` when the key is present with the boolean value `true`.
    pub fn flag(&self, key: &str) -> bool {
        self.get(key).and_then(Node::as_bool) == Some(true)
    }

    /// The string value of `key`, when present and a string.
    pub fn str_of(&self, key: &str) -> Option<&str> {
        self.get(key).and_then(Node::as_str)
    }

    /// A short, type-level description, for error messages that must not echo values.
    pub fn type_name(&self) -> &'static str {
        match self.value {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Int(_) | Value::Float(_) => "number",
            Value::Str(_) => "string",
            Value::Seq(_) => "sequence",
            Value::Map(_) => "mapping",
        }
    }

    /// Counts this node and all nodes below it.
    pub fn size(&self) -> usize {
        let mut count = 0;
        let mut stack = vec![self];
        while let Some(node) = stack.pop() {
            count += 1;
            match &node.value {
                Value::Seq(items) => stack.extend(items),
                Value::Map(entries) => stack.extend(entries.iter().map(|e| &e.value)),
                _ => {}
            }
        }
        count
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("null"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Float(x) => write!(f, "{x}"),
            Value::Str(s) => f.write_str(s),
            Value::Seq(_) => f.write_str("[...]"),
            Value::Map(_) => f.write_str("{...}"),
        }
    }
}

/// Deeply nested trees are dropped iteratively so that no input can exhaust the stack.
impl Drop for Node {
    fn drop(&mut self) {
        let mut pending = Vec::new();
        take_children(&mut self.value, &mut pending);
        while let Some(mut node) = pending.pop() {
            take_children(&mut node.value, &mut pending);
        }
    }
}

fn take_children(value: &mut Value, pending: &mut Vec<Node>) {
    match value {
        Value::Seq(items) if !items.is_empty() => pending.append(items),
        Value::Map(entries) if !entries.is_empty() => {
            pending.extend(std::mem::take(entries).into_iter().map(|e| e.value));
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(entries: Vec<(&str, Node)>) -> Node {
        Node::new(
            Value::Map(
                entries
                    .into_iter()
                    .map(|(k, v)| Entry {
                        key: k.to_string(),
                        key_pos: Pos::new(1, 1),
                        value: v,
                    })
                    .collect(),
            ),
            Pos::new(1, 1),
        )
    }

    #[test]
    fn nested_lookup_and_typed_accessors() {
        let node = map(vec![(
            "spec",
            map(vec![(
                "hostPID",
                Node::new(Value::Bool(true), Pos::new(2, 3)),
            )]),
        )]);
        assert_eq!(
            node.at(&["spec", "hostPID"]).and_then(Node::as_bool),
            Some(true)
        );
        assert!(node.at(&["spec", "missing"]).is_none());
        assert!(node.get("spec").is_some_and(|s| s.flag("hostPID")));
        assert_eq!(node.size(), 3);
    }

    #[test]
    fn dropping_a_very_deep_tree_does_not_overflow_the_stack() {
        let mut node = Node::new(Value::Null, Pos::default());
        for _ in 0..200_000 {
            node = Node::new(Value::Seq(vec![node]), Pos::default());
        }
        drop(node);
    }

    #[test]
    fn whole_floats_read_as_integers() {
        assert_eq!(
            Node::new(Value::Float(1000.0), Pos::default()).as_i64(),
            Some(1000)
        );
        assert_eq!(Node::new(Value::Float(0.5), Pos::default()).as_i64(), None);
    }
}
