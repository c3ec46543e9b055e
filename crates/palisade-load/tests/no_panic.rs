//! Whatever the bytes, loading ends with objects and errors, never a panic.

use std::sync::Arc;

use palisade_load::{decode, load_text};
use proptest::prelude::*;

fn load_anything(bytes: &[u8]) {
    if let Ok(text) = decode("fuzz.yaml", bytes) {
        load_text(&Arc::from("fuzz.yaml"), text, &mut |_| {});
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        load_anything(&bytes);
    }

    #[test]
    fn yaml_shaped_text(text in "([a-z]{1,6}|[-:&*!|>{}\\[\\],#'\"<]| |\n|  |---|\\.\\.\\.|0x1F|~|yes){0,120}") {
        load_anything(text.as_bytes());
    }
}
