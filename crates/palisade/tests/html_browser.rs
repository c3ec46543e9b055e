//! The HTML report in a real browser: headless Chromium (Debian's `chromium`, installed by
//! `scripts/install-test-deps`) loads the page, runs its script without errors, shows every
//! finding, applies filters preset in the URL fragment, and never turns manifest text into
//! markup. Set PALISADE_CHROMIUM to use another binary; PALISADE_SKIP_BROWSER=1 skips these tests
//! on machines without a browser (CI never sets it).

use std::path::{Path, PathBuf};
use std::process::{Command as Process, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::Command;
use serde_json::Value;

fn chromium() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("PALISADE_CHROMIUM") {
        return Some(PathBuf::from(path));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| {
            ["chromium", "chromium-browser", "google-chrome"].map(|name| dir.join(name))
        })
        .find(|candidate| candidate.is_file())
}

/// The browser, or `None` when the tests are explicitly skipped; a missing browser otherwise
/// fails the test, so CI cannot pass without running it.
fn browser() -> Option<PathBuf> {
    if std::env::var_os("PALISADE_SKIP_BROWSER").is_some_and(|v| v == "1") {
        eprintln!("PALISADE_SKIP_BROWSER=1: browser test skipped");
        return None;
    }
    Some(chromium().expect(
        "headless Chromium is needed: run scripts/install-test-deps (or set PALISADE_CHROMIUM)",
    ))
}

