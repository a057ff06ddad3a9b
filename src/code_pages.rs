//! Giving back the pages of the binary's own code that a quiet gateway does not run.
//!
//! RSS counts every page of the executable a process has touched, and the kernel maps up to
//! 64 KiB around each page it faults in. This one binary carries the gateway, the simulator,
//! the offline model, the load benchmark, the web console and the document readers (28 MB of
//! code); start-up alone runs config parsing, migrations and TLS set-up, and an idle gateway
//! with one bot measured 33 MiB of RSS, of it 26-29 MiB mapped code and 6.7 MiB its own
//! memory (README: Performance).
//!
//! After a quiet spell the gateway drops its mappings of the executable's read-only segments
//! (`MADV_DONTNEED`). The file's pages stay in the page cache, shared and reclaimable; what
//! runs afterwards maps back on first use, a minor fault per 64 KiB. Only segments that hold
//! no private copy of a page are dropped: the relocated read-only data (`RELRO`) was written
//! at start-up and exists nowhere else, so a segment with any anonymous page is left alone.

/// The runtime's once-per-release hook (`RuntimeBuilder::after_memory_release`).
pub fn release() {
    let dropped = unmap_cold_code();
    tracing::debug!(
        resident_kib = dropped / 1024,
        "quiet: unmapped the binary's code (it maps back as it runs)"
    );
}

/// Drops this process's mappings of its own executable's read-only segments; returns how many
/// bytes of them were resident before. Does nothing (0) where `/proc` is unavailable.
pub fn unmap_cold_code() -> u64 {
    #[cfg(target_os = "linux")]
    {
        linux::unmap_cold_code()
    }
    #[cfg(not(target_os = "linux"))]
    0
}

#[cfg(target_os = "linux")]
mod linux {
    use procfs::process::{MMPermissions, MMapPath, MemoryMap, Process};

    pub fn unmap_cold_code() -> u64 {
        let (Ok(me), Ok(exe)) = (Process::myself(), std::env::current_exe()) else {
            return 0;
        };
        let Ok(maps) = me.smaps() else {
            return 0;
        };
        let mut dropped = 0;
        for map in maps.iter().filter(|m| droppable(m, &exe)) {
            let (start, end) = map.address;
            // SAFETY: the range is one of this process's mappings of its executable, read-only
            // and without private pages (`droppable`): after `MADV_DONTNEED` every access
            // maps the same bytes back from the file, so no reader can see a change.
            let done = unsafe {
                libc::madvise(
                    start as *mut libc::c_void,
                    (end - start) as libc::size_t,
                    libc::MADV_DONTNEED,
                )
            } == 0;
            if done {
                dropped += map.extension.map.get("Rss").copied().unwrap_or(0);
            }
        }
        dropped
    }

    /// A mapping of the executable that is not writable, is private, and has no anonymous
    /// (copied-on-write) page: dropping it loses nothing the file does not hold.
    fn droppable(map: &MemoryMap, exe: &std::path::Path) -> bool {
        let MMapPath::Path(path) = &map.pathname else {
            return false;
        };
        path == exe
            && map.perms.contains(MMPermissions::READ)
            && !map.perms.contains(MMPermissions::WRITE)
            && map.perms.contains(MMPermissions::PRIVATE)
            && map.extension.map.get("Anonymous") == Some(&0)
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        fn resident_code(exe: &std::path::Path) -> u64 {
            Process::myself()
                .unwrap()
                .smaps()
                .unwrap()
                .iter()
                .filter(|m| droppable(m, exe))
                .map(|m| m.extension.map["Rss"])
                .sum()
        }

        /// The test binary's own code: resident before, mostly gone after, and everything
        /// still runs (this test goes on executing code from the dropped pages).
        #[test]
        fn cold_code_is_unmapped_and_still_runs() {
            let exe = std::env::current_exe().unwrap();
            let before = resident_code(&exe);
            assert!(before > 0, "the code that runs is resident");
            let dropped = unmap_cold_code();
            assert!(dropped > 0);
            let after = resident_code(&exe);
            assert!(after < before, "{after} < {before}");
            // Code runs again after the drop, from pages mapped back.
            let text: String = (0..1000).map(|i| format!("{i},")).collect();
            assert!(text.len() > 1000);
        }
    }
}
