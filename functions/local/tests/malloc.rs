//! Large blocks go back to the OS even after one was freed: the dynamic mmap
//! threshold of glibc is off (`amazon_lite::malloc`). Its own test binary,
//! since the allocator's settings are the process's.

#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[test]
fn a_freed_large_block_does_not_raise_the_mmap_threshold() {
    // The size of one argon2id hash's memory.
    const BIG: usize = 19 * 1024 * 1024;
    assert!(amazon_lite::malloc::give_memory_back());

    // Left alone, glibc would raise its threshold above BIG here...
    drop(std::hint::black_box(vec![1u8; BIG]));
    // ...and serve this one from a heap arena, which keeps it when freed.
    let held = std::hint::black_box(vec![1u8; BIG]);
    // SAFETY: mallinfo2 only reads the allocator's statistics.
    let mapped = unsafe { libc::mallinfo2() }.hblkhd;
    assert!(
        mapped >= BIG,
        "a {BIG}-byte block came from the heap ({mapped} bytes mapped)"
    );
    drop(held);
}
