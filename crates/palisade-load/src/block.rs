//! A fast reader for the block-style YAML that `kubectl get -o yaml` writes and most manifests
//! are written in: block mappings and sequences, one-line plain and quoted scalars, literal
//! block scalars (`|`, `|-`, `|+`), empty flow collections (`{}`, `[]`), comments and `---`.
//!
//! It yields the events saphyr's parser yields for the same text, at the same positions, and
//! the one tree builder turns them into nodes. Anything outside that subset (anchors, tags,
//! flow collections with content, folded or multi-line scalars, tabs, unusual indentation,
//! and every syntax error) makes it stop with [`Outcome::Unsupported`]: the caller then reads
//! the text again with saphyr, whose reading (and error messages) stand. Most of a parse's
//! time was saphyr's scanner; this reader never moves a token through a queue and borrows
//! every plain scalar from the text.

use std::borrow::Cow;

use palisade_model::Pos;
use saphyr_parser::{Event, ScalarStyle};

use crate::yaml::YamlError;

/// How a fast read ended.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Every event of the text was handed on.
    Read,
    /// The text leaves the subset, or the builder refused an event: read it with saphyr.
    Unsupported,
}

/// Why a read stopped early.
struct Stop;

type Step = Result<(), Stop>;

/// Implicit keys longer than this are left to saphyr (YAML caps them at 1024 characters).
const MAX_KEY_BYTES: usize = 1024;

/// One line of the text: where it starts and ends (without its line break), its indentation
/// in spaces, and whether it is ASCII (columns are counted in characters).
#[derive(Clone, Copy)]
struct Line {
    number: usize,
    start: usize,
    end: usize,
    indent: usize,
    ascii: bool,
}

impl Line {
    fn is_blank_or_comment(&self, text: &str) -> bool {
        self.start + self.indent == self.end || text.as_bytes()[self.start + self.indent] == b'#'
    }
}

struct Reader<'t, 'e> {
    text: &'t str,
    line_offset: u32,
    /// The current line, or `None` at the end of the text.
    line: Option<Line>,
    emit: &'e mut dyn FnMut(Event<'t>, Pos) -> Result<(), YamlError>,
}

/// Reads `text` (whose first line is line `line_offset + 1` of its file), handing each event
/// to `emit` with its position.
pub(crate) fn read<'t>(
    text: &'t str,
    line_offset: u32,
    emit: &mut dyn FnMut(Event<'t>, Pos) -> Result<(), YamlError>,
) -> Outcome {
    // Line breaks other than `\n`, tabs, byte-order marks and the characters YAML does not
    // allow in a stream (saphyr's errors) are left to saphyr.
    let unprintable = |b: &u8| (*b < 0x20 && *b != b'\n') || *b == 0x7f;
    if text.as_bytes().iter().any(unprintable)
        || (!text.is_ascii()
            && text.chars().any(|c| {
                matches!(c, '\u{80}'..='\u{84}' | '\u{86}'..='\u{9f}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}')
            }))
    {
        return Outcome::Unsupported;
    }
    let mut reader = Reader {
        text,
        line_offset,
        line: None,
        emit,
    };
    reader.line = reader.line_at(0, 0);
    match reader.stream() {
        Ok(()) => Outcome::Read,
        Err(Stop) => Outcome::Unsupported,
    }
}

