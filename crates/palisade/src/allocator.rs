//! The one tuning Palisade asks of the C allocator, and the only `unsafe` in the project.

/// Has glibc map every allocation of 128 KiB or more on its own, so that freeing it gives the
/// memory back to the system.
///
/// Left alone, glibc raises that threshold to the size of the largest mapped block freed so far
/// (up to 32 MiB): once a scan has read a 3 MiB file and freed it, every buffer and parse tree
/// below 3 MiB comes from a thread's heap instead, and what is freed there stays in the
/// process. Scanning ten copies of the bundled corpus peaked at 121 MB that way and at 104 MB
/// with the threshold fixed (`palisade-bench --copies 10 ../shared/corpus/real`, then
/// `/usr/bin/time palisade scan --no-config --format json -o /dev/null target/bench-copies-10`),
/// at no measurable cost in time. Other C libraries and allocators are left as they are.
pub fn return_large_allocations_when_freed() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[allow(unsafe_code)]
    // SAFETY: `mallopt` only sets an allocator tunable, which glibc allows at any time and from
    // any thread. A refusal (0) keeps the default, which is only slower to give memory back.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
    }
}
