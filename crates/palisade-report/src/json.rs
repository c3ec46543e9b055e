//! `--format json`: the versioned contract documented in the README (schema_version 1).

use serde::Serialize;

use crate::{Report, Summary};
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
    findings: &'a [Finding],
    errors: &'a [LoadError],
    summary: &'a Summary,
}

/// Renders the report as pretty-printed JSON, newline-terminated.
pub fn render_json(report: &Report, tool_version: &'static str) -> String {
    let doc = JsonReport {
        schema_version: 1,
        tool: Tool {
            name: "palisade",
            version: tool_version,
        },
        findings: &report.findings,
        errors: &report.errors,
        summary: &report.summary,
    };
    let mut out = serde_json::to_string_pretty(&doc).unwrap_or_else(|e| {
        // Serializing plain owned data cannot fail; keep the contract's shape if it ever does.
        format!("{{\"schema_version\":1,\"errors\":[{{\"message\":\"{e}\"}}]}}")
    });
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample;

    #[test]
    fn json_report_matches_the_contract() {
        insta::assert_snapshot!(render_json(&sample::report(), "0.1.0"));
    }
}