impl<'t> Reader<'t, '_> {
    fn line_at(&self, start: usize, number: usize) -> Option<Line> {
        if start >= self.text.len() {
            return None;
        }
        let bytes = self.text.as_bytes();
        let end = newline_in(&bytes[start..]).map_or(self.text.len(), |i| start + i);
        let indent = bytes[start..end].iter().take_while(|&&b| b == b' ').count();
        Some(Line {
            number,
            start,
            end,
            indent,
            ascii: self.text[start..end].is_ascii(),
        })
    }

    fn advance(&mut self) {
        if let Some(line) = self.line {
            self.line = self.line_at(line.end + 1, line.number + 1);
        }
    }

    /// Skips blank lines and comment lines.
    fn skip_blank(&mut self) {
        while let Some(line) = self.line {
            if !line.is_blank_or_comment(self.text) {
                return;
            }
            self.advance();
        }
    }

    /// The current line, past blank and comment lines, unless it is the end of a document.
    fn content_line(&mut self) -> Option<Line> {
        self.skip_blank();
        self.line.filter(|line| !self.is_document_marker(line))
    }

    fn is_document_marker(&self, line: &Line) -> bool {
        let content = &self.text[line.start..line.end];
        content.starts_with("---") || content.starts_with("...")
    }

    fn content(&self, line: &Line) -> &'t str {
        &self.text[line.start..line.end]
    }

    fn pos(&self, line: &Line, at: usize) -> Pos {
        let column = if line.ascii {
            at
        } else {
            self.text[line.start..line.start + at].chars().count()
        };
        let number = u32::try_from(line.number).unwrap_or(u32::MAX);
        let column = u32::try_from(column).unwrap_or(u32::MAX - 1);
        Pos::new(
            number.saturating_add(1).saturating_add(self.line_offset),
            column + 1,
        )
    }

    fn emit(&mut self, event: Event<'t>, pos: Pos) -> Step {
        (self.emit)(event, pos).map_err(|_| Stop)
    }

    fn stream(&mut self) -> Step {
        let mut documents = 0usize;
        loop {
            self.skip_blank();
            let Some(line) = self.line else {
                break;
            };
            let content = self.content(&line);
            if content.starts_with("---") {
                // An explicit start: `---` alone on its line.
                if content.trim_end_matches(' ') != "---" {
                    return Err(Stop);
                }
                self.advance();
            } else if content.starts_with("...") || content.starts_with('%') || documents > 0 {
                // An explicit end, a directive, or a document after one without `---`.
                return Err(Stop);
            }
            // An empty document (two markers in a row, or one at the end) is left to saphyr.
            let Some(line) = self.content_line() else {
                return Err(Stop);
            };
            let pos = self.pos(&line, line.indent);
            self.emit(Event::DocumentStart(false), pos)?;
            self.block_node(line)?;
            // Nothing but the next document may follow the root.
            if self.content_line().is_some() {
                return Err(Stop);
            }
            self.emit(Event::DocumentEnd, pos)?;
            documents += 1;
        }
        if documents == 0 {
            return Err(Stop);
        }
        Ok(())
    }

    /// The block mapping or sequence that starts at `line`'s indentation.
    fn block_node(&mut self, line: Line) -> Step {
        let content = self.content(&line);
        if is_entry(&content[line.indent..]) {
            self.sequence(line.indent, false)
        } else if key_end(&content[line.indent..]).is_some() {
            self.mapping(line, line.indent)
        } else {
            // A scalar on a line of its own.
            Err(Stop)
        }
    }

    /// A block mapping whose first key is at byte `at` of `first` (its column is the mapping's
    /// indentation; later keys start their lines at it).
    fn mapping(&mut self, first: Line, at: usize) -> Step {
        let indent = at;
        self.emit(Event::MappingStart(0, None), self.pos(&first, at))?;
        let mut line = first;
        let mut at = at;
        loop {
            let content = self.content(&line);
            let rest = &content[at..];
            let (key, colon) = self.key(&line, at)?;
            self.emit(key.0, key.1)?;
            let value_at = at + colon + 1 + count_spaces(&rest[colon + 1..]);
            if value_at == content.len() || content.as_bytes()[value_at] == b'#' {
                self.advance();
                match self.content_line() {
                    Some(next) if next.indent > indent => self.block_node(next)?,
                    Some(next)
                        if next.indent == indent && is_entry(&self.content(&next)[indent..]) =>
                    {
                        self.sequence(indent, true)?;
                    }
                    _ => self.emit(
                        Event::Scalar(Cow::Borrowed(""), ScalarStyle::Plain, 0, None),
                        self.pos(&line, at + colon),
                    )?,
                }
            } else {
                self.inline_value(line, value_at, indent)?;
            }
            match self.content_line() {
                Some(next) if next.indent == indent => {
                    if is_entry(&self.content(&next)[indent..]) {
                        return Err(Stop);
                    }
                    line = next;
                    at = indent;
                }
                Some(next) if next.indent > indent => return Err(Stop),
                _ => break,
            }
        }
        // Positions of ends are never read.
        self.emit(Event::MappingEnd, Pos::default())
    }

    /// A block sequence whose entries start at column `indent`; the current line holds its
    /// first entry. An `indentless` one (a mapping value at its key's indentation) starts
    /// where its first node does, any other at its first `-` (as saphyr places them).
    fn sequence(&mut self, indent: usize, indentless: bool) -> Step {
        let mut started = false;
        while let Some(line) = self.content_line() {
            if line.indent != indent {
                if line.indent > indent {
                    return Err(Stop);
                }
                break;
            }
            let content = self.content(&line);
            if !is_entry(&content[indent..]) {
                break;
            }
            let at = indent + 1 + count_spaces(&content[indent + 1..]);
            if at == content.len() || content.as_bytes()[at] == b'#' {
                // An entry whose node starts on the next line.
                return Err(Stop);
            }
            if !started {
                let start = if indentless { at } else { indent };
                self.emit(Event::SequenceStart(0, None), self.pos(&line, start))?;
                started = true;
            }
            if is_entry(&content[at..]) {
                return Err(Stop);
            }
            let flow = matches!(content.as_bytes()[at], b'{' | b'[');
            if !flow && key_end(&content[at..]).is_some() {
                self.mapping(line, at)?;
            } else {
                self.inline_value(line, at, indent)?;
            }
        }
        if !started {
            return Err(Stop);
        }
        self.emit(Event::SequenceEnd, Pos::default())
    }

    /// The mapping key at byte `at` of `line`: its event, and where its `:` is (from `at`).
    fn key(&self, line: &Line, at: usize) -> Result<((Event<'t>, Pos), usize), Stop> {
        let rest = &self.content(line)[at..];
        let colon = key_end(rest).ok_or(Stop)?;
        let pos = self.pos(line, at);
        let written = rest[..colon].trim_end_matches(' ');
        let event = match written.as_bytes().first() {
            Some(b'"' | b'\'') => {
                let (event, used) = quoted_scalar(written).ok_or(Stop)?;
                if used != written.len() {
                    return Err(Stop);
                }
                event
            }
            Some(_) if plain_may_start(written) && written.len() <= MAX_KEY_BYTES => {
                Event::Scalar(Cow::Borrowed(written), ScalarStyle::Plain, 0, None)
            }
            _ => return Err(Stop),
        };
        Ok(((event, pos), colon))
    }

    /// The node written on `line` from byte `at` on: a scalar, an empty flow collection, or a
    /// literal block scalar. `parent` is the indentation of the mapping or sequence it is in:
    /// lines indented past it would continue the node, which only saphyr reads.
    fn inline_value(&mut self, line: Line, at: usize, parent: usize) -> Step {
        let content = self.content(&line);
        let rest = &content[at..];
        let pos = self.pos(&line, at);
        let (event, used) = match rest.as_bytes()[0] {
            b'|' => return self.literal(line, at, parent),
            b'"' | b'\'' => quoted_scalar(rest).ok_or(Stop)?,
            b'[' | b'{' if !rest.starts_with("[]") && !rest.starts_with("{}") => {
                let used = self.flow_collection(&line, at)?;
                if !only_comment(&rest[used..]) {
                    return Err(Stop);
                }
                return self.end_of_value(parent);
            }
            b'{' | b'[' => {
                let empty = if rest.starts_with("{}") {
                    (Event::MappingStart(0, None), Event::MappingEnd)
                } else if rest.starts_with("[]") {
                    (Event::SequenceStart(0, None), Event::SequenceEnd)
                } else {
                    return Err(Stop);
                };
                if !only_comment(&rest[2..]) {
                    return Err(Stop);
                }
                self.emit(empty.0, pos)?;
                self.emit(empty.1, Pos::default())?;
                return self.end_of_value(parent);
            }
            _ if plain_may_start(rest) => {
                let plain = plain_scalar(rest).ok_or(Stop)?;
                (
                    Event::Scalar(Cow::Borrowed(plain), ScalarStyle::Plain, 0, None),
                    plain.len(),
                )
            }
            _ => return Err(Stop),
        };
        if !only_comment(&rest[used..]) {
            return Err(Stop);
        }
        self.emit(event, pos)?;
        self.end_of_value(parent)
    }

    /// A flow sequence of one-line scalars, `[a, "b", 'c']`, or a flow mapping of them,
    /// `{a: 1, "b": c}`, closed on the line it opens at byte `at` of `line`; returns the bytes
    /// it takes. Nested collections, empty entries and `:` in a plain value are saphyr's.
    fn flow_collection(&mut self, line: &Line, at: usize) -> Result<usize, Stop> {
        let content = self.content(line);
        let mapping = content.as_bytes()[at] == b'{';
        let (start, end, close) = if mapping {
            (Event::MappingStart(0, None), Event::MappingEnd, b'}')
        } else {
            (Event::SequenceStart(0, None), Event::SequenceEnd, b']')
        };
        self.emit(start, self.pos(line, at))?;
        let mut i = at + 1;
        loop {
            if mapping {
                i += count_spaces(&content[i..]);
                let (key, used) = flow_scalar(&content[i..], true)?;
                self.emit(key, self.pos(line, i))?;
                i += used;
                if !content[i..].starts_with(": ") {
                    return Err(Stop);
                }
                i += 1;
            }
            i += count_spaces(&content[i..]);
            let (value, used) = flow_scalar(&content[i..], false)?;
            self.emit(value, self.pos(line, i))?;
            i += used;
            i += count_spaces(&content[i..]);
            match content.as_bytes().get(i) {
                Some(b',') => i += 1,
                Some(&b) if b == close => break,
                _ => return Err(Stop),
            }
        }
        self.emit(end, Pos::default())?;
        Ok(i + 1 - at)
    }

    /// Moves past the line of a one-line value; the next line must not be indented past the
    /// value's parent (a continuation, or an error, both saphyr's to read).
    fn end_of_value(&mut self, parent: usize) -> Step {
        self.advance();
        while let Some(line) = self.line {
            if line.start + line.indent == line.end {
                self.advance();
                continue;
            }
            if line.indent > parent {
                return Err(Stop);
            }
            break;
        }
        Ok(())
    }

    /// A literal block scalar whose header (`|`, `|-` or `|+`) is at byte `at` of `line`.
    fn literal(&mut self, line: Line, at: usize, parent: usize) -> Step {
        let header = &self.content(&line)[at + 1..];
        let (chomp, rest) = match header.as_bytes().first() {
            Some(b'-') => (Chomp::Strip, &header[1..]),
            Some(b'+') => (Chomp::Keep, &header[1..]),
            _ => (Chomp::Clip, header),
        };
        if !rest.bytes().all(|b| b == b' ') {
            return Err(Stop);
        }
        self.advance();
        let Some(first) = self.line else {
            return Err(Stop);
        };
        // Leading blank lines, and a block that holds nothing, are left to saphyr.
        if first.start + first.indent == first.end || first.indent <= parent {
            return Err(Stop);
        }
        let indent = first.indent;
        let pos = self.pos(&first, indent);
        let mut text = String::new();
        let mut blank_run = 0usize;
        while let Some(line) = self.line {
            let content = self.content(&line);
            let blank = line.start + line.indent == line.end;
            if blank {
                // Spaces past the block's indentation on an empty line are content: saphyr's.
                if line.indent > indent {
                    return Err(Stop);
                }
                blank_run += 1;
            } else {
                if line.indent < indent {
                    break;
                }
                for _ in 0..blank_run {
                    text.push('\n');
                }
                blank_run = 0;
                text.push_str(&content[indent..]);
                text.push('\n');
            }
            self.advance();
        }
        // A block that runs to the end of a text without a final line break is saphyr's
        // (found by the fuzzer: its last line, blank, counts there).
        if self.line.is_none() && !self.text.ends_with('\n') {
            return Err(Stop);
        }
        match chomp {
            Chomp::Clip => {}
            Chomp::Strip => {
                let kept = text.trim_end_matches('\n').len();
                text.truncate(kept);
            }
            Chomp::Keep => {
                for _ in 0..blank_run {
                    text.push('\n');
                }
            }
        }
        if let Some(next) = self.line {
            if next.indent > parent && !self.is_document_marker(&next) {
                return Err(Stop);
            }
        }
        self.emit(
            Event::Scalar(Cow::Owned(text), ScalarStyle::Literal, 0, None),
            pos,
        )
    }
}

