//! YAML (and JSON, which is YAML) to positioned [`Node`] trees, as Kubernetes reads them.
//!
//! Built directly on saphyr's event stream so that hostile input stays cheap: nesting depth is
//! capped, alias expansion has a node budget (alias bombs), duplicate keys are errors (as in
//! the API server's strict decoding), `<<` merge keys are expanded and plain scalars resolve
//! with YAML 1.1 rules (`yes`, `on`, `0644`), like the Go YAML decoder behind kubectl.

use std::borrow::Cow;
use std::collections::HashMap;

use palisade_model::{Entry, Node, Pos, Value};
use saphyr_parser::{Event, Parser, ScalarStyle, Span, Tag};

/// Deeper documents are rejected; real manifests stay well below 30 levels.
pub const MAX_DEPTH: usize = 200;
/// Nodes that alias expansion may add to one document.
pub const MAX_ALIAS_NODES: usize = 100_000;

/// A problem at a place in a document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct YamlError {
    pub pos: Pos,
    pub message: String,
}

/// One parsed document: its tree, or why it could not be read.
pub type Document = Result<Node, YamlError>;

enum Frame {
    Seq {
        items: Vec<Node>,
        pos: Pos,
        anchor: usize,
    },
    Map {
        entries: Vec<Entry>,
        pending_key: Option<(String, Pos, bool)>,
        merges: Vec<(Node, Pos)>,
        pos: Pos,
        anchor: usize,
    },
}

/// Converts a saphyr marker (1-based line, 0-based char column) to a position, shifted by the
/// line at which this chunk starts in its file.
fn pos_of(span: &Span, line_offset: u32) -> Pos {
    let line = u32::try_from(span.start.line()).unwrap_or(u32::MAX);
    let col = u32::try_from(span.start.col()).unwrap_or(u32::MAX - 1);
    Pos::new(line.saturating_add(line_offset), col + 1)
}

struct Builder {
    stack: Vec<Frame>,
    anchors: HashMap<usize, (Node, usize)>,
    alias_budget: usize,
    /// Duplicate keys: the last value wins, with a warning (kubectl's decoder), rather than an
    /// error (strict, for Palisade's own config).
    lenient: bool,
    warnings: Vec<YamlError>,
    /// Whether the items of a list document are handed on one at a time (see [`Parsed::Item`]).
    stream_items: bool,
    /// An item completed by the last event, and how many of the document's items came before.
    ready_item: Option<(u32, Node)>,
    streamed_items: u32,
}

impl Builder {
    fn new(lenient: bool, stream_items: bool) -> Self {
        Builder {
            stack: Vec::new(),
            anchors: HashMap::new(),
            alias_budget: MAX_ALIAS_NODES,
            lenient,
            warnings: Vec::new(),
            stream_items,
            ready_item: None,
            streamed_items: 0,
        }
    }

    /// Whether a node completed now is an item of the root's `items`, in a document that
    /// named its apiVersion first (as kubectl and the API server write lists; a values file's
    /// `items` is not a list of objects).
    fn completes_a_list_item(&self) -> bool {
        if !self.stream_items || self.stack.len() != 2 {
            return false;
        }
        let (
            Frame::Map {
                entries,
                pending_key: Some((key, _, false)),
                ..
            },
            Frame::Seq { .. },
        ) = (&self.stack[0], &self.stack[1])
        else {
            return false;
        };
        key == "items"
            && entries
                .iter()
                .any(|e| e.key == "apiVersion" && e.value.as_str().is_some())
    }

    /// The root's apiVersion and kind, when both came before its items.
    fn list_identity(&self) -> Option<(String, String)> {
        let Some(Frame::Map { entries, .. }) = self.stack.first() else {
            return None;
        };
        let text = |key: &str| {
            entries
                .iter()
                .find(|e| e.key == key)
                .and_then(|e| e.value.as_str())
                .map(str::to_string)
        };
        Some((text("apiVersion")?, text("kind")?))
    }

    fn error(&self, pos: Pos, message: impl Into<String>) -> YamlError {
        YamlError {
            pos,
            message: message.into(),
        }
    }

    fn open(&mut self, frame: Frame, pos: Pos) -> Result<(), YamlError> {
        if self.stack.len() >= MAX_DEPTH {
            return Err(self.error(pos, format!("nesting deeper than {MAX_DEPTH} levels")));
        }
        self.stack.push(frame);
        Ok(())
    }

