//! Large inputs read piece by piece: `kubectl get -A -o yaml` (or `-o json`) of a big cluster is
//! one `List` document of a gigabyte or more. A [`Splitter`] reads lines from any reader and
//! yields each ordinary document whole and each item of a top-level `items` sequence on its
//! own, with the line it starts at, so that every piece is parsed, checked and dropped in turn
//! and positions stay exact in the big file. The size limit applies to one piece, not to the
//! file; the hostile-input limits of the parser apply per piece.
//!
//! Items are recognised by layout, as kubectl and the API server write lists: a line `items:`
//! at column 0 followed by `- ` entries at one indentation (YAML), or `"items": [` followed by
//! `{ ... }` entries each opening and closing on their own lines at one indentation (pretty
//! JSON). Anything else (flow-style YAML, one-line JSON) is read as an ordinary document.

use std::io::BufRead;
use std::sync::Arc;

use palisade_model::LoadError;

use crate::document::{document_objects, list_item, ListIdentity, Loaded};
use crate::yaml;
use palisade_model::Node;

/// One piece, or one document past this size, is refused.
pub const MAX_PIECE_BYTES: usize = 256 << 20;

/// What an item's text starts with room for: most objects of a cluster dump are a few KiB.
const ITEM_CAPACITY: usize = 4 << 10;

/// A piece of a large input, parsed on its own.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Piece {
    pub text: String,
    /// Lines before the piece in the file.
    pub line_offset: u32,
    /// The document (1-based, like lines) the piece belongs to.
    pub document: u32,
    /// `Some(i)` for item `i` of a list, read on its own.
    pub item: Option<u32>,
    /// The list's apiVersion and kind, when they came before its items.
    pub list: Option<(String, String)>,
}

impl Piece {
    /// The piece with the blocks the server writes and no inventory analysis reads blanked:
    /// `managedFields` anywhere and the object's own `status`, which are most of a kubectl
    /// dump's pods. Lines are kept (blank), so every other node keeps its line and column.
    /// YAML items only; anything else is returned as it is.
    pub fn without_server_fields(&self) -> std::borrow::Cow<'_, Piece> {
        let Some(first) = self.text.lines().find(|l| !is_blank_or_comment(l)) else {
            return std::borrow::Cow::Borrowed(self);
        };
        if self.item.is_none() || first.trim_start().starts_with('{') {
            return std::borrow::Cow::Borrowed(self);
        }
        // Most items of a dump made from manifests have neither block: two vectorised searches
        // find that without walking the item line by line.
        let bytes = self.text.as_bytes();
        if memchr::memmem::find(bytes, b"status:").is_none()
            && memchr::memmem::find(bytes, b"managedFields:").is_none()
        {
            return std::borrow::Cow::Borrowed(self);
        }
        let top = indentation(first);
        // Copied only from the first server block on: an item without one (a manifest, most
        // of a dump's kinds) is returned as it is, without a copy of its text.
        let mut text: Option<String> = None;
        let mut skipping: Option<usize> = None;
        let mut in_metadata = false;
        let mut at = 0;
        for line in self.text.split_inclusive('\n') {
            let start = at;
            at += line.len();
            let indent = indentation(line);
            let content = line.trim();
            if let Some(key_indent) = skipping {
                let inside = content.is_empty()
                    || indent > key_indent
                    || indent == key_indent && (content == "-" || content.starts_with("- "));
                if inside {
                    text.get_or_insert_default().push('\n');
                    continue;
                }
                skipping = None;
            }
            if indent == top && !content.is_empty() {
                in_metadata = content.starts_with("metadata:");
            }
            // Only the object's own fields: a key of that name deeper in (a ConfigMap's data,
            // a CRD's spec) is the author's.
            let server_block =
                in_metadata && indent == top + 2 && content.starts_with("managedFields:")
                    || indent == top && content.starts_with("status:");
            if server_block {
                let text = text.get_or_insert_with(|| {
                    let mut copy = String::with_capacity(self.text.len());
                    copy.push_str(&self.text[..start]);
                    copy
                });
                text.push('\n');
                if content.ends_with(':') {
                    skipping = Some(indent);
                }
                continue;
            }
            if let Some(text) = text.as_mut() {
                text.push_str(line);
            }
        }
        let Some(text) = text else {
            return std::borrow::Cow::Borrowed(self);
        };
        std::borrow::Cow::Owned(Piece {
            text,
            ..self.clone()
        })
    }

    /// The item's `kind`, read from its text without parsing it: the value of the `kind` key at
    /// the item's top level (YAML or JSON), when there is one. Lets a reader that needs only
    /// some kinds skip the others' parse.
    pub fn kind_hint(&self) -> Option<&str> {
        self.item?;
        let mut lines = self.text.lines().filter(|l| !is_blank_or_comment(l));
        let first = lines.next()?;
        let (top, json) = if first.trim() == "{" {
            (None, true)
        } else {
            (Some(indentation(first)), false)
        };
        let mut top = top;
        for line in std::iter::once(first).chain(lines) {
            if json && top.is_none() && line.trim() != "{" {
                top = Some(indentation(line));
            }
            if Some(indentation(line)) != top {
                continue;
            }
            if let Some(kind) = header_value(line, "kind") {
                return Some(kind);
            }
        }
        None
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Syntax {
    Yaml,
    Json,
}

enum State {
    /// Collecting an ordinary document (or the header of a list).
    Document,
    /// Just after `items:` / `"items": [`: the next content line says whether items follow.
    ItemsStart { key_line: usize },
    /// Inside the items, which start at this column.
    Items { column: usize },
    /// After the items: the rest of the list document, or lines between items (broken ones),
    /// after which items at `column` are read again.
    Trailer { column: usize },
    /// Skipping the rest of an oversized document.
    Skipping,
}

/// Yields the pieces of one input, in order.
pub struct Splitter<R: BufRead> {
    reader: R,
    file: Arc<str>,
    line: u32,
    document: u32,
    state: State,
    syntax: Option<Syntax>,
    /// The current document's lines (or a list's header), and the line they start at.
    buffer: String,
    buffer_line: u32,
    /// The current item.
    item: String,
    item_line: u32,
    item_index: u32,
    /// The list's identity, from its header lines.
    list: (Option<String>, Option<String>),
    /// Lines of the items opening, kept in case no items follow after all.
    pending: Vec<String>,
    /// The indentation of a JSON document's top-level keys.
    top_indent: Option<usize>,
    /// Lines after the items (or between them), checked when they end, and where they start.
    trailer: String,
    trailer_start: u32,
    ready: std::collections::VecDeque<Result<Piece, LoadError>>,
    done: bool,
    raw: Vec<u8>,
}

fn indentation(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

/// Whether `line` is a document separator: `---` alone or before a comment.
fn is_separator(line: &str) -> bool {
    line.strip_prefix("---").is_some_and(|rest| {
        let rest = rest.trim();
        rest.is_empty() || rest.starts_with('#')
    })
}

fn is_blank_or_comment(line: &str) -> bool {
    let trimmed = line.trim();
    trimmed.is_empty() || trimmed.starts_with('#')
}

/// `key: value` at column 0 (YAML) or `"key": value,` (JSON) with quotes stripped.
fn header_value<'l>(line: &'l str, key: &str) -> Option<&'l str> {
    let trimmed = line.trim();
    let rest = trimmed
        .strip_prefix(key)
        .and_then(|r| r.strip_prefix(':'))
        .or_else(|| {
            trimmed
                .strip_prefix('"')
                .and_then(|r| r.strip_prefix(key))
                .and_then(|r| r.strip_prefix("\":"))
        })?;
    let value = rest.trim().trim_end_matches(',').trim();
    let value = value.split(" #").next().unwrap_or(value).trim();
    Some(value.trim_matches(|c| c == '"' || c == '\''))
}

