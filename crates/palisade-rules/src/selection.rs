use crate::{Rule, RuleMeta};

/// Which rules run: `--select` (default: all) minus `--ignore`. A token names a rule by code
/// (`PAL-PSS-002`) or code prefix (`PAL-PSS`), by name or name prefix (`netpol`), by category,
/// or by framework tag or tag prefix (`pss`, `PSS:baseline`, `cis`, `CIS-5.2`); case does not
/// matter.
#[derive(Clone, Debug, Default)]
pub struct Selection {
    pub select: Vec<String>,
    pub ignore: Vec<String>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SelectionError {
    #[error(
        "`{0}` matches no rule{hint} (use a rule code, code prefix, name, category or framework \
         tag such as pss, PSS:baseline or cis; `palisade rules` lists them)",
        hint = did_you_mean_hint(.1)
    )]
    NoMatch(String, Option<&'static str>),
}

fn did_you_mean_hint(suggestion: &Option<&'static str>) -> String {
    suggestion.map_or(String::new(), |s| format!(": did you mean `{s}`?"))
}

pub use palisade_model::suggest::did_you_mean;

/// `prefix` matches `text` whole or up to a separator, ignoring case.
fn prefix_matches(text: &str, prefix: &str) -> bool {
    let text = text.to_ascii_lowercase();
    let prefix = prefix.to_ascii_lowercase();
    text == prefix
        || text
            .strip_prefix(&prefix)
            .is_some_and(|rest| rest.starts_with([':', '-', '.']))
}

/// Whether `token` names this rule.
pub fn matches(meta: &RuleMeta, token: &str) -> bool {
    prefix_matches(meta.info.code, token)
        || prefix_matches(meta.info.name, token)
        || meta.info.category.eq_ignore_ascii_case(token)
        || meta.info.controls.iter().any(|c| prefix_matches(c, token))
}

impl Selection {
    /// The selected rules, in registry order; a token that matches nothing is an error, so a
    /// typo cannot silently turn checks off.
    pub fn resolve(&self, rules: &[&'static Rule]) -> Result<Vec<&'static Rule>, SelectionError> {
        for token in self.select.iter().chain(&self.ignore) {
            if !rules.iter().any(|r| matches(&r.meta, token)) {
                let names = rules
                    .iter()
                    .flat_map(|r| [r.meta.info.code, r.meta.info.name, r.meta.info.category]);
                return Err(SelectionError::NoMatch(
                    token.clone(),
                    did_you_mean(token, names),
                ));
            }
        }
        Ok(rules
            .iter()
            .copied()
            .filter(|r| self.select.is_empty() || self.select.iter().any(|t| matches(&r.meta, t)))
            .filter(|r| !self.ignore.iter().any(|t| matches(&r.meta, t)))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::RULES;

    fn codes(select: &[&str], ignore: &[&str]) -> Result<Vec<&'static str>, SelectionError> {
        let selection = Selection {
            select: select.iter().map(|s| s.to_string()).collect(),
            ignore: ignore.iter().map(|s| s.to_string()).collect(),
        };
        Ok(selection
            .resolve(RULES)?
            .iter()
            .map(|r| r.meta.info.code)
            .collect())
    }

    #[test]
    fn selects_by_code_name_category_and_framework_tag() {
        assert_eq!(codes(&["PAL-PSS-002"], &[]), Ok(vec!["PAL-PSS-002"]));
        assert_eq!(codes(&["pss-privileged"], &[]), Ok(vec!["PAL-PSS-002"]));
        let pss_rules = RULES
            .iter()
            .filter(|r| r.meta.info.code.starts_with("PAL-PSS-"))
            .count();
        assert_eq!(pss_rules, 19);
        assert_eq!(
            codes(&["pod-security"], &[]).map(|c| c.len()),
            Ok(pss_rules)
        );
        let rbac_rules = RULES
            .iter()
            .filter(|r| r.meta.info.code.starts_with("PAL-RBAC-"))
            .count();
        assert_eq!(codes(&["rbac"], &[]).map(|c| c.len()), Ok(rbac_rules));
        assert_eq!(codes(&["cis-5.2.2"], &[]), Ok(vec!["PAL-PSS-002"]));
        let baseline = codes(&["PSS:baseline"], &[]).expect("matches");
        assert!(baseline.contains(&"PAL-PSS-001") && !baseline.contains(&"PAL-PSS-015"));
        assert_eq!(codes(&["pss"], &[]).map(|c| c.len()), Ok(pss_rules));
    }

    #[test]
    fn a_typo_gets_a_suggestion() {
        assert_eq!(
            codes(&["pss-privilegd"], &[]),
            Err(SelectionError::NoMatch(
                "pss-privilegd".into(),
                Some("pss-privileged")
            ))
        );
        assert_eq!(
            codes(&["PAL-PSS-0002"], &[]),
            Err(SelectionError::NoMatch(
                "PAL-PSS-0002".into(),
                Some("PAL-PSS-002")
            ))
        );
        let far = codes(&["nonsense"], &[]);
        assert_eq!(far, Err(SelectionError::NoMatch("nonsense".into(), None)));
        assert!(SelectionError::NoMatch("x".into(), Some("y"))
            .to_string()
            .contains("did you mean `y`?"));
    }

    #[test]
    fn name_prefixes_select_families() {
        let netpol = codes(&["netpol"], &[]).expect("matches");
        assert_eq!(netpol.len(), 10);
        assert!(netpol.iter().all(|c| c.starts_with("PAL-NET-")));
        assert_eq!(codes(&["netpol-dangling"], &[]), Ok(vec!["PAL-NET-004"]));
        assert!(
            codes(&["netp"], &[]).is_err(),
            "prefixes stop at a separator"
        );
    }

    #[test]
    fn ignore_wins_and_prefixes_stop_at_separators() {
        let rest = codes(&["PAL-PSS"], &["pss-privileged"]).expect("matches");
        assert!(!rest.contains(&"PAL-PSS-002") && rest.contains(&"PAL-PSS-001"));
        assert!(matches!(
            codes(&["PAL-PSS-00"], &[]),
            Err(SelectionError::NoMatch(token, _)) if token == "PAL-PSS-00"
        ));
        assert!(codes(&[], &["no-such-rule"]).is_err());
    }
}