    /// Whether the next completed node is a mapping key.
    fn expecting_key(&self) -> bool {
        matches!(
            self.stack.last(),
            Some(Frame::Map {
                pending_key: None,
                ..
            })
        )
    }

    /// Adds a completed node to its parent; returns it when it is the document root.
    fn complete(&mut self, node: Node, anchor: usize) -> Result<Option<Node>, YamlError> {
        if anchor != 0 {
            self.anchors.insert(anchor, (node.clone(), node.size()));
        }
        if self.completes_a_list_item() {
            self.ready_item = Some((self.streamed_items, node));
            self.streamed_items = self.streamed_items.saturating_add(1);
            return Ok(None);
        }
        match self.stack.last_mut() {
            None => Ok(Some(node)),
            Some(Frame::Seq { items, .. }) => {
                items.push(node);
                Ok(None)
            }
            Some(Frame::Map {
                entries,
                pending_key,
                merges,
                ..
            }) => match pending_key.take() {
                None => Err(YamlError {
                    pos: node.pos,
                    message: "mapping keys must be scalars".into(),
                }),
                Some((key, key_pos, is_merge)) => {
                    if is_merge {
                        merges.push((node, key_pos));
                    } else if let Some(earlier) = entries.iter_mut().find(|e| e.key == key) {
                        if !self.lenient {
                            return Err(YamlError {
                                pos: key_pos,
                                message: format!("duplicate key `{}`", printable(&key)),
                            });
                        }
                        self.warnings.push(YamlError {
                            pos: key_pos,
                            message: format!(
                                "duplicate key `{}` (first at line {}): the last value is used, as kubectl does",
                                printable(&key),
                                earlier.key_pos.line
                            ),
                        });
                        earlier.key_pos = key_pos;
                        earlier.value = node;
                    } else {
                        entries.push(Entry {
                            key,
                            key_pos,
                            value: node,
                        });
                    }
                    Ok(None)
                }
            },
        }
    }

    fn scalar(
        &mut self,
        text: Cow<'_, str>,
        style: ScalarStyle,
        anchor: usize,
        tag: Option<&Tag>,
        pos: Pos,
    ) -> Result<Option<Node>, YamlError> {
        if self.expecting_key() {
            let is_merge = style == ScalarStyle::Plain && text == "<<" && tag.is_none();
            if let Some(Frame::Map { pending_key, .. }) = self.stack.last_mut() {
                *pending_key = Some((text.into_owned(), pos, is_merge));
            }
            return Ok(None);
        }
        let value = resolve(text, style, tag);
        self.complete(Node::new(value, pos), anchor)
    }

    fn alias(&mut self, id: usize, pos: Pos) -> Result<Option<Node>, YamlError> {
        let Some((node, size)) = self.anchors.get(&id) else {
            return Err(self.error(pos, "alias to an unknown anchor"));
        };
        if *size > self.alias_budget {
            return Err(self.error(
                pos,
                format!("alias expansion exceeds {MAX_ALIAS_NODES} nodes (possible alias bomb)"),
            ));
        }
        self.alias_budget -= size;
        let node = node.clone();
        if self.expecting_key() {
            let key = node.value.to_string();
            if let Some(Frame::Map { pending_key, .. }) = self.stack.last_mut() {
                *pending_key = Some((key, pos, false));
            }
            return Ok(None);
        }
        self.complete(node, 0)
    }

    fn end_seq(&mut self) -> Result<Option<Node>, YamlError> {
        match self.stack.pop() {
            Some(Frame::Seq {
                mut items,
                pos,
                anchor,
            }) => {
                // The tree of a large document is many times its text: no spare room in it.
                items.shrink_to_fit();
                self.complete(Node::new(Value::Seq(items), pos), anchor)
            }
            _ => Err(self.error(Pos::default(), "unbalanced sequence end")),
        }
    }

    fn end_map(&mut self) -> Result<Option<Node>, YamlError> {
        match self.stack.pop() {
            Some(Frame::Map {
                mut entries,
                merges,
                pos,
                anchor,
                ..
            }) => {
                apply_merges(&mut entries, merges)?;
                entries.shrink_to_fit();
                self.complete(Node::new(Value::Map(entries), pos), anchor)
            }
            _ => Err(self.error(Pos::default(), "unbalanced mapping end")),
        }
    }
}

