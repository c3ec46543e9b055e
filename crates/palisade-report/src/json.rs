//! `--format json`: the versioned contract documented in the README (schema_version 1).

use serde::Serialize;

use crate::{ClusterInfo, Report, Summary};
use palisade_model::{Finding, LoadError};

#[derive(Serialize)]
struct Tool {
    name: &'static str,
    version: &'static str,
}

/// The document's fields, in the order they are written (see [`write_json`]).
struct JsonReport<'a> {
    schema_version: u32,
    tool: Tool,
    cluster: Option<&'a ClusterInfo>,
    findings: Findings<'a>,
    errors: &'a [LoadError],
    warnings: &'a [LoadError],
    absent: &'a [String],
    summary: &'a Summary,
}

/// Writes the report as pretty-printed JSON, newline-terminated, without building it in memory
/// first (reports of large inputs hold many findings). The findings are serialized a batch at a
/// time on every core and written in order: on a large input, one thread writing them was a
/// tenth of a scan's time.
pub fn write_json(
    report: &Report,
    tool_version: &'static str,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    let document = document(report, tool_version);
    out.write_all(b"{")?;
    let mut fields = Fields { out, any: false };
    fields.write("schema_version", &document.schema_version)?;
    fields.write("tool", &document.tool)?;
    if let Some(cluster) = document.cluster {
        fields.write("cluster", cluster)?;
    }
    fields.key("findings")?;
    write_findings(fields.out, &document.findings)?;
    fields.write("errors", document.errors)?;
    if !document.warnings.is_empty() {
        fields.write("warnings", document.warnings)?;
    }
    if !document.absent.is_empty() {
        fields.write("absent", document.absent)?;
    }
    fields.write("summary", document.summary)?;
    fields.out.write_all(b"\n}\n")
}

/// The top-level fields of the document, written as `serde_json`'s pretty printer lays them out.
struct Fields<'o> {
    out: &'o mut dyn std::io::Write,
    any: bool,
}

impl Fields<'_> {
    fn key(&mut self, key: &str) -> std::io::Result<()> {
        let separator: &[u8] = if self.any { b",\n  " } else { b"\n  " };
        self.any = true;
        self.out.write_all(separator)?;
        serde_json::to_writer(&mut *self.out, key)?;
        self.out.write_all(b": ")
    }

    fn write(&mut self, key: &str, value: &(impl Serialize + ?Sized)) -> std::io::Result<()> {
        self.key(key)?;
        self.out.write_all(&pretty(value, 1)?)
    }
}

/// `value` pretty-printed as it would be at nesting `depth` (two spaces a level): every line
/// after the first is indented. JSON strings hold no raw line breaks, so every `\n` in the
/// output is the printer's own.
fn pretty(value: &(impl Serialize + ?Sized), depth: usize) -> std::io::Result<Vec<u8>> {
    let flat = serde_json::to_vec_pretty(value)?;
    let indent = depth * 2;
    let breaks = flat.iter().filter(|&&b| b == b'\n').count();
    let mut indented = Vec::with_capacity(flat.len() + breaks * indent);
    for (i, line) in flat.split(|&b| b == b'\n').enumerate() {
        if i > 0 {
            indented.push(b'\n');
            indented.resize(indented.len() + indent, b' ');
        }
        indented.extend_from_slice(line);
    }
    Ok(indented)
}

/// Findings serialized per batch, in parallel; a batch bounds the memory the text takes.
const BATCH: usize = 4096;

fn write_findings(out: &mut dyn std::io::Write, findings: &Findings<'_>) -> std::io::Result<()> {
    use rayon::prelude::*;
    if findings.findings.is_empty() {
        return out.write_all(b"[]");
    }
    out.write_all(b"[")?;
    for (batch_number, batch) in findings.findings.chunks(BATCH).enumerate() {
        let texts: Vec<Vec<u8>> = batch
            .par_iter()
            .map(
                |finding| match findings.cluster.filter(|_| finding.location.is_none()) {
                    Some(cluster) => pretty(&LiveFinding { finding, cluster }, 2),
                    None => pretty(finding, 2),
                },
            )
            .collect::<std::io::Result<_>>()?;
        for (i, text) in texts.iter().enumerate() {
            let separator: &[u8] = if batch_number == 0 && i == 0 {
                b"\n    "
            } else {
                b",\n    "
            };
            out.write_all(separator)?;
            out.write_all(text)?;
        }
    }
    out.write_all(b"\n  ]")
}

/// The findings, each from a live cluster naming its context (it has no file `location`).
struct Findings<'a> {
    findings: &'a [Finding],
    cluster: Option<&'a str>,
}

#[derive(Serialize)]
struct LiveFinding<'a> {
    #[serde(flatten)]
    finding: &'a Finding,
    cluster: &'a str,
}

fn document<'a>(report: &'a Report, tool_version: &'static str) -> JsonReport<'a> {
    JsonReport {
        schema_version: 1,
        tool: Tool {
            name: "palisade",
            version: tool_version,
        },
        cluster: report.cluster.as_ref(),
        findings: Findings {
            findings: &report.findings,
            cluster: report.cluster.as_ref().map(|c| c.context.as_str()),
        },
        errors: &report.errors,
        warnings: &report.warnings,
        absent: &report.absent,
        summary: &report.summary,
    }
}

/// The report as a JSON string (for tests and small outputs).
pub fn render_json(report: &Report, tool_version: &'static str) -> String {
    let mut out = Vec::new();
    // Writing to memory cannot fail.
    let _ = write_json(report, tool_version, &mut out);
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample;

    #[test]
    fn json_report_matches_the_contract() {
        insta::assert_snapshot!(render_json(&sample::report(), "0.1.0"));
    }

    #[test]
    fn an_empty_report_keeps_the_layout_of_serde_json() {
        insta::assert_snapshot!(render_json(&Report::default(), "0.1.0"));
    }

    #[test]
    fn findings_of_several_batches_are_written_in_order() {
        let mut report = sample::report();
        let one = report.findings[0].clone();
        report.findings = (0..BATCH * 2 + 3)
            .map(|i| {
                let mut finding = one.clone();
                finding.message = format!("finding {i}").into_boxed_str();
                finding
            })
            .collect();
        let json: serde_json::Value =
            serde_json::from_str(&render_json(&report, "0.1.0")).expect("valid JSON");
        let messages: Vec<&str> = json["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .filter_map(|f| f["message"].as_str())
            .collect();
        let expected: Vec<String> = (0..BATCH * 2 + 3).map(|i| format!("finding {i}")).collect();
        assert_eq!(messages, expected);
    }

    #[test]
    fn live_findings_name_their_cluster_and_have_no_location() {
        insta::assert_snapshot!(render_json(&sample::live_report(), "0.1.0"));
    }
}
