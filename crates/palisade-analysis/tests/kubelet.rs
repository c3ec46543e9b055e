//! Kubelet settings as the kubelet resolves them: flags over the config file named by
//! `--config`, flag sets split over several files merged in order, and the defaults of the
//! config file or of the flags.

use std::sync::Arc;

use palisade_analysis::kubelet::{self, Kubelet, KubeletsBuilder, Origin};
use palisade_load::{load_text, Loaded};

fn kubelets(files: &[(&str, &str)]) -> Vec<Kubelet> {
    let mut builder = KubeletsBuilder::default();
    for (name, text) in files {
        load_text(&Arc::from(*name), text, &mut |loaded| match loaded {
            Loaded::Object(object) => builder.add(&object),
            Loaded::Skipped => {}
            Loaded::Error(e) | Loaded::Warning(e) => panic!("{e}"),
        });
    }
    builder.build()
}

const WORKER_A: &str =
    "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nreadOnlyPort: 10255\n";
const WORKER_B: &str =
    "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nreadOnlyPort: 0\n";

#[test]
fn flags_pair_with_the_config_file_they_name() {
    let flags = "apiVersion: node.palisade.dev/v1\nkind: KubeletFlags\nmetadata: {name: worker-b}\nflags:\n  config: /var/lib/kubelet/worker-b.yaml\n";
    let all = kubelets(&[
        ("nodes/var/lib/kubelet/worker-a.yaml", WORKER_A),
        ("nodes/var/lib/kubelet/worker-b.yaml", WORKER_B),
        ("nodes/worker-b.flags", flags),
    ]);
    assert_eq!(all.len(), 2, "worker-b's flags and file, worker-a's file");
    let paired = &all[0];
    assert!(paired.has_file());
    let port = paired.resolve(&kubelet::READ_ONLY_PORT);
    assert_eq!(port.value.as_deref(), Some("0"));
    assert_eq!(port.origin, Origin::File);
    let location = port.source.location.expect("from a file");
    assert!(location.file.ends_with("worker-b.yaml"));
    assert_eq!(
        all[1].resolve(&kubelet::READ_ONLY_PORT).value.as_deref(),
        Some("10255")
    );
}

#[test]
fn flag_sets_of_one_kubelet_merge_and_the_last_flag_wins() {
    let drop_in = "apiVersion: node.palisade.dev/v1\nkind: KubeletFlags\nmetadata: {name: kubelet}\nflags:\n  anonymous-auth: \"false\"\n  read-only-port: \"0\"\n";
    let extra = "apiVersion: node.palisade.dev/v1\nkind: KubeletFlags\nmetadata: {name: kubelet}\nflags:\n  anonymous-auth: \"true\"\n";
    let all = kubelets(&[("10-kubeadm.conf", drop_in), ("default-kubelet", extra)]);
    assert_eq!(all.len(), 1);
    let anonymous = all[0].resolve(&kubelet::ANONYMOUS_AUTH);
    assert_eq!(anonymous.value.as_deref(), Some("true"));
    assert_eq!(anonymous.origin, Origin::Flag);
    assert!(anonymous
        .source
        .location
        .is_some_and(|l| l.file.as_ref() == "default-kubelet"));
    // No config file: the flag defaults apply (AlwaysAllow), not the file's (Webhook).
    let mode = all[0].resolve(&kubelet::AUTHORIZATION_MODE);
    assert_eq!(mode.value.as_deref(), Some("AlwaysAllow"));
    assert_eq!(mode.origin, Origin::Default);
}
