//! `--format text`: for people. Each finding with its place, a code frame and its tags, then
//! the load errors, then a one-line summary. Colour only when asked (the CLI asks on a TTY).

use std::fmt::Write;

use anstyle::{AnsiColor, Style};
use palisade_model::{Finding, Severity};

use crate::Report;

#[derive(Clone, Copy, Debug, Default)]
pub struct TextOptions {
    pub color: bool,
    /// Group findings under their CIS Kubernetes Benchmark section headings.
    pub group_by_cis: bool,
}

/// CIS Kubernetes Benchmark (v1.9) sections, for grouped reports.
const CIS_SECTIONS: &[(&str, &str)] = &[
    ("1.1", "Control Plane Node Configuration Files"),
    ("1.2", "API Server"),
    ("1.3", "Controller Manager"),
    ("1.4", "Scheduler"),
    ("2", "etcd"),
    ("3.1", "Authentication and Authorization"),
    ("3.2", "Logging"),
    ("4.1", "Worker Node Configuration Files"),
    ("4.2", "Kubelet"),
    ("5.1", "RBAC and Service Accounts"),
    ("5.2", "Pod Security Standards"),
    ("5.3", "Network Policies and CNI"),
    ("5.4", "Secrets Management"),
    ("5.5", "Extensible Admission Control"),
    ("5.7", "General Policies"),
];

/// The CIS check a finding is about: the one its message names (`CIS 1.2.1: ...`), else the
/// rule's first CIS control.
fn cis_check(finding: &Finding) -> Option<String> {
    let from_message = finding.message.strip_prefix("CIS ").and_then(|rest| {
        let id = rest.split(':').next()?;
        // Checks of older benchmark versions are written `v1.6 1.2.19`.
        Some(id.rsplit(' ').next().unwrap_or(id).to_string())
    });
    from_message.or_else(|| {
        finding
            .rule
            .controls
            .iter()
            .find_map(|c| c.strip_prefix("CIS-").map(str::to_string))
    })
}

/// The section a check belongs to: `1.2` for `1.2.16`, `2` for `2.3`.
fn cis_section(check: &str) -> &'static str {
    CIS_SECTIONS
        .iter()
        .filter(|(section, _)| {
            check == *section
                || check
                    .strip_prefix(section)
                    .is_some_and(|rest| rest.starts_with('.'))
        })
        .max_by_key(|(section, _)| section.len())
        .map_or("", |(section, _)| section)
}

/// Findings grouped by CIS section (in benchmark order), then those without a CIS check.
fn write_grouped(out: &mut String, findings: &[&Finding], painter: &Painter) {
    let mut groups: Vec<(&str, Vec<&Finding>)> = Vec::new();
    for finding in findings {
        let section = cis_check(finding).map_or("", |c| cis_section(&c));
        match groups.iter_mut().find(|(s, _)| *s == section) {
            Some((_, list)) => list.push(finding),
            None => groups.push((section, vec![finding])),
        }
    }
    let rank = |section: &str| {
        CIS_SECTIONS
            .iter()
            .position(|(s, _)| *s == section)
            .unwrap_or(usize::MAX)
    };
    groups.sort_by_key(|(section, _)| rank(section));
    for (section, list) in groups {
        let title = CIS_SECTIONS
            .iter()
            .find(|(s, _)| *s == section)
            .map_or("Not in the CIS Benchmark".to_string(), |(s, t)| {
                format!("CIS {s} {t}")
            });
        let heading = format!("{title} ({})", plural(list.len(), "finding", "findings"));
        let _ = writeln!(
            out,
            "{}\n",
            painter.paint(Style::new().bold().underline(), &heading)
        );
        for finding in list {
            write_finding(out, finding, painter);
        }
    }
}

struct Painter<'a> {
    color: bool,
    /// The context of a live scan: its findings name it instead of a file.
    cluster: Option<&'a str>,
}

