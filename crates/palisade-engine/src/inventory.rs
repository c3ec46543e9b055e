//! Whole inputs read into the inventory the RBAC, NetworkPolicy and attack-path commands
//! analyse.

use std::sync::Arc;

use palisade_load::{decode, load_text, Input, Loaded};
use palisade_model::LoadError;
use rayon::prelude::*;

use crate::read::is_large;
use crate::read::{analysis_warnings, dedup_inputs, in_pieces, reading, Reading};
use crate::InventoryBuilder;

/// What whole-input analyses read of some inputs, and what could not be read.
#[derive(Default)]
struct InventoryPart {
    builder: InventoryBuilder,
    errors: Vec<LoadError>,
    warnings: Vec<LoadError>,
    /// Documents that are no Kubernetes objects (a chart's values, a CI file).
    skipped: usize,
}

impl InventoryPart {
    fn take(&mut self, loaded: Loaded, unset_namespace: Option<&Arc<str>>) {
        match loaded {
            Loaded::Object(mut object) => {
                if let Some(namespace) = unset_namespace {
                    object.place_in(namespace);
                }
                self.warnings.extend(analysis_warnings(&object));
                self.builder.add(&object)
            }
            Loaded::Skipped => self.skipped += 1,
            Loaded::Error(e) => self.errors.push(e),
            Loaded::Warning(w) => self.warnings.push(w),
        }
    }

    fn absorb(&mut self, part: InventoryPart) {
        self.builder.merge(part.builder);
        self.errors.extend(part.errors);
        self.warnings.extend(part.warnings);
        self.skipped += part.skipped;
    }

    /// One warning for the documents of `file` that were no Kubernetes objects.
    fn say_skipped(&mut self, file: &str) {
        if self.skipped > 0 {
            self.warnings.push(LoadError {
                file: file.to_string(),
                document: None,
                line: None,
                column: None,
                message: format!(
                    "{} document{} with neither apiVersion nor kind (no Kubernetes object), skipped",
                    self.skipped,
                    if self.skipped == 1 { "" } else { "s" }
                ),
            });
            self.skipped = 0;
        }
    }
}

/// An inventory read from files, with what could not be read (errors) and what was read as
/// kubectl reads it rather than as written (warnings).
pub struct InventoryRead {
    pub inventory: palisade_analysis::Inventory,
    pub errors: Vec<LoadError>,
    pub warnings: Vec<LoadError>,
}

/// Loads everything under `paths` into an inventory (RBAC, network) (in parallel, one pass per file).
pub fn load_inventory(paths: &[String], bootstrap: bool) -> InventoryRead {
    let (inputs, errors) = palisade_load::discover(paths);
    let inputs = dedup_inputs(inputs);
    let unset_namespaces = palisade_load::unset_namespaces(
        paths,
        &inputs
            .iter()
            .map(|input| palisade_load::ProjectInput {
                input,
                project: None,
            })
            .collect::<Vec<_>>(),
    );
    let each = |input: &Input| {
        let mut part = InventoryPart::default();
        let name = input.display_name();
        let unset_namespace = unset_namespaces.of(input);
        match reading(input) {
            Err(e) => part.errors.push(e),
            Ok(Reading::Whole(bytes)) => match decode(&name, &bytes) {
                Err(e) => part.errors.push(e),
                Ok(text) => load_text(&name, text, &mut |loaded| {
                    part.take(loaded, unset_namespace)
                }),
            },
            Ok(Reading::Streamed(reader)) => {
                let each = |piece: Result<palisade_load::Piece, LoadError>| {
                    let mut part = InventoryPart::default();
                    match piece {
                        Err(e) => part.errors.push(e),
                        // Kinds no analysis reads are not even parsed.
                        Ok(piece)
                            if piece
                                .kind_hint()
                                .is_some_and(InventoryBuilder::ignores_kind) => {}
                        Ok(piece) => {
                            // Nor what the server writes into each object.
                            let piece = piece.without_server_fields();
                            palisade_load::load_piece(&name, &piece, &mut |loaded| {
                                part.take(loaded, unset_namespace)
                            })
                        }
                    }
                    part
                };
                in_pieces(&name, reader, each, |piece| part.absorb(piece));
            }
        }
        part.say_skipped(&name);
        part
    };
    // Large inputs from this thread (they use every core themselves), then the rest in
    // parallel; both in input order.
    let (large, small): (Vec<&Input>, Vec<&Input>) = inputs.iter().partition(|i| is_large(i));
    let mut parts: Vec<InventoryPart> = large.into_iter().map(each).collect();
    parts.extend(
        small
            .par_iter()
            .map(|input| each(input))
            .collect::<Vec<_>>(),
    );
    let mut all = InventoryPart {
        errors,
        ..InventoryPart::default()
    };
    for part in parts {
        all.absorb(part);
    }
    InventoryRead {
        inventory: all.builder.build(bootstrap),
        errors: all.errors,
        warnings: all.warnings,
    }
}