enum Chomp {
    Clip,
    Strip,
    Keep,
}

fn newline_in(bytes: &[u8]) -> Option<usize> {
    bytes.iter().position(|&b| b == b'\n')
}

fn count_spaces(text: &str) -> usize {
    text.bytes().take_while(|&b| b == b' ').count()
}

/// Whether `text` starts a sequence entry: `-` then a space or the end of the line.
fn is_entry(text: &str) -> bool {
    text == "-" || text.starts_with("- ")
}

/// Whether only spaces and a comment are left.
fn only_comment(text: &str) -> bool {
    let spaces = count_spaces(text);
    spaces == text.len() || (spaces > 0 && text.as_bytes()[spaces] == b'#')
}

/// Whether a plain scalar may start `text`: not with an indicator (a `-` followed by more than
/// a space or a flow indicator is a plain scalar, `-1`; saphyr refuses `-]`, found by the
/// fuzzer).
fn plain_may_start(text: &str) -> bool {
    match text.as_bytes() {
        [] => false,
        [b'-', next, ..] => !matches!(next, b' ' | b',' | b'[' | b']' | b'{' | b'}'),
        [first, ..] => !matches!(
            first,
            b'-' | b'?'
                | b':'
                | b','
                | b'['
                | b']'
                | b'{'
                | b'}'
                | b'#'
                | b'&'
                | b'*'
                | b'!'
                | b'|'
                | b'>'
                | b'\''
                | b'"'
                | b'%'
                | b'@'
                | b'`'
                | b' '
        ),
    }
}

