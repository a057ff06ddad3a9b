//! Giving freed memory back to the system, for the allocator this binary uses.
//!
//! The runtime calls [`give_back`] on each of its threads once the gateway has been quiet for
//! `dingclaw.memoryReleaseSeconds` (`RuntimeBuilder::release_memory_with`). Without it, the
//! memory a load freed stays in the allocator: a heap profile after the `sessions` preset
//! found 12.5 MB in use of the 174 MB glibc's malloc held (README: Performance).
//!
//! And keeping the heap in small pages: see [`small_pages`].

/// This binary's ways of giving memory back when the gateway is quiet: the allocators on
/// every thread, then its cold code once (`code_pages`).
pub fn with_memory_release(
    builder: dingclaw_actors::actors::RuntimeBuilder,
) -> dingclaw_actors::actors::RuntimeBuilder {
    builder
        .release_memory_with(give_back)
        .after_memory_release(crate::code_pages::release)
}

/// Releases what the allocators hold free: mimalloc's pages of this thread's heap (its heaps
/// are per thread, hence one call per thread), then glibc's free pages, which hold what C
/// code such as SQLite allocated and also the Rust side's in a build without mimalloc.
pub fn give_back() {
    #[cfg(feature = "mimalloc")]
    // SAFETY: `mi_collect` takes no pointers and may be called from any thread at any time;
    // it only walks the calling thread's heap and the shared arenas.
    unsafe {
        libmimalloc_sys::mi_collect(true);
    }
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `malloc_trim` takes no pointers and locks each arena it trims.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// The environment variable with which an operator chooses mimalloc's use of transparent huge
/// pages; when it is set, [`small_pages`] leaves the choice to mimalloc.
pub const THP_CHOICE: &str = "MIMALLOC_ALLOW_THP";

/// Turns transparent huge pages off for this process, unless `MIMALLOC_ALLOW_THP` says
/// otherwise. mimalloc asks for huge pages on its arenas, and each thread's heap then starts
/// in a 2 MiB page of its own: an idle gateway with one bot measured 34 MiB of anonymous
/// memory with them and 6.7 MiB without (README: Performance). The gateway's working set is
/// many small blocks per connection and session, where resident memory matters more than
/// the TLB misses huge pages save (the `standard` preset measured no CPU difference).
/// Returns whether they are now off.
pub fn small_pages() -> bool {
    if std::env::var_os(THP_CHOICE).is_some() {
        return false;
    }
    #[cfg(target_os = "linux")]
    // SAFETY: `PR_SET_THP_DISABLE` takes integer arguments only and changes a flag of this
    // process; pages already huge stay as they are.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0) == 0
    }
    #[cfg(not(target_os = "linux"))]
    false
}

#[cfg(test)]
mod tests {
    #[cfg(target_os = "linux")]
    #[test]
    fn huge_pages_are_off_unless_the_operator_chose() {
        // The test binary's environment may carry the variable; then the choice is kept.
        let chose = std::env::var_os(super::THP_CHOICE).is_some();
        assert_eq!(super::small_pages(), !chose);
        if !chose {
            // SAFETY: reads a flag of this process.
            let disabled = unsafe { libc::prctl(libc::PR_GET_THP_DISABLE, 0, 0, 0, 0) };
            assert_eq!(disabled, 1);
        }
    }

    /// Freeing a large, fragmented heap and calling `give_back` must not disturb what is
    /// still allocated (the call runs on live threads while other threads allocate).
    #[test]
    fn giving_back_leaves_live_memory_intact() {
        let mut kept = Vec::new();
        let mut freed = Vec::new();
        for i in 0..20_000u32 {
            let block = vec![(i % 251) as u8; 64 + (i as usize % 512)];
            if i % 8 == 0 {
                kept.push(block);
            } else {
                freed.push(block);
            }
        }
        drop(freed);
        let other = std::thread::spawn(super::give_back);
        super::give_back();
        other.join().unwrap();
        for (n, block) in kept.iter().enumerate() {
            let i = (n * 8) as u32;
            assert_eq!(block.len(), 64 + (i as usize % 512));
            assert!(block.iter().all(|b| *b == (i % 251) as u8));
        }
    }
}
