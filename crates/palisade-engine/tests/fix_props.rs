//! `palisade fix` on manifests written every way people write them: two or four spaces,
//! sequences indented or flush with their key, flow and block security contexts, comments
//! anywhere, CRLF, several documents. Whatever comes in: no panic, a document that parsed
//! still parses, no comment is lost, and fixing the result again changes nothing.

use palisade_engine::config::LoadedConfig;
use palisade_engine::fix::{fix_text, FixOptions};
use palisade_engine::{build_pipeline, Overrides, Pipeline};
use proptest::prelude::*;

fn pipeline() -> Pipeline {
    let flags = Overrides {
        no_bootstrap: true,
        ..Overrides::default()
    };
    build_pipeline(&LoadedConfig::default(), &flags)
        .expect("pipeline")
        .0
}

/// How one manifest is written.
#[derive(Clone, Debug)]
struct Style {
    unit: usize,
    flush: bool,
    context: u8,
    comments: Vec<bool>,
    crlf: bool,
    documents: usize,
    init: bool,
}

fn style() -> impl Strategy<Value = Style> {
    (
        prop_oneof![Just(2usize), Just(4usize)],
        any::<bool>(),
        0u8..5,
        proptest::collection::vec(any::<bool>(), 24),
        any::<bool>(),
        1usize..3,
        any::<bool>(),
    )
        .prop_map(
            |(unit, flush, context, comments, crlf, documents, init)| Style {
                unit,
                flush,
                context,
                comments,
                crlf,
                documents,
                init,
            },
        )
}

/// A Deployment as `style` writes it; every line may carry a comment.
fn manifest(style: &Style, index: usize) -> String {
    let i = |depth: usize| " ".repeat(depth * style.unit);
    // Items of a list: indented one step under their key, or flush with it.
    let item = |depth: usize| if style.flush { i(depth) } else { i(depth + 1) };
    let item_body = |depth: usize| {
        let dash = if style.flush {
            depth * style.unit
        } else {
            (depth + 1) * style.unit
        };
        " ".repeat(dash + 2)
    };
    let context = match style.context {
        0 => String::new(),
        1 => format!("{}securityContext: {{}}\n", item_body(4)),
        2 => format!(
            "{}securityContext: {{runAsUser: 1000, allowPrivilegeEscalation: true}}\n",
            item_body(4)
        ),
        3 => format!(
            "{}securityContext:\n{}capabilities:\n{}add: [NET_BIND_SERVICE]\n",
            item_body(4),
            format_args!("{}{}", item_body(4), i(1)),
            format_args!("{}{}", item_body(4), i(2)),
        ),
        _ => format!(
            "{}securityContext:\n{}allowPrivilegeEscalation: true\n",
            item_body(4),
            format_args!("{}{}", item_body(4), i(1))
        ),
    };
    let init = if style.init {
        format!(
            "{}initContainers:\n{}- name: setup\n{}image: registry.example.com/setup:1\n",
            i(3),
            item(3),
            item_body(3)
        )
    } else {
        String::new()
    };
    let text = format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n{}name: web-{index}\n{}namespace: shop\nspec:\n{}selector:\n{}matchLabels: {{app: web}}\n{}template:\n{}metadata:\n{}labels:\n{}app: web\n{}spec:\n{init}{}containers:\n{}- name: web\n{}image: registry.example.com/web:1.4\n{}imagePullPolicy: IfNotPresent\n{}ports:\n{}- containerPort: 8080\n{context}",
        i(1), i(1), i(1), i(2), i(1), i(2), i(3), i(4), i(2), i(3), item(3), item_body(3), item_body(3), item_body(3), item(4)
    );
    let mut out = String::new();
    for (n, line) in text.lines().enumerate() {
        out.push_str(line);
        if style.comments.get(n).copied().unwrap_or(false) && !line.trim().is_empty() {
            out.push_str(&format!(" # note {n}"));
        }
        out.push('\n');
    }
    out
}

fn document_set(style: &Style) -> String {
    let newline = if style.crlf { "\r\n" } else { "\n" };
    (0..style.documents)
        .map(|n| manifest(style, n))
        .collect::<Vec<_>>()
        .join("---\n")
        .replace('\n', newline)
}

fn loads(text: &str) -> bool {
    let mut ok = true;
    palisade_load::load_text(&std::sync::Arc::from("t.yaml"), text, &mut |l| {
        if matches!(l, palisade_load::Loaded::Error(_)) {
            ok = false;
        }
    });
    ok
}