impl<R: BufRead> Splitter<R> {
    pub fn new(file: Arc<str>, reader: R) -> Self {
        Splitter {
            reader,
            file,
            line: 0,
            document: 1,
            state: State::Document,
            syntax: None,
            buffer: String::new(),
            buffer_line: 0,
            item: String::new(),
            item_line: 0,
            item_index: 0,
            list: (None, None),
            pending: Vec::new(),
            top_indent: None,
            trailer: String::new(),
            trailer_start: 0,
            ready: std::collections::VecDeque::new(),
            done: false,
            raw: Vec::new(),
        }
    }

    fn error(&self, line: u32, message: String) -> LoadError {
        LoadError {
            file: self.file.to_string(),
            document: Some(self.document),
            line: Some(line),
            column: None,
            message,
        }
    }

    fn list_identity(&self) -> Option<(String, String)> {
        match &self.list {
            (Some(api), Some(kind)) => Some((api.clone(), kind.clone())),
            _ => None,
        }
    }

    fn push_item(&mut self) {
        if self.item.is_empty() {
            return;
        }
        let text = std::mem::take(&mut self.item);
        if text.len() > MAX_PIECE_BYTES {
            let error = self.error(
                self.item_line + 1,
                format!(
                    "`items/{}` is larger than {} MiB, not read",
                    self.item_index,
                    MAX_PIECE_BYTES >> 20
                ),
            );
            self.ready.push_back(Err(error));
        } else {
            self.ready.push_back(Ok(Piece {
                text,
                line_offset: self.item_line,
                document: self.document,
                item: Some(self.item_index),
                list: self.list_identity(),
            }));
        }
        self.item_index += 1;
    }

    /// Ends the current document (at a `---` line or the end of the input).
    fn end_document(&mut self) {
        let pieces = self.ready.len();
        let items = self.item_index;
        match self.state {
            State::Document | State::ItemsStart { .. } => {
                for line in self.pending.drain(..) {
                    self.buffer.push_str(&line);
                }
                let text = std::mem::take(&mut self.buffer);
                if !text.lines().all(is_blank_or_comment) {
                    self.ready.push_back(Ok(Piece {
                        text,
                        line_offset: self.buffer_line,
                        document: self.document,
                        item: None,
                        list: None,
                    }));
                }
            }
            State::Items { .. } | State::Trailer { .. } => {
                self.push_item();
                self.buffer.clear();
                self.check_trailer();
                self.check_list_kind();
            }
            State::Skipping => self.buffer.clear(),
        }
        let produced = self.ready.len() > pieces || items > 0 || self.item_index > items;
        self.state = State::Document;
        self.syntax = None;
        self.list = (None, None);
        self.item_index = 0;
        self.pending.clear();
        self.top_indent = None;
        self.trailer.clear();
        if produced {
            self.document += 1;
        }
    }

    /// Takes one line (with its newline): a document separator ends the document; any other
    /// line goes where the state says (the document, the start of a list's items, an item,
    /// or the lines after the items).
    fn take_line(&mut self, line: &str) {
        let number = self.line;
        self.line += 1;
        if is_separator(line) {
            self.take_separator(number, line);
            return;
        }
        if self.syntax.is_none() && !is_blank_or_comment(line) && line.trim() != "---" {
            self.syntax = Some(if line.trim_start().starts_with('{') {
                Syntax::Json
            } else {
                Syntax::Yaml
            });
        }
        match self.state {
            State::Skipping => {}
            State::Document => self.document_line(number, line),
            State::ItemsStart { key_line } => self.items_start_line(number, key_line, line),
            State::Items { column } => self.item_line(number, column, line),
            State::Trailer { column } => self.after_items_line(number, column, line),
        }
    }

    /// A `---` line: ends the document unless nothing came since the last one.
    fn take_separator(&mut self, number: u32, line: &str) {
        let empty = self.buffer.trim().is_empty()
            && self.item.is_empty()
            && matches!(self.state, State::Document);
        if !empty {
            self.end_document();
        } else {
            self.buffer.clear();
        }
        self.buffer_line = number;
        self.buffer.push_str(line);
    }

