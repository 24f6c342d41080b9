//! Module opt-out: code whose module matches an excluded prefix is never compiled.
//!
//! The decision is made once per code object (it is cached in the code's state together with
//! the generation of the list it was made against), and made again only after the list
//! changes, so the hook's fast path pays one integer comparison.

use parking_lot::Mutex;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

static PREFIXES: Mutex<Vec<String>> = Mutex::new(Vec::new());
static GENERATION: AtomicU64 = AtomicU64::new(1);

/// Replace the list of excluded prefixes.
pub fn set(prefixes: Vec<String>) {
    let mut list = PREFIXES.lock();
    if *list != prefixes {
        *list = prefixes;
        GENERATION.fetch_add(1, Relaxed);
        #[cfg(autojit_supported)]
        crate::tier1::calls::invalidate_call_caches();
    }
}

/// Add prefixes to the list.
pub fn add(prefixes: impl IntoIterator<Item = String>) {
    let mut list = PREFIXES.lock();
    let mut changed = false;
    for prefix in prefixes {
        if !list.contains(&prefix) {
            list.push(prefix);
            changed = true;
        }
    }
    if changed {
        GENERATION.fetch_add(1, Relaxed);
        #[cfg(autojit_supported)]
        crate::tier1::calls::invalidate_call_caches();
    }
}

pub fn prefixes() -> Vec<String> {
    PREFIXES.lock().clone()
}

/// Changes whenever the list changes; decisions made under another generation are stale.
#[inline(always)]
pub fn generation() -> u64 {
    GENERATION.load(Relaxed)
}

/// The prefix that excludes `module`, if any: `pkg` covers `pkg` and `pkg.sub`, not `pkgx`.
pub fn excluding_prefix(module: &str) -> Option<String> {
    PREFIXES.lock().iter().find(|prefix| covers(prefix, module)).cloned()
}

fn covers(prefix: &str, module: &str) -> bool {
    module == prefix
        || (module.len() > prefix.len()
            && module.starts_with(prefix)
            && module.as_bytes()[prefix.len()] == b'.')
}

#[cfg(test)]
mod tests {
    use super::covers;

    #[test]
    fn prefixes_cover_submodules_only() {
        assert!(covers("pandas", "pandas"));
        assert!(covers("pandas", "pandas.core.frame"));
        assert!(!covers("pandas", "pandasx"));
        assert!(!covers("pandas.core", "pandas"));
        assert!(covers("myapp.slow_io", "myapp.slow_io.reader"));
        assert!(!covers("myapp.slow_io", "myapp.slow"));
    }
}