impl Painter<'_> {
    fn paint(&self, style: Style, text: &str) -> String {
        if self.color {
            format!("{}{text}{}", style.render(), style.render_reset())
        } else {
            text.to_string()
        }
    }

    fn severity(&self, severity: Severity) -> String {
        let color = match severity {
            Severity::Critical => AnsiColor::Magenta,
            Severity::High => AnsiColor::Red,
            Severity::Medium => AnsiColor::Yellow,
            Severity::Low => AnsiColor::Blue,
            Severity::Info => AnsiColor::Cyan,
        };
        self.paint(
            Style::new().bold().fg_color(Some(color.into())),
            severity.as_str(),
        )
    }
}

/// The key or token at `column` (1-based), for the underline.
fn token_width(line: &str, column: u32) -> usize {
    let start = usize::try_from(column.saturating_sub(1)).unwrap_or(0);
    let width = line
        .chars()
        .skip(start)
        .take_while(|c| *c != ':' && !c.is_whitespace())
        .count();
    width.max(1)
}

/// Text from the input (messages quote names and values; files and lines are the input's) with
/// control characters escaped: a manifest must not drive the reader's terminal.
fn shown(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\t' => out.push(' '),
            c if c.is_control() => out.extend(c.escape_default()),
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

fn write_finding(out: &mut String, finding: &Finding, painter: &Painter) {
    let bold = Style::new().bold();
    let dim = Style::new().dimmed();
    let place = match &finding.location {
        Some(loc) => format!("{}:{}:{}: ", shown(&loc.file), loc.line, loc.column),
        None => String::new(),
    };
    let _ = writeln!(
        out,
        "{}{} [{}] {}",
        painter.paint(bold, &place),
        painter.paint(bold, finding.rule.code),
        painter.severity(finding.severity),
        shown(&finding.message)
    );
    if let (Some(loc), Some(line)) = (&finding.location, &finding.snippet) {
        let number = loc.line.to_string();
        let gutter = " ".repeat(number.len());
        let pad = " ".repeat(usize::try_from(loc.column.saturating_sub(1)).unwrap_or(0));
        let carets = "^".repeat(token_width(line, loc.column));
        let _ = writeln!(out, "{gutter} {}", painter.paint(dim, "|"));
        let line = shown(line);
        let _ = writeln!(out, "{} {line}", painter.paint(dim, &format!("{number} |")));
        let _ = writeln!(
            out,
            "{gutter} {} {pad}{} {}",
            painter.paint(dim, "|"),
            painter.paint(
                Style::new().bold().fg_color(Some(AnsiColor::Red.into())),
                &carets
            ),
            finding.rule.name
        );
    }
    match painter.cluster.filter(|_| finding.location.is_none()) {
        Some(context) => {
            let name = finding.object.display_name();
            let _ = writeln!(out, "  = object: {} (cluster {context})", shown(&name));
        }
        None => {
            let name = finding.object.display_name();
            let _ = writeln!(out, "  = object: {}", shown(&name));
        }
    }
    // The root path is the whole object (an audit event, a node file): nothing to add.
    if !finding.path.as_str().is_empty() {
        let _ = writeln!(out, "  = path: {}", shown(finding.path.as_str()));
    }
    for related in finding.related() {
        let place = related.location.as_ref().map_or(String::new(), |l| {
            format!(" ({}:{}:{})", shown(&l.file), l.line, l.column)
        });
        let _ = writeln!(out, "  = related: {}{place}", shown(&related.message));
    }
    for restated in finding.also() {
        let _ = writeln!(out, "  = also: {}", shown(&crate::restated_line(restated)));
    }
    if !finding.rule.controls.is_empty() {
        let _ = writeln!(out, "  = controls: {}", finding.rule.controls.join(", "));
    }
    out.push('\n');
}

/// Suppressed findings: one line each, with who suppressed them and why.
fn write_suppressed(out: &mut String, finding: &Finding, painter: &Painter) {
    let Some(suppression) = finding.suppressed() else {
        return;
    };
    let place = finding.location.as_ref().map_or(String::new(), |l| {
        format!("{}:{}:{}: ", shown(&l.file), l.line, l.column)
    });
    let expiry = suppression
        .expires
        .as_ref()
        .map_or(String::new(), |e| format!(", until {e}"));
    let _ = writeln!(
        out,
        "{place}{} {} {}",
        finding.rule.code,
        painter.paint(
            Style::new().dimmed(),
            &format!("[suppressed by {}{expiry}]", suppression.kind)
        ),
        shown(&finding.message)
    );
    let _ = writeln!(out, "  = reason: {}", shown(&suppression.reason));
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Renders the report for a terminal.
pub fn render_text(report: &Report, options: TextOptions) -> String {
    let mut out = Vec::new();
    // Writing to memory cannot fail.
    let _ = write_text(report, options, &mut out);
    String::from_utf8_lossy(&out).into_owned()
}

/// Writes the report for a terminal, a finding at a time: the text of a large report is never
/// held whole.
pub fn write_text(
    report: &Report,
    options: TextOptions,
    sink: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    let painter = Painter {
        color: options.color,
        cluster: report.cluster.as_ref().map(|c| c.context.as_str()),
    };
    let mut out = String::new();
    let mut flush = |out: &mut String| {
        let written = sink.write_all(out.as_bytes());
        out.clear();
        written
    };
    let active: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| f.suppressed().is_none())
        .collect();
    if options.group_by_cis {
        write_grouped(&mut out, &active, &painter);
    } else {
        for finding in active {
            write_finding(&mut out, finding, &painter);
            flush(&mut out)?;
        }
    }
    if report.summary.suppressed > 0 {
        let _ = writeln!(out, "{}", painter.paint(Style::new().bold(), "Suppressed:"));
        for finding in &report.findings {
            write_suppressed(&mut out, finding, &painter);
            flush(&mut out)?;
        }
        out.push('\n');
    }
    let error_style = Style::new().bold().fg_color(Some(AnsiColor::Red.into()));
    for error in &report.errors {
        let _ = writeln!(out, "{}: {error}", painter.paint(error_style, "error"));
    }
    if !report.errors.is_empty() {
        out.push('\n');
    }
    let warning_style = Style::new().bold().fg_color(Some(AnsiColor::Yellow.into()));
    for warning in &report.warnings {
        let _ = writeln!(
            out,
            "{}: {warning}",
            painter.paint(warning_style, "warning")
        );
    }
    if !report.warnings.is_empty() {
        out.push('\n');
    }
    for absent in &report.absent {
        let _ = writeln!(
            out,
            "{}: {absent}",
            painter.paint(Style::new().dimmed(), "not present")
        );
    }
    if !report.absent.is_empty() {
        out.push('\n');
    }
    let line = summary_sentence(report, &painter);
    let _ = writeln!(out, "{}.", painter.paint(Style::new().bold(), &line));
    flush(&mut out)
}

/// The report's one-line summary ("Found 3 findings (1 critical, 2 medium) in 12 objects from
/// 4 files; 1 error"), without colours and the final full stop.
pub fn summary_line(report: &Report) -> String {
    let painter = Painter {
        color: false,
        cluster: None,
    };
    summary_sentence(report, &painter)
}

fn summary_sentence(report: &Report, painter: &Painter) -> String {
    let summary = &report.summary;
    let counts = &summary.findings;
    let scope = match &report.cluster {
        Some(cluster) => format!(
            "{} in cluster {} ({}, {})",
            plural(summary.objects, "object", "objects"),
            cluster.context,
            cluster.server,
            cluster.version
        ),
        None => format!(
            "{} from {}",
            plural(summary.objects, "object", "objects"),
            plural(summary.files, "file", "files")
        ),
    };
    let mut line = if counts.total() == 0 {
        format!("No findings in {scope}")
    } else {
        let by_severity: Vec<String> = Severity::ALL
            .iter()
            .filter(|&&s| counts.get(s) > 0)
            .map(|&s| format!("{} {}", counts.get(s), painter.severity(s)))
            .collect();
        format!(
            "Found {} ({}) in {scope}",
            plural(counts.total(), "finding", "findings"),
            by_severity.join(", ")
        )
    };
    if summary.skipped > 0 {
        let what = if summary.skipped == 1 {
            "1 document skipped (not a Kubernetes object)".to_string()
        } else {
            format!(
                "{} documents skipped (not Kubernetes objects)",
                summary.skipped
            )
        };
        let _ = write!(line, "; {what}");
    }
    if summary.suppressed > 0 {
        let _ = write!(line, "; {} suppressed", summary.suppressed);
    }
    if summary.baseline > 0 {
        let _ = write!(line, "; {} in the baseline not shown", summary.baseline);
    }
    if summary.errors > 0 {
        let _ = write!(line, "; {}", plural(summary.errors, "error", "errors"));
    }
    if summary.warnings > 0 {
        let _ = write!(
            line,
            "; {}",
            plural(summary.warnings, "warning", "warnings")
        );
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample;

    #[test]
    fn text_report_shows_places_frames_errors_and_summary() {
        insta::assert_snapshot!(render_text(
            &sample::report(),
            TextOptions {
                color: false,
                group_by_cis: false,
            }
        ));
    }

    #[test]
    fn text_from_the_input_cannot_drive_the_terminal() {
        let mut report = sample::report();
        report.findings[0].message = "image `x\u{1b}]0;owned\u{7}` \nFAKE: all clear".into();
        let text = render_text(
            &report,
            TextOptions {
                color: false,
                group_by_cis: false,
            },
        );
        assert!(
            !text.contains('\u{1b}') && !text.contains('\u{7}'),
            "{text}"
        );
        assert!(text.contains("x\\u{1b}]0;owned\\u{7}` \\nFAKE"), "{text}");
        assert!(!text.lines().any(|l| l.starts_with("FAKE")));
    }

    /// Records each write, to see what was handed over when.
    struct Writes(Vec<String>);

    impl std::io::Write for Writes {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.push(String::from_utf8_lossy(bytes).into_owned());
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn findings_are_written_one_at_a_time_and_add_up_to_the_rendered_text() {
        let options = TextOptions {
            color: false,
            group_by_cis: false,
        };
        let report = sample::report();
        let mut writes = Writes(Vec::new());
        write_text(&report, options, &mut writes).expect("writes to memory");
        let first = &report.findings[0];
        assert!(writes.0[0].contains(&*first.message));
        assert!(!writes.0[0].contains(&*report.findings[1].message));
        assert!(writes.0.len() > report.findings.len());
        assert_eq!(writes.0.concat(), render_text(&report, options));
    }

    #[test]
    fn live_findings_name_the_cluster_instead_of_a_file() {
        insta::assert_snapshot!(render_text(
            &sample::live_report(),
            TextOptions {
                color: false,
                group_by_cis: false,
            }
        ));
    }

    #[test]
    fn colour_codes_only_when_asked() {
        let plain = render_text(
            &sample::report(),
            TextOptions {
                color: false,
                group_by_cis: false,
            },
        );
        let coloured = render_text(
            &sample::report(),
            TextOptions {
                color: true,
                group_by_cis: false,
            },
        );
        assert!(!plain.contains('\u{1b}'));
        assert!(coloured.contains('\u{1b}'));
    }

    #[test]
    fn findings_group_under_their_cis_sections() {
        let text = render_text(
            &sample::report(),
            TextOptions {
                color: false,
                group_by_cis: true,
            },
        );
        // Benchmark order: the RBAC finding (CIS-5.1.2), the privileged pod (CIS-5.2.2), then
        // the finding whose rule has no CIS control.
        let rbac = text
            .find("CIS 5.1 RBAC and Service Accounts (1 finding)")
            .expect("5.1");
        let pss = text
            .find("CIS 5.2 Pod Security Standards (1 finding)")
            .expect("5.2");
        let other = text
            .find("Not in the CIS Benchmark (2 findings)")
            .expect("other");
        assert!(rbac < pss && pss < other, "{text}");
        assert_eq!(cis_section("1.2.16"), "1.2");
        assert_eq!(cis_section("2.3"), "2");
        assert_eq!(cis_section("1.2"), "1.2");
        assert_eq!(cis_section("9.9"), "");
    }

    #[test]
    fn underline_covers_the_key() {
        assert_eq!(token_width("            privileged: true", 13), 10);
        assert_eq!(token_width("- name: x", 50), 1);
    }
}
