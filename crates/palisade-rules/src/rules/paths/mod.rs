//! Attack paths: chains of findings an attacker follows, judged as one.

pub mod from_internet;