/// `<<: *base` (or a list of them): keys written in the mapping win, then earlier sources win.
fn apply_merges(entries: &mut Vec<Entry>, merges: Vec<(Node, Pos)>) -> Result<(), YamlError> {
    for (mut source, key_pos) in merges {
        let maps: Vec<Node> = match &mut source.value {
            Value::Map(_) => vec![source],
            Value::Seq(items) => std::mem::take(items),
            _ => {
                return Err(YamlError {
                    pos: key_pos,
                    message: "merge key `<<` needs a mapping or a list of mappings".into(),
                })
            }
        };
        for mut map in maps {
            let Value::Map(merged) = &mut map.value else {
                return Err(YamlError {
                    pos: key_pos,
                    message: "merge key `<<` needs a mapping or a list of mappings".into(),
                });
            };
            for entry in std::mem::take(merged) {
                if !entries.iter().any(|e| e.key == entry.key) {
                    entries.push(entry);
                }
            }
        }
    }
    Ok(())
}

/// Keys are echoed in errors; keep them short and on one line.
pub(crate) fn printable(key: &str) -> String {
    let mut out: String = key.chars().take(60).filter(|c| !c.is_control()).collect();
    if key.chars().count() > 60 {
        out.push('…');
    }
    out
}

/// Resolves a scalar the way Go's YAML 1.1 decoder (used by kubectl and client-go) does.
fn resolve(text: Cow<'_, str>, style: ScalarStyle, tag: Option<&Tag>) -> Value {
    if let Some(tag) = tag.filter(|t| t.is_yaml_core_schema()) {
        match tag.suffix.as_str() {
            "str" | "binary" | "timestamp" => return Value::Str(text.into_owned()),
            "null" => return Value::Null,
            _ => {}
        }
    }
    if style != ScalarStyle::Plain {
        return Value::Str(text.into_owned());
    }
    match text.as_ref() {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            return Value::Bool(true)
        }
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            return Value::Bool(false)
        }
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Value::Float(f64::INFINITY)
        }
        "-.inf" | "-.Inf" | "-.INF" => return Value::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Value::Float(f64::NAN),
        _ => {}
    }
    let first = text.as_bytes().first().copied().unwrap_or(b'a');
    if first.is_ascii_digit() || matches!(first, b'-' | b'+' | b'.') {
        if let Some(i) = parse_int(&text) {
            return Value::Int(i);
        }
        if let Some(f) = parse_float(&text) {
            return Value::Float(f);
        }
    }
    Value::Str(text.into_owned())
}

fn parse_int(text: &str) -> Option<i64> {
    let cleaned = text.replace('_', "");
    let (negative, digits) = match cleaned.as_bytes().first()? {
        b'-' => (true, &cleaned[1..]),
        b'+' => (false, &cleaned[1..]),
        _ => (false, &cleaned[..]),
    };
    let magnitude = if let Some(hex) = digits.strip_prefix("0x") {
        i64::from_str_radix(hex, 16).ok()?
    } else if let Some(bin) = digits.strip_prefix("0b") {
        i64::from_str_radix(bin, 2).ok()?
    } else if let Some(oct) = digits.strip_prefix("0o") {
        i64::from_str_radix(oct, 8).ok()?
    } else if digits.len() > 1 && digits.starts_with('0') {
        // YAML 1.1: a leading zero means octal (`defaultMode: 0644`).
        i64::from_str_radix(&digits[1..], 8).ok()?
    } else {
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        digits.parse::<i64>().ok()?
    };
    Some(if negative { -magnitude } else { magnitude })
}

fn parse_float(text: &str) -> Option<f64> {
    // `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`, the YAML 1.1 float form.
    let body = text.strip_prefix(['-', '+']).unwrap_or(text);
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    let mantissa_ok = match mantissa.split_once('.') {
        Some((int, frac)) => {
            int.bytes().all(|b| b.is_ascii_digit())
                && frac.bytes().all(|b| b.is_ascii_digit())
                && !(int.is_empty() && frac.is_empty())
        }
        None => !mantissa.is_empty() && mantissa.bytes().all(|b| b.is_ascii_digit()),
    };
    let exponent_ok = exponent.is_none_or(|e| {
        let digits = e.strip_prefix(['-', '+']).unwrap_or(e);
        !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
    });
    if mantissa_ok && exponent_ok {
        text.parse::<f64>().ok()
    } else {
        None
    }
}

/// What a parse hands on, in input order.
#[derive(Debug)]
pub enum Parsed {
    /// Document `index` of the text, whole (a list document's streamed items left out).
    Document(usize, Node),
    /// One item of document `document`'s `items`, handed on as soon as it is complete, so a
    /// flow-style or one-line list is never one tree in memory. `list` is the document's
    /// apiVersion and kind when both came before the items.
    Item {
        document: usize,
        index: u32,
        list: Option<(String, String)>,
        node: Node,
    },
}