/// The DOM after the page's scripts ran.
fn dump_dom(browser: &Path, page: &Path, fragment: &str) -> String {
    let profile = tempfile::tempdir().expect("profile dir");
    // To a file, not a pipe: a DOM larger than the pipe buffer would block the browser.
    let dom_file = profile.path().join("dom.html");
    let url = format!("file://{}{fragment}", page.display());
    let mut child = Process::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--virtual-time-budget=5000",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg("--dump-dom")
        .arg(&url)
        .stdout(std::fs::File::create(&dom_file).expect("dom file"))
        .stderr(Stdio::null())
        .spawn()
        .expect("chromium starts");
    let started = Instant::now();
    loop {
        if child.try_wait().expect("waits").is_some() {
            break;
        }
        if started.elapsed() > Duration::from_secs(90) {
            let _ = child.kill();
            panic!("chromium did not finish rendering {url} in 90 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    std::fs::read_to_string(&dom_file).expect("dom")
}

fn attribute<'a>(dom: &'a str, name: &str) -> Option<&'a str> {
    let start = dom.find(&format!("{name}=\""))? + name.len() + 2;
    let end = dom[start..].find('"')?;
    Some(&dom[start..start + end])
}

const HOSTILE: &str = r#"apiVersion: v1
kind: Pod
metadata:
  name: debug
  namespace: ops
spec:
  containers:
    - name: "<img id=pwned src=x onerror=alert(1)></script><b id=pwned2>"
      image: busybox:1.36
      securityContext:
        privileged: true # palisade:ignore PAL-PSS-002 break-glass pod for INC-4411
"#;

#[test]
fn the_html_report_renders_every_finding_without_script_errors() {
    let Some(browser) = browser() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let hostile = dir.path().join("hostile.yaml");
    std::fs::write(&hostile, HOSTILE).expect("write");
    let page = dir.path().join("report.html");
    let json = dir.path().join("report.json");
    let inputs = [
        repo.join("examples/shop").display().to_string(),
        repo.join("examples/paths").display().to_string(),
        hostile.display().to_string(),
    ];
    for (format, out) in [("html", &page), ("json", &json)] {
        Command::cargo_bin("palisade")
            .expect("binary")
            .args(["scan", "--no-config", "--format", format, "-o"])
            .arg(out)
            .args(&inputs)
            .assert()
            .code(1);
    }
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(&json).expect("json")).expect("valid");
    let findings = report["findings"].as_array().expect("findings");
    let unsuppressed = findings
        .iter()
        .filter(|f| f["suppressed"].is_null())
        .count();
    let critical = findings
        .iter()
        .filter(|f| f["suppressed"].is_null() && f["severity"] == "critical")
        .count();
    assert!(
        findings.len() > unsuppressed && critical > 0,
        "fixture covers both"
    );

    let dom = dump_dom(&browser, &page, "");
    assert_eq!(
        attribute(&dom, "data-status"),
        Some("ready"),
        "script finished"
    );
    assert_eq!(attribute(&dom, "data-errors"), None, "no script errors");
    assert_eq!(
        attribute(&dom, "data-findings"),
        Some(findings.len().to_string().as_str())
    );
    assert_eq!(dom.matches("<tr class=\"finding").count(), findings.len());
    assert_eq!(
        attribute(&dom, "data-visible-rows"),
        Some(unsuppressed.to_string().as_str()),
        "suppressed findings are hidden until asked for"
    );
    assert!(dom.contains("Deployment shop/web"), "objects are shown");
    assert!(
        !dom.contains("id=\"pwned"),
        "manifest text never becomes markup"
    );
    assert!(dom.contains("&lt;img id=pwned"), "it is shown as text");
    // Rows say they expand, and what they expand to says how to fix and where to read more.
    assert_eq!(
        dom.matches("aria-expanded=\"false\"").count(),
        findings.len()
    );
    assert_eq!(dom.matches("<p class=\"fix\">").count(), findings.len());
    assert!(dom.contains("docs/rules.md#pal-pss-002"), "a docs link");
    // Attack paths are drawn: the start, then one box per hop.
    let paths: Vec<&Value> = findings
        .iter()
        .filter(|f| f["rule"] == "PAL-PATH-001")
        .collect();
    assert!(!paths.is_empty(), "the paths example has some");
    assert_eq!(
        dom.matches("<ol class=\"chain\" aria-label=\"attack path\">")
            .count(),
        paths.len()
    );
    let hops: usize = paths
        .iter()
        .map(|f| 1 + f["related"].as_array().map_or(0, Vec::len))
        .sum();
    let drawn: usize = dom
        .split("<ol class=\"chain\"")
        .skip(1)
        .map(|chain| {
            chain
                .split("</ol>")
                .next()
                .unwrap_or("")
                .matches("<li>")
                .count()
        })
        .sum();
    assert_eq!(drawn, hops);
    // And all of them at once, as one graph: every place a path reaches is one box (the
    // internet, each start and each hop), every hop one line.
    let mut places = std::collections::BTreeSet::from(["the internet".to_string()]);
    let mut lines = std::collections::BTreeSet::new();
    for path in &paths {
        let start = format!(
            "{} {}/{}",
            path["object"]["kind"].as_str().unwrap_or_default(),
            path["object"]["namespace"].as_str().unwrap_or_default(),
            path["object"]["name"].as_str().unwrap_or_default()
        );
        let mut chain = vec!["the internet".to_string(), start];
        chain.extend(path["related"].as_array().into_iter().flatten().map(|hop| {
            let message = hop["message"].as_str().unwrap_or_default();
            message.trim_start_matches("→ ").to_string()
        }));
        for pair in chain.windows(2) {
            lines.insert((pair[0].clone(), pair[1].clone()));
        }
        places.extend(chain);
    }
    let graph = dom
        .split("<section class=\"paths-graph\" id=\"paths-graph\"")
        .nth(1)
        .and_then(|rest| rest.split("</section>").next())
        .expect("the paths graph");
    assert!(
        graph.contains(&format!("data-nodes=\"{}\"", places.len())),
        "{places:?}: {graph}"
    );
    assert!(graph.contains(&format!("data-edges=\"{}\"", lines.len())));
    assert_eq!(graph.matches("<g class=\"node").count(), places.len());
    assert_eq!(graph.matches("class=\"edge\"").count(), lines.len());
    assert!(
        graph.contains("<title>cluster-admin</title>"),
        "the goal is drawn"
    );
    // Names quoted in messages are code, not raw backticks; places wrap at separators only.
    let rows: Vec<&str> = dom
        .split("<tr class=\"finding")
        .skip(1)
        .filter_map(|row| row.split("</tr>").next())
        .collect();
    assert!(rows.iter().all(|row| !row.contains('`')), "raw backticks");
    assert!(
        dom.contains("container <code>agent</code> runs privileged"),
        "quoted names as code"
    );
    assert!(
        rows.iter()
            .all(|row| row.contains("<code class=\"place\"><span class=\"seg\">")),
        "every place in segments"
    );
    assert!(dom.contains("<span class=\"seg\">shop/</span><wbr><span class=\"seg\">web.yaml:"));
    let cluster_scoped = findings
        .iter()
        .any(|f| f["suppressed"].is_null() && f["object"]["namespace"].is_null());
    assert_eq!(
        dom.contains("(cluster): objects without a namespace"),
        cluster_scoped,
        "the cluster bucket is explained where it is shown"
    );
    let chart_labels: Vec<&str> = dom
        .split("title=\"PAL-")
        .skip(1)
        .filter_map(|rest| rest.split(':').next())
        .collect();
    assert!(
        !chart_labels.is_empty() && chart_labels.iter().all(|l| l.contains(' ')),
        "the by-rule chart names its rules: {chart_labels:?}"
    );
    // Each label whole (wrapped, never cut with an ellipsis): code, then the rule's name.
    assert_eq!(
        dom.matches("</code> <small>").count(),
        chart_labels.len(),
        "every by-rule label: code and name"
    );
    assert!(!dom.contains("text-overflow:ellipsis"));

    let dom = dump_dom(&browser, &page, "#severity=critical");
    assert_eq!(
        attribute(&dom, "data-visible-rows"),
        Some(critical.to_string().as_str())
    );
    let dom = dump_dom(&browser, &page, "#suppressed=1");
    assert_eq!(
        attribute(&dom, "data-visible-rows"),
        Some(findings.len().to_string().as_str())
    );
    let dom = dump_dom(&browser, &page, "#q=no-such-text-anywhere");
    assert_eq!(attribute(&dom, "data-visible-rows"), Some("0"));
}
