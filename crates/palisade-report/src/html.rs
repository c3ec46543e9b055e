//! `--format html`: one self-contained page (no network) with a summary by severity,
//! category, namespace and framework, bar charts, a filterable findings table with code
//! frames, and the load errors.
//!
//! The report travels as JSON inside the page and is rendered with `textContent` only, so no
//! manifest text can become markup. Filters can be preset in the URL fragment
//! (`report.html#q=privileged&severity=high&suppressed=1`), which makes views shareable.

use serde::Serialize;

use crate::{Report, Summary};
use palisade_model::{Finding, LoadError};

#[derive(Serialize)]
struct Page<'a> {
    version: &'a str,
    summary: &'a Summary,
    findings: &'a [PageFinding<'a>],
    errors: &'a [LoadError],
    rules: Vec<PageRule<'a>>,
}

#[derive(Serialize)]
struct PageRule<'a> {
    code: &'a str,
    name: &'a str,
    summary: &'a str,
    /// The "Remediation" section of the rule's docs.
    remediation: String,
    /// The rule's reference page.
    help: String,
}

/// The "## Remediation" section of a rule's Markdown docs, as one paragraph.
fn remediation(docs: &str) -> String {
    let Some((_, rest)) = docs.split_once("## Remediation") else {
        return String::new();
    };
    let section = rest.split("\n## ").next().unwrap_or("");
    section.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[derive(Serialize)]
struct PageFinding<'a> {
    #[serde(flatten)]
    finding: &'a Finding,
    /// The line the location points at, for the code frame.
    snippet: Option<&'a str>,
}

/// Makes JSON safe inside `<script>`: nothing in it can close the element or open a comment.
fn script_safe(json: &str) -> String {
    json.replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
        .replace('\u{2028}', "\\u2028")
        .replace('\u{2029}', "\\u2029")
}

/// Writes the report as one HTML page.
pub fn write_html(
    report: &Report,
    tool_version: &str,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    let findings: Vec<PageFinding> = report
        .findings
        .iter()
        .map(|finding| PageFinding {
            finding,
            snippet: finding.snippet.as_deref(),
        })
        .collect();
    let summaries: Vec<String> = report.rules.iter().map(|r| r.summary.clone()).collect();
    let page = Page {
        version: tool_version,
        summary: &report.summary,
        findings: &findings,
        errors: &report.errors,
        rules: report
            .rules
            .iter()
            .zip(&summaries)
            .map(|(r, summary)| PageRule {
                code: r.code,
                name: r.name,
                summary,
                remediation: remediation(&r.docs),
                help: crate::rule_help_uri(r.code),
            })
            .collect(),
    };
    let data = serde_json::to_string(&page).map_err(std::io::Error::other)?;
    let (head, tail) = TEMPLATE.split_once("/*DATA*/").unwrap_or((TEMPLATE, ""));
    out.write_all(head.as_bytes())?;
    out.write_all(script_safe(&data).as_bytes())?;
    out.write_all(tail.as_bytes())
}

const TEMPLATE: &str = r##"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<title>Palisade report</title>
<script>
  // Installed first, so an error anywhere below is recorded where tests and users can see it.
  window.palisadeErrors = [];
  window.addEventListener("error", function (e) {
    window.palisadeErrors.push(String(e.message));
    document.documentElement.dataset.errors = window.palisadeErrors.join(" | ");
  });
