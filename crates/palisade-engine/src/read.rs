//! Reading inputs: each file whole (with code frames and comment suppressions) or, when
//! large, piece by piece in parallel; results handed on in input order.

use std::sync::Arc;

use palisade_load::{decode, load_text, read_input, Input, Loaded};
use palisade_model::{Finding, LoadError};
use palisade_rules::suppress::FileSuppressions;
use palisade_rules::Source;
use rayon::prelude::*;

use crate::{InventoryBuilder, Pipeline};

/// What one input produced.
#[derive(Default)]
pub struct FileResult {
    pub findings: Vec<Finding>,
    pub errors: Vec<LoadError>,
    pub warnings: Vec<LoadError>,
    pub objects: usize,
    pub skipped: usize,
    pub bytes: usize,
    /// What whole-input rules need from this file, when any selected rule needs it.
    pub inventory: Option<InventoryBuilder>,
    pub suppressions: Vec<FileSuppressions>,
    /// The text of standard input, kept for the code frames of whole-input findings (a file
    /// is read again instead; stdin cannot be).
    pub stdin_text: Option<String>,
}

impl FileResult {
    /// An empty result that collects what the pipeline's whole-input rules need.
    fn for_pipeline(pipeline: &Pipeline) -> Self {
        FileResult {
            inventory: pipeline
                .engine
                .needs_inventory()
                .then(InventoryBuilder::default),
            ..FileResult::default()
        }
    }

    /// Takes one loaded document or list item: an object is checked (with code frames from
    /// `source`) and what suppressions and whole-input rules need of it is kept.
    fn take(
        &mut self,
        loaded: Loaded,
        pipeline: &Pipeline,
        source: Option<&Source<'_>>,
        suppressions: &mut FileSuppressions,
        unset_namespace: Option<&Arc<str>>,
    ) {
        match loaded {
            Loaded::Object(mut object) => {
                if let Some(namespace) = unset_namespace {
                    object.place_in(namespace);
                }
                self.objects += 1;
                self.warnings.extend(analysis_warnings(&object));
                self.findings.extend(pipeline.engine.check(&object, source));
                suppressions.add_object(&object, &pipeline.suppression);
                if let Some(inventory) = self.inventory.as_mut() {
                    inventory.add(&object);
                }
            }
            Loaded::Skipped => self.skipped += 1,
            Loaded::Error(e) => self.errors.push(e),
            Loaded::Warning(w) => self.warnings.push(w),
        }
    }

    /// Keeps what a file's suppressions say, when they say anything.
    fn keep_suppressions(&mut self, suppressions: FileSuppressions) {
        let suppressions = suppressions.finish();
        if !suppressions.is_empty() {
            self.suppressions.push(suppressions);
        }
    }

    /// Adds what another part of the same input produced (a piece of a streamed file).
    fn absorb(&mut self, part: FileResult) {
        self.findings.extend(part.findings);
        self.errors.extend(part.errors);
        self.warnings.extend(part.warnings);
        self.objects += part.objects;
        self.skipped += part.skipped;
        if let (Some(all), Some(piece)) = (self.inventory.as_mut(), part.inventory) {
            all.merge(piece);
        }
        self.suppressions.extend(part.suppressions);
    }
}

/// Files larger than this are read piece by piece ([`scan_streamed`]): a `List` item by item,
/// other documents one at a time, in parallel, without holding the file. Smaller files are
/// read whole, which gives their findings code frames and comment suppressions.
pub const STREAM_BYTES: u64 = 32 << 20;

/// Reads, parses and checks one input.
pub fn scan_input(input: &Input, pipeline: &Pipeline) -> FileResult {
    scan_input_placed(input, pipeline, None)
}

