//! Executable memory for generated code: never writable and executable at once (W^X).
//!
//! Each compiled unit is copied into its own anonymous mapping while it is writable, then the
//! mapping is switched to read+execute before any code in it runs, and never back. The unit
//! owns its mapping: dropping it (when the code object dies) unmaps the code. A global size
//! cap (the `code_limit` option) keeps runaway compilation from eating memory; past it new
//! code stays interpreted and `stats()` counts the refusals.

use crate::stats::STATS;
use memmap2::{Mmap, MmapMut};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};

/// Bytes of executable memory allowed in total (0: no limit).
pub static CODE_LIMIT: AtomicU64 = AtomicU64::new(64 << 20);

/// The cap is reached (set by a refusal, cleared when code is freed) and whether that was
/// reported yet: the compile-event log reports reaching the cap once per time it fills.
static CAP_REACHED: AtomicBool = AtomicBool::new(false);
static CAP_EVENT: AtomicBool = AtomicBool::new(false);

/// Whether the cap was reached since the last call (for the compile-event log).
pub fn take_cap_event() -> bool {
    CAP_EVENT.swap(false, Relaxed)
}

/// A block of read+execute memory holding one compiled unit.
pub struct CodeBlock {
    map: Mmap,
    len: usize,
}

impl CodeBlock {
    /// Copy `code` into fresh executable memory. None when the size cap is reached or the
    /// system refuses the mapping.
    pub fn new(code: &[u8]) -> Option<CodeBlock> {
        let limit = CODE_LIMIT.load(Relaxed);
        let mapped = round_to_page(code.len().max(1));
        if limit != 0 && STATS.code_bytes_mapped.get() + mapped as u64 > limit {
            STATS.code_limit_refusals.incr();
            if !CAP_REACHED.swap(true, Relaxed) {
                CAP_EVENT.store(true, Relaxed);
            }
            return None;
        }
        let mut writable = MmapMut::map_anon(mapped).ok()?;
        writable[..code.len()].copy_from_slice(code);
        // aarch64: the instruction cache is not coherent with data writes; clean the written
        // lines to the point of unification and invalidate them in the instruction cache.
        #[cfg(target_arch = "aarch64")]
        dynasmrt::cache_control::synchronize_icache(&writable[..code.len()]);
        // From here on the memory is read+execute only.
        let map = writable.make_exec().ok()?;
        // aarch64: an isb, so this thread fetches the new instructions (others synchronize
        // through the context switch or the lock that publishes the code).
        #[cfg(target_arch = "aarch64")]
        dynasmrt::cache_control::prepare_for_execution(&map);
        STATS.code_bytes.add(code.len() as u64);
        STATS.code_bytes_mapped.add(mapped as u64);
        Some(CodeBlock { map, len: code.len() })
    }

    pub fn start(&self) -> *const u8 {
        self.map.as_ptr()
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl Drop for CodeBlock {
    fn drop(&mut self) {
        STATS.code_bytes.sub(self.len as u64);
        STATS.code_bytes_mapped.sub(round_to_page(self.len.max(1)) as u64);
        CAP_REACHED.store(false, Relaxed);
    }
}

fn page_size() -> usize {
    unsafe { libc::sysconf(libc::_SC_PAGESIZE) as usize }
}

fn round_to_page(n: usize) -> usize {
    let page = page_size();
    n.div_ceil(page) * page
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads /proc/self/maps for the permissions of the mapping containing `addr`. (Under
    /// qemu-user the file is emulated and can miss a mapping while other test threads map and
    /// unmap: read it again then.)
    fn permissions(addr: usize) -> String {
        for _ in 0..20 {
            if let Some(perms) = find_permissions(addr) {
                return perms;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        panic!("address not mapped");
    }

    fn find_permissions(addr: usize) -> Option<String> {
        let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
        for line in maps.lines() {
            let mut parts = line.split_whitespace();
            let range = parts.next().unwrap();
            let perms = parts.next().unwrap();
            let (lo, hi) = range.split_once('-').unwrap();
            let (lo, hi) = (usize::from_str_radix(lo, 16).unwrap(), usize::from_str_radix(hi, 16).unwrap());
            if (lo..hi).contains(&addr) {
                return Some(perms.to_owned());
            }
        }
        None
    }

    #[test]
    fn code_is_executable_and_never_writable() {
        // x86_64: mov eax, 42; ret   /  aarch64: mov w0, #42; ret
        #[cfg(target_arch = "x86_64")]
        let bytes: &[u8] = &[0xb8, 42, 0, 0, 0, 0xc3];
        #[cfg(target_arch = "aarch64")]
        let bytes: &[u8] = &[0x40, 0x05, 0x80, 0x52, 0xc0, 0x03, 0x5f, 0xd6];
        let block = CodeBlock::new(bytes).unwrap();
        let perms = permissions(block.start() as usize);
        assert!(perms.starts_with("r-x"), "{perms}");
        let f: extern "C" fn() -> i32 = unsafe { std::mem::transmute(block.start()) };
        assert_eq!(f(), 42);
    }
}