</script>
<style>
  :root { --critical:#8e24aa; --high:#d32f2f; --medium:#f9a825; --low:#1e88e5; --info:#00897b;
          --fg:#1d2330; --muted:#5f6b7a; --line:#e3e7ee; --bg:#f6f8fb; }
  * { box-sizing: border-box; }
  body { margin:0; font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif; color:var(--fg); background:var(--bg); }
  header { padding:18px 28px; background:#10243e; color:#fff; }
  header h1 { margin:0; font-size:20px; }
  header p { margin:4px 0 0; color:#c5d3e8; }
  main { padding:20px 28px; max-width:1400px; }
  .cards { display:flex; gap:12px; flex-wrap:wrap; }
  .card { background:#fff; border:1px solid var(--line); border-radius:8px; padding:10px 16px; min-width:120px; }
  .card b { display:block; font-size:24px; }
  .card.critical b { color:var(--critical);} .card.high b { color:var(--high);} .card.medium b { color:#b07b00;}
  .card.low b { color:var(--low);} .card.info b { color:var(--info);}
  .charts { display:grid; grid-template-columns:repeat(auto-fit,minmax(300px,1fr)); gap:14px; margin:18px 0; }
  .chart { background:#fff; border:1px solid var(--line); border-radius:8px; padding:12px 16px; }
  .chart h2 { font-size:14px; margin:0 0 8px; }
  .bar { display:grid; grid-template-columns:minmax(140px,45%) 1fr 44px; gap:8px; align-items:center; margin:3px 0; }
  .bar span:first-child { overflow-wrap:anywhere; }
  .bar span:first-child small { color:var(--muted); }
  .chart .note { font-size:12px; color:var(--muted); margin:6px 0 0; }
  .place .seg, .rulename { white-space:nowrap; }
  .bar .track { background:var(--line); border-radius:4px; height:12px; }
  .bar .fill { background:#3d6fb6; border-radius:4px; height:12px; }
  .filters { display:flex; gap:10px; flex-wrap:wrap; align-items:center; margin:14px 0; }
  .filters input[type=search] { min-width:320px; padding:6px 8px; border:1px solid #b8c2d1; border-radius:6px; }
  .filters select { padding:5px; border-radius:6px; }
  table { width:100%; border-collapse:collapse; background:#fff; border:1px solid var(--line); }
  th, td { text-align:left; padding:7px 10px; border-bottom:1px solid var(--line); vertical-align:top; }
  th { background:#eef2f7; position:sticky; top:0; }
  tr.finding { cursor:pointer; }
  tr.finding td.toggle { width:1.2em; color:var(--muted); }
  tr.finding td.toggle::before { content:"\25B8"; }
  tr.finding.open td.toggle::before { content:"\25BE"; }
  .fix { margin:6px 0 2px; }
  .fix a { margin-left:8px; }
  tr.finding:hover { background:#f3f7ff; }
  tr.suppressed td { color:var(--muted); }
  .sev { font-weight:600; text-transform:uppercase; font-size:11px; padding:2px 6px; border-radius:4px; color:#fff; }
  .sev.critical { background:var(--critical);} .sev.high { background:var(--high);} .sev.medium { background:var(--medium); color:#222;}
  .sev.low { background:var(--low);} .sev.info { background:var(--info);}
  code, pre { font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace; font-size:12.5px; }
  pre.frame { background:#0f1726; color:#e6edf7; padding:10px 12px; border-radius:6px; overflow:auto; margin:6px 0; }
  .detail td { background:#fafbfd; }
  .muted { color:var(--muted); }
  .errors li { margin:4px 0; }
  ol.chain { margin:6px 0; padding-left:0; list-style:none; display:flex; flex-wrap:wrap; gap:6px; align-items:center; }
  ol.chain li { background:#fff; border:1px solid var(--line); border-left:4px solid var(--critical); border-radius:6px; padding:4px 8px; }
  ol.chain li + li::before { content:"\2192  "; color:var(--muted); }
  .paths-graph { background:#fff; border:1px solid var(--line); border-radius:8px; padding:12px 16px; margin:18px 0 0; overflow-x:auto; }
  .paths-graph h2 { font-size:14px; margin:0 0 8px; }
  .paths-graph svg text { font:12px system-ui,-apple-system,"Segoe UI",sans-serif; fill:var(--fg); }
  .paths-graph svg rect { fill:#fff; stroke:#9aa7b8; }
  .paths-graph svg g.start rect { fill:#eef2f7; }
  .paths-graph svg g.goal rect { stroke:var(--critical); stroke-width:2; }
  .paths-graph svg path { fill:none; stroke:#7a8797; stroke-width:1.3; }
</style>
</head>
<body>
<header>
  <h1>Palisade report</h1>
  <p id="scope"></p>
</header>
<main>
  <section class="cards" id="cards" aria-label="Findings by severity"></section>
  <section class="paths-graph" id="paths-graph" hidden>
    <h2>Attack paths</h2>
    <p class="muted" id="paths-note"></p>
  </section>
  <section class="charts">
    <div class="chart"><h2>By category</h2><div id="by-category"></div></div>
    <div class="chart"><h2>By namespace</h2><div id="by-namespace"></div></div>
    <div class="chart"><h2>By framework</h2><div id="by-framework"></div></div>
    <div class="chart"><h2>By rule</h2><div id="by-rule"></div></div>
  </section>
  <section class="filters" aria-label="Filters">
    <input type="search" id="q" placeholder="Filter: rule, object, file, message, control" aria-label="Filter">
    <label>Severity at least <select id="severity">
      <option value="info">info</option><option value="low">low</option><option value="medium">medium</option>
      <option value="high">high</option><option value="critical">critical</option></select></label>
    <label>Category <select id="category"><option value="">all</option></select></label>
    <label><input type="checkbox" id="suppressed"> show suppressed</label>
    <span id="shown" class="muted"></span>
  </section>
  <table>
    <thead><tr><th></th><th>Severity</th><th>Rule</th><th>Object</th><th>Location</th><th>Message</th></tr></thead>
    <tbody id="rows"></tbody>
  </table>
  <section id="errors-section" hidden>
    <h2>Load errors</h2>
    <ul class="errors" id="errors"></ul>
  </section>
</main>
<script id="report-data" type="application/json">/*DATA*/</script>
<script>
(function () {
  "use strict";
  var report = JSON.parse(document.getElementById("report-data").textContent);
  var ORDER = ["info", "low", "medium", "high", "critical"];
  var rank = function (s) { return ORDER.indexOf(s); };

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") { node.textContent = attrs[k]; }
      else if (k === "class") { node.className = attrs[k]; }
      else { node.setAttribute(k, attrs[k]); }
    });
    (children || []).forEach(function (c) { node.appendChild(c); });
    return node;
  }
  var rules = {};
  (report.rules || []).forEach(function (r) { rules[r.code] = r; });
  function objectName(o) { return o.kind + " " + (o.namespace ? o.namespace + "/" : "") + o.name; }
  function place(l) { return l ? l.file + ":" + l.line + ":" + l.column : ""; }
  function framework(control) { return control.split(/[-:]/)[0].toUpperCase(); }

  var s = report.summary;
  function count(n, one, many) { return n + " " + (n === 1 ? one : many); }
  document.getElementById("scope").textContent =
    count(s.objects, "object", "objects") + " in " + count(s.files, "file", "files") + " · " +
    s.suppressed + " suppressed · " + count(s.errors, "load error", "load errors") +
    (s.baseline ? " · " + s.baseline + " in the baseline not shown" : "") +
    " · Palisade " + report.version;

  var cards = document.getElementById("cards");
  ORDER.slice().reverse().forEach(function (sev) {
    cards.appendChild(el("div", { "class": "card " + sev }, [
      el("b", { text: String(s.findings[sev]) }), el("span", { text: sev })]));
  });

  // Text with `quoted` spans (names, values) as code, the rest as text: never raw backticks.
  function rich(text) {
    var span = el("span");
    String(text).split("`").forEach(function (part, i) {
      if (!part) { return; }
      span.appendChild(i % 2 ? el("code", { text: part }) : document.createTextNode(part));
    });
    return span;
  }
  // A file place that wraps only after a path separator, never inside a name.
  function placeNode(l) {
    var code = el("code", { "class": "place" });
    var text = place(l);
    text.split(/(?<=[\/\\])/).forEach(function (seg, i) {
      if (i) { code.appendChild(el("wbr")); }
      code.appendChild(el("span", { "class": "seg", text: seg }));
    });
    return code;
  }

  function chart(id, counts, label, note) {
    var host = document.getElementById(id);
    var entries = Object.keys(counts).map(function (k) { return [k, counts[k]]; })
      .sort(function (a, b) { return b[1] - a[1] || (a[0] < b[0] ? -1 : 1); }).slice(0, 12);
    var max = entries.length ? entries[0][1] : 1;
    if (!entries.length) { host.appendChild(el("p", { "class": "muted", text: "no findings" })); }
    entries.forEach(function (e) {
      var fill = el("div", { "class": "fill" });
      fill.style.width = Math.max(2, Math.round(100 * e[1] / max)) + "%";
      host.appendChild(el("div", { "class": "bar", title: e[0] + ": " + e[1] }, [
        label ? label(e[0]) : el("span", { text: e[0] }), el("div", { "class": "track" }, [fill]), el("span", { text: String(e[1]) })]));
    });
    if (note && entries.some(function (e) { return e[0] === note[0]; })) {
      host.appendChild(el("p", { "class": "note", text: note[0] + ": " + note[1] }));
    }
  }
  var open = report.findings.filter(function (f) { return !f.suppressed; });
  function countBy(list, keys) {
    var counts = {};
    list.forEach(function (f) { keys(f).forEach(function (k) { counts[k] = (counts[k] || 0) + 1; }); });
    return counts;
  }
  chart("by-category", countBy(open, function (f) { return [f.category]; }));
  chart("by-namespace", countBy(open, function (f) { return [f.object.namespace || "(cluster)"]; }), null,
    ["(cluster)", "objects without a namespace: cluster-scoped kinds (ClusterRoles, Namespaces, webhooks, ...) and whole-input findings"]);
  chart("by-framework", countBy(open, function (f) {
    var seen = {}; f.controls.forEach(function (c) { seen[framework(c)] = 1; }); return Object.keys(seen);
  }));
  chart("by-rule", countBy(open, function (f) { return [f.rule + " " + f.name]; }), function (key) {
    var at = key.indexOf(" ");
    return el("span", {}, [el("code", { text: key.slice(0, at) }), document.createTextNode(" "),
      el("small", { text: key.slice(at + 1) })]);
  });

  // Every attack path at once, as a graph: the internet on the left, each hop one column
  // further right (a place reached by several paths is one box, in the column of its
  // shortest), the goals outlined. Drawn with SVG text nodes only: no input becomes markup.
  (function drawPaths() {
    var chains = open.filter(function (f) { return f.category === "attack-paths" && (f.related || []).length; })
      .map(function (f) {
        return ["the internet", objectName(f.object)].concat(f.related.map(function (hop) {
          return String(hop.message).replace(/^\u2192 /, "");
        }));
      });
    if (!chains.length) { return; }
    var column = {}, order = [], edges = {}, goals = {};
    chains.forEach(function (chain) {
      chain.forEach(function (name, i) {
        if (!(name in column)) { column[name] = i; order.push(name); }
        column[name] = Math.min(column[name], i);
        if (i) { edges[chain[i - 1] + "\u0000" + name] = [chain[i - 1], name]; }
      });
      goals[chain[chain.length - 1]] = 1;
    });
    var rows = {}, at = {}, W = 230, H = 34, GAP_X = 50, GAP_Y = 16, height = 0;
    order.forEach(function (name) {
      var c = column[name];
      rows[c] = (rows[c] || 0);
      at[name] = { x: c * (W + GAP_X), y: rows[c] * (H + GAP_Y) };
      rows[c] += 1;
      height = Math.max(height, rows[c] * (H + GAP_Y));
    });
    var columns = Object.keys(rows).length;
    var NS = "http://www.w3.org/2000/svg";
    function svg(tag, attrs) {
      var node = document.createElementNS(NS, tag);
      Object.keys(attrs).forEach(function (k) { node.setAttribute(k, attrs[k]); });
      return node;
    }
    var width = columns * (W + GAP_X);
    var canvas = svg("svg", { width: width, height: height, viewBox: "0 0 " + width + " " + height,
      role: "img", "aria-label": "attack paths graph" });
    var defs = svg("defs", {}), marker = svg("marker", { id: "hop", viewBox: "0 0 10 10", refX: "10", refY: "5",
      markerWidth: "7", markerHeight: "7", orient: "auto-start-reverse" });
    marker.appendChild(svg("path", { d: "M 0 0 L 10 5 L 0 10 z", style: "fill:#7a8797;stroke:none" }));
    defs.appendChild(marker);
    canvas.appendChild(defs);
    Object.keys(edges).forEach(function (key) {
      var a = at[edges[key][0]], b = at[edges[key][1]];
      var x1 = a.x + W, y1 = a.y + H / 2, x2 = b.x, y2 = b.y + H / 2, mid = (x1 + x2) / 2;
      var line = svg("path", { d: "M" + x1 + " " + y1 + " C" + mid + " " + y1 + " " + mid + " " + y2 + " " + x2 + " " + y2,
        "class": "edge", "marker-end": "url(#hop)" });
      var title = svg("title", {});
      title.textContent = edges[key][0] + " \u2192 " + edges[key][1];
      line.appendChild(title);
      canvas.appendChild(line);
    });
    order.forEach(function (name, i) {
      var group = svg("g", { "class": "node" + (i === 0 ? " start" : "") + (goals[name] ? " goal" : "") });
      group.appendChild(svg("rect", { x: at[name].x, y: at[name].y, width: W, height: H, rx: 5 }));
      var label = svg("text", { x: at[name].x + 8, y: at[name].y + H / 2 + 4 });
      label.textContent = name.length > 34 ? name.slice(0, 33) + "\u2026" : name;
      var title = svg("title", {});
      title.textContent = name;
      group.appendChild(title);
      group.appendChild(label);
      canvas.appendChild(group);
    });
    var section = document.getElementById("paths-graph");
    section.appendChild(canvas);
    document.getElementById("paths-note").textContent = count(chains.length, "path", "paths") +
      " from the internet through " + count(order.length - 1, "place", "places") +
      "; each box one place, each line one hop (open a PAL-PATH-001 finding below for the reasons).";
    section.hidden = false;
    section.dataset.nodes = String(order.length);
    section.dataset.edges = String(Object.keys(edges).length);
  })();

  var categories = {};
  report.findings.forEach(function (f) { categories[f.category] = 1; });
  var categorySelect = document.getElementById("category");
  Object.keys(categories).sort().forEach(function (c) {
    categorySelect.appendChild(el("option", { value: c, text: c }));
  });

  function frame(f) {
    var lines = [];
    if (f.snippet && f.location) { lines.push(f.location.line + " | " + f.snippet); }
    lines.push("object: " + objectName(f.object));
    lines.push("path:   " + (f.path || "/"));
    (f.related || []).forEach(function (r) { lines.push("related: " + r.message + (r.location ? " (" + place(r.location) + ")" : "")); });
    (f.also || []).forEach(function (a) { lines.push("also: " + a.rule + " " + a.name + " (" + a.severity + "): " + a.message + (a.location ? " (" + place(a.location) + ")" : "")); });
    if (f.controls.length) { lines.push("controls: " + f.controls.join(", ")); }
    if (f.suppressed) {
      lines.push("suppressed by " + f.suppressed.kind + (f.suppressed.expires ? " until " + f.suppressed.expires : "") + ": " + f.suppressed.reason);
    }
    var parts = [el("pre", { "class": "frame", text: lines.join("\n") })];
    // An attack path, drawn: where it starts, then each hop, with its place.
    if (f.category === "attack-paths" && (f.related || []).length) {
      var chain = el("ol", { "class": "chain", "aria-label": "attack path" });
      chain.appendChild(el("li", {}, [el("b", { text: objectName(f.object) }),
        el("span", { "class": "muted", text: " " + place(f.location) })]));
      f.related.forEach(function (hop) {
        chain.appendChild(el("li", {}, [rich(hop.message),
          el("span", { "class": "muted", text: hop.location ? " " + place(hop.location) : "" })]));
      });
      parts.unshift(chain);
    }
    var rule = rules[f.rule];
    if (rule) {
      var fix = el("p", { "class": "fix" }, [el("b", { text: "Fix: " }),
        el("span", { text: rule.remediation || rule.summary })]);
      fix.appendChild(el("a", { href: rule.help, text: "docs for " + f.rule, target: "_blank", rel: "noopener" }));
      parts.push(fix);
    }
    return el("div", {}, parts);
  }

  var rows = document.getElementById("rows");
  var rendered = report.findings.map(function (f) {
    var row = el("tr", { "class": "finding" + (f.suppressed ? " suppressed" : ""), "data-rule": f.rule,
        title: "show the code frame and the fix", "aria-expanded": "false", tabindex: "0" }, [
      el("td", { "class": "toggle" }),
      el("td", {}, [el("span", { "class": "sev " + f.severity, text: f.severity })]),
      el("td", {}, [el("code", { text: f.rule }), el("div", { "class": "muted rulename", text: f.name })]),
      el("td", { text: objectName(f.object) }),
      el("td", {}, [placeNode(f.location)]),
      el("td", {}, [rich(f.message + (f.suppressed ? " (suppressed)" : ""))])]);
    var detail = el("tr", { "class": "detail", hidden: "" }, [el("td", { colspan: "6" }, [frame(f)])]);
    function toggle() {
      detail.hidden = !detail.hidden;
      row.classList.toggle("open", !detail.hidden);
      row.setAttribute("aria-expanded", String(!detail.hidden));
    }
    row.addEventListener("click", toggle);
    row.addEventListener("keydown", function (e) { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); toggle(); } });
    rows.appendChild(row);
    rows.appendChild(detail);
    var haystack = [f.rule, f.name, f.category, objectName(f.object), place(f.location), f.message, f.path]
      .concat(f.controls).join(" ").toLowerCase();
    return { finding: f, row: row, detail: detail, haystack: haystack };
  });

  var q = document.getElementById("q"), sev = document.getElementById("severity"),
      sup = document.getElementById("suppressed");
  function apply() {
    var words = q.value.toLowerCase().split(/\s+/).filter(Boolean);
    var shown = 0;
    rendered.forEach(function (r) {
      var f = r.finding;
      var visible = rank(f.severity) >= rank(sev.value) &&
        (!categorySelect.value || f.category === categorySelect.value) &&
        (sup.checked || !f.suppressed) &&
        words.every(function (w) { return r.haystack.indexOf(w) >= 0; });
      r.row.hidden = !visible;
      if (!visible) { r.detail.hidden = true; }
      if (visible) { shown += 1; }
    });
    document.getElementById("shown").textContent = shown + " of " + rendered.length + " findings shown";
    document.body.dataset.visibleRows = String(shown);
    var state = [];
    if (q.value) { state.push("q=" + encodeURIComponent(q.value)); }
    if (sev.value !== "info") { state.push("severity=" + sev.value); }
    if (categorySelect.value) { state.push("category=" + encodeURIComponent(categorySelect.value)); }
    if (sup.checked) { state.push("suppressed=1"); }
    if (state.length || location.hash) { history.replaceState(null, "", "#" + state.join("&")); }
  }
  location.hash.replace(/^#/, "").split("&").forEach(function (pair) {
    var kv = pair.split("="), value = decodeURIComponent(kv[1] || "");
    if (kv[0] === "q") { q.value = value; }
    if (kv[0] === "severity" && rank(value) >= 0) { sev.value = value; }
    if (kv[0] === "category") { categorySelect.value = value; }
    if (kv[0] === "suppressed") { sup.checked = value === "1"; }
  });
  [q, sev, categorySelect, sup].forEach(function (input) {
    input.addEventListener("input", apply);
    input.addEventListener("change", apply);
  });
  apply();

  if (report.errors.length) {
    document.getElementById("errors-section").hidden = false;
    var list = document.getElementById("errors");
    report.errors.forEach(function (e) {
      list.appendChild(el("li", { text: e.file + (e.line ? ":" + e.line + (e.column ? ":" + e.column : "") : "") +
        (e.document !== undefined ? " (document " + e.document + ")" : "") + ": " + e.message }));
    });
  }
  document.body.dataset.findings = String(rendered.length);
  document.body.dataset.status = "ready";
})();
</script>
</body>
</html>
"##;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample;

    fn render(report: &Report) -> String {
        let mut out = Vec::new();
        write_html(report, "0.1.0", &mut out).expect("in memory");
        String::from_utf8(out).expect("utf-8")
    }

    #[test]
    fn html_report_matches_snapshot() {
        insta::assert_snapshot!(render(&sample::report()));
    }

    #[test]
    fn manifest_text_cannot_close_the_data_script() {
        let mut report = sample::report();
        report.findings[0].message = "</script><script>alert(1)</script><!--".into();
        let page = render(&report);
        assert_eq!(
            page.matches("</script>").count(),
            3,
            "only the page's own scripts close"
        );
        assert!(!page.contains("<!--"));
    }

    #[test]
    fn the_page_loads_nothing_from_the_network() {
        let page = render(&sample::report());
        for needle in ["src=\"http", "href=\"http", "@import", "url(http"] {
            assert!(!page.contains(needle), "{needle}");
        }
        assert!(page.contains("default-src 'none'"));
    }
}
