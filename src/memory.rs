//! How the C allocator keeps memory. glibc's defaults suit long batch jobs, not a server whose requests each
//! allocate and free a few megabytes on whichever of many threads runs them: it grows up to eight arenas per
//! core and keeps what was freed in each. On the benchmark (BENCHMARKS.md, SQLite, N = 10,000) the resident set
//! was 232 MiB while serving application details and 658 MiB after a few rankings; with the settings below,
//! 61 MiB and 138 MiB, for the same throughput.

/// Two arenas, blocks of 64 KiB and more straight from the kernel (and back to it when freed), and the top
/// of the heap returned beyond 1 MiB. Must run before any thread starts. The `MALLOC_ARENA_MAX`,
/// `MALLOC_MMAP_THRESHOLD_` and `MALLOC_TRIM_THRESHOLD_` environment variables still win, for experiments.
pub fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let set = |param: libc::c_int, value: libc::c_int, variable: &str| {
            if std::env::var_os(variable).is_none() {
                // SAFETY: mallopt only changes allocator parameters; it is called before other threads exist.
                unsafe {
                    libc::mallopt(param, value);
                }
            }
        };
        set(libc::M_ARENA_MAX, 2, "MALLOC_ARENA_MAX");
        set(libc::M_MMAP_THRESHOLD, 64 * 1024, "MALLOC_MMAP_THRESHOLD_");
        set(
            libc::M_TRIM_THRESHOLD,
            1024 * 1024,
            "MALLOC_TRIM_THRESHOLD_",
        );
    }
}
