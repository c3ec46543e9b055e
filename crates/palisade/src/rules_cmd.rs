//! `palisade rules` and `palisade explain`.

use std::io::Write;

use anyhow::{bail, Result};
use palisade_rules::registry::RULES;
use palisade_rules::{Rule, Selection};
use serde::Serialize;

use crate::cli::{ExplainArgs, RulesArgs, RulesFormat};
use crate::split_list;

#[derive(Serialize)]
struct RuleJson {
    code: &'static str,
    name: &'static str,
    severity: &'static str,
    category: &'static str,
    target: &'static str,
    controls: &'static [&'static str],
    summary: String,
    docs: String,
}

/// Every built-in rule and the custom rules of the config (`config`, else the nearest one).
pub fn all_rules(config: Option<&std::path::Path>) -> Result<Vec<&'static Rule>> {
    let file = match config {
        Some(file) => Some(file.to_path_buf()),
        None => palisade_engine::config::discover(std::path::Path::new(".")),
    };
    let custom = match file {
        Some(file) => palisade_engine::config::load(&file)?.custom_rules,
        None => Vec::new(),
    };
    Ok(RULES.iter().copied().chain(custom).collect())
}

pub fn list(args: &RulesArgs) -> Result<()> {
    let selection = Selection {
        select: split_list(&args.select),
        ignore: Vec::new(),
    };
    let all = all_rules(args.config.as_deref())?;
    let rules = selection.resolve(&all)?;
    let out = match args.format {
        RulesFormat::Table => table(&rules),
        RulesFormat::Json => {
            let items: Vec<RuleJson> = rules.iter().map(|r| to_json(r)).collect();
            let mut s = serde_json::to_string_pretty(&items)?;
            s.push('\n');
            s
        }
        RulesFormat::Markdown => palisade_rules::docs::markdown_reference(&rules),
    };
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(out.as_bytes())?;
    Ok(())
}

fn to_json(rule: &Rule) -> RuleJson {
    RuleJson {
        code: rule.meta.info.code,
        name: rule.meta.info.name,
        severity: rule.meta.severity.as_str(),
        category: rule.meta.info.category,
        target: rule.check.target(),
        controls: rule.meta.info.controls,
        summary: rule.meta.summary(),
        docs: rule.meta.docs(),
    }
}

fn table(rules: &[&Rule]) -> String {
    let width = |f: fn(&Rule) -> usize| rules.iter().map(|r| f(r)).max().unwrap_or(0);
    let name_w = width(|r| r.meta.info.name.len()).max(4);
    let cat_w = width(|r| r.meta.info.category.len()).max(8);
    let mut out = format!(
        "{:<12} {:<name_w$} {:<9} {:<cat_w$} CONTROLS\n",
        "CODE", "NAME", "SEVERITY", "CATEGORY"
    );
    for rule in rules {
        out.push_str(&format!(
            "{:<12} {:<name_w$} {:<9} {:<cat_w$} {}\n",
            rule.meta.info.code,
            rule.meta.info.name,
            rule.meta.severity.as_str(),
            rule.meta.info.category,
            rule.meta.info.controls.join(", ")
        ));
    }
    out
}

pub fn explain(args: &ExplainArgs) -> Result<u8> {
    let all = all_rules(args.config.as_deref())?;
    let Some(rule) = palisade_rules::registry::named(&all, &args.rule) else {
        let names = all
            .iter()
            .flat_map(|r| [r.meta.info.code, r.meta.info.name]);
        let hint = palisade_rules::did_you_mean(&args.rule, names)
            .map_or(String::new(), |s| format!(": did you mean `{s}`?"));
        bail!(
            "no rule is called `{}`{hint} (`palisade rules` lists codes and names)",
            args.rule
        );
    };
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(palisade_rules::docs::explain_text(rule).as_bytes())?;
    Ok(0)
}
