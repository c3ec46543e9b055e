//! Rules about container images.

pub mod registry_allowed;
