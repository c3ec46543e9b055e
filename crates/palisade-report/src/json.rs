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
/// after the first is indented.
fn pretty(value: &(impl Serialize + ?Sized), depth: usize) -> std::io::Result<Vec<u8>> {
    let mut text = Vec::new();
    pretty_into(value, depth, &mut text)?;
    Ok(text)
}

/// [`pretty`], appended to `out`: printed at its depth in one pass, rather than printed at
/// the left margin and indented in a second copy.
fn pretty_into(
    value: &(impl Serialize + ?Sized),
    depth: usize,
    out: &mut Vec<u8>,
) -> std::io::Result<()> {
    let mut serializer = serde_json::Serializer::with_formatter(out, Nested::at(depth));
    value.serialize(&mut serializer)?;
    Ok(())
}

/// `serde_json`'s pretty printer (two spaces a level), starting `depth` levels in.
struct Nested {
    depth: usize,
    has_value: bool,
}

impl Nested {
    fn at(depth: usize) -> Self {
        Nested {
            depth,
            has_value: false,
        }
    }

    fn open<W: ?Sized + std::io::Write>(
        &mut self,
        out: &mut W,
        bracket: &[u8],
    ) -> std::io::Result<()> {
        self.depth += 1;
        self.has_value = false;
        out.write_all(bracket)
    }

    fn close<W: ?Sized + std::io::Write>(
        &mut self,
        out: &mut W,
        bracket: &[u8],
    ) -> std::io::Result<()> {
        self.depth -= 1;
        if self.has_value {
            out.write_all(b"\n")?;
            indent(out, self.depth)?;
        }
        out.write_all(bracket)
    }

    fn item<W: ?Sized + std::io::Write>(
        &mut self,
        out: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        out.write_all(if first { b"\n" } else { b",\n" })?;
        indent(out, self.depth)
    }
}

fn indent<W: ?Sized + std::io::Write>(out: &mut W, depth: usize) -> std::io::Result<()> {
    const SPACES: &[u8; 32] = b"                                ";
    let mut left = depth * 2;
    while left > 0 {
        let now = left.min(SPACES.len());
        out.write_all(&SPACES[..now])?;
        left -= now;
    }
    Ok(())
}

impl serde_json::ser::Formatter for Nested {
    fn begin_array<W: ?Sized + std::io::Write>(&mut self, out: &mut W) -> std::io::Result<()> {
        self.open(out, b"[")
    }

    fn end_array<W: ?Sized + std::io::Write>(&mut self, out: &mut W) -> std::io::Result<()> {
        self.close(out, b"]")
    }

    fn begin_array_value<W: ?Sized + std::io::Write>(
        &mut self,
        out: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.item(out, first)
    }

    fn end_array_value<W: ?Sized + std::io::Write>(&mut self, _: &mut W) -> std::io::Result<()> {
        self.has_value = true;
        Ok(())
    }

    fn begin_object<W: ?Sized + std::io::Write>(&mut self, out: &mut W) -> std::io::Result<()> {
        self.open(out, b"{")
    }

    fn end_object<W: ?Sized + std::io::Write>(&mut self, out: &mut W) -> std::io::Result<()> {
        self.close(out, b"}")
    }

    fn begin_object_key<W: ?Sized + std::io::Write>(
        &mut self,
        out: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.item(out, first)
    }

    fn begin_object_value<W: ?Sized + std::io::Write>(
        &mut self,
        out: &mut W,
    ) -> std::io::Result<()> {
        out.write_all(b": ")
    }

    fn end_object_value<W: ?Sized + std::io::Write>(&mut self, _: &mut W) -> std::io::Result<()> {
        self.has_value = true;
        Ok(())
    }
}

/// Findings serialized per batch, in parallel; a batch bounds the memory the text takes.
const BATCH: usize = 4096;

/// Findings printed into one buffer per task: a buffer per finding was an allocation (and
/// a copy) per finding.
const PER_TASK: usize = 128;

fn write_findings(out: &mut dyn std::io::Write, findings: &Findings<'_>) -> std::io::Result<()> {
    use rayon::prelude::*;
    if findings.findings.is_empty() {
        return out.write_all(b"[]");
    }
    out.write_all(b"[")?;
    for (batch_number, batch) in findings.findings.chunks(BATCH).enumerate() {
        // Every finding follows `,` and its line break: the very first drops the comma.
        let texts: Vec<Vec<u8>> = batch
            .par_chunks(PER_TASK)
            .map(|chunk| {
                let mut text = Vec::with_capacity(chunk.len() * 1024);
                for finding in chunk {
                    text.extend_from_slice(b",\n    ");
                    match findings.cluster.filter(|_| finding.location.is_none()) {
                        Some(cluster) => {
                            pretty_into(&LiveFinding { finding, cluster }, 2, &mut text)?
                        }
                        None => pretty_into(finding, 2, &mut text)?,
                    }
                }
                Ok(text)
            })
            .collect::<std::io::Result<_>>()?;
        for (i, text) in texts.iter().enumerate() {
            let first = batch_number == 0 && i == 0;
            out.write_all(if first { &text[1..] } else { text })?;
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
    fn printing_at_a_depth_is_serde_json_pretty_indented() {
        let value = serde_json::json!({
            "empty_list": [],
            "empty_map": {},
            "nested": [{"a": [1, [2, []]], "b": {"c": null}}, "text with \n escaped"],
            "scalar": 1.5
        });
        let finding = &sample::report().findings[0];
        for depth in [0, 1, 2, 7, 20] {
            for (expected, printed) in [
                (serde_json::to_vec_pretty(&value), pretty(&value, depth)),
                (serde_json::to_vec_pretty(finding), pretty(finding, depth)),
            ] {
                let expected = expected.expect("serializes");
                // Each line after the first, indented by the depth.
                let margin = format!("\n{}", " ".repeat(depth * 2));
                let indented = String::from_utf8(expected)
                    .expect("UTF-8")
                    .replace('\n', &margin);
                let printed = String::from_utf8(printed.expect("serializes")).expect("UTF-8");
                assert_eq!(printed, indented, "depth {depth}");
            }
        }
    }

    #[test]
    fn findings_of_several_batches_are_written_in_order() {
        let mut report = sample::report();
        let one = report.findings[0].clone();
        report.findings = (0..BATCH * 2 + 3)
            .map(|i| {
                let mut finding = one.clone();
                finding.message = format!("finding {i}").into();
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
