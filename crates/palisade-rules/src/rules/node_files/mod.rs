//! A node's files: permissions and ownership (CIS 1.1.x and 4.1.x), judged on what
//! `palisade node` finds below its `--root`.

pub mod ownership;
pub mod permissions;