    /// A line of a document not (yet) read item by item: its header keys are noted, and an
    /// object's `items` opens the list.
    fn document_line(&mut self, number: u32, line: &str) {
        if self.buffer.is_empty() {
            self.buffer_line = number;
        }
        if self.syntax == Some(Syntax::Json)
            && self.top_indent.is_none()
            && !is_blank_or_comment(line)
            && line.trim() != "{"
        {
            self.top_indent = Some(indentation(line));
        }
        let header = match self.syntax {
            Some(Syntax::Yaml) => indentation(line) == 0,
            Some(Syntax::Json) => Some(indentation(line)) == self.top_indent,
            None => false,
        };
        if header {
            if let Some(v) = header_value(line, "apiVersion") {
                self.list.0.get_or_insert_with(|| v.to_string());
            }
            if let Some(v) = header_value(line, "kind") {
                self.list.1.get_or_insert_with(|| v.to_string());
            }
        }
        // Only an object's `items` (its apiVersion came first, as kubectl and the API server
        // write lists) is read item by item: a values file's `items:` is not.
        let opens_items = self.list.0.is_some()
            && match self.syntax {
                Some(Syntax::Yaml) => {
                    let trimmed = line.trim_end();
                    trimmed == "items:" || trimmed.starts_with("items: #")
                }
                Some(Syntax::Json) => {
                    line.trim() == "\"items\": [" && header && indentation(line) > 0
                }
                None => false,
            };
        if opens_items {
            self.state = State::ItemsStart {
                key_line: indentation(line),
            };
            self.pending.push(line.to_string());
            return;
        }
        self.buffer.push_str(line);
        if self.buffer.len() > MAX_PIECE_BYTES {
            let error = self.error(
                self.buffer_line + 1,
                format!(
                    "document larger than {} MiB (and not a list read item by item), not read",
                    MAX_PIECE_BYTES >> 20
                ),
            );
            self.ready.push_back(Err(error));
            self.buffer.clear();
            self.state = State::Skipping;
        }
    }

    /// A line after `items:` and before its first item: the first item starts the list, or
    /// the document was not a block sequence of items after all.
    fn items_start_line(&mut self, number: u32, key_line: usize, line: &str) {
        if is_blank_or_comment(line) {
            self.pending.push(line.to_string());
            return;
        }
        let column = indentation(line);
        let content = line[column..].trim_end();
        let starts = match self.syntax {
            Some(Syntax::Json) => content == "{" && column > key_line,
            _ => content == "-" || content.starts_with("- "),
        };
        if starts {
            self.pending.clear();
            self.check_header();
            self.state = State::Items { column };
            self.start_item(number, line);
        } else {
            for pending in self.pending.drain(..) {
                self.buffer.push_str(&pending);
            }
            self.buffer.push_str(line);
            self.state = State::Document;
        }
    }

    /// A line among the items (at `column`): the start of the next item, a line of the
    /// current one, or the first line after the list.
    fn item_line(&mut self, number: u32, column: usize, line: &str) {
        if is_blank_or_comment(line) {
            self.item.push_str(line);
            return;
        }
        let indent = indentation(line);
        let content = line[indent..].trim_end();
        // A tab where indentation belongs is the item's own (broken) line: the item's parse
        // names it, and the items after it are still read.
        if content.starts_with('\t') {
            self.item.push_str(line);
            return;
        }
        match self.syntax {
            Some(Syntax::Json) => {
                if indent == column && content == "{" {
                    self.start_item(number, line);
                } else if indent == column && (content == "}" || content == "},") {
                    self.item.push_str(&line[..indent]);
                    self.item.push_str("}\n");
                    self.push_item();
                } else if indent < column {
                    self.push_item();
                    self.start_trailer(number, column, line);
                } else {
                    self.item.push_str(line);
                }
            }
            _ => {
                if indent == column && (content == "-" || content.starts_with("- ")) {
                    self.start_item(number, line);
                } else if indent <= column {
                    self.push_item();
                    self.start_trailer(number, column, line);
                } else {
                    self.item.push_str(line);
                }
            }
        }
    }

    /// A line after the items: the list's own keys, or items again after lines that belong
    /// to none (those lines are broken, a key between items: said, and the items read on).
    fn after_items_line(&mut self, number: u32, column: usize, line: &str) {
        let indent = indentation(line);
        let content = line[indent..].trim_end();
        let resumes = indent == column
            && match self.syntax {
                Some(Syntax::Json) => content == "{",
                _ => content == "-" || content.starts_with("- "),
            };
        if resumes {
            self.stray_lines(number);
            self.state = State::Items { column };
            self.start_item(number, line);
            return;
        }
        self.trailer_line(line);
        self.trailer.push_str(line);
    }

    fn trailer_line(&mut self, line: &str) {
        let top = match self.syntax {
            Some(Syntax::Json) => self.top_indent,
            _ => Some(0),
        };
        if Some(indentation(line)) != top {
            return;
        }
        if let Some(v) = header_value(line, "apiVersion") {
            self.list.0.get_or_insert_with(|| v.to_string());
        }
        if let Some(v) = header_value(line, "kind") {
            self.list.1.get_or_insert_with(|| v.to_string());
        }
    }

    fn start_trailer(&mut self, number: u32, column: usize, line: &str) {
        self.state = State::Trailer { column };
        self.trailer_start = number;
        self.trailer_line(line);
        self.trailer.clear();
        self.trailer.push_str(line);
    }

    /// Lines between two items, at the indentation of the list's own keys.
    fn stray_lines(&mut self, next_item: u32) {
        let text = std::mem::take(&mut self.trailer);
        if text.lines().all(is_blank_or_comment) {
            return;
        }
        let first = self.trailer_start + 1;
        let last = next_item;
        let lines = if first == last {
            format!("line {first} is")
        } else {
            format!("lines {first}-{last} are")
        };
        let error = self.error(
            first,
            format!(
                "{lines} not part of any item of `items` (indented like the list's own keys, between items `items/{}` and `items/{}`): not read",
                self.item_index.saturating_sub(1),
                self.item_index
            ),
        );
        self.ready.push_back(Err(error));
    }

