//! The manifest loader on any bytes: the streaming splitter (documents, `*List` items) with
//! each piece loaded (as it is, and with the server's blocks blanked), and the whole-text
//! loader on what is UTF-8. Neither may panic, hang or lose its way; every object it yields
//! must have a position inside the text.

#![no_main]

use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use palisade_load::{load_piece, load_text, Loaded, Splitter};

/// Lines as YAML counts them: `\n`, `\r\n` and a lone `\r` each end one.
fn line_count(data: &[u8]) -> u32 {
    let breaks = data
        .iter()
        .enumerate()
        .filter(|(i, b)| **b == b'\n' || (**b == b'\r' && data.get(i + 1) != Some(&b'\n')))
        .count();
    u32::try_from(breaks).unwrap_or(u32::MAX).saturating_add(1)
}

fuzz_target!(|data: &[u8]| {
    let file: Arc<str> = Arc::from("fuzz.yaml");
    let lines = line_count(data);
    let mut check = |loaded: Loaded| {
        if let Loaded::Object(object) = loaded {
            let line = object.root.pos.line;
            assert!((1..=lines).contains(&line), "line {line} of {lines}");
        }
    };
    for piece in Splitter::new(Arc::clone(&file), data) {
        if let Ok(piece) = piece {
            load_piece(&file, &piece, &mut check);
            // As the scan of a large dump reads an item: the server's blocks blanked.
            load_piece(&file, &piece.without_server_fields(), &mut check);
        }
    }
    if let Ok(text) = std::str::from_utf8(data) {
        load_text(&file, text, &mut check);
    }
});
