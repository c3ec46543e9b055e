//! The tunings Palisade asks of the C allocator, and the only `unsafe` in the project.

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

/// Caps glibc's heaps ("arenas") at one per core, where it grows up to eight per core, one per
/// thread that allocates: the main thread, which gathers what the workers produce, then shares
/// a heap with a worker instead of keeping a heap of its own whose free space the workers never
/// reuse. The 100,000-object dump's scan peaked at 353 MB with a heap per thread and at
/// 329-331 MB so on 2 cores, in as much time (three alternating pairs, `MALLOC_ARENA_MAX=2`,
/// `/usr/bin/time palisade scan --no-config --format json -o /dev/null
/// target/bench-real-100000.yaml`). `MALLOC_ARENA_MAX` in the environment still decides.
pub fn one_heap_per_core() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        if std::env::var_os("MALLOC_ARENA_MAX").is_some() {
            return;
        }
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        let cores = libc::c_int::try_from(cores).unwrap_or(libc::c_int::MAX);
        #[allow(unsafe_code)]
        // SAFETY: as above, `mallopt` only sets a tunable; heaps made before the call stay,
        // and a refusal keeps the default.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, cores);
        }
    }
}