/// Where the `:` that ends the implicit key at the start of `text` is: a `:` followed by a
/// space or the end of the line, outside quotes, before any comment.
fn key_end(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let from = match bytes.first()? {
        b'"' => double_quoted(text)?.1,
        b'\'' => single_quoted(text)?.1,
        _ => 0,
    };
    let mut i = from;
    while i < bytes.len() {
        match bytes[i] {
            b':' if bytes.get(i + 1).is_none_or(|&b| b == b' ') => return Some(i),
            b'#' if i > 0 && bytes[i - 1] == b' ' => return None,
            _ => {}
        }
        i += 1;
    }
    None
}

/// The plain scalar at the start of `text`, up to a comment or the end of the line, trailing
/// spaces left out; `None` when a `: ` inside it would make it a key (an error in a value).
fn plain_scalar(text: &str) -> Option<&str> {
    let bytes = text.as_bytes();
    let mut end = bytes.len();
    for i in 0..bytes.len() {
        match bytes[i] {
            b'#' if i > 0 && bytes[i - 1] == b' ' => {
                end = i;
                break;
            }
            b':' if bytes.get(i + 1).is_none_or(|&b| b == b' ') => return None,
            _ => {}
        }
    }
    let plain = text[..end].trim_end_matches(' ');
    // saphyr refuses a `-` followed by a flow indicator inside a plain scalar too.
    let dash_before_indicator = plain
        .as_bytes()
        .windows(2)
        .any(|pair| pair[0] == b'-' && matches!(pair[1], b',' | b'[' | b']' | b'{' | b'}'));
    (!plain.is_empty() && !dash_before_indicator).then_some(plain)
}