/// Parses every document of `text`, whose first line is line `line_offset + 1` of its file.
/// Documents before a syntax error are kept; the error ends the chunk.
pub fn parse_documents(text: &str, line_offset: u32) -> Vec<Document> {
    collect(text, line_offset, false).0
}

/// [`parse_documents`] as kubectl reads manifests: a duplicate key keeps its last value, and
/// is returned as a warning (with the index of its document) instead of failing the document.
pub fn parse_manifests(text: &str, line_offset: u32) -> (Vec<Document>, Vec<(usize, YamlError)>) {
    collect(text, line_offset, true)
}

fn collect(
    text: &str,
    line_offset: u32,
    lenient: bool,
) -> (Vec<Document>, Vec<(usize, YamlError)>) {
    let mut documents = Vec::new();
    let (error, warnings) = parse(text, line_offset, lenient, false, true, &mut |parsed| {
        if let Parsed::Document(_, node) = parsed {
            documents.push(Ok(node));
        }
    });
    if let Some(error) = error {
        documents.push(Err(error));
    }
    (documents, warnings)
}

/// [`parse_manifests`], handing each document (and, with `stream_items`, each item of a list
/// document) to `out` as soon as it is read. Returns the error that ended the text (its document is the one after
/// the last handed on), and the warnings with their document's index.
pub fn parse_manifests_streaming(
    text: &str,
    line_offset: u32,
    stream_items: bool,
    out: &mut dyn FnMut(Parsed),
) -> (Option<YamlError>, Vec<(usize, YamlError)>) {
    parse(text, line_offset, true, stream_items, true, out)
}

/// [`parse_manifests_streaming`] with saphyr's parser alone, never the block-style reader: the
/// reference the block-style reader is held to (tests, fuzzing, benchmarks).
#[doc(hidden)]
pub fn parse_manifests_streaming_with_saphyr(
    text: &str,
    line_offset: u32,
    stream_items: bool,
    out: &mut dyn FnMut(Parsed),
) -> (Option<YamlError>, Vec<(usize, YamlError)>) {
    parse(text, line_offset, true, stream_items, false, out)
}

/// How many lines one piece may have re-indented (go-yaml's leniencies) before its error
/// stands.
const MAX_REINDENTED: usize = 64;

fn parse(
    text: &str,
    line_offset: u32,
    lenient: bool,
    stream_items: bool,
    block_reader: bool,
    out: &mut dyn FnMut(Parsed),
) -> (Option<YamlError>, Vec<(usize, YamlError)>) {
    let mut warnings = Vec::new();
    // A reparse (below) hands on again what came before the line it changed: hand on only
    // what is past the furthest point already reached.
    let mut documents_out = 0usize;
    let mut items_out: (usize, u32) = (0, 0);
    let mut once = |parsed: Parsed| match &parsed {
        Parsed::Document(index, _) => {
            if *index >= documents_out {
                documents_out = index + 1;
                out(parsed);
            }
        }
        Parsed::Item {
            document, index, ..
        } => {
            if (*document, *index) >= items_out {
                items_out = (*document, index + 1);
                out(parsed);
            }
        }
    };
    let modes = (lenient, stream_items, block_reader);
    let (mut count, mut error) = parse_into(text, line_offset, modes, &mut warnings, &mut once);
    if !lenient {
        return (error, warnings);
    }
    // go-yaml, behind kubectl, accepts two indentations YAML 1.2 does not, and real
    // repositories rely on them: a flow collection's closing bracket at its key's indentation,
    // and the continuation lines of a quoted scalar indented less than the key. Leading
    // spaces mean nothing on either kind of line, so such a line is indented one column past
    // the line before it and the piece read again: every node keeps its line and column.
    let mut patched: Option<String> = None;
    let mut reindented = Vec::new();
    while reindented.len() < MAX_REINDENTED {
        let Some(failure) = &error else {
            break;
        };
        let current = patched.as_deref().unwrap_or(text);
        let Some(line) = failure.pos.line.checked_sub(line_offset + 1) else {
            break;
        };
        let Some(fixed) = reindent(current, line as usize, &failure.message) else {
            break;
        };
        reindented.push(failure.pos.line);
        warnings.clear();
        (count, error) = parse_into(&fixed, line_offset, modes, &mut warnings, &mut once);
        patched = Some(fixed);
    }
    if error.is_none() {
        for line in reindented {
            let index = count.saturating_sub(1);
            warnings.push((
                index,
                YamlError {
                    pos: Pos::new(line, 1),
                    message: "indented less than YAML allows (a closing bracket, or a quoted line); read as kubectl reads it".to_string(),
                },
            ));
        }
    }
    (error, warnings)
}

