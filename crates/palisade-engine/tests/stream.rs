//! A cluster dump read piece by piece (as files over `STREAM_BYTES` are) reports exactly what
//! the same dump read whole reports: the same findings at the same lines and columns, from
//! the object rules and the whole-input rules alike, in the same order.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use palisade_engine::{scan_input, scan_streamed, FileResult, Pipeline};
use palisade_load::Input;
use palisade_rules::{Engine, Settings};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

type Seen = Vec<(String, String, String, u32, u32, String)>;

fn seen(result: &FileResult, pipeline: &Pipeline) -> Seen {
    let _ = pipeline;
    let mut out: Seen = result
        .findings
        .iter()
        .map(|f| {
            let location = f.location.as_ref().expect("from a file");
            (
                f.rule.code.to_string(),
                f.object.display_name(),
                f.path.as_str().to_string(),
                location.line,
                location.column,
                f.message.to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

fn compare(file: &str) {
    let pipeline = Pipeline::new(Engine::new(&Settings::default()).expect("engine"));
    let path = data(file);
    let whole = scan_input(&Input::File(path.clone()), &pipeline);
    let name: Arc<str> = Arc::from(path.to_string_lossy().as_ref());
    let reader = std::io::BufReader::new(std::fs::File::open(&path).expect("open"));
    let streamed = scan_streamed(&name, Box::new(reader), &pipeline, None);
    assert!(whole.errors.is_empty(), "{:?}", whole.errors);
    assert!(streamed.errors.is_empty(), "{:?}", streamed.errors);
    assert_eq!(whole.objects, 27);
    assert_eq!(streamed.objects, whole.objects);
    let whole_seen = seen(&whole, &pipeline);
    assert!(whole_seen.len() > 30, "{}", whole_seen.len());
    assert_eq!(seen(&streamed, &pipeline), whole_seen);
    // The whole-input rules see the same inventory.
    let report = |result: FileResult| {
        let inventory = pipeline
            .engine
            .build_inventory(result.inventory.expect("inventory"));
        let mut findings: Vec<String> = pipeline
            .engine
            .check_inventory(&inventory)
            .iter()
            .map(|f| {
                let l = f.location.as_ref().map(|l| (l.line, l.column));
                format!("{} {:?} {}", f.rule.code, l, f.message)
            })
            .collect();
        findings.sort();
        findings
    };
    let whole_inventory = report(whole);
    assert!(!whole_inventory.is_empty());
    assert_eq!(report(streamed), whole_inventory);
}

#[test]
fn yaml_dumps_read_item_by_item_report_what_a_whole_read_reports() {
    compare("cluster-list.yaml");
}

#[test]
fn json_dumps_read_item_by_item_report_what_a_whole_read_reports() {
    compare("cluster-list.json");
}

/// Objects from a cluster have no file: their findings are ordered by object, then path and
/// message, whatever order the lists delivered them in.
#[test]
fn findings_without_a_place_are_ordered_by_object() {
    let pipeline = Pipeline::new(Engine::new(&Settings::default()).expect("engine"));
    let pod = |name: &str| {
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}, namespace: shop}}\nspec:\n  containers:\n  - name: app\n    image: registry.example.com/shop/app:1.0.0\n    securityContext: {{privileged: true}}\n"
        )
    };
    let mut stream = palisade_engine::StreamScan::new(&pipeline);
    for name in ["worker-c", "worker-a", "worker-b"] {
        let text = pod(name);
        let name: Arc<str> = Arc::from("cluster");
        palisade_load::load_text(&name, &text, &mut |loaded| {
            if let palisade_load::Loaded::Object(mut object) = loaded {
                object.origin = None;
                stream.add(&object);
            }
        });
    }
    let report = stream.finish();
    let privileged: Vec<&str> = report
        .findings
        .iter()
        .filter(|f| f.rule.code == "PAL-PSS-002")
        .map(|f| f.object.name.as_str())
        .collect();
    assert_eq!(privileged, ["worker-a", "worker-b", "worker-c"]);
    assert!(report.findings.iter().all(|f| f.location.is_none()));
}
