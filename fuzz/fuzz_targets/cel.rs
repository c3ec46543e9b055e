//! CEL as policies bring it: the first line of the input is an expression, compiled as
//! Kubernetes would, and evaluated against the rest read as the object (JSON), when it is.
//! Compiling refuses what it cannot bound; evaluating returns a value or an error.

#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_cel::{Expression, Inputs};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (source, object) = text.split_once('\n').unwrap_or((text, "{}"));
    let Ok(expression) = Expression::compile(source) else {
        return;
    };
    let object = serde_json::from_str(object).unwrap_or(serde_json::Value::Null);
    let inputs = Inputs {
        object,
        variables: serde_json::json!({}),
        ..Inputs::default()
    };
    let _ = expression.evaluate(&inputs);
});
