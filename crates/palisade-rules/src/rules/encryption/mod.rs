//! Encryption at rest: the API server's `EncryptionConfiguration`. A resource is written with
//! the first provider of the first entry whose `resources` name it (`secrets`, `*.`, `*.*`);
//! later providers only decrypt. Key material is never shown: these rules are `sensitive`.

pub mod secrets_plaintext;
pub mod weak_provider;

use palisade_model::{FieldPath, Node, Object};

pub(crate) fn is_encryption_config(object: &Object) -> bool {
    object.group() == "apiserver.config.k8s.io"
        && matches!(
            object.kind(),
            "EncryptionConfiguration" | "EncryptionConfig"
        )
}

/// The entries of `resources`, with their paths.
pub(crate) fn entries(object: &Object) -> Vec<(&Node, FieldPath)> {
    object
        .root
        .get("resources")
        .map(Node::as_seq)
        .unwrap_or_default()
        .iter()
        .enumerate()
        .map(|(i, e)| (e, FieldPath::root().key("resources").index(i)))
        .collect()
}

/// Whether an entry's `resources` list covers core Secrets.
pub(crate) fn covers_secrets(entry: &Node) -> bool {
    entry
        .get("resources")
        .map(Node::as_seq)
        .unwrap_or_default()
        .iter()
        .filter_map(Node::as_str)
        .any(|r| matches!(r, "secrets" | "*." | "*.*"))
}

/// The entry's write provider: its first provider's type, node and path.
pub(crate) fn write_provider<'a>(
    entry: &'a Node,
    entry_path: &FieldPath,
) -> Option<(&'a str, &'a Node, FieldPath)> {
    let provider = entry.get("providers")?.as_seq().first()?;
    let kind = provider.as_map().first()?;
    Some((
        kind.key.as_str(),
        &kind.value,
        entry_path.key("providers").index(0).key(&kind.key),
    ))
}
