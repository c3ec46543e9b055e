//! Secrets and credentials: where they live and how they reach containers. No rule here ever
//! puts a value in a message, and the credential rules are `sensitive`: reports never quote
//! the lines they point at.

pub mod credential_in_configmap;
pub mod credential_in_env;
pub mod secret_in_env;
pub mod secret_in_manifest;
