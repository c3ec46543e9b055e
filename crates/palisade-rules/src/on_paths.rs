//! Findings on an attack path say so: a misconfiguration an attacker walks through on the way
//! from the internet to cluster-admin matters more than the same one off every path.

use palisade_model::{Finding, Related, Severity};

/// The rule whose findings are attack paths (the hops are its related places).
const PATH_RULE: &str = "PAL-PATH-001";

/// A field a path goes through: the object and the field's path.
type Hop = (std::sync::Arc<palisade_model::ObjectRef>, String);

/// Whether `inner` is `outer` or a field below it.
fn within(inner: &str, outer: &str) -> bool {
    inner == outer
        || inner
            .strip_prefix(outer)
            .is_some_and(|rest| rest.starts_with('/'))
}

/// Gives every finding on a field an attack path goes through (or below it) a related place:
/// the path's start, and where it leads. Findings of the path rule itself, and suppressed
/// findings, are left as they are.
pub fn mark_on_paths(findings: &mut [Finding]) {
    let notes: Vec<(Vec<Hop>, Related)> = findings
        .iter()
        .filter(|f| f.rule.code == PATH_RULE && f.suppressed().is_none())
        .map(|path| {
            let mut hops = vec![(path.object.clone(), path.path.as_str().to_string())];
            hops.extend(
                path.related()
                    .iter()
                    .map(|hop| (hop.object.clone(), hop.path.as_str().to_string())),
            );
            // "the internet reaches cluster-admin in 5 hops: ..." names the goal up to
            // its colon.
            let summary = path.message.split(':').next().unwrap_or_default();
            let note = Related {
                object: path.object.clone(),
                path: path.path.clone(),
                location: path.location.clone(),
                message: format!(
                    "on an attack path ({PATH_RULE}): {summary}, starting at {}",
                    path.object.display_name()
                ),
            };
            (hops, note)
        })
        .collect();
    if notes.is_empty() {
        return;
    }
    // Each object a path goes through, with the paths (indexes into `notes`) and fields: a
    // finding looks up its own object instead of every hop of every path (on a large input,
    // hundreds of thousands of findings against thousands of paths).
    // Looked up for every finding by its object's names: foldhash rather than SipHash.
    let mut by_object: foldhash::HashMap<&palisade_model::ObjectRef, Vec<(usize, &str)>> =
        foldhash::HashMap::default();
    for (index, (hops, _)) in notes.iter().enumerate() {
        for (object, path) in hops {
            by_object
                .entry(object.as_ref())
                .or_default()
                .push((index, path.as_str()));
        }
    }
    for finding in findings
        .iter_mut()
        .filter(|f| f.rule.code != PATH_RULE && f.suppressed().is_none())
    {
        let Some(hops) = by_object.get(finding.object.as_ref()) else {
            continue;
        };
        let mut on_paths: Vec<usize> = hops
            .iter()
            .filter(|(_, path)| within(finding.path.as_str(), path))
            .map(|(index, _)| *index)
            .collect();
        on_paths.dedup();
        let on: Vec<Related> = on_paths
            .into_iter()
            .map(|index| notes[index].1.clone())
            .collect();
        if !on.is_empty() {
            let extra = finding.extra_mut();
            let mut related = std::mem::take(&mut extra.related).into_vec();
            related.extend(on);
            extra.related = related.into_boxed_slice();
        }
    }
}

/// Raises by one level every finding on a workload the internet gets into that runs an image
/// with a vulnerability that lets an attacker in ([`palisade_analysis::attack::exposed_vulnerable`]):
/// there the attacker is already inside, and each misconfiguration is their next step.
/// Informational findings, the path rule's own and suppressed ones are left as they are; the
/// finding says why it was raised, from what.
pub fn raise_exposed_vulnerable(
    findings: &mut [Finding],
    exposed: &[palisade_analysis::attack::ExposedVulnerable],
) {
    if exposed.is_empty() {
        return;
    }
    for finding in findings
        .iter_mut()
        .filter(|f| f.rule.code != PATH_RULE && f.suppressed().is_none())
    {
        let Some(workload) = exposed.iter().find(|e| e.workload == finding.object) else {
            continue;
        };
        let raised = match finding.severity {
            Severity::Low => Severity::Medium,
            Severity::Medium => Severity::High,
            Severity::High => Severity::Critical,
            Severity::Info | Severity::Critical => continue,
        };
        let note = Related {
            object: workload.at.object.clone(),
            path: workload.at.path.clone(),
            location: workload.at.location.clone(),
            message: format!(
                "raised from {} to {}: {}",
                finding.severity.as_str(),
                raised.as_str(),
                workload.reason
            ),
        };
        finding.severity = raised;
        let extra = finding.extra_mut();
        let mut related = std::mem::take(&mut extra.related).into_vec();
        related.push(note);
        extra.related = related.into_boxed_slice();
    }
}

#[cfg(test)]
mod tests {
    use super::within;

    #[test]
    fn fields_below_a_hop_are_on_it_and_lookalikes_are_not() {
        assert!(within(
            "/spec/template/spec/containers/0/image",
            "/spec/template/spec"
        ));
        assert!(within("/spec/type", "/spec/type"));
        assert!(within("/spec", ""));
        assert!(!within("/spec/templates", "/spec/template"));
        assert!(!within("/spec", "/spec/type"));
    }
}
