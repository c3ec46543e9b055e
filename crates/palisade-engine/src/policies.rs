//! The ValidatingAdmissionPolicies of the input, read before the scan that judges against them.

use std::sync::Arc;

use palisade_analysis::pss::Version;
use palisade_load::{decode, Input, Loaded};
use palisade_model::LoadError;
use rayon::prelude::*;

use crate::read::is_large;

/// The ValidatingAdmissionPolicies and bindings under `paths`, with the Namespaces and the
/// parameter objects they can see, read before a scan so that every object is judged against
/// them wherever they stand in the input. Files that do not mention a policy are read only
/// when some policy was found. Standard input is not read (it can be read once only).
pub fn load_admission_policies(
    paths: &[String],
    kubernetes_version: Option<Version>,
) -> (palisade_analysis::admission::Policies, Vec<LoadError>) {
    let mut policies =
        palisade_analysis::admission::Policies::for_kubernetes(kubernetes_version.map(|v| v.minor));
    let mut errors = Vec::new();
    let (inputs, _) = palisade_load::discover(paths);
    let policy_kinds = [
        "ValidatingAdmissionPolicy".to_string(),
        "ValidatingAdmissionPolicyBinding".to_string(),
    ];
    objects_of_kinds(&inputs, &policy_kinds, &|_, _| true, &mut |object| {
        policies.add_policy_or_binding(&object)
    });
    // A binding without its policy enforces nothing: an error of the input, since a team
    // that wrote it means to enforce something.
    for (at, message) in policies.dangling_bindings() {
        policies.problems.push((at, message));
    }
    if !policies.is_empty() {
        // The second pass parses only what a policy can see (Namespaces, parameter kinds):
        // small files first, then the large ones only if a policy still needs something
        // (splitting a gigabyte snapshot is most of the pass).
        let kinds = policies.context_kinds();
        let (large, small): (Vec<Input>, Vec<Input>) = inputs.iter().cloned().partition(is_large);
        for part in [small, large] {
            if !policies.needs_context() {
                break;
            }
            let mut seen: Vec<palisade_model::Object> = Vec::new();
            objects_of_kinds(
                &part,
                &kinds,
                &|kind, text| policies.may_see(kind, text),
                &mut |object| seen.push(object),
            );
            for object in &seen {
                policies.add_context(object);
            }
        }
    }
    for (at, message) in std::mem::take(&mut policies.problems) {
        errors.push(located_error(&at, message));
    }
    (policies, errors)
}

/// Every object of `kinds` in the files of `inputs`, a file at a time: a file that does not
/// name one of them is skipped after a text search, and in the others every piece whose kind
/// is another, or that `keep` refuses on its kind and text, is skipped unparsed. Files over [`STREAM_BYTES`] are searched and split as they
/// are read, so a gigabyte snapshot is never held whole. Unreadable files are left to the scan
/// that follows, which reports them.
fn objects_of_kinds(
    inputs: &[Input],
    kinds: &[String],
    keep: &(dyn Fn(&str, &str) -> bool + Sync),
    sink: &mut dyn FnMut(palisade_model::Object),
) {
    let wanted = |piece: &palisade_load::Piece| match piece.kind_hint() {
        Some(hint) => kinds.iter().any(|k| k == hint) && keep(hint, &piece.text),
        None => true,
    };
    for input in inputs {
        let Input::File(path) = input else { continue };
        let name = input.display_name();
        // Pieces are parsed in parallel a batch at a time and handed on in file order.
        let mut each_piece = |reader: &mut (dyn std::io::BufRead + Send)| {
            for batch in palisade_load::Splitter::new(Arc::clone(&name), reader).batches() {
                let parsed: Vec<Vec<palisade_model::Object>> = batch
                    .into_par_iter()
                    .flatten()
                    .filter(|piece| wanted(piece))
                    .map(|piece| {
                        let mut objects = Vec::new();
                        palisade_load::load_piece(&name, &piece, &mut |loaded| {
                            if let Loaded::Object(object) = loaded {
                                objects.push(*object);
                            }
                        });
                        objects
                    })
                    .collect();
                parsed.into_iter().flatten().for_each(&mut *sink);
            }
        };
        if is_large(input) {
            if file_mentions(path, kinds) {
                if let Ok(file) = std::fs::File::open(path) {
                    each_piece(&mut std::io::BufReader::with_capacity(1 << 20, file));
                }
            }
            continue;
        }
        let Ok(bytes) = std::fs::read(path) else {
            continue;
        };
        let Ok(text) = decode(&name, &bytes) else {
            continue;
        };
        if kinds.iter().any(|k| text.contains(k.as_str())) {
            each_piece(&mut text.as_bytes());
        }
    }
}

/// Whether the file at `path` contains one of `needles`, read a megabyte at a time.
fn file_mentions(path: &std::path::Path, needles: &[String]) -> bool {
    use std::io::Read;
    let Ok(mut file) = std::fs::File::open(path) else {
        return false;
    };
    let finders: Vec<_> = needles
        .iter()
        .map(|n| memchr::memmem::Finder::new(n.as_bytes()))
        .collect();
    let overlap = needles.iter().map(String::len).max().unwrap_or(0);
    let mut buffer = vec![0u8; (1 << 20) + overlap];
    let mut kept = 0;
    loop {
        let read = match file.read(&mut buffer[kept..]) {
            Ok(0) | Err(_) => return false,
            Ok(read) => read,
        };
        let filled = kept + read;
        if finders.iter().any(|f| f.find(&buffer[..filled]).is_some()) {
            return true;
        }
        // A needle split across two reads is found in the next window.
        kept = overlap.min(filled);
        buffer.copy_within(filled - kept..filled, 0);
    }
}

/// An error of the input at `at` (its file and place when it has one).
fn located_error(at: &palisade_analysis::rbac::Source, message: String) -> LoadError {
    LoadError {
        file: at
            .location
            .as_ref()
            .map_or_else(|| at.object.display_name(), |l| l.file.to_string()),
        document: at.location.as_ref().map(|l| l.document),
        line: at.location.as_ref().map(|l| l.line),
        column: at.location.as_ref().map(|l| l.column),
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn file_of(bytes: &[u8]) -> tempfile::NamedTempFile {
        let mut file = tempfile::NamedTempFile::new().expect("temp file");
        file.write_all(bytes).expect("write");
        file
    }

    #[test]
    fn a_kind_split_across_two_reads_is_found() {
        let needle = "ValidatingAdmissionPolicy";
        for split in [1, 7, needle.len() - 1] {
            // The first read is one megabyte: the needle starts `split` bytes before its end.
            let mut bytes = vec![b'#'; (1 << 20) - split];
            bytes.extend_from_slice(needle.as_bytes());
            bytes.extend_from_slice(b"\n");
            let file = file_of(&bytes);
            assert!(
                file_mentions(file.path(), &[needle.to_string()]),
                "split {split}"
            );
        }
    }

    #[test]
    fn a_file_without_the_kind_is_not_read_further() {
        let file = file_of(&vec![b'x'; (1 << 20) * 2 + 5]);
        assert!(!file_mentions(
            file.path(),
            &["ValidatingAdmissionPolicyBinding".to_string()]
        ));
        assert!(!file_mentions(
            std::path::Path::new("/nonexistent/palisade"),
            &["Pod".to_string()]
        ));
    }
}
