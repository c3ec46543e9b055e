//! Service accounts and their tokens.

pub mod automount_token;
pub mod default_used;
pub mod deprecated_field;
pub mod legacy_token_secret;
pub mod long_lived_projected_token;