/// The scalar entry of a flow collection at the start of `text` (a mapping's `key`, ended by
/// `: `), and the bytes it takes.
fn flow_scalar(text: &str, key: bool) -> Result<(Event<'_>, usize), Stop> {
    match text.as_bytes().first() {
        Some(b'"' | b'\'') => quoted_scalar(text).ok_or(Stop),
        Some(_) if plain_may_start(text) => {
            let end = text
                .find([',', ']', '[', '{', '}', '#', ':'])
                .unwrap_or(text.len());
            let ends_right = match text.as_bytes().get(end) {
                Some(b':') => key && text[end..].starts_with(": "),
                Some(b',' | b']' | b'}') => !key,
                _ => false,
            };
            let plain = text[..end].trim_end_matches(' ');
            // A `-` before the flow indicator that ends the entry is refused by saphyr.
            if !ends_right || plain.is_empty() || plain.ends_with('-') {
                return Err(Stop);
            }
            Ok((
                Event::Scalar(Cow::Borrowed(plain), ScalarStyle::Plain, 0, None),
                plain.len(),
            ))
        }
        _ => Err(Stop),
    }
}

/// The quoted scalar (`"` or `'`) at the start of `text`, closed on this line, as an event,
/// and the bytes it takes.
fn quoted_scalar(text: &str) -> Option<(Event<'_>, usize)> {
    let (value, used, style) = match text.as_bytes().first()? {
        b'"' => {
            let (value, used) = double_quoted(text)?;
            (value, used, ScalarStyle::DoubleQuoted)
        }
        b'\'' => {
            let (value, used) = single_quoted(text)?;
            (value, used, ScalarStyle::SingleQuoted)
        }
        _ => return None,
    };
    Some((Event::Scalar(value, style, 0, None), used))
}

