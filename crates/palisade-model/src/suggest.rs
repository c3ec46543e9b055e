//! "Did you mean": the closest known word to a mistyped one (a rule name, a verb, a kind).

/// Edits (insertions, deletions, substitutions) between `a` and `b`, ignoring case.
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.to_lowercase().chars().collect();
    let b: Vec<char> = b.to_lowercase().chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != cb);
            current.push(substitution.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

/// The candidate closest to a mistyped `word`, when one is close enough to be what was meant
/// (a third of its letters wrong at most).
pub fn did_you_mean<'c>(
    word: &str,
    candidates: impl IntoIterator<Item = &'c str>,
) -> Option<&'c str> {
    let limit = (word.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .map(|c| (distance(word, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_words_are_suggested_and_far_ones_are_not() {
        let kinds = ["Deployment", "DaemonSet", "StatefulSet", "ReplicaSet"];
        assert_eq!(did_you_mean("Deploymnet", kinds), Some("Deployment"));
        assert_eq!(did_you_mean("deployment", kinds), Some("Deployment"));
        assert_eq!(did_you_mean("Daemonset", kinds), Some("DaemonSet"));
        assert_eq!(did_you_mean("CronJob", kinds), None);
    }
}