fn comments(text: &str) -> Vec<&str> {
    text.lines()
        .filter_map(|l| l.find(" # note").map(|at| l[at..].trim_end_matches('\r')))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, .. ProptestConfig::default() })]

    #[test]
    fn fixing_keeps_documents_readable_and_comments_and_is_idempotent(style in style()) {
        let pipeline = pipeline();
        let text = document_set(&style);
        prop_assert!(loads(&text), "the generator writes valid manifests:\n{text}");
        for unsafe_fixes in [false, true] {
            let options = FixOptions { unsafe_fixes };
            let once = fix_text(&pipeline, "t.yaml", &text, options);
            prop_assert!(loads(&once.fixed), "the fixed text parses:\n{}", once.fixed);
            prop_assert!(!once.applied.is_empty(), "something to fix in:\n{text}");
            for comment in comments(&text) {
                prop_assert!(once.fixed.contains(comment), "{comment:?} lost:\n{}", once.fixed);
            }
            prop_assert!(
                once.left.iter().all(|l| !matches!(l.reason, palisade_engine::fix::Reason::DidNotHold(_))),
                "every edit held: {:?}\n{}",
                once.left.iter().map(|l| (&l.finding.rule.code, &l.reason)).collect::<Vec<_>>(),
                text
            );
            let twice = fix_text(&pipeline, "t.yaml", &once.fixed, options);
            prop_assert_eq!(&twice.fixed, &once.fixed);
            prop_assert!(twice.applied.is_empty());
            prop_assert_eq!(style.crlf, once.fixed.contains("\r\n"));
        }
    }

    #[test]
    fn arbitrary_text_never_panics(text in "[ -~\n\t]{0,400}") {
        let pipeline = pipeline();
        let fixed = fix_text(&pipeline, "t.yaml", &text, FixOptions { unsafe_fixes: true });
        if fixed.applied.is_empty() {
            prop_assert_eq!(fixed.fixed, text);
        }
    }
}

#[test]
fn a_fix_that_changes_the_picture_lets_the_next_one_happen_in_the_same_run() {
    // privileged: true makes allowPrivilegeEscalation a decision; once --unsafe sets
    // privileged: false, escalation is fixed too, in one run.
    let text = "apiVersion: v1\nkind: ReplicationController\nmetadata: {name: es, namespace: shop}\nspec:\n  template:\n    spec:\n      containers:\n      - name: es\n        image: registry.example.com/es:8\n        securityContext:\n          privileged: true\n";
    let pipeline = pipeline();
    let once = fix_text(&pipeline, "t.yaml", text, FixOptions { unsafe_fixes: true });
    assert!(once.fixed.contains("privileged: false"), "{}", once.fixed);
    assert!(
        once.fixed.contains("allowPrivilegeEscalation: false"),
        "{}",
        once.fixed
    );
    let twice = fix_text(
        &pipeline,
        "t.yaml",
        &once.fixed,
        FixOptions { unsafe_fixes: true },
    );
    assert!(twice.applied.is_empty());
}

#[test]
fn baseline_profiles_and_proc_mounts_are_fixed_with_unsafe_only() {
    let text = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: tools\n  namespace: shop\n  annotations:\n    container.apparmor.security.beta.kubernetes.io/tools: unconfined\nspec:\n  containers:\n  - name: tools\n    image: registry.example.com/tools:1\n    securityContext:\n      procMount: Unmasked\n      seccompProfile: {type: Unconfined}\n";
    let pipeline = pipeline();
    let safe = fix_text(
        &pipeline,
        "t.yaml",
        text,
        FixOptions {
            unsafe_fixes: false,
        },
    );
    for rule in ["PAL-PSS-006", "PAL-PSS-008", "PAL-PSS-009"] {
        assert!(
            safe.left.iter().any(|l| l.finding.rule.code == rule
                && matches!(l.reason, palisade_engine::fix::Reason::Unsafe(_))),
            "{rule} needs --unsafe"
        );
    }
    let fixed = fix_text(&pipeline, "t.yaml", text, FixOptions { unsafe_fixes: true });
    assert!(
        fixed
            .fixed
            .contains("container.apparmor.security.beta.kubernetes.io/tools: runtime/default"),
        "{}",
        fixed.fixed
    );
    assert!(
        fixed
            .fixed
            .contains("seccompProfile: {type: RuntimeDefault}"),
        "{}",
        fixed.fixed
    );
    assert!(
        fixed.fixed.contains("procMount: Default"),
        "{}",
        fixed.fixed
    );
    for rule in ["PAL-PSS-006", "PAL-PSS-008", "PAL-PSS-009"] {
        assert!(
            fixed.applied.iter().any(|a| a.rule.code == rule),
            "{rule} fixed"
        );
    }
}
