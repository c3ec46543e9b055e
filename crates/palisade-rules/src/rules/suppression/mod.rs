//! Rules about suppressions themselves, reported by the suppression pass after every other
//! rule has run: a suppression must say why, must not outlive its expiry, and must still
//! suppress something.

pub mod expired;
pub mod invalid;
pub mod unused;
