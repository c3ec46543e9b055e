//! Reading audit logs as `--audit-log-path` writes them (JSON lines, rotated files, `.gz`),
//! directories of them, stdin, and `EventList` documents, one event at a time: memory follows
//! the longest line, not the log. A line that is not an event is an error with file and line,
//! and the rest is still read.

use std::collections::HashSet;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use flate2::read::MultiGzDecoder;
use palisade_model::LoadError;
use serde::Deserialize;

use crate::event::AuditEvent;

/// One line is at most this long; longer ones are reported and skipped.
pub const MAX_LINE_BYTES: usize = 16 << 20;
/// An `EventList` document is read whole, up to this size.
pub const MAX_LIST_BYTES: u64 = 256 << 20;

/// Where an event was read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct At {
    pub file: Arc<str>,
    /// 1-based line of a JSON-lines log; for an `EventList`, the line where the list starts.
    pub line: u32,
    /// 1-based position of the event in its file.
    pub index: u32,
}

/// What a read went through.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReadSummary {
    pub files: usize,
    pub events: usize,
    /// Files of a directory that are not audit logs (a README, the API server's own log),
    /// skipped: one warning each.
    pub skipped: Vec<LoadError>,
}

/// The inputs `paths` name: `-` is stdin, a directory is every file under it (sorted), a
/// file is itself.
fn expand(paths: &[String], errors: &mut Vec<LoadError>) -> Vec<(Option<PathBuf>, bool)> {
    fn walk(dir: &Path, out: &mut Vec<(Option<PathBuf>, bool)>, errors: &mut Vec<LoadError>) {
        let entries = match std::fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) => {
                errors.push(whole_file_error(&dir.to_string_lossy(), e.to_string()));
                return;
            }
        };
        let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        for path in paths {
            if path.is_dir() {
                walk(&path, out, errors);
            } else if path.is_file() {
                out.push((Some(path), true));
            }
        }
    }
    let mut out = Vec::new();
    for path in paths {
        if path == "-" {
            out.push((None, false));
            continue;
        }
        let path = PathBuf::from(path);
        if path.is_dir() {
            walk(&path, &mut out, errors);
        } else if path.exists() {
            out.push((Some(path), false));
        } else {
            errors.push(whole_file_error(
                &path.to_string_lossy(),
                "no such file or directory".into(),
            ));
        }
    }
    out
}

fn whole_file_error(file: &str, message: String) -> LoadError {
    LoadError {
        file: file.to_string(),
        document: None,
        line: None,
        column: None,
        message,
    }
}

fn line_error(file: &str, line: u32, message: String) -> LoadError {
    LoadError {
        file: file.to_string(),
        document: Some(line),
        line: Some(line),
        column: None,
        message,
    }
}

/// A reader over a file, decompressed when it is gzip (by its magic bytes, whatever its name).
fn open(path: Option<&Path>) -> std::io::Result<Box<dyn BufRead>> {
    let raw: Box<dyn Read> = match path {
        None => Box::new(std::io::stdin().lock()),
        Some(path) => Box::new(File::open(path)?),
    };
    let mut buffered = BufReader::with_capacity(256 << 10, raw);
    let gzip = buffered.fill_buf()?.starts_with(&[0x1f, 0x8b]);
    Ok(if gzip {
        Box::new(BufReader::with_capacity(
            256 << 10,
            MultiGzDecoder::new(buffered),
        ))
    } else {
        Box::new(buffered)
    })
}

/// Consumes the blank lines (`\n`, `\r\n`) ahead, a buffer at a time, and returns how many:
/// stretches of them cost what reading them costs, not a line's work each.
fn skip_blank_lines(reader: &mut dyn BufRead) -> std::io::Result<u32> {
    let mut lines = 0u32;
    loop {
        let buffer = reader.fill_buf()?;
        let blank = buffer
            .iter()
            .position(|&b| b != b'\n' && b != b'\r')
            .unwrap_or(buffer.len());
        // Stop before a `\r` that may begin the next line's text rather than end a blank one.
        let run = &buffer[..blank];
        let through = run.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        lines =
            lines.saturating_add(u32::try_from(newlines_in(&run[..through])).unwrap_or(u32::MAX));
        let at_end = blank == buffer.len() && !buffer.is_empty();
        reader.consume(through);
        if !at_end || through == 0 {
            return Ok(lines);
        }
    }
}

fn newlines_in(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&b| b == b'\n').count()
}