    /// The list's own lines before its items parse (they are not otherwise read).
    fn check_header(&mut self) {
        let closing = match self.syntax {
            Some(Syntax::Json) => "\"items\": []}\n",
            _ => "items: []\n",
        };
        let mut text = std::mem::take(&mut self.buffer);
        text.push_str(closing);
        self.check_parses(&text, self.buffer_line, "before its items");
    }

    /// The list's own lines after its items parse.
    fn check_trailer(&mut self) {
        let trailer = std::mem::take(&mut self.trailer);
        if trailer.lines().all(is_blank_or_comment) {
            return;
        }
        match self.syntax {
            // The trailer of a JSON list closes the items' bracket and the list's brace.
            Some(Syntax::Json) => {
                let text = format!("{{\"items\": [\n{trailer}");
                self.check_parses(
                    &text,
                    self.trailer_start.saturating_sub(1),
                    "after its items",
                );
            }
            _ => self.check_parses(&trailer, self.trailer_start, "after its items"),
        }
    }

    fn check_parses(&mut self, text: &str, line_offset: u32, place: &str) {
        if let Some(Err(problem)) = yaml::parse_manifests(text, line_offset).0.pop() {
            let mut error = self.error(
                problem.pos.line,
                format!("the list's own lines {place}: {}", problem.message),
            );
            error.column = Some(problem.pos.column);
            self.ready.push_back(Err(error));
        }
    }

    /// Items read one by one belong to a list: a document whose kind is not one was misread.
    fn check_list_kind(&mut self) {
        let kind = self.list.1.as_deref().unwrap_or("");
        if kind.ends_with("List") {
            return;
        }
        let kind = if kind.is_empty() {
            "no kind".to_string()
        } else {
            format!("kind `{}`", yaml::printable(kind))
        };
        let error = self.error(
            self.buffer_line + 1,
            format!(
                "`items` was read as the objects of a list (its apiVersion came first, as lists are written), but the document has {kind}, not a `List`: each item was judged as an object"
            ),
        );
        self.ready.push_back(Err(error));
    }

    /// Starts an item at `line`; a YAML item's `- ` becomes spaces, so columns stay exact.
    fn start_item(&mut self, number: u32, line: &str) {
        self.push_item();
        self.item_line = number;
        // Sized for a typical object, so that an item grows a few times rather than per line.
        self.item = String::with_capacity(ITEM_CAPACITY.max(line.len()));
        if self.syntax == Some(Syntax::Json) {
            self.item.push_str(line);
        } else {
            let column = indentation(line);
            self.item.push_str(&line[..column]);
            self.item.push(' ');
            self.item.push_str(&line[column + 1..]);
        }
    }

    fn fill(&mut self) {
        while self.ready.is_empty() && !self.done {
            self.raw.clear();
            match read_line(&mut self.reader, &mut self.raw) {
                Ok(0) => {
                    self.end_document();
                    self.done = true;
                }
                Ok(_) => {
                    if self.line == 0 && self.raw.starts_with(&[0xEF, 0xBB, 0xBF]) {
                        self.raw.drain(..3);
                    }
                    if !self.raw.ends_with(b"\n") {
                        self.raw.push(b'\n');
                    }
                    // The line is lent from the reading buffer, which every line reuses.
                    let raw = std::mem::take(&mut self.raw);
                    match std::str::from_utf8(&raw) {
                        Ok(line) => self.take_line(line),
                        Err(e) => {
                            let error = self.error(
                                self.line + 1,
                                format!("invalid UTF-8 at byte {} of the line", e.valid_up_to()),
                            );
                            self.ready.push_back(Err(error));
                            self.take_line("\n");
                        }
                    }
                    self.raw = raw;
                }
                Err(e) => {
                    let error = self.error(self.line + 1, format!("cannot read: {e}"));
                    self.ready.push_back(Err(error));
                    self.end_document();
                    self.done = true;
                }
            }
        }
    }
}

/// Pieces handed out for parallel work: about this many bytes of text at a time, since one
/// hand-off per small object costs more in waking threads than parsing it.
pub const BATCH_BYTES: usize = 256 << 10;

impl<R: BufRead> Splitter<R> {
    /// The pieces in batches of about [`BATCH_BYTES`] of text, in order.
    pub fn batches(mut self) -> impl Iterator<Item = Vec<Result<Piece, LoadError>>> {
        std::iter::from_fn(move || {
            let mut batch = Vec::new();
            let mut bytes = 0;
            while bytes < BATCH_BYTES {
                let Some(piece) = self.next() else { break };
                bytes += piece.as_ref().map_or(0, |p| p.text.len());
                batch.push(piece);
            }
            (!batch.is_empty()).then_some(batch)
        })
    }
}

impl<R: BufRead> Iterator for Splitter<R> {
    type Item = Result<Piece, LoadError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.fill();
        self.ready.pop_front()
    }
}

/// Parses one piece and passes on what it holds, as [`crate::load_text`] does for a whole file.
pub fn load_piece(file: &Arc<str>, piece: &Piece, sink: &mut dyn FnMut(Loaded)) {
    load_piece_at(file, piece, piece.document, sink);
}

