//! `--format junit`: JUnit XML for CI systems that show test results (GitLab, Jenkins, Azure).
//!
//! One test suite per rule that ran; each finding is a failing test case named after the
//! object and field, a suppressed finding a skipped one, and a rule without findings one
//! passing case, so the suite shows what was checked. Load errors form their own suite.

use std::fmt::Write as _;

use crate::Report;
use palisade_model::Finding;

/// Escapes text for XML attributes and content; drops characters XML 1.0 cannot carry.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

fn place(finding: &Finding) -> String {
    finding.location.as_ref().map_or(String::new(), |l| {
        format!("{}:{}:{}", l.file, l.line, l.column)
    })
}

fn test_case(out: &mut String, finding: &Finding) {
    let name = format!("{} {}", finding.object.display_name(), finding.path);
    let name = name.trim_end();
    let file = finding.location.as_ref().map_or("", |l| &l.file);
    let line = finding.location.as_ref().map_or(0, |l| l.line);
    let _ = writeln!(
        out,
        "    <testcase name=\"{}\" classname=\"{}\" file=\"{}\" line=\"{line}\">",
        escape(name),
        escape(finding.rule.code),
        escape(file),
    );
    match finding.suppressed() {
        Some(suppression) => {
            let _ = writeln!(
                out,
                "      <skipped message=\"suppressed by {}: {}\"/>",
                suppression.kind,
                escape(&suppression.reason)
            );
        }
        None => {
            let _ = writeln!(
                out,
                "      <failure message=\"{}\" type=\"{}\">{}: {} [{}]\n{}\ncontrols: {}{}</failure>",
                escape(&finding.message),
                finding.severity,
                escape(&place(finding)),
                escape(&finding.message),
                finding.severity,
                escape(name),
                escape(&finding.rule.controls.join(", ")),
                finding
                    .also()
                    .iter()
                    .map(|a| format!("\nalso: {}", escape(&crate::restated_line(a))))
                    .collect::<String>(),
            );
        }
    }
    out.push_str("    </testcase>\n");
}

/// Writes the report as JUnit XML.
pub fn write_junit(report: &Report, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let mut suites = String::new();
    let (mut tests, mut failures, mut skipped) = (0, 0, 0);
    let mut codes: Vec<&str> = report.rules.iter().map(|r| r.code).collect();
    for finding in &report.findings {
        if !codes.contains(&finding.rule.code) {
            codes.push(finding.rule.code);
        }
    }
    for code in codes {
        let findings: Vec<&Finding> = report
            .findings
            .iter()
            .filter(|f| f.rule.code == code)
            .collect();
        let name = report
            .rules
            .iter()
            .find(|r| r.code == code)
            .map_or(code.to_string(), |r| format!("{} {}", r.code, r.name));
        let suite_skipped = findings.iter().filter(|f| f.suppressed().is_some()).count();
        let suite_failures = findings.len() - suite_skipped;
        let suite_tests = findings.len().max(1);
        tests += suite_tests;
        failures += suite_failures;
        skipped += suite_skipped;
        let _ = writeln!(
            suites,
            "  <testsuite name=\"{}\" tests=\"{suite_tests}\" failures=\"{suite_failures}\" errors=\"0\" skipped=\"{suite_skipped}\">",
            escape(&name)
        );
        if findings.is_empty() {
            let _ = writeln!(
                suites,
                "    <testcase name=\"no findings\" classname=\"{}\"/>",
                escape(code)
            );
        }
        for finding in findings {
            test_case(&mut suites, finding);
        }
        suites.push_str("  </testsuite>\n");
    }
    if !report.errors.is_empty() {
        let count = report.errors.len();
        tests += count;
        let _ = writeln!(
            suites,
            "  <testsuite name=\"load errors\" tests=\"{count}\" failures=\"0\" errors=\"{count}\" skipped=\"0\">"
        );
        for error in &report.errors {
            let _ = writeln!(
                suites,
                "    <testcase name=\"{}\" classname=\"load\" file=\"{}\">\n      <error message=\"{}\"/>\n    </testcase>",
                escape(&error.file),
                escape(&error.file),
                escape(&error.to_string()),
            );
        }
        suites.push_str("  </testsuite>\n");
    }
    let _ = writeln!(
        xml,
        "<testsuites name=\"palisade\" tests=\"{tests}\" failures=\"{failures}\" errors=\"{}\" skipped=\"{skipped}\">",
        report.errors.len()
    );
    xml.push_str(&suites);
    xml.push_str("</testsuites>\n");
    out.write_all(xml.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample;

    fn render(report: &Report) -> String {
        let mut out = Vec::new();
        write_junit(report, &mut out).expect("in memory");
        String::from_utf8(out).expect("utf-8")
    }

    #[test]
    fn junit_report_matches_snapshot() {
        insta::assert_snapshot!(render(&sample::report()));
    }

    #[test]
    fn markup_and_control_characters_cannot_break_the_xml() {
        assert_eq!(
            escape("a<b>&\"c'\u{1b}[31m"),
            "a&lt;b&gt;&amp;&quot;c&apos;[31m"
        );
    }
}