/// Reads the next line into `line` (without its newline); `Ok(false)` at the end. A line over
/// [`MAX_LINE_BYTES`] is consumed but not kept: `Err(len)` says how long it was.
fn next_line(reader: &mut dyn BufRead, line: &mut Vec<u8>) -> std::io::Result<Result<bool, usize>> {
    line.clear();
    let mut total = 0usize;
    let mut any = false;
    loop {
        let buffer = reader.fill_buf()?;
        if buffer.is_empty() {
            return Ok(if total > MAX_LINE_BYTES {
                Err(total)
            } else {
                Ok(any)
            });
        }
        any = true;
        let (chunk, done) = match buffer.iter().position(|&b| b == b'\n') {
            Some(i) => (&buffer[..i], Some(i + 1)),
            None => (buffer, None),
        };
        total += chunk.len();
        if total <= MAX_LINE_BYTES {
            line.extend_from_slice(chunk);
        } else {
            line.clear();
        }
        let consumed = done.unwrap_or(buffer.len());
        reader.consume(consumed);
        if done.is_some() {
            return Ok(if total > MAX_LINE_BYTES {
                Err(total)
            } else {
                Ok(true)
            });
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct EventList {
    #[serde(default)]
    api_version: String,
    #[serde(default)]
    kind: String,
    /// Required: a document without it (a pretty-printed single Event, say) is not a list.
    items: Vec<AuditEvent>,
}

/// Keeps one event per request: long-running requests (watches, exec) log `ResponseStarted`
/// and later `ResponseComplete`; `RequestReceived` precedes the decision.
#[derive(Default)]
struct Stages {
    started: HashSet<String>,
}

impl Stages {
    fn keep(&mut self, event: &AuditEvent) -> bool {
        match event.stage.as_str() {
            "RequestReceived" => false,
            "ResponseStarted" => {
                if !event.audit_id.is_empty() {
                    self.started.insert(event.audit_id.clone());
                }
                true
            }
            "ResponseComplete" => !self.started.remove(&event.audit_id),
            _ => true,
        }
    }
}

/// Reads every event of `paths`, in order, calling `sink` with each; returns what was read and
/// the errors (a bad line, an unreadable file), which never stop the rest.
pub fn read_events(
    paths: &[String],
    sink: &mut dyn FnMut(AuditEvent, &At),
) -> (ReadSummary, Vec<LoadError>) {
    let mut errors = Vec::new();
    let mut summary = ReadSummary::default();
    for (path, in_directory) in expand(paths, &mut errors) {
        let name: Arc<str> = match &path {
            None => Arc::from("-"),
            Some(path) => Arc::from(path.to_string_lossy().as_ref()),
        };
        let mut reader = match open(path.as_deref()) {
            Ok(reader) => reader,
            Err(e) => {
                errors.push(whole_file_error(&name, e.to_string()));
                continue;
            }
        };
        summary.files += 1;
        read_log(
            &name,
            &mut *reader,
            in_directory,
            &mut summary,
            &mut errors,
            sink,
        );
    }
    (summary, errors)
}

/// Reads one log (JSON lines, a pretty-printed event, a JSON array or an `EventList`) from
/// `reader`, named `name` in errors, calling `sink` with each event; a log found in a
/// directory (`in_directory`) whose first line is no audit event is skipped with a warning.
pub fn read_log(
    name: &Arc<str>,
    reader: &mut dyn BufRead,
    in_directory: bool,
    summary: &mut ReadSummary,
    errors: &mut Vec<LoadError>,
    sink: &mut dyn FnMut(AuditEvent, &At),
) {
    let mut stages = Stages::default();
    let mut index = 0u32;
    let mut emit = |event: AuditEvent, line: u32, index: &mut u32| {
        if stages.keep(&event) {
            *index += 1;
            summary.events += 1;
            sink(
                event,
                &At {
                    file: Arc::clone(name),
                    line,
                    index: *index,
                },
            );
        }
    };
    let mut line = Vec::new();
    let mut number = 0u32;
    loop {
        match skip_blank_lines(reader) {
            Ok(skipped) => number = number.saturating_add(skipped),
            Err(e) => {
                errors.push(line_error(name, number + 1, format!("cannot read: {e}")));
                break;
            }
        }
        let read = next_line(reader, &mut line);
        number += 1;
        match read {
            Err(e) => {
                errors.push(line_error(name, number, format!("cannot read: {e}")));
                break;
            }
            Ok(Ok(false)) => break,
            Ok(Err(len)) => errors.push(line_error(
                name,
                number,
                format!(
                    "line of {len} bytes is longer than the {MAX_LINE_BYTES}-byte limit, skipped"
                ),
            )),
            Ok(Ok(true)) => {
                let Ok(text) = std::str::from_utf8(&line) else {
                    errors.push(line_error(name, number, "not UTF-8, skipped".into()));
                    continue;
                };
                let text = text.trim();
                if text.is_empty() {
                    continue;
                }
                let first = number_is_first(&mut index);
                if first && starts_document(text) {
                    read_document(text, reader, name, number, errors, &mut |e| {
                        emit(e, number, &mut index)
                    });
                    break;
                }
                // A file found in a log directory that does not start like an audit log is
                // some other file kept there: skipped, with one warning.
                let is_event =
                    || AuditEvent::parse(text).is_ok_and(|e| e.not_an_audit_event(false).is_none());
                if first && in_directory && !is_event() {
                    summary.skipped.push(line_error(
                        name,
                        number,
                        "not an audit log (its first line is no audit event), skipped".into(),
                    ));
                    break;
                }
                match AuditEvent::parse(text) {
                    Ok(event) => match event.not_an_audit_event(false) {
                        None => emit(event, number, &mut index),
                        Some(why) => {
                            errors.push(line_error(name, number, format!("{why}, skipped")))
                        }
                    },
                    // serde_json's messages name positions, never the text.
                    Err(e) => errors.push(line_error(
                        name,
                        number,
                        format!("not an audit event ({e}), skipped"),
                    )),
                }
            }
        }
    }
}

/// Whether nothing has been read from the file yet (an `EventList` must come first).
fn number_is_first(index: &mut u32) -> bool {
    *index == 0
}

/// A line that opens a JSON document rather than one event per line: an `EventList` (on one
/// line, or a pretty-printed one's first line), a pretty-printed single Event, or a JSON array
/// of events.
fn starts_document(text: &str) -> bool {
    text == "{"
        || text.starts_with('[')
        || (text.starts_with('{') && text.contains("\"EventList\"") && text.contains("\"kind\""))
}

/// Reads the JSON document whose first line is `first`, whole (up to [`MAX_LIST_BYTES`]): an
/// `EventList`, a JSON array of events, or one pretty-printed Event.
fn read_document(
    first: &str,
    reader: &mut dyn BufRead,
    name: &str,
    line: u32,
    errors: &mut Vec<LoadError>,
    emit: &mut dyn FnMut(AuditEvent),
) {
    let mut text = String::from(first);
    text.push('\n');
    if let Err(e) = reader.take(MAX_LIST_BYTES).read_to_string(&mut text) {
        errors.push(line_error(name, line, format!("cannot read: {e}")));
        return;
    }
    if text.trim_start().starts_with('[') {
        return read_array(&text, name, line, errors, emit);
    }
    if let Ok(event) = AuditEvent::parse(&text) {
        if event.not_an_audit_event(false).is_none() {
            return emit(event);
        }
    }
    read_list(&text, name, line, errors, emit);
}

/// A JSON array of events (what `jq -s` makes of a log): each item carries its own kind.
fn read_array(
    text: &str,
    name: &str,
    line: u32,
    errors: &mut Vec<LoadError>,
    emit: &mut dyn FnMut(AuditEvent),
) {
    let items: Vec<serde_json::Value> = match serde_json::from_str(text) {
        Ok(items) => items,
        Err(e) => {
            errors.push(line_error(
                name,
                line,
                format!("not a JSON array of audit events ({e})"),
            ));
            return;
        }
    };
    for (position, item) in items.into_iter().enumerate() {
        let event = serde_json::from_value::<AuditEvent>(item)
            .map_err(|e| e.to_string())
            .and_then(|event| match event.not_an_audit_event(false) {
                None => Ok(event),
                Some(why) => Err(why),
            });
        match event {
            Ok(mut event) => {
                event.forget_secret_bodies();
                emit(event);
            }
            Err(why) => errors.push(line_error(
                name,
                line,
                format!("item {position} of the array: {why}, skipped"),
            )),
        }
    }
}

/// Reads an `EventList` document.
fn read_list(
    text: &str,
    name: &str,
    line: u32,
    errors: &mut Vec<LoadError>,
    emit: &mut dyn FnMut(AuditEvent),
) {
    match serde_json::from_str::<EventList>(text) {
        Ok(list) if list.kind != "EventList" || !list.api_version.starts_with("audit.k8s.io/") => {
            errors.push(line_error(
                name,
                line,
                format!(
                    "a document of kind `{}` ({}) is not an audit EventList, not read",
                    list.kind
                        .chars()
                        .filter(|c| !c.is_control())
                        .take(60)
                        .collect::<String>(),
                    list.api_version
                        .chars()
                        .filter(|c| !c.is_control())
                        .take(60)
                        .collect::<String>()
                ),
            ))
        }
        Ok(list) => {
            for (position, mut event) in list.items.into_iter().enumerate() {
                if let Some(why) = event.not_an_audit_event(true) {
                    errors.push(line_error(
                        name,
                        line,
                        format!("`items/{position}` of the EventList: {why}, skipped"),
                    ));
                    continue;
                }
                event.forget_secret_bodies();
                emit(event);
            }
        }
        Err(e) => errors.push(line_error(
            name,
            line,
            format!("not an audit EventList ({e})"),
        )),
    }
}
