//! `--format json`: the versioned contract documented in the README (schema_version 1).

use serde::Serialize;

use crate::{ClusterInfo, Report, Summary};
use palisade_model::{Finding, LoadError};

#[derive(Serialize)]
struct Tool {
    name: &'static str,
    version: &'static str,
}

#[derive(Serialize)]
struct JsonReport<'a> {
    schema_version: u32,
    tool: Tool,
    #[serde(skip_serializing_if = "Option::is_none")]
    cluster: Option<&'a ClusterInfo>,
    findings: Findings<'a>,
    errors: &'a [LoadError],
    #[serde(skip_serializing_if = "<[LoadError]>::is_empty")]
    warnings: &'a [LoadError],
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    absent: &'a [String],
    summary: &'a Summary,
}

/// Writes the report as pretty-printed JSON, newline-terminated, without building it in memory
/// first (reports of large inputs hold many findings).
pub fn write_json(
    report: &Report,
    tool_version: &'static str,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &document(report, tool_version))?;
    out.write_all(b"\n")
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

impl Serialize for Findings<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = serializer.serialize_seq(Some(self.findings.len()))?;
        for finding in self.findings {
            match self.cluster.filter(|_| finding.location.is_none()) {
                Some(cluster) => seq.serialize_element(&LiveFinding { finding, cluster })?,
                None => seq.serialize_element(finding)?,
            }
        }
        seq.end()
    }
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
    fn live_findings_name_their_cluster_and_have_no_location() {
        insta::assert_snapshot!(render_json(&sample::live_report(), "0.1.0"));
    }
}