/// [`scan_input`], its objects that name no namespace applied to `unset_namespace` when set
/// (see [`palisade_load::UnsetNamespaces`]).
pub fn scan_input_placed(
    input: &Input,
    pipeline: &Pipeline,
    unset_namespace: Option<&Arc<str>>,
) -> FileResult {
    let mut result = FileResult::for_pipeline(pipeline);
    let name: Arc<str> = input.display_name();
    let bytes = match reading(input) {
        Ok(Reading::Whole(bytes)) => bytes,
        Ok(Reading::Streamed(reader)) => {
            return scan_streamed(&name, reader, pipeline, unset_namespace)
        }
        Err(e) => {
            result.errors.push(e);
            return result;
        }
    };
    result.bytes = bytes.len();
    let text = match decode(&name, &bytes) {
        Ok(text) => text,
        Err(e) => {
            result.errors.push(e);
            return result;
        }
    };
    let source = Source::new(text);
    let frames = pipeline.code_frames.then_some(&source);
    let mut suppressions = FileSuppressions::new(&name, text, &pipeline.suppression);
    load_text(&name, text, &mut |loaded| {
        result.take(loaded, pipeline, frames, &mut suppressions, unset_namespace)
    });
    result.keep_suppressions(suppressions);
    if pipeline.code_frames && matches!(input, Input::Stdin) && result.inventory.is_some() {
        result.stdin_text = Some(text.to_string());
    }
    result
}

/// Runs `each` on every item, in parallel, and hands the results to `merge` in the items' order
/// as they complete (so that everything assembled from them is deterministic, and no more than
/// a few results wait at a time).
pub(crate) fn in_order<I: Send, T: Send>(
    items: impl Iterator<Item = I> + Send,
    each: impl Fn(I) -> T + Sync + Send,
    mut merge: impl FnMut(T),
) {
    let (sender, receiver) = std::sync::mpsc::sync_channel::<(usize, T)>(16);
    std::thread::scope(|scope| {
        let each = &each;
        scope.spawn(move || {
            items
                .enumerate()
                .par_bridge()
                .for_each_with(sender, |sender, (sequence, item)| {
                    // The receiver only stops when every item is in.
                    let _ = sender.send((sequence, each(item)));
                });
        });
        let mut next = 0usize;
        let mut waiting: std::collections::BTreeMap<usize, T> = Default::default();
        // Never called on a rayon worker (large inputs are read from the calling thread), so
        // blocking here takes no thread from the work.
        for (sequence, result) in receiver {
            waiting.insert(sequence, result);
            while let Some(result) = waiting.remove(&next) {
                merge(result);
                next += 1;
            }
        }
    });
}

/// [`in_order`] over the pieces of a large input, handed out in batches of about 256 KiB of
/// text: one hand-off per piece would spend more time waking threads than parsing small
/// objects.
pub(crate) fn in_pieces<T: Send>(
    name: &Arc<str>,
    reader: Box<dyn std::io::BufRead + Send>,
    each: impl Fn(Result<palisade_load::Piece, LoadError>) -> T + Sync + Send,
    mut merge: impl FnMut(T),
) {
    let batches = palisade_load::Splitter::new(Arc::clone(name), reader).batches();
    in_order(
        batches,
        |batch: Vec<_>| batch.into_iter().map(&each).collect::<Vec<T>>(),
        |results| results.into_iter().for_each(&mut merge),
    );
}

/// Reads, parses and checks one input piece by piece (see [`palisade_load::stream`]): each
/// document, and each item of a large `List`, is parsed and checked on its own, in parallel,
/// and dropped; memory follows the largest piece and what the findings and whole-input rules
/// keep, not the file. Results are assembled in file order, so the report is the same as for a
/// whole read, without code frames (the file's text is not kept) and without `#
/// palisade:ignore` comments (annotations and config exceptions still apply).
pub fn scan_streamed(
    name: &Arc<str>,
    reader: Box<dyn std::io::BufRead + Send>,
    pipeline: &Pipeline,
    unset_namespace: Option<&Arc<str>>,
) -> FileResult {
    let each = |piece: Result<palisade_load::Piece, LoadError>| {
        let mut part = FileResult::for_pipeline(pipeline);
        let piece = match piece {
            Ok(piece) => piece,
            Err(e) => {
                part.errors.push(e);
                return part;
            }
        };
        let mut suppressions = FileSuppressions::new(name, "", &pipeline.suppression);
        // No rule reads what the server writes into an object (its managedFields and status,
        // as a live scan drops them too): not parsed.
        let piece = piece.without_server_fields();
        palisade_load::load_piece(name, &piece, &mut |loaded| {
            part.take(loaded, pipeline, None, &mut suppressions, unset_namespace)
        });
        part.keep_suppressions(suppressions);
        part
    };
    let mut result = FileResult::for_pipeline(pipeline);
    in_pieces(name, reader, each, |part: FileResult| result.absorb(part));
    result
}