/// `text` with the lines go-yaml accepts under-indented indented one column past their key:
/// a closing `]` or `}` at line `line` (0-based, where the parser stopped), or the
/// continuation lines of the quoted scalar that starts on it.
fn reindent(text: &str, line: usize, message: &str) -> Option<String> {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let indent_of = |l: &str| l.len() - l.trim_start_matches(' ').len();
    let target = lines.get(line)?;
    let mut fix: Vec<(usize, usize)> = Vec::new();
    if !message.contains("indentation") {
        return None;
    }
    if message.contains("quoted scalar") {
        // The scalar starts on `line`; its under-indented continuation lines follow, up to the
        // one that closes it.
        let key_indent = indent_of(target);
        let quote = if target.contains('"') { '"' } else { '\'' };
        for (i, l) in lines.iter().enumerate().skip(line + 1) {
            if indent_of(l) <= key_indent && !l.trim().is_empty() {
                fix.push((i, key_indent + 1));
            }
            if l.contains(quote) {
                break;
            }
        }
    } else if target.trim_start_matches(' ').starts_with([']', '}']) {
        let previous = lines[..line].iter().rev().find(|l| !l.trim().is_empty())?;
        let indent = indent_of(previous) + 1;
        if indent_of(target) < indent {
            fix.push((line, indent));
        }
    }
    if fix.is_empty() {
        return None;
    }
    let mut out = String::with_capacity(text.len() + 8 * fix.len());
    for (i, l) in lines.iter().enumerate() {
        match fix.iter().find(|(at, _)| *at == i) {
            Some((_, indent)) => {
                out.push_str(&" ".repeat(*indent));
                out.push_str(l.trim_start_matches(' '));
            }
            None => out.push_str(l),
        }
    }
    Some(out)
}

/// Parses `text`, handing on each document (and, with `stream_items`, each list item) as it
/// completes; returns how many documents were handed on and the error that ended the text.
/// The block-style text most manifests are is read by [`crate::block`]; what it leaves,
/// saphyr reads from the start (what was handed on already is not handed on again: see
/// [`parse`]).
fn parse_into(
    text: &str,
    line_offset: u32,
    (lenient, stream_items, block_reader): (bool, bool, bool),
    warnings: &mut Vec<(usize, YamlError)>,
    out: &mut dyn FnMut(Parsed),
) -> (usize, Option<YamlError>) {
    if block_reader {
        // What the block-style reader makes is handed on only once it has read the whole
        // text: where it stops, saphyr may stop earlier, with an error.
        let warned = warnings.len();
        let mut made = Vec::new();
        let mut keep = |parsed| made.push(parsed);
        let mut events = Events::new(lenient, stream_items, warnings, &mut keep);
        let outcome =
            crate::block::read(text, line_offset, &mut |event, pos| events.feed(event, pos));
        let documents = events.documents;
        if outcome == crate::block::Outcome::Read {
            made.into_iter().for_each(&mut *out);
            return (documents, None);
        }
        warnings.truncate(warned);
    }
    parse_with_saphyr(text, line_offset, lenient, stream_items, warnings, out)
}

/// How the two readers compare on `text` (as manifests, list items streamed and not): `Ok`
/// with whether the block-style reader read it itself, or what differs. The block-style
/// reader must hand on exactly what saphyr's does, or leave the text to it.
#[doc(hidden)]
pub fn compare_readers(text: &str) -> Result<bool, String> {
    for stream_items in [false, true] {
        let mut both: Vec<Vec<String>> = Vec::new();
        for block_reader in [false, true] {
            let mut seen = Vec::new();
            let (error, warnings) = parse(text, 0, true, stream_items, block_reader, &mut |p| {
                seen.push(format!("{p:?}"));
            });
            seen.push(format!("{error:?} {warnings:?}"));
            both.push(seen);
        }
        if both[0] != both[1] {
            let at = both[0]
                .iter()
                .zip(&both[1])
                .position(|(a, b)| a != b)
                .unwrap_or(both[0].len().min(both[1].len()));
            let (a, b) = (
                both[0].get(at).map_or("", String::as_str),
                both[1].get(at).map_or("", String::as_str),
            );
            let from = a
                .bytes()
                .zip(b.bytes())
                .position(|(x, y)| x != y)
                .unwrap_or(a.len().min(b.len()))
                .saturating_sub(150);
            let context = |s: &str| {
                s.get(from..)
                    .unwrap_or("")
                    .chars()
                    .take(300)
                    .collect::<String>()
            };
            return Err(format!(
                "saphyr:       …{}\nblock reader: …{}",
                context(a),
                context(b)
            ));
        }
    }
    let (mut warnings, mut ignore) = (Vec::new(), |_| {});
    let mut lenient_events = Events::new(true, false, &mut warnings, &mut ignore);
    let outcome = crate::block::read(text, 0, &mut |event, pos| lenient_events.feed(event, pos));
    Ok(outcome == crate::block::Outcome::Read)
}

