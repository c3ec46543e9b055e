//! The block-style YAML reader against saphyr's parser on any UTF-8 text: it must hand on
//! exactly the same documents, items, positions, warnings and errors, or leave the text to
//! saphyr.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Err(difference) = palisade_load::yaml::compare_readers(text) {
            panic!("the readers differ:\n{difference}");
        }
    }
});
