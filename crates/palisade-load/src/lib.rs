//! Inputs to objects: files, directories and stdin become [`palisade_model::Object`]s with
//! positions, and every problem becomes a [`palisade_model::LoadError`], never a panic.

mod block;
mod document;
pub mod emit;
pub mod json;
mod projects;
pub mod stream;
mod walk;
pub mod yaml;

pub use document::{decode, load_text, split_documents, Loaded};
pub use projects::{unset_namespaces, ProjectInput, UnsetNamespaces};
pub use stream::{load_piece, Piece, Splitter};
pub use walk::{discover, discover_with_notes, read_input, Input, MAX_FILE_BYTES};