fn parse_with_saphyr(
    text: &str,
    line_offset: u32,
    lenient: bool,
    stream_items: bool,
    warnings: &mut Vec<(usize, YamlError)>,
    out: &mut dyn FnMut(Parsed),
) -> (usize, Option<YamlError>) {
    let mut parser = Parser::new_from_str(text);
    let mut events = Events::new(lenient, stream_items, warnings, out);
    while let Some(event) = parser.next_event() {
        let (event, span) = match event {
            Ok(pair) => pair,
            Err(err) => {
                let marker = err.marker();
                let line = u32::try_from(marker.line()).unwrap_or(u32::MAX);
                let col = u32::try_from(marker.col()).unwrap_or(u32::MAX - 1);
                let error = YamlError {
                    pos: Pos::new(line.saturating_add(line_offset), col + 1),
                    message: err.info().to_string(),
                };
                return (events.documents, Some(error));
            }
        };
        if let Err(err) = events.feed(event, pos_of(&span, line_offset)) {
            return (events.documents, Some(err));
        }
    }
    (events.documents, None)
}

/// Turns parser events into documents and list items, handed on as they complete.
struct Events<'w, 'o> {
    lenient: bool,
    stream_items: bool,
    builder: Builder,
    in_document: bool,
    root: Option<Node>,
    document_pos: Pos,
    /// Documents handed on so far.
    documents: usize,
    warnings: &'w mut Vec<(usize, YamlError)>,
    out: &'o mut dyn FnMut(Parsed),
}

impl<'w, 'o> Events<'w, 'o> {
    fn new(
        lenient: bool,
        stream_items: bool,
        warnings: &'w mut Vec<(usize, YamlError)>,
        out: &'o mut dyn FnMut(Parsed),
    ) -> Self {
        Events {
            lenient,
            stream_items,
            builder: Builder::new(lenient, stream_items),
            in_document: false,
            root: None,
            document_pos: Pos::default(),
            documents: 0,
            warnings,
            out,
        }
    }