/// [`load_piece`], numbering the piece's documents from `document`; returns how many it held.
pub(crate) fn load_piece_at(
    file: &Arc<str>,
    piece: &Piece,
    first_document: u32,
    sink: &mut dyn FnMut(Loaded),
) -> u32 {
    let list = piece
        .list
        .as_ref()
        .map(|(api_version, kind)| list_identity(api_version, kind));
    let document_at =
        |index: usize| first_document.saturating_add(u32::try_from(index).unwrap_or(u32::MAX));
    let located = |document: usize, pos: palisade_model::Pos, message: String| LoadError {
        file: file.to_string(),
        document: Some(document_at(document)),
        line: Some(pos.line),
        column: Some(pos.column),
        message,
    };
    // Items of a list document that the splitter does not read item by item (flow style, one
    // line of JSON) are still handed on one at a time; `streamed` notes the document that gave
    // them, so that one whose kind turns out not to be a list is said to have been misread.
    let mut streamed: Option<usize> = None;
    let mut documents = 0usize;
    let (error, warnings) = yaml::parse_manifests_streaming(
        &piece.text,
        piece.line_offset,
        piece.item.is_none(),
        &mut |parsed| match (parsed, piece.item) {
            (yaml::Parsed::Document(index, root), None) => {
                documents = index + 1;
                if streamed == Some(index) {
                    if let Some((pos, message)) = streamed_items_misread(&root) {
                        sink(Loaded::Error(located(index, pos, message)));
                    }
                }
                document_objects(file, document_at(index), root, sink);
            }
            (yaml::Parsed::Document(index, root), Some(item)) => {
                documents = index + 1;
                list_item(file, document_at(index), item, root, list.as_ref(), sink);
            }
            (
                yaml::Parsed::Item {
                    document,
                    index,
                    list: identity,
                    node,
                },
                _,
            ) => {
                streamed = Some(document);
                let identity = identity.map(|(api, kind)| list_identity(&api, &kind));
                list_item(
                    file,
                    document_at(document),
                    index,
                    node,
                    identity.as_ref(),
                    sink,
                );
            }
        },
    );
    for (index, warning) in warnings {
        sink(Loaded::Warning(located(
            index,
            warning.pos,
            warning.message,
        )));
    }
    if let Some(yaml::YamlError { pos, message }) = error {
        // Go templates break YAML in ways whose parser message says nothing useful.
        let message = if piece.text.contains("{{") {
            format!(
                "{message}: this is a template (`{{{{ ... }}}}`), not a manifest; render it and pipe the result (`helm template RELEASE CHART | palisade scan -`), or use `palisade scan --render DIR`"
            )
        } else {
            message
        };
        let message = match piece.item {
            Some(item) => format!("`items/{item}`: {message}"),
            None => message,
        };
        sink(Loaded::Error(located(documents, pos, message)));
        documents += 1;
    }
    u32::try_from(documents).unwrap_or(u32::MAX)
}

fn list_identity(api_version: &str, kind: &str) -> ListIdentity {
    ListIdentity {
        api_version: api_version.to_string(),
        item_kind: kind.strip_suffix("List").unwrap_or_default().to_string(),
    }
}

/// A document whose items were read as a list's objects (its apiVersion came before them, as
/// lists are written) but whose kind is not a list: say so rather than let it pass.
fn streamed_items_misread(root: &Node) -> Option<(palisade_model::Pos, String)> {
    let kind = root.get("kind").and_then(Node::as_str).unwrap_or("");
    if kind.ends_with("List") {
        return None;
    }
    let pos = root.entry("items").map_or(root.pos, |e| e.key_pos);
    let kind = if kind.is_empty() {
        "no kind".to_string()
    } else {
        format!("kind `{}`", crate::yaml::printable(kind))
    };
    Some((
        pos,
        format!(
            "`items` was read as the objects of a list (its apiVersion came first, as lists are written), but the document has {kind}, not a `List`: each item was judged as an object"
        ),
    ))
}

