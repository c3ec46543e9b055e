//! `--format markdown`: a summary and a findings table for pull-request comments.
//!
//! Stays within what GitHub and GitLab render, and under a comment's size limit: after
//! [`MAX_ROWS`] findings the rest are counted, not listed.

use std::fmt::Write as _;

use crate::Report;
use palisade_model::{Finding, Severity};

/// Findings listed before the table is cut (a GitHub comment holds 65,536 characters).
pub const MAX_ROWS: usize = 200;

/// Makes text safe inside a table cell: no pipes, newlines or HTML.
fn cell(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace(['\n', '\r'], " ")
}

/// Inline code that survives backticks in the text.
fn code(text: &str) -> String {
    let text = cell(text);
    if text.contains('`') {
        format!("`` {text} ``")
    } else {
        format!("`{text}`")
    }
}

fn row(out: &mut String, finding: &Finding) {
    let mut message = finding.message.to_string();
    if !finding.also().is_empty() {
        let codes: Vec<&str> = finding.also().iter().map(|a| a.rule).collect();
        message.push_str(&format!(" (also: {})", codes.join(", ")));
    }
    let place = finding.location.as_ref().map_or(String::new(), |l| {
        code(&format!("{}:{}:{}", l.file, l.line, l.column))
    });
    let severity = match finding.severity {
        Severity::Critical | Severity::High => format!("**{}**", finding.severity),
        other => other.to_string(),
    };
    let _ = writeln!(
        out,
        "| {severity} | {} {} | {} | {place} | {} |",
        code(finding.rule.code),
        cell(finding.rule.name),
        cell(&finding.object.display_name()),
        cell(&message),
    );
}

fn table(out: &mut String, findings: &[&Finding]) {
    out.push_str("| Severity | Rule | Object | Location | Message |\n|---|---|---|---|---|\n");
    for finding in findings.iter().take(MAX_ROWS) {
        row(out, finding);
    }
    if findings.len() > MAX_ROWS {
        let _ = writeln!(
            out,
            "\n…and {} more; see the full report (`--format json` or `--format html`).",
            findings.len() - MAX_ROWS
        );
    }
}

/// Writes the report as Markdown.
pub fn write_markdown(report: &Report, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    let mut md = String::new();
    let summary = &report.summary;
    let counts = &summary.findings;
    let total = counts.total();
    let headline = if total == 0 {
        "no findings".to_string()
    } else {
        let parts: Vec<String> = Severity::ALL
            .iter()
            .filter(|&&s| counts.get(s) > 0)
            .map(|&s| format!("{} {s}", counts.get(s)))
            .collect();
        format!(
            "{total} finding{} ({})",
            if total == 1 { "" } else { "s" },
            parts.join(", ")
        )
    };
    let _ = writeln!(md, "### Palisade: {headline}\n");
    let count =
        |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let mut facts = vec![
        format!(
            "{} in {}",
            count(summary.objects, "object", "objects"),
            count(summary.files, "file", "files")
        ),
        format!("{} suppressed", summary.suppressed),
    ];
    if summary.baseline > 0 {
        facts.push(format!("{} in the baseline", summary.baseline));
    }
    if summary.errors > 0 {
        facts.push(format!(
            "**{}**",
            count(summary.errors, "load error", "load errors")
        ));
    }
    let _ = writeln!(md, "{}\n", facts.join(" · "));
    let open: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| f.suppressed().is_none())
        .collect();
    if !open.is_empty() {
        table(&mut md, &open);
        md.push('\n');
    }
    let suppressed: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| f.suppressed().is_some())
        .collect();
    if !suppressed.is_empty() {
        let _ = writeln!(
            md,
            "<details><summary>{} suppressed</summary>\n\n| Rule | Object | Location | By | Reason |\n|---|---|---|---|---|",
            suppressed.len()
        );
        for finding in suppressed.iter().take(MAX_ROWS) {
            let Some(suppression) = finding.suppressed() else {
                continue;
            };
            let place = finding
                .location
                .as_ref()
                .map_or(String::new(), |l| code(&format!("{}:{}", l.file, l.line)));
            let expiry = suppression
                .expires
                .as_ref()
                .map_or(String::new(), |e| format!(" (until {e})"));
            let _ = writeln!(
                md,
                "| {} | {} | {place} | {} | {}{expiry} |",
                code(finding.rule.code),
                cell(&finding.object.display_name()),
                suppression.kind,
                cell(&suppression.reason),
            );
        }
        md.push_str("\n</details>\n\n");
    }
    if !report.errors.is_empty() {
        md.push_str("#### Load errors\n\n");
        for error in &report.errors {
            let _ = writeln!(md, "- {}", cell(&error.to_string()));
        }
        md.push('\n');
    }
    out.write_all(md.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample;

    fn render(report: &Report) -> String {
        let mut out = Vec::new();
        write_markdown(report, &mut out).expect("in memory");
        String::from_utf8(out).expect("utf-8")
    }

    #[test]
    fn markdown_report_matches_snapshot() {
        insta::assert_snapshot!(render(&sample::report()));
    }

    #[test]
    fn cells_cannot_break_the_table() {
        assert_eq!(cell("a|b\nc<script>"), "a\\|b c&lt;script&gt;");
        assert_eq!(code("x`y"), "`` x`y ``");
    }

    #[test]
    fn long_reports_are_cut_with_a_count() {
        let mut report = sample::report();
        let first = report.findings[0].clone();
        report.findings = vec![first; MAX_ROWS + 5];
        let text = render(&report);
        assert!(text.contains("…and 5 more"));
        assert_eq!(text.matches("| **critical** |").count(), MAX_ROWS);
    }
}