    fn feed(&mut self, event: Event<'_>, pos: Pos) -> Result<(), YamlError> {
        let builder = &mut self.builder;
        let step = match event {
            Event::DocumentStart(_) => {
                self.in_document = true;
                self.document_pos = pos;
                *builder = Builder::new(self.lenient, self.stream_items);
                Ok(None)
            }
            Event::DocumentEnd => {
                let documents = self.documents;
                self.warnings
                    .extend(builder.warnings.drain(..).map(|w| (documents, w)));
                if self.in_document {
                    let node = self
                        .root
                        .take()
                        .unwrap_or_else(|| Node::new(Value::Null, self.document_pos));
                    (self.out)(Parsed::Document(self.documents, node));
                    self.documents += 1;
                }
                self.in_document = false;
                Ok(None)
            }
            Event::Scalar(text, style, anchor, tag) => {
                builder.scalar(text, style, anchor, tag.as_deref(), pos)
            }
            Event::Alias(id) => builder.alias(id, pos),
            Event::SequenceStart(anchor, _) => builder
                .open(
                    Frame::Seq {
                        items: Vec::new(),
                        pos,
                        anchor,
                    },
                    pos,
                )
                .map(|()| None),
            Event::MappingStart(anchor, _) => builder
                .open(
                    Frame::Map {
                        entries: Vec::new(),
                        pending_key: None,
                        merges: Vec::new(),
                        pos,
                        anchor,
                    },
                    pos,
                )
                .map(|()| None),
            Event::SequenceEnd => builder.end_seq(),
            Event::MappingEnd => builder.end_map(),
            Event::StreamStart | Event::StreamEnd | Event::Nothing => Ok(None),
        };
        if let Some((index, node)) = self.builder.ready_item.take() {
            (self.out)(Parsed::Item {
                document: self.documents,
                index,
                list: self.builder.list_identity(),
                node,
            });
        }
        if let Some(node) = step? {
            self.root = Some(node);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> Node {
        let mut docs = parse_documents(text, 0);
        assert_eq!(docs.len(), 1, "{docs:?}");
        docs.remove(0).expect("parses")
    }

    fn err(text: &str) -> YamlError {
        parse_documents(text, 0)
            .into_iter()
            .find_map(Result::err)
            .expect("an error")
    }

    #[test]
    fn positions_point_at_keys_and_values() {
        let node = one("apiVersion: v1\nkind: Pod\nspec:\n  hostPID: true\n");
        let spec = node.entry("spec").expect("spec");
        assert_eq!(spec.key_pos, Pos::new(3, 1));
        let host_pid = spec.value.entry("hostPID").expect("hostPID");
        assert_eq!(host_pid.key_pos, Pos::new(4, 3));
        assert_eq!(host_pid.value.pos, Pos::new(4, 12));
    }

    #[test]
    fn columns_count_characters_not_bytes() {
        let node = one("name: \"ünïcödé\"\nx: 1\n");
        let node2 = one("é: ü\nkey: 1\n");
        assert_eq!(node.entry("x").map(|e| e.key_pos), Some(Pos::new(2, 1)));
        assert_eq!(node2.get("é").map(|n| n.pos), Some(Pos::new(1, 4)));
    }

    #[test]
    fn line_offset_shifts_positions() {
        let docs = parse_documents("a: 1\n", 10);
        let node = docs[0].as_ref().expect("parses");
        assert_eq!(node.entry("a").map(|e| e.key_pos), Some(Pos::new(11, 1)));
    }

    #[test]
    fn yaml_1_1_scalars_resolve_like_kubectl() {
        let node = one(
            "a: yes\nb: off\nc: 0644\nd: \"0644\"\ne: 0x1F\nf: 1.5\ng: ~\nh: 1_000\ni: -3\nj: 1e3\nk: abc\nl: !!str 12\n",
        );
        assert_eq!(node.get("a").map(|n| &n.value), Some(&Value::Bool(true)));
        assert_eq!(node.get("b").map(|n| &n.value), Some(&Value::Bool(false)));
        assert_eq!(node.get("c").map(|n| &n.value), Some(&Value::Int(0o644)));
        assert_eq!(
            node.get("d").map(|n| &n.value),
            Some(&Value::Str("0644".into()))
        );
        assert_eq!(node.get("e").map(|n| &n.value), Some(&Value::Int(31)));
        assert_eq!(node.get("f").map(|n| &n.value), Some(&Value::Float(1.5)));
        assert_eq!(node.get("g").map(|n| &n.value), Some(&Value::Null));
        assert_eq!(node.get("h").map(|n| &n.value), Some(&Value::Int(1000)));
        assert_eq!(node.get("i").map(|n| &n.value), Some(&Value::Int(-3)));
        assert_eq!(node.get("j").map(|n| &n.value), Some(&Value::Float(1000.0)));
        assert_eq!(
            node.get("k").map(|n| &n.value),
            Some(&Value::Str("abc".into()))
        );
        assert_eq!(
            node.get("l").map(|n| &n.value),
            Some(&Value::Str("12".into()))
        );
    }

    #[test]
    fn merge_keys_expand_with_explicit_keys_winning() {
        let node = one(
            "base: &base\n  privileged: true\n  runAsUser: 0\nsc:\n  <<: *base\n  runAsUser: 1000\n",
        );
        let sc = node.get("sc").expect("sc");
        assert_eq!(sc.get("privileged").and_then(Node::as_bool), Some(true));
        assert_eq!(sc.get("runAsUser").and_then(Node::as_i64), Some(1000));
        assert!(sc.get("<<").is_none());
    }

    #[test]
    fn aliases_copy_the_anchored_node_with_its_position() {
        let node = one("a: &x {k: v}\nb: *x\n");
        assert_eq!(node.at(&["b", "k"]).and_then(Node::as_str), Some("v"));
        assert_eq!(node.at(&["b", "k"]).map(|n| n.pos), Some(Pos::new(1, 11)));
    }

    #[test]
    fn duplicate_keys_are_errors_at_the_second_key() {
        let e = err("kind: Pod\nmetadata: {}\nkind: Service\n");
        assert_eq!(e.pos, Pos::new(3, 1));
        assert!(e.message.contains("duplicate key `kind`"), "{}", e.message);
    }

    /// A manifest as kubectl reads it: the one document, and the warnings.
    fn manifest(text: &str) -> (Node, Vec<YamlError>) {
        let (mut documents, warnings) = parse_manifests(text, 0);
        assert_eq!(documents.len(), 1, "{documents:?}");
        let root = documents.remove(0).expect("kubectl reads it");
        (root, warnings.into_iter().map(|(_, w)| w).collect())
    }

    #[test]
    fn in_manifests_a_duplicate_key_keeps_its_last_value_with_a_warning() {
        let (root, warnings) = manifest(
            "kind: Pod\nspec:\n  containers:\n  - image: nginx:1.27\n    image: nginx:latest\n",
        );
        let container = &root.at(&["spec", "containers"]).expect("list").as_seq()[0];
        assert_eq!(container.str_of("image"), Some("nginx:latest"));
        assert_eq!(
            container.entry("image").map(|e| e.key_pos),
            Some(Pos::new(5, 5))
        );
        assert_eq!(warnings.len(), 1);
        assert_eq!(warnings[0].pos, Pos::new(5, 5));
        assert!(
            warnings[0].message.contains("first at line 4"),
            "{}",
            warnings[0].message
        );
    }

    #[test]
    fn a_closing_bracket_at_its_keys_indentation_reads_as_kubectl_reads_it() {
        let (root, warnings) = manifest(
            "spec:\n  containers:\n  - name: web\n    args: [\n      \"--port=80\",\n      \"--verbose\"\n    ]\n    image: nginx:1.27\n",
        );
        let container = &root.at(&["spec", "containers"]).expect("list").as_seq()[0];
        let args: Vec<&str> = container
            .get("args")
            .expect("args")
            .as_seq()
            .iter()
            .filter_map(Node::as_str)
            .collect();
        assert_eq!(args, vec!["--port=80", "--verbose"]);
        assert_eq!(
            container.entry("image").map(|e| e.key_pos),
            Some(Pos::new(8, 5))
        );
        assert_eq!(warnings.len(), 1);
        assert_eq!(warnings[0].pos.line, 7);
    }

    #[test]
    fn an_under_indented_quoted_line_reads_as_kubectl_reads_it() {
        let (root, warnings) = manifest(
            "metadata:\n  annotations:\n    note: \"this is a long\n  note that continues\"\ndata:\n  x: \"1\"\n",
        );
        assert_eq!(
            root.at(&["metadata", "annotations", "note"])
                .and_then(Node::as_str),
            Some("this is a long note that continues")
        );
        assert_eq!(root.entry("data").map(|e| e.key_pos), Some(Pos::new(5, 1)));
        assert_eq!(warnings.len(), 1);
    }

    #[test]
    fn what_kubectl_rejects_stays_an_error() {
        // A key indented between its siblings and their children.
        let (documents, _) = parse_manifests("metadata:\n  name: a\n labels: {}\n", 0);
        assert!(documents[0].is_err(), "{documents:?}");
        // An unclosed flow sequence.
        let (documents, _) = parse_manifests("args: [a, b\nkind: Pod\n", 0);
        assert!(documents.last().is_some_and(Result::is_err));
        // Palisade's own config stays strict about duplicates.
        assert!(parse_documents("a: 1\na: 2\n", 0)[0].is_err());
    }

    #[test]
    fn alias_bombs_are_cut_off() {
        let mut text = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        let mut prev = 'a';
        for name in 'b'..='j' {
            text.push_str(&format!(
                "{name}: &{name} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"
            ));
            prev = name;
        }
        let e = err(&text);
        assert!(e.message.contains("alias bomb"), "{}", e.message);
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let block: String = (0..10_000)
            .map(|depth| format!("{}k:\n", " ".repeat(depth)))
            .collect();
        assert!(err(&block).message.contains("nesting deeper"));
        let flow = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        let e = err(&flow);
        assert!(
            e.message.contains("nesting deeper") || e.message.contains("recursion limit"),
            "{}",
            e.message
        );
    }

    #[test]
    fn syntax_errors_keep_earlier_documents() {
        let docs = parse_documents("a: 1\n---\nb: [1, 2\n", 0);
        assert_eq!(docs.len(), 2);
        assert!(docs[0].is_ok());
        let e = docs[1].as_ref().expect_err("second document is broken");
        assert!(e.pos.line >= 3, "{e:?}");
    }

    #[test]
    fn empty_documents_are_null() {
        let docs = parse_documents("---\n# only a comment\n", 0);
        assert!(matches!(docs.as_slice(), [Ok(n)] if n.is_null()));
    }
}
