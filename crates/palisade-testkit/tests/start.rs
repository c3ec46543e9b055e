//! A control plane whose binaries are on the machine but that does not come up fails the
//! test that asked for it: only missing binaries may skip.

use std::os::unix::fs::PermissionsExt;

use palisade_testkit::TestCluster;

#[test]
fn binaries_that_do_not_start_fail_the_test_instead_of_skipping_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let apiserver = dir.path().join("kube-apiserver");
    std::fs::write(&apiserver, "#!/bin/sh\necho 'broken build' >&2\nexit 1\n").expect("write");
    std::fs::set_permissions(&apiserver, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    // A variable no other test reads: Kubernetes "1.99". This binary has one test, so no
    // other thread reads the environment meanwhile.
    std::env::set_var("PALISADE_K8S_1_99_BIN", dir.path());
    let outcome = std::panic::catch_unwind(|| {
        TestCluster::own_version("a broken kube-apiserver", 99, &[]).is_some()
    });
    let etcd_here = std::path::Path::new("/usr/bin/etcd").is_file();
    match outcome {
        Err(panic) => {
            let message = panic.downcast_ref::<String>().cloned().unwrap_or_default();
            assert!(message.contains("did not start"), "{message}");
        }
        Ok(started) => {
            assert!(!started, "a script that exits 1 is no API server");
            assert!(
                !etcd_here,
                "etcd is here: the broken start must fail, not skip"
            );
        }
    }
    let missing = TestCluster::own_version("no kube-apiserver 1.98", 98, &[]);
    assert!(missing.is_none(), "missing binaries skip");
}
