//! glibc's allocator, told to give memory back.
//!
//! glibc serves a request above its mmap threshold (128 KiB) with a mapping
//! of its own, unmapped on free. But the first time it frees such a block
//! it raises the threshold to that block's size (up to 32 MiB) and its trim
//! threshold to twice that: from then on blocks of that size come from the
//! heap arenas (one per thread that met contention, up to 8 per core), and
//! each arena keeps up to the trim threshold of free memory instead of
//! returning it. A password hash allocates 19 MiB (argon2id, OWASP's
//! parameters) and a search commit a term table of megabytes, so under
//! fuzzing the local API kept hundreds of MiB it no longer used
//! (load/README.md, "Memory under fuzzing").
//!
//! - Setting the threshold explicitly turns the adjustment off: large
//!   blocks stay mappings and go back to the OS when freed, at the cost of
//!   one `mmap`/`munmap` pair each.
//! - One arena per core instead of eight: each arena keeps its own free
//!   memory, and the server's threads are mostly idle blocking-pool
//!   threads, so more arenas than cores buy little but keep more.

/// The threshold glibc starts with; fixed, so it no longer moves.
pub const MMAP_THRESHOLD: usize = 128 * 1024;

/// Arenas: one per core (at least two).
pub fn arenas() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get().max(2))
}

/// Fixes glibc's mmap threshold at [`MMAP_THRESHOLD`] and its arenas at
/// [`arenas`]. Call it first thing in `main`, before any thread. Returns
/// whether both settings took (always false on other C libraries, which do
/// not have these behaviours).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn give_memory_back() -> bool {
    let arenas = libc::c_int::try_from(arenas()).unwrap_or(libc::c_int::MAX);
    // SAFETY: mallopt only changes the allocator's parameters; glibc takes
    // its own locks, so it is sound at any time and from any thread.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD as libc::c_int) == 1
            && libc::mallopt(libc::M_ARENA_MAX, arenas) == 1
    }
}

/// Other C libraries: nothing to do.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn give_memory_back() -> bool {
    false
}