/// A quoted scalar's value once its closing quote is at byte `close`: borrowed from the text
/// when nothing was unescaped, else the unescaped text with the rest (from `from`) added.
fn closed(text: &str, owned: Option<String>, from: usize, close: usize) -> (Cow<'_, str>, usize) {
    let value = match owned {
        Some(mut buffer) => {
            buffer.push_str(&text[from..close]);
            Cow::Owned(buffer)
        }
        None => Cow::Borrowed(&text[1..close]),
    };
    (value, close + 1)
}

/// The single-quoted scalar at the start of `text` (closed on this line), and the bytes it
/// takes.
fn single_quoted(text: &str) -> Option<(Cow<'_, str>, usize)> {
    let bytes = text.as_bytes();
    let mut i = 1;
    let mut owned: Option<String> = None;
    let mut from = 1;
    while i < bytes.len() {
        if bytes[i] == b'\'' {
            if bytes.get(i + 1) == Some(&b'\'') {
                let buffer = owned.get_or_insert_with(String::new);
                buffer.push_str(&text[from..=i]);
                i += 2;
                from = i;
                continue;
            }
            return Some(closed(text, owned, from, i));
        }
        i += 1;
    }
    None
}

/// The double-quoted scalar at the start of `text` (closed on this line), and the bytes it
/// takes; escapes beyond the common ones are left to saphyr.
fn double_quoted(text: &str) -> Option<(Cow<'_, str>, usize)> {
    let bytes = text.as_bytes();
    let mut i = 1;
    let mut owned: Option<String> = None;
    let mut from = 1;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => return Some(closed(text, owned, from, i)),
            b'\\' => {
                let buffer = owned.get_or_insert_with(String::new);
                buffer.push_str(&text[from..i]);
                let (unescaped, used) = escape(&text[i + 1..])?;
                buffer.push(unescaped);
                i += 1 + used;
                from = i;
            }
            _ => i += 1,
        }
    }
    None
}

/// The character an escape stands for (`text` follows the backslash), and its length.
fn escape(text: &str) -> Option<(char, usize)> {
    let unescaped = match text.as_bytes().first()? {
        b'\\' => '\\',
        b'"' => '"',
        b'/' => '/',
        b'n' => '\n',
        b't' => '\t',
        b'r' => '\r',
        b'0' => '\0',
        b'b' => '\u{8}',
        b'f' => '\u{c}',
        b'u' => {
            let hex = text.get(1..5)?;
            if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                return None;
            }
            let code = u32::from_str_radix(hex, 16).ok()?;
            return char::from_u32(code).map(|c| (c, 5));
        }
        _ => return None,
    };
    Some((unescaped, 1))
}
