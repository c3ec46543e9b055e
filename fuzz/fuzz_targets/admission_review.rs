//! An AdmissionReview body as the webhook receives it, judged by every rule in enforce mode:
//! any bytes get a verdict or a "bad review" error, never a panic, and a verdict answers the
//! review's own uid.

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use palisade_admit::{Judge, Mode};
use palisade_engine::config::LoadedConfig;
use palisade_engine::{build_pipeline, Overrides};
use palisade_model::Severity;

fn judge() -> &'static Judge {
    static JUDGE: OnceLock<Judge> = OnceLock::new();
    JUDGE.get_or_init(|| {
        let (pipeline, _) = build_pipeline(&LoadedConfig::default(), &Overrides::default())
            .expect("the default pipeline builds");
        Judge::new(pipeline, Severity::High, Mode::Enforce)
    })
}

fuzz_target!(|data: &[u8]| {
    let modes = |namespace: &str| match namespace.len() % 3 {
        0 => Some(Mode::Warn),
        1 => Some(Mode::Audit),
        _ => None,
    };
    if let Ok(verdict) = judge().review(data, &modes) {
        let uid = serde_json::from_slice::<serde_json::Value>(data)
            .ok()
            .and_then(|review| review["request"]["uid"].as_str().map(str::to_string));
        assert_eq!(verdict.review["response"]["uid"].as_str(), uid.as_deref());
    }
});
