//! Gives `palisade version` the target this binary was built for, and, when the release build
//! sets them, the commit and build date (`PALISADE_COMMIT`, `PALISADE_BUILD_DATE`). Nothing is
//! read from git here: a build from a source tarball works the same.

fn main() {
    let target = std::env::var("TARGET").unwrap_or_else(|_| "unknown".to_string());
    println!("cargo:rustc-env=PALISADE_TARGET={target}");
    println!("cargo:rerun-if-env-changed=PALISADE_COMMIT");
    println!("cargo:rerun-if-env-changed=PALISADE_BUILD_DATE");
    println!("cargo:rerun-if-changed=build.rs");
}
