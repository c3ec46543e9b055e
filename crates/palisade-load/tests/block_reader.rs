//! The block-style reader hands on exactly what saphyr's parser does (nodes, positions,
//! warnings, errors), or leaves the text to it: held on every YAML file of the repository, on
//! the constructs it reads, on those it must leave, and on broken copies of real manifests.

use std::path::{Path, PathBuf};

use palisade_load::yaml::compare_readers;

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn yaml_files(dir: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        if path.is_dir() {
            if name != "target" && name != ".git" {
                yaml_files(&path, found);
            }
        } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            found.push(path);
        }
    }
}

fn same(text: &str) -> bool {
    match compare_readers(text) {
        Ok(read) => read,
        Err(difference) => panic!("the readers differ on\n{text}\n{difference}"),
    }
}

#[test]
fn every_yaml_file_of_the_repository_reads_the_same() {
    let mut files = Vec::new();
    yaml_files(&repository(), &mut files);
    assert!(files.len() > 300, "{} files", files.len());
    let mut read = 0;
    for file in &files {
        let text = std::fs::read_to_string(file).expect("readable");
        match compare_readers(&text) {
            Ok(true) => read += 1,
            Ok(false) => {}
            Err(difference) => panic!("{}: {difference}", file.display()),
        }
    }
    // Most manifests are in the subset: the fast path is the common one.
    assert!(read * 10 > files.len() * 8, "{read} of {}", files.len());
}

#[test]
fn the_constructs_of_kubectl_output_and_manifests_are_read_by_the_block_reader() {
    for text in [
        // A kubectl List, items at the list's indentation, empty flow collections.
        "apiVersion: v1\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata:\n    labels: {}\n    name: web\n  spec:\n    containers:\n    - args: []\n      image: nginx:1.27\n      name: web\nkind: List\nmetadata:\n  resourceVersion: \"\"\n",
        // An item as the splitter hands it on: indented, its `-` blanked.
        "  apiVersion: v1\n  kind: ConfigMap\n  data:\n    a: \"1\"\n",
        // Sequences indented under their key, comments, empty values.
        "kind: Role # trailing\nrules:\n  # a comment line\n  - apiGroups:\n      - \"\"\n    resources: [] # none\n    verbs:\nmetadata:\n",
        // Literal block scalars with each chomping, and blank lines inside.
        "data:\n  clip: |\n    one\n\n    two\n\n  strip: |-\n    one\n  keep: |+\n    one\n\n\nnext: 1\n",
        // Quoted scalars and keys, escapes, YAML 1.1 scalars.
        "\"quoted key\": 'it''s'\nescaped: \"a\\\"b\\\\c\\n\\u00e9\"\nmode: 0644\nflag: yes\nempty: ''\nurl: http://x:80/#frag\nneg: -1\n",
        // Columns counted in characters.
        "é: ü\nkey: \"ünïcödé\"\nlist:\n- ß: 1\n",
        // Several documents.
        "---\na: 1\n---\nb: 2\n",
        // One-line flow collections of scalars.
        "args: [\"--port=80\", -v, 'x']\nselector: {app: web, \"tier\": 'front'}\nports:\n- {name: http, port: 80}\n",
        // A duplicate key keeps its last value, with a warning.
        "kind: Pod\nspec:\n  hostPID: true\n  hostPID: false\n",
    ] {
        assert!(same(text), "left to saphyr:\n{text}");
    }
}

#[test]
fn what_the_block_reader_does_not_read_is_left_to_saphyr() {
    for text in [
        "base: &b {a: 1}\nother: *b\n",
        "args: [a, [b]]\n",
        "labels: {a: {b: c}}\n",
        "json: {\"a\":1}\n",
        "trailing: [a, ]\n",
        "tagged: !!str 12\n",
        "folded: >\n  a\n  b\n",
        "plain: a\n  continued\n",
        "quoted: \"a\n  b\"\n",
        "tab:\tx\n",
        // Characters a YAML stream may not hold (found by the fuzzer).
        "bell: a\u{7}b\n",
        "c1: \u{9b}\n",
        "windows: 1\r\n",
        "- - nested\n",
        "-\n  a: 1\n",
        "? complex\n: key\n",
        "---\n---\n",
        "...\n",
        "%YAML 1.2\n---\na: 1\n",
        "just a scalar\n",
        "lit: |2\n   indented\n",
        "lit: |\n\n  leading blank\n",
        // A literal block at the end of a text without a final line break (found by the
        // fuzzer: saphyr counts a last blank line there).
        "- |\n $eway\n  selector:\n ",
        "lit: |\n  text",
        // A plain `-` before a flow indicator, which saphyr refuses (found by the fuzzer).
        "args: [s, -]\n",
        "dash: -]\n",
        "args: [s, a -]\n",
        "words: a -] b\n",
        // Syntax errors: saphyr's message stands.
        "a: b: c\n",
        "metadata:\n  name: a\n labels: {}\n",
        "key: \"unclosed\n",
        "a: 1\n  b: 2\n",
    ] {
        assert!(!same(text), "read by the block reader:\n{text}");
    }
}

/// Copies of a real manifest with one byte deleted, duplicated or replaced by each of the
/// characters YAML gives a meaning to, at every position: the readers agree on each.
#[test]
fn broken_copies_of_real_manifests_read_the_same() {
    let manifest =
        std::fs::read_to_string(repository().join("examples/shop/web.yaml")).expect("the example");
    let bytes = manifest.as_bytes();
    let mut variants = 0;
    for at in 0..bytes.len() {
        let mut edits: Vec<Vec<u8>> = vec![
            [&bytes[..at], &bytes[at + 1..]].concat(),
            [&bytes[..at], &bytes[at..=at], &bytes[at..]].concat(),
        ];
        for replacement in [b' ', b':', b'-', b'#', b'"', b'\'', b'|', b'\n', b'{'] {
            let mut copy = bytes.to_vec();
            copy[at] = replacement;
            edits.push(copy);
        }
        for edit in edits {
            if let Ok(text) = String::from_utf8(edit) {
                same(&text);
                variants += 1;
            }
        }
    }
    assert!(variants > 1000, "{variants}");
}
