//! The audit-log reader on any bytes, as a file given on the command line and as one found in
//! a log directory: JSON lines, a pretty-printed event, an array or an `EventList`.

#![no_main]

use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use palisade_audit::read::{read_log, ReadSummary};

fuzz_target!(|data: &[u8]| {
    let name: Arc<str> = Arc::from("audit.log");
    for in_directory in [false, true] {
        let mut summary = ReadSummary::default();
        let mut errors = Vec::new();
        let mut events = 0usize;
        read_log(
            &name,
            &mut std::io::Cursor::new(data),
            in_directory,
            &mut summary,
            &mut errors,
            &mut |_, at| {
                events += 1;
                assert_eq!(at.index as usize, events);
            },
        );
        assert_eq!(summary.events, events);
    }
});
