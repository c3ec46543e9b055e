//! One object judged alone, as the admission webhook judges it.

use std::sync::Arc;

use palisade_model::Finding;
use palisade_rules::suppress::{FileSuppressions, Suppressions};

use crate::settle::{settle, Order, Settling};
use crate::Pipeline;

/// The findings on one object judged alone, as admission judges it: its object and pod rules,
/// with suppression annotations (ignored in strict mode), config exceptions and severity
/// overrides applied as in a scan, ordered by field path. Rules over the whole inventory run
/// only where the object alone brings their findings about (those that declare its kind: a
/// PeerAuthentication's modes); the rest (RBAC, NetworkPolicy coverage) need the other
/// objects; findings about the suppressions themselves are left to `scan`.
pub fn judge_object(pipeline: &Pipeline, object: &palisade_model::Object) -> Vec<Finding> {
    judge_object_with(pipeline, object, Vec::new())
}

/// [`judge_object`], with findings of whole-inventory rules that the object brings about
/// (`extra`, from the cluster's state) judged alongside: the object's suppressions cover them.
pub fn judge_object_with(
    pipeline: &Pipeline,
    object: &palisade_model::Object,
    extra: Vec<Finding>,
) -> Vec<Finding> {
    judge_object_under(pipeline, &pipeline.suppression, object, extra)
}

/// [`judge_object_with`] under other suppression settings: the admission webhook's, which
/// honour an object's own annotations only where its config allows.
pub fn judge_object_under(
    pipeline: &Pipeline,
    suppression: &palisade_rules::suppress::SuppressionSettings,
    object: &palisade_model::Object,
    extra: Vec<Finding>,
) -> Vec<Finding> {
    let no_file: Arc<str> = Arc::from(palisade_rules::suppress::NO_FILE);
    let mut file = FileSuppressions::new(&no_file, "", suppression);
    file.add_object(object, suppression);
    let mut suppressions = Suppressions::new(suppression);
    suppressions.merge(file.finish());
    let mut findings = pipeline.engine.check(object, None);
    findings.extend(pipeline.engine.check_alone(object));
    findings.extend(extra);
    let active: Vec<&'static palisade_rules::Rule> = pipeline.engine.rules().collect();
    settle(
        pipeline,
        &mut findings,
        // Findings about the suppressions themselves are left to `scan`.
        |findings| {
            let _about_suppressions = suppressions.apply(findings, &active);
        },
        Settling {
            exposed_vulnerable: &[],
            stdin_text: None,
            fingerprints: false,
            order: Order::ByField,
        },
    );
    findings
}