/// Whether `input` will be read piece by piece: a file over [`STREAM_BYTES`], or stdin (which
/// may be).
pub(crate) fn is_large(input: &Input) -> bool {
    match input {
        Input::Stdin => true,
        Input::File(path) => std::fs::metadata(path).is_ok_and(|m| m.len() > STREAM_BYTES),
    }
}

/// How an input is read: whole, or piece by piece when it is larger than [`STREAM_BYTES`] (a
/// file by its size; stdin when more than that arrives, what was read so far coming first).
pub(crate) enum Reading {
    Whole(Vec<u8>),
    Streamed(Box<dyn std::io::BufRead + Send>),
}

pub(crate) fn reading(input: &Input) -> Result<Reading, LoadError> {
    use std::io::Read;
    let name = input.display_name();
    let error = |message: String| LoadError {
        file: name.to_string(),
        document: None,
        line: None,
        column: None,
        message,
    };
    match input {
        Input::File(path) => {
            let size = std::fs::metadata(path)
                .map_err(|e| error(e.to_string()))?
                .len();
            if size <= STREAM_BYTES {
                return read_input(input).map(Reading::Whole);
            }
            let file = std::fs::File::open(path).map_err(|e| error(e.to_string()))?;
            Ok(Reading::Streamed(Box::new(
                std::io::BufReader::with_capacity(1 << 20, file),
            )))
        }
        Input::Stdin => {
            let mut prefix = Vec::new();
            std::io::stdin()
                .take(STREAM_BYTES + 1)
                .read_to_end(&mut prefix)
                .map_err(|e| error(e.to_string()))?;
            if prefix.len() as u64 <= STREAM_BYTES {
                return Ok(Reading::Whole(prefix));
            }
            let rest = std::io::BufReader::with_capacity(1 << 20, std::io::stdin());
            Ok(Reading::Streamed(Box::new(
                std::io::Cursor::new(prefix).chain(rest),
            )))
        }
    }
}

/// Removes repeated inputs, keeping the first occurrence.
pub fn dedup_inputs(inputs: Vec<Input>) -> Vec<Input> {
    let mut seen = std::collections::HashSet::new();
    inputs
        .into_iter()
        .filter(|i| seen.insert(i.clone()))
        .collect()
}

/// What an analysis reads otherwise than the API server would (it would refuse it), located:
/// a ClusterRole's malformed aggregation selectors; and a network policy of a kind the
/// NetworkPolicy engine does not evaluate, which it leaves out.
pub(crate) fn analysis_warnings(object: &palisade_model::Object) -> Vec<LoadError> {
    let origin = object.origin.as_ref();
    let at = |pos: palisade_model::Pos, message: String| LoadError {
        file: origin.map_or_else(|| object.reference.display_name(), |o| o.file.to_string()),
        document: origin.map(|o| o.document),
        line: origin.map(|_| pos.line),
        column: origin.map(|_| pos.column),
        message,
    };
    let mut warnings: Vec<LoadError> = palisade_analysis::rbac::aggregation_problems(object)
        .into_iter()
        .map(|(path, message)| {
            let (pos, _) = path.locate(&object.root);
            at(
                pos,
                format!(
                    "{}: `{}`: {message}: the API server would refuse this ClusterRole; its aggregation is read as far as it can be (a selector that cannot be read selects every labelled ClusterRole), which may overstate what it grants",
                    object.reference.display_name(),
                    path.as_str()
                ),
            )
        })
        .collect();
    warnings.extend(
        palisade_analysis::netpol::unevaluated(object).map(|message| at(object.root.pos, message)),
    );
    warnings
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_are_merged_in_the_items_order_whatever_order_they_finish_in() {
        let mut merged = Vec::new();
        in_order(
            0..64u64,
            |i| {
                // The early items finish last.
                std::thread::sleep(std::time::Duration::from_micros((64 - i) * 200));
                i * 10
            },
            |result| merged.push(result),
        );
        assert_eq!(merged, (0..64u64).map(|i| i * 10).collect::<Vec<_>>());
    }

    #[test]
    fn repeated_inputs_are_read_once_in_first_order() {
        let a = Input::File("a.yaml".into());
        let b = Input::File("b.yaml".into());
        let inputs = vec![a.clone(), b.clone(), a.clone(), Input::Stdin, Input::Stdin];
        assert_eq!(dedup_inputs(inputs), vec![a, b, Input::Stdin]);
    }
}