/// `BufRead::read_until(b'\n')`, with a vectorised search for the line's end: std's search
/// goes a word at a time, and it runs over every byte of a gigabyte dump.
fn read_line<R: BufRead>(reader: &mut R, line: &mut Vec<u8>) -> std::io::Result<usize> {
    let mut read = 0;
    loop {
        let available = match reader.fill_buf() {
            Ok(available) => available,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        let (ended, used) = match memchr::memchr(b'\n', available) {
            Some(end) => (true, end + 1),
            None => (available.is_empty(), available.len()),
        };
        line.extend_from_slice(&available[..used]);
        reader.consume(used);
        read += used;
        if ended {
            return Ok(read);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load_text;
    use palisade_model::Object;

    fn pieces(text: &str) -> Vec<Piece> {
        Splitter::new(Arc::from("t.yaml"), text.as_bytes())
            .map(|p| p.expect("piece"))
            .collect()
    }

    #[test]
    fn batches_hold_every_piece_in_order_and_about_batch_bytes_each() {
        let mut text = String::from("apiVersion: v1\nkind: List\nitems:\n");
        let items = 3000;
        for i in 0..items {
            text.push_str(&format!(
                "- apiVersion: v1\n  kind: ConfigMap\n  metadata: {{name: c{i}, namespace: shop}}\n  data: {{payload: \"{}\"}}\n",
                "x".repeat(200)
            ));
        }
        let batches: Vec<Vec<Result<Piece, LoadError>>> =
            Splitter::new(Arc::from("t.yaml"), text.as_bytes())
                .batches()
                .collect();
        let all: Vec<Piece> = batches
            .iter()
            .flatten()
            .map(|p| p.clone().expect("piece"))
            .collect();
        assert_eq!(all, pieces(&text), "the same pieces, in the same order");
        assert!(batches.len() > 1, "{} bytes in one batch", text.len());
        for batch in &batches[..batches.len() - 1] {
            let bytes: usize = batch.iter().flatten().map(|p| p.text.len()).sum();
            assert!(
                (BATCH_BYTES..BATCH_BYTES + 1024).contains(&bytes),
                "{bytes}"
            );
        }
    }

    #[test]
    fn server_fields_are_blanked_and_every_other_node_keeps_its_place() {
        let text = "apiVersion: v1\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: notes}\n  data:\n    managedFields: kept\n    status: kept\n- apiVersion: v1\n  kind: Pod\n  metadata:\n    name: a\n    managedFields:\n    - apiVersion: v1\n      fieldsV1:\n        f:spec: {}\n    namespace: shop\n    labels: {status: up}\n  spec:\n    serviceAccountName: web\n    containers:\n    - name: c\n      image: x\n  status:\n    phase: Running\n    conditions:\n    - type: Ready\n- apiVersion: v1\n  kind: ServiceAccount\n  metadata: {name: web, namespace: shop}\nkind: List\n";
        let file: Arc<str> = Arc::from("t.yaml");
        let load = |piece: &Piece| {
            let mut objects: Vec<Object> = Vec::new();
            load_piece(&file, piece, &mut |loaded| {
                if let Loaded::Object(object) = loaded {
                    objects.push(*object);
                }
            });
            objects
        };
        let all = pieces(text);
        assert_eq!(all.len(), 3);
        // The author's keys of those names are not the server's.
        assert!(matches!(
            all[0].without_server_fields(),
            std::borrow::Cow::Borrowed(_)
        ));
        let pod = &all[1];
        let blanked = pod.without_server_fields();
        assert_eq!(blanked.text.lines().count(), pod.text.lines().count());
        // Every line is the original or blank: from the first line (copied before the first
        // server block) to the last (after the last).
        for (kept, original) in blanked.text.lines().zip(pod.text.lines()) {
            assert!(
                kept == original || kept.is_empty(),
                "{kept:?} for {original:?}"
            );
        }
        assert_eq!(blanked.text.lines().next(), pod.text.lines().next());
        let blank_lines = blanked.text.lines().filter(|l| l.is_empty()).count();
        assert_eq!(
            blank_lines, 8,
            "managedFields (4 lines) and status (4 lines)"
        );
        let (before, after) = (load(pod), load(&blanked));
        let (before, after) = (&before[0], &after[0]);
        assert!(before
            .metadata()
            .and_then(|m| m.get("managedFields"))
            .is_some());
        assert!(after
            .metadata()
            .and_then(|m| m.get("managedFields"))
            .is_none());
        assert!(before.root.get("status").is_some() && after.root.get("status").is_none());
        // A label named status, and the spec, are untouched, at the same places.
        let label = |o: &Object| {
            o.root
                .at(&["metadata", "labels", "status"])
                .map(|n| (n.as_str().map(str::to_string), n.pos))
        };
        assert_eq!(label(before), label(after));
        let account = |o: &Object| {
            o.root
                .at(&["spec"])
                .and_then(|s| s.entry("serviceAccountName"))
                .map(|e| (e.key_pos, e.value.as_str().map(str::to_string)))
        };
        assert_eq!(account(before), account(after));
        assert_eq!(before.reference, after.reference);
        // Nothing to blank: the same piece.
        assert!(matches!(
            all[2].without_server_fields(),
            std::borrow::Cow::Borrowed(_)
        ));
    }

    /// (kind, name, line, column of metadata.name, item) for every object.
    fn objects_streamed(text: &str) -> Vec<(String, String, u32, u32, Option<u32>)> {
        let file: Arc<str> = Arc::from("t.yaml");
        let mut out = Vec::new();
        for piece in Splitter::new(Arc::clone(&file), text.as_bytes()) {
            let piece = piece.expect("piece");
            load_piece(&file, &piece, &mut |loaded| {
                if let Loaded::Object(object) = loaded {
                    out.push(describe(&object));
                }
            });
        }
        out
    }

    fn describe(object: &Object) -> (String, String, u32, u32, Option<u32>) {
        let name = object
            .root
            .get("metadata")
            .and_then(|m| m.get("name"))
            .expect("name");
        (
            object.kind().to_string(),
            object.reference.name.clone(),
            name.pos.line,
            name.pos.column,
            object.origin.as_ref().and_then(|o| o.item),
        )
    }

    /// The reference: every document parsed whole into one tree, lists unwrapped from it.
    fn objects_whole(text: &str) -> Vec<(String, String, u32, u32, Option<u32>)> {
        let file: Arc<str> = Arc::from("t.yaml");
        let mut out = Vec::new();
        let mut document = 0;
        for (line_offset, chunk) in crate::split_documents(text) {
            for root in yaml::parse_documents(chunk, line_offset) {
                document_objects(&file, document, root.expect("parses"), &mut |loaded| {
                    if let Loaded::Object(object) = loaded {
                        out.push(describe(&object));
                    }
                });
                document += 1;
            }
        }
        out
    }

    /// What `load_text` (the splitter, sequentially) yields.
    fn objects_loaded(text: &str) -> Vec<(String, String, u32, u32, Option<u32>)> {
        let mut out = Vec::new();
        load_text(&Arc::from("t.yaml"), text, &mut |loaded| {
            if let Loaded::Object(object) = loaded {
                out.push(describe(&object));
            }
        });
        out
    }

    const KUBECTL_YAML: &str = "apiVersion: v1
items:
- apiVersion: v1
  kind: Pod
  metadata:
    name: web-0
    namespace: shop
  spec:
    containers:
    - name: web
      image: nginx:1.27
      args:
      - |
        - not an item
        multi-line
- apiVersion: apps/v1
  kind: Deployment
  metadata:
    name: api
    namespace: shop
kind: List
metadata:
  resourceVersion: \"\"
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: after
";

    #[test]
    fn kubectl_yaml_lists_are_read_item_by_item_with_exact_positions() {
        let split = pieces(KUBECTL_YAML);
        assert_eq!(split.len(), 3, "{split:#?}");
        assert_eq!(split[0].item, Some(0));
        assert_eq!(split[1].item, Some(1));
        assert_eq!(split[2].item, None);
        assert_eq!(objects_streamed(KUBECTL_YAML), objects_whole(KUBECTL_YAML));
        assert_eq!(objects_loaded(KUBECTL_YAML), objects_whole(KUBECTL_YAML));
    }

    const KUBECTL_JSON: &str = r#"{
    "apiVersion": "v1",
    "items": [
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": "web-0",
                "namespace": "shop"
            }
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {
                "name": "web",
                "namespace": "shop"
            }
        }
    ],
    "kind": "List",
    "metadata": {
        "resourceVersion": ""
    }
}
"#;

    #[test]
    fn kubectl_json_lists_are_read_item_by_item_with_exact_positions() {
        let split = pieces(KUBECTL_JSON);
        assert_eq!(split.len(), 2, "{split:#?}");
        assert_eq!(objects_streamed(KUBECTL_JSON), objects_whole(KUBECTL_JSON));
        assert_eq!(objects_loaded(KUBECTL_JSON), objects_whole(KUBECTL_JSON));
    }

    #[test]
    fn typed_lists_pass_their_kind_on_when_it_comes_first() {
        let text = "apiVersion: v1\nkind: PodList\nitems:\n- metadata: {name: a, namespace: x}\n  spec: {containers: []}\n";
        let streamed = objects_streamed(text);
        assert_eq!(streamed, objects_whole(text));
        assert_eq!(streamed[0].0, "Pod");
    }

    #[test]
    fn a_broken_item_is_an_error_and_the_next_items_still_load() {
        let text = "apiVersion: v1\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: [unclosed\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: ok, namespace: x}\nkind: List\n";
        let file: Arc<str> = Arc::from("t.yaml");
        let mut objects = 0;
        let mut errors = Vec::new();
        for piece in Splitter::new(Arc::clone(&file), text.as_bytes()) {
            load_piece(&file, &piece.expect("piece"), &mut |loaded| match loaded {
                Loaded::Object(_) => objects += 1,
                Loaded::Error(e) => errors.push(e),
                Loaded::Skipped | Loaded::Warning(_) => {}
            });
        }
        assert_eq!(objects, 1);
        assert_eq!(errors.len(), 1);
        assert!(
            errors[0].line.is_some_and(|l| (5..=6).contains(&l)),
            "{errors:?}"
        );
    }

    #[test]
    fn items_that_are_not_a_block_sequence_stay_one_document() {
        let text =
            "apiVersion: example.com/v1\nkind: Menu\nmetadata: {name: m}\nitems:\n  soup: 1\n";
        assert_eq!(pieces(text).len(), 1);
        assert_eq!(objects_streamed(text), objects_whole(text));
        let flow = "apiVersion: v1\nkind: List\nitems: [{apiVersion: v1, kind: Namespace, metadata: {name: a}}]\n";
        assert_eq!(pieces(flow).len(), 1);
        assert_eq!(objects_streamed(flow), objects_whole(flow));
    }

    #[test]
    fn items_name_their_kind_before_they_are_parsed() {
        let kinds: Vec<Option<String>> = pieces(KUBECTL_YAML)
            .iter()
            .map(|p| p.kind_hint().map(str::to_string))
            .collect();
        assert_eq!(kinds, [Some("Pod".into()), Some("Deployment".into()), None]);
        let kinds: Vec<Option<String>> = pieces(KUBECTL_JSON)
            .iter()
            .map(|p| p.kind_hint().map(str::to_string))
            .collect();
        assert_eq!(kinds, [Some("Pod".into()), Some("Service".into())]);
    }

    #[test]
    fn a_values_files_items_are_not_a_list() {
        let text = "replicaCount: 2\nitems:\n- a\n- b\n";
        assert_eq!(pieces(text).len(), 1);
        let mut loaded = Vec::new();
        load_text(&Arc::from("values.yaml"), text, &mut |l| loaded.push(l));
        assert!(matches!(loaded.as_slice(), [Loaded::Skipped]), "{loaded:?}");
    }

    #[test]
    fn lines_are_read_as_read_until_reads_them_across_buffer_ends() {
        let text = "apiVersion: v1\nkind: List\n\nitems:\n- a: \"\u{e9}t\u{e9}\"\n  b: 1\r\nlast line without end";
        for capacity in [1, 2, 3, 7, 16, 1 << 10] {
            let mut ours = std::io::BufReader::with_capacity(capacity, text.as_bytes());
            let mut std_reader = std::io::BufReader::with_capacity(capacity, text.as_bytes());
            loop {
                let (mut line, mut expected) = (Vec::new(), Vec::new());
                let read = read_line(&mut ours, &mut line).expect("reads");
                let read_std = std_reader.read_until(b'\n', &mut expected).expect("reads");
                assert_eq!((read, &line), (read_std, &expected), "capacity {capacity}");
                if read == 0 {
                    break;
                }
            }
        }
    }

    #[test]
    fn items_without_server_blocks_are_not_copied() {
        let item =
            "- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: a}\n  data: {phase: ready}\n";
        let text = format!(
            "apiVersion: v1\nkind: List\nitems:\n{item}{}",
            item.replace("  data:", "  status:")
        );
        let pieces = pieces(&text);
        assert_eq!(pieces.len(), 2);
        assert!(matches!(
            pieces[0].without_server_fields(),
            std::borrow::Cow::Borrowed(_)
        ));
        let blanked = pieces[1].without_server_fields();
        assert!(matches!(blanked, std::borrow::Cow::Owned(_)));
        assert!(!blanked.text.contains("status"), "{}", blanked.text);
    }

    #[test]
    fn ordinary_multi_document_streams_match_the_whole_file_reader() {
        let text = "# leading comment\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\n---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: b\n";
        assert_eq!(objects_streamed(text), objects_whole(text));
    }

    /// (kind, name) of an object; (line, message) of an error.
    type Named = (String, String);
    type Located = (Option<u32>, String);

    /// Objects and errors that loading `text` yields.
    fn outcome(text: &str) -> (Vec<Named>, Vec<Located>) {
        let mut objects = Vec::new();
        let mut errors = Vec::new();
        load_text(&Arc::from("t.yaml"), text, &mut |loaded| match loaded {
            Loaded::Object(o) => objects.push((o.kind().to_string(), o.reference.name.clone())),
            Loaded::Error(e) => errors.push((e.line, e.message)),
            Loaded::Skipped | Loaded::Warning(_) => {}
        });
        (objects, errors)
    }

    const TAB_IN_ITEM: &str = "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: settings, namespace: shop}\n\tdata: {mode: fast}\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: agent, namespace: shop}\n  spec:\n    containers:\n    - name: agent\n      image: agent:1.0\n      securityContext: {privileged: true}\n";

    #[test]
    fn a_tab_inside_an_item_is_that_items_error_and_the_items_after_it_load() {
        let (objects, errors) = outcome(TAB_IN_ITEM);
        assert_eq!(objects, [("Pod".to_string(), "agent".to_string())]);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].0, Some(7), "{errors:?}");
        assert!(errors[0].1.starts_with("`items/0`: "), "{errors:?}");
        // The same in pretty JSON, where a tab is legal whitespace: nothing is lost.
        let json = "{\n  \"apiVersion\": \"v1\",\n  \"items\": [\n    {\n      \"apiVersion\": \"v1\",\n\t\"kind\": \"ConfigMap\",\n      \"metadata\": {\"name\": \"a\"}\n    },\n    {\n      \"apiVersion\": \"v1\",\n      \"kind\": \"Pod\",\n      \"metadata\": {\"name\": \"b\"}\n    }\n  ],\n  \"kind\": \"List\"\n}\n";
        let (objects, errors) = outcome(json);
        assert_eq!(objects.len(), 2, "{objects:?} {errors:?}");
        assert!(errors.is_empty(), "{errors:?}");
    }

    #[test]
    fn lines_between_items_are_an_error_and_the_items_after_them_load() {
        let text = "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Namespace\n  metadata: {name: a}\nstray: line\n- apiVersion: v1\n  kind: Namespace\n  metadata: {name: b}\n";
        let (objects, errors) = outcome(text);
        assert_eq!(objects.len(), 2, "{objects:?}");
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].0, Some(7));
        assert!(errors[0].1.contains("not part of any item"), "{errors:?}");
    }

    #[test]
    fn the_lists_own_lines_are_checked_before_and_after_the_items() {
        let broken_trailer = "apiVersion: v1\nitems:\n- apiVersion: v1\n  kind: Namespace\n  metadata: {name: a}\nkind: List\nmetadata: {resourceVersion: [\n";
        let (objects, errors) = outcome(broken_trailer);
        assert_eq!(objects.len(), 1);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0].1.contains("after its items"), "{errors:?}");
        let broken_header = "apiVersion: v1\nkind: List\nmetadata: {a: [\nitems:\n- apiVersion: v1\n  kind: Namespace\n  metadata: {name: a}\n";
        let (_, errors) = outcome(broken_header);
        assert!(
            errors.iter().any(|e| e.1.contains("before its items")),
            "{errors:?}"
        );
    }

    #[test]
    fn items_read_one_by_one_from_a_document_that_is_not_a_list_are_an_error() {
        let text = "apiVersion: example.com/v1\nitems:\n- apiVersion: v1\n  kind: Namespace\n  metadata: {name: a}\nkind: Menu\n";
        let (_, errors) = outcome(text);
        assert!(
            errors
                .iter()
                .any(|e| e.1.contains("kind `Menu`, not a `List`")),
            "{errors:?}"
        );
        let flow = "apiVersion: example.com/v1\nitems: [{apiVersion: v1, kind: Namespace, metadata: {name: a}}]\nkind: Menu\n";
        let (_, errors) = outcome(flow);
        assert!(
            errors
                .iter()
                .any(|e| e.1.contains("kind `Menu`, not a `List`")),
            "{errors:?}"
        );
    }

    #[test]
    fn items_that_are_not_a_sequence_are_an_error() {
        for items in ["42", "{a: 1}", "text", "null", ""] {
            let text = format!("apiVersion: v1\nkind: List\nitems: {items}\n");
            let (objects, errors) = outcome(&text);
            assert!(objects.is_empty(), "{items}: {objects:?}");
            assert_eq!(errors.len(), 1, "{items}: {errors:?}");
            assert_eq!(errors[0].0, Some(3), "{items}: {errors:?}");
            assert!(errors[0].1.contains("must be a sequence"), "{errors:?}");
        }
        let (_, errors) = outcome("apiVersion: v1\nkind: List\nmetadata: {}\n");
        assert!(errors[0].1.contains("without `items`"), "{errors:?}");
        // A custom kind that merely ends in `List`, without items, is an object like any other.
        let (objects, errors) = outcome(
            "apiVersion: example.com/v1\nkind: IPAllowList\nmetadata: {name: office}\nspec: {cidrs: []}\n",
        );
        assert_eq!(objects.len(), 1, "{errors:?}");
    }

    #[test]
    fn flow_and_one_line_lists_are_handed_on_an_item_at_a_time() {
        let flow = "apiVersion: v1\nitems: [{apiVersion: v1, kind: Namespace, metadata: {name: a}}, {apiVersion: v1, kind: Namespace, metadata: {name: b}}]\nkind: List\n";
        let json = r#"{"apiVersion":"v1","items":[{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"a"}},{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"b"}}],"kind":"List"}"#;
        for text in [flow, json] {
            let mut order = Vec::new();
            let (error, _) =
                yaml::parse_manifests_streaming(text, 0, true, &mut |parsed| match parsed {
                    yaml::Parsed::Item { index, node, .. } => {
                        order.push(format!("item {index}"));
                        assert!(node.is_map());
                    }
                    yaml::Parsed::Document(_, root) => {
                        let items = match root.get("items").map(|i| &i.value) {
                            Some(palisade_model::Value::Seq(items)) => items.len(),
                            other => panic!("items: {other:?}"),
                        };
                        order.push(format!("document, {items} items kept"));
                    }
                });
            assert!(error.is_none());
            assert_eq!(order, ["item 0", "item 1", "document, 0 items kept"]);
            assert_eq!(objects_loaded(text), objects_whole(text), "{text}");
            assert_eq!(objects_loaded(text).len(), 2);
        }
    }
}
